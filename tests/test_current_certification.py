"""No page runs « the » certification: every one is chosen explicitly, and the choices list every installed fiche,
those in force today first (certif.selectors)."""

import datetime
import json
import re
from pathlib import Path

import pytest

from certif.models import Registration
from certif.referential import export_referential, import_referential
from certif.selectors import certification_choice_label, certifications_in_force_first

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ["candidates", "certif", "config", "declarations", "documents", "evaluation", "juries", "reporting"]


def test_no_code_outside_demo_data_assumes_one_certification():
    pattern = re.compile(
        r"current_certification|rncp_code=\"16204\"|Certification\.objects\.(?:all|order_by)\([^)]*\)\.first\(\)"
    )
    offenders = [
        str(path.relative_to(ROOT))
        for room in ROOMS
        for path in (ROOT / room).rglob("*.py")
        if "migrations" not in path.parts and path.name != "demo.py" and pattern.search(path.read_text())
    ]
    assert offenders == []


@pytest.mark.django_db
def test_the_certifications_in_force_today_come_first(certification):
    copy = json.loads(json.dumps(export_referential(certification)))
    copy["certification"]["rncp_code"] = "10000"
    import_referential(copy)
    assert [item.rncp_code for item in certifications_in_force_first()] == ["10000", "16204"]  # both lapsed: by code
    Registration.objects.create(
        certification=certification,
        act="Renouvellement (test)",
        in_force_from="2023-04-17",
        in_force_until="2099-12-31",
    )
    ordered = certifications_in_force_first(datetime.date(2026, 1, 1))
    assert [item.rncp_code for item in ordered] == ["16204", "10000"]
    assert certification_choice_label(ordered[0], datetime.date(2026, 1, 1)).endswith("(en vigueur)")
    assert certification_choice_label(ordered[1], datetime.date(2026, 1, 1)).endswith(
        "(enregistrement terminé le 17/04/2023)"
    )
