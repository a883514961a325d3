import pytest

from tests.declarations.duty_world import declarant_for


@pytest.fixture
def declarant(certification, staff_user):
    """The certifier's identifiers at the Caisse des Dépôts, recorded as staff record them."""
    return declarant_for(certification, staff_user)
