"""The JSON form of a fiche carries what a renewal adds: predecessor and successor codes, the last delivery date,
the example flag, registrations' decision dates, block codes and the correspondences of a successor's blocks."""

import copy
import datetime
from pathlib import Path

import pytest

from certif.fiche_import import fiche_import_apply
from certif.models import Block, BlockCorrespondence, Certification
from certif.referential import export_referential, import_referential, read_referential_file
from certif.rncp_export import read_fiches

SAMPLE = Path(__file__).resolve().parents[2] / "certif" / "data" / "export-fiches-rncp-v4-1-exemple.xml"


@pytest.fixture
def successor(certification, staff_user):
    fiche_import_apply(fiches=read_fiches(SAMPLE, ["RNCP99901"]), thresholds=None, actor=staff_user)
    successor = Certification.objects.get(rncp_code="99901")
    old = {block.number: block for block in Block.objects.filter(certification=certification)}
    new = {block.number: block for block in Block.objects.filter(certification=successor)}
    for number, previous in ((1, [2]), (2, [1, 2]), (3, [3]), (4, [4])):
        for previous_number in previous:
            BlockCorrespondence.objects.create(block=new[number], previous_block=old[previous_number])
    return successor


def test_export_carries_the_renewal_facts(successor):
    data = export_referential(successor)
    assert data["certification"]["previous_rncp_codes"] == ["RNCP16204"]
    assert data["certification"]["next_rncp_codes"] == []
    assert data["certification"]["last_delivery_date"] == "2030-12-20"
    assert data["certification"]["is_example"] is False
    assert data["registrations"][0]["decision_date"] == "2024-12-20"
    assert [block["code"] for block in data["blocks"]] == [f"RNCP99901BC0{n}" for n in (1, 2, 3, 4)]
    assert data["correspondences"] == [
        {"block": "RNCP99901BC01", "previous_blocks": ["RNCP16204BC02"]},
        {"block": "RNCP99901BC02", "previous_blocks": ["RNCP16204BC01", "RNCP16204BC02"]},
        {"block": "RNCP99901BC03", "previous_blocks": ["RNCP16204BC03"]},
        {"block": "RNCP99901BC04", "previous_blocks": ["RNCP16204BC04"]},
    ]


def as_other_fiche(data: dict, code: str) -> dict:
    """The same fiche under another code, as a renewal under a new number would be written."""
    other = copy.deepcopy(data)
    other["certification"]["rncp_code"] = code
    other["certification"]["is_example"] = True
    for block in other["blocks"]:
        block["code"] = block["code"].replace("RNCP99901", f"RNCP{code}")
    for correspondence in other["correspondences"]:
        correspondence["block"] = correspondence["block"].replace("RNCP99901", f"RNCP{code}")
    return other


def test_round_trip_keeps_every_renewal_fact(successor):
    written = as_other_fiche(export_referential(successor), "99902")
    certification, created = import_referential(written)
    assert created
    assert export_referential(certification) == written
    assert certification.is_example is True
    assert certification.last_delivery_date == datetime.date(2030, 12, 20)
    assert BlockCorrespondence.objects.filter(block__certification=certification).count() == 5


def test_correspondence_to_a_fiche_not_installed_is_refused_naming_it(successor):
    written = as_other_fiche(export_referential(successor), "99902")
    written["correspondences"] = [{"block": "RNCP99902BC01", "previous_blocks": ["RNCP55555BC01"]}]
    with pytest.raises(ValueError, match="la fiche précédente RNCP55555 n'est pas installée"):
        import_referential(written)
    assert not Certification.objects.filter(rncp_code="99902").exists()


def test_a_block_code_naming_another_number_is_refused(successor):
    written = as_other_fiche(export_referential(successor), "99902")
    written["blocks"][0]["code"] = "RNCP99902BC03"
    with pytest.raises(ValueError, match="attendu : RNCP99902BC01"):
        import_referential(written)


def test_an_old_file_without_the_renewal_keys_still_loads(certification):
    data = read_referential_file()
    assert "correspondences" not in data and "previous_rncp_codes" not in data["certification"]
    data["certification"]["rncp_code"] = "16205"
    created_certification, created = import_referential(data)
    assert created
    assert created_certification.previous_rncp_codes == []
    assert created_certification.last_delivery_date is None
    assert created_certification.registrations.first().decision_date is None
