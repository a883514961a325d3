"""The certification the application runs is found one way (certif.selectors.current_certification)."""

import json

import pytest

from certif.referential import export_referential, import_referential
from certif.selectors import current_certification


@pytest.mark.django_db
def test_the_current_certification_is_the_fiche_installed_first_even_after_another_is_loaded(certification):
    assert current_certification() == certification and certification.rncp_code == "16204"
    # A code that sorts before 16204: the one installed first stays the current one.
    copy = json.loads(json.dumps(export_referential(certification)))
    copy["certification"]["rncp_code"] = "10000"
    import_referential(copy)
    assert current_certification().rncp_code == "16204"
