import pytest

from declarations import services as declarations


@pytest.fixture
def declarant(certification, staff_user):
    """The certifier's identifiers at the Caisse des Dépôts, recorded as staff record them."""
    return declarations.declarant_settings_save(
        certification=certification,
        sender_id_client="IRUP0042",
        certifier_id_client="IRUP0042",
        contract_id="MCFCER000123",
        actor=staff_user,
    )
