"""Reading France Compétences' open-data export: the sample's RNCP 16204 is the fiche the application ships, field by
field; its illustrative successor RNCP99901 gets its own blocks and thresholds; every unreadable file is refused in
French; a big export is read in bounded memory."""

import datetime
import io
import json
import tracemalloc
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from certif.referential import DEFAULT_REFERENTIAL
from certif.rncp_export import (
    RncpExportError,
    html_to_text,
    parse_jury_rule,
    parse_threshold,
    read_fiches,
)

SAMPLE = Path(__file__).resolve().parents[2] / "certif" / "data" / "export-fiches-rncp-v4-1-exemple.xml"


def shipped() -> dict:
    return json.loads(DEFAULT_REFERENTIAL.read_text(encoding="utf-8"))


def zipped(data: bytes, name: str = "export_fiches_RNCP_V4_1_2026-12-01.xml") -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def apostrophes(text: str) -> str:
    # France Compétences' export writes the straight apostrophe (« Les modalités d'évaluation ») where the fiche
    # shipped with the application, transcribed from the published page, writes the typographic one (’): the same
    # words for a reader, so the modality texts are compared with both read as one.
    return text.replace("’", "'")


@pytest.fixture(params=["xml", "zip", "file object"])
def fiche_16204(request):
    if request.param == "xml":
        source = SAMPLE
    elif request.param == "zip":
        source = zipped(SAMPLE.read_bytes())
    else:
        source = io.BytesIO(SAMPLE.read_bytes())
    (fiche,) = read_fiches(source, ["RNCP16204"])
    return fiche


def test_16204_identity_is_the_shipped_fiches(fiche_16204):
    certification = shipped()["certification"]
    assert fiche_16204.rncp_code == certification["rncp_code"] == "16204"
    assert fiche_16204.title == certification["title"]
    assert fiche_16204.level_eqf == certification["level_eqf"] == 6
    assert fiche_16204.level_1969 == certification["level_1969"] == "II"
    assert fiche_16204.nsf_code == certification["nsf_code"]
    assert fiche_16204.nsf_label == certification["nsf_label"]
    assert fiche_16204.certifier_name == certification["certifier_name"]
    assert fiche_16204.certifier_acronym == certification["certifier_acronym"] == "IRUP"
    assert fiche_16204.sectors == certification["sectors"]
    assert fiche_16204.website == certification["website"]
    assert fiche_16204.accessible_new_caledonia is certification["accessible_new_caledonia"] is False
    assert fiche_16204.accessible_french_polynesia is certification["accessible_french_polynesia"] is False
    # The export lists the first six jobs of the published fiche.
    assert fiche_16204.example_jobs == certification["example_jobs"][:6]


def test_16204_rome_codes_are_the_shipped_fiches(fiche_16204):
    assert [{"code": code, "label": label} for code, label in fiche_16204.rome_codes] == shipped()["rome_codes"]


def test_16204_latest_registration_is_the_shipped_fiches(fiche_16204):
    latest = shipped()["registrations"][-1]
    assert fiche_16204.effect_date == datetime.date.fromisoformat(latest["in_force_from"]) == datetime.date(2018, 3, 5)
    assert fiche_16204.end_date == datetime.date.fromisoformat(latest["in_force_until"]) == datetime.date(2023, 4, 17)
    assert fiche_16204.decision_date == datetime.date(2018, 4, 9)
    assert fiche_16204.act == latest["act"] == "Arrêté du 9 avril 2018"
    assert fiche_16204.last_delivery_date is None
    assert fiche_16204.is_active is False


def test_16204_blocks_are_the_shipped_fiches_field_by_field(fiche_16204):
    expected = shipped()["blocks"]
    assert [block.number for block in fiche_16204.blocks] == [block["number"] for block in expected] == [1, 2, 3, 4]
    assert [block.code for block in fiche_16204.blocks] == [f"RNCP16204BC0{n}" for n in (1, 2, 3, 4)]
    for block, wanted in zip(fiche_16204.blocks, expected, strict=True):
        assert block.title == wanted["title"]
        assert block.competences == wanted["competences"]
        assert apostrophes(block.evaluation_modality) == apostrophes(wanted["evaluation_modality"])
        threshold = wanted["threshold"]
        assert block.threshold is not None, block.threshold_problem
        assert (block.threshold.kind, block.threshold.value, block.threshold.out_of) == (
            threshold["kind"],
            Decimal(threshold["value"]),
            threshold["out_of"],
        )


def test_16204_block_2_keeps_9_declared_for_6_listed(fiche_16204):
    block = fiche_16204.blocks[1]
    assert len(block.competences) == 6
    assert block.threshold.value == 7 and block.threshold.out_of == 9


def test_16204_ellipsis_stays_and_list_punctuation_goes(fiche_16204):
    assert fiche_16204.blocks[2].competences[0].endswith("le droit du travail…")
    assert fiche_16204.blocks[0].competences[0] == "un projet formalisé"


def test_16204_pathways_and_jury_rule_are_the_shipped_fiches(fiche_16204):
    expected = shipped()
    assert [
        {"code": pathway.code, "label": pathway.label, "open": pathway.is_open} for pathway in fiche_16204.pathways
    ] == expected["pathways"]
    rule, wanted = fiche_16204.jury_rule, expected["jury_rule"]
    assert rule is not None, fiche_16204.jury_rule_problem
    assert rule.professionals_percent == wanted["professionals_percent"] == 50
    assert rule.trainers_percent == wanted["trainers_percent"] == 50
    assert rule.president_is_professional is wanted["president_is_professional"] is True
    assert rule.professionals_split_equally is wanted["professionals_split_equally"] is True
    assert rule.applies_to == wanted["applies_to"]
    assert rule.text == wanted["text"]
    open_compositions = [pathway.composition for pathway in fiche_16204.pathways if pathway.is_open]
    assert open_compositions == [wanted["text"]] * 4


def test_16204_points_to_its_successor(fiche_16204):
    assert fiche_16204.next_rncp_codes == ["RNCP99901"]
    assert fiche_16204.previous_rncp_codes == []


@pytest.mark.parametrize("source", ["xml", "zip"])
def test_99901_blocks_thresholds_and_dates(source):
    data = SAMPLE if source == "xml" else zipped(SAMPLE.read_bytes())
    (fiche,) = read_fiches(data, ["99901"])
    assert fiche.rncp_code == "99901"
    assert [block.code for block in fiche.blocks] == [f"RNCP99901BC0{n}" for n in (1, 2, 3, 4)]
    assert [(b.threshold.kind, b.threshold.value, b.threshold.out_of) for b in fiche.blocks] == [
        ("count", 3, 4),
        ("proportion", 80, 5),
        ("count", 5, 6),
        ("count", 5, 6),
    ]
    assert [len(block.competences) for block in fiche.blocks] == [4, 5, 6, 6]
    assert fiche.last_delivery_date == datetime.date(2030, 12, 20)
    assert fiche.effect_date == datetime.date(2024, 12, 20)
    assert fiche.end_date == datetime.date(2029, 12, 20)
    assert fiche.previous_rncp_codes == ["RNCP16204"]
    assert fiche.act == "Décision de France compétences du 20 décembre 2024"
    assert fiche.blocks[0].title == "Réaliser un diagnostic territorial et interne d’une entreprise de l’ESS"
    assert fiche.statistics == "14 certifiés en 2025, dont 3 par la VAE"


def test_several_codes_come_in_the_order_asked():
    fiches = read_fiches(SAMPLE, ["RNCP99901", "16204"])
    assert [fiche.rncp_code for fiche in fiches] == ["99901", "16204"]
    assert [fiche.rncp_code for fiche in read_fiches(SAMPLE)] == ["16204", "99901"]


# — Thresholds and jury rules from words —


@pytest.mark.parametrize(
    ("text", "listed", "expected"),
    [
        ("le candidat devra valider 7 des 9 compétences", 6, ("count", 7, 9)),
        ("valider 75% des compétences qui le constituent", 4, ("proportion", 75, 4)),
        ("valider 75 % des compétences", 4, ("proportion", 75, 4)),
        ("valider au moins 3 compétences sur les 4", 4, ("count", 3, 4)),
    ],
)
def test_threshold_read_from_words(text, listed, expected):
    threshold, problem = parse_threshold(text, listed)
    assert problem == ""
    assert (threshold.kind, threshold.value, threshold.out_of) == expected


@pytest.mark.parametrize(
    ("text", "listed", "reason"),
    [
        ("Toutes les compétences sont évaluées.", 4, "aucun seuil"),
        ("valider 7 des 9 compétences, ou 75 % des compétences", 4, "plusieurs seuils"),
        ("valider 3 des 4 compétences ou 5 des 6 compétences", 4, "plusieurs seuils"),
        ("valider 9 des 7 compétences", 4, "illisible"),
        ("valider 3 des 4 compétences", 5, "la fiche liste 5 compétences pour 4"),
        ("valider 80 % des compétences", 0, "n'en liste aucune"),
    ],
)
def test_threshold_none_with_a_french_reason(text, listed, reason):
    threshold, problem = parse_threshold(text, listed)
    assert threshold is None
    assert reason in problem


def _pathways(compositions: dict[str, str]):
    from certif.rncp_export import ParsedPathway

    return [
        ParsedPathway(code=code, label=code, is_open=bool(text), composition=text)
        for code, text in compositions.items()
    ]


RULE = "50% professionnels, 50% formateurs\nPrésident : un professionnel"


def test_jury_rule_applies_to_the_open_pathways_having_the_text():
    rule, problem = parse_jury_rule(_pathways({"apprentissage": RULE, "vae": RULE, "formation-initiale": ""}))
    assert problem == ""
    assert rule.applies_to == ["apprentissage", "vae"]
    assert rule.president_is_professional is True
    assert rule.professionals_split_equally is False


def test_jury_rule_differing_between_pathways_is_left_to_staff():
    rule, problem = parse_jury_rule(_pathways({"apprentissage": RULE, "vae": "60% professionnels, 40% formateurs"}))
    assert rule is None
    assert "diffère selon les voies d'accès" in problem


def test_jury_rule_stating_something_else_is_left_to_staff():
    rule, problem = parse_jury_rule(_pathways({"vae": RULE + "\nUn représentant de la branche siège au jury"}))
    assert rule is None
    assert "phrase non reconnue" in problem and "représentant de la branche" in problem


def test_html_becomes_plain_text():
    text, items = html_to_text(
        "<p>Premier paragraphe&nbsp;:</p><p>second<br/>à la ligne &amp; fin</p><ul><li>un,</li><li> deux </li></ul>"
    )
    assert text == "Premier paragraphe :\nsecond\nà la ligne & fin\nun,\ndeux"
    assert items == ["un,", "deux"]
    assert "<" not in text


# — Refusals —

HEADER = b'<?xml version="1.0" encoding="UTF-8"?>\n<FICHES><VERSION_FLUX>4.1</VERSION_FLUX>'


def fiche_xml(code="RNCP12345", *, blocks=b"", extra=b"") -> bytes:
    return (
        b"<FICHE><NUMERO_FICHE>" + code.encode() + b"</NUMERO_FICHE><INTITULE>Essai</INTITULE>"
        b"<NOMENCLATURE_EUROPE><NIVEAU>NIV5</NIVEAU></NOMENCLATURE_EUROPE>" + extra + blocks + b"</FICHE>"
    )


def test_not_a_zip_nor_xml_is_refused():
    with pytest.raises(RncpExportError, match="ni une archive ZIP ni un fichier XML"):
        read_fiches(io.BytesIO(b"%PDF-1.7 not an export"), ["RNCP16204"])


def test_zip_without_xml_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lisez-moi.txt", "rien")
    buffer.seek(0)
    with pytest.raises(RncpExportError, match="aucun fichier XML"):
        read_fiches(buffer, ["RNCP16204"])


def test_malformed_xml_is_refused():
    with pytest.raises(RncpExportError, match="mal formé"):
        read_fiches(io.BytesIO(HEADER + b"<FICHE><NUMERO_FICHE>RNCP1</FICHE>"), ["RNCP1"])


def test_wrong_version_says_found_and_expected():
    data = SAMPLE.read_bytes().replace(b"<VERSION_FLUX>4.1<", b"<VERSION_FLUX>3.0<")
    with pytest.raises(RncpExportError) as refused:
        read_fiches(io.BytesIO(data), ["RNCP16204"])
    assert "« 3.0 » trouvée" in refused.value.messages[0]
    assert "4.1 attendue" in refused.value.messages[0]


def test_absent_code_is_named():
    with pytest.raises(RncpExportError, match="La fiche RNCP11111 ne figure pas dans ce fichier"):
        read_fiches(SAMPLE, ["RNCP16204", "11111"])


def test_block_without_code_is_refused():
    block = (
        b"<BLOCS_COMPETENCES><BLOC_COMPETENCES><LIBELLE>Bloc sans code</LIBELLE></BLOC_COMPETENCES></BLOCS_COMPETENCES>"
    )
    data = HEADER + fiche_xml(blocks=block) + b"</FICHES>"
    with pytest.raises(RncpExportError, match="Fiche RNCP12345 : le bloc « Bloc sans code » n'a pas de code"):
        read_fiches(io.BytesIO(data), ["RNCP12345"])


def test_unreadable_date_names_fiche_field_and_value():
    data = HEADER + fiche_xml(extra=b"<DATE_EFFET>2024-12-20</DATE_EFFET>") + b"</FICHES>"
    with pytest.raises(RncpExportError) as refused:
        read_fiches(io.BytesIO(data), ["RNCP12345"])
    assert refused.value.messages == [
        "Fiche RNCP12345 : la date DATE_EFFET « 2024-12-20 » est illisible (attendu JJ/MM/AAAA)."
    ]


def test_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    data = (
        b'<?xml version="1.0"?><!DOCTYPE FICHES [<!ENTITY x SYSTEM "file://' + str(secret).encode() + b'">]>'
        b"<FICHES><VERSION_FLUX>4.1</VERSION_FLUX>"
        + fiche_xml(extra=b"<SECTEURS_ACTIVITE>&x;</SECTEURS_ACTIVITE>")
        + b"</FICHES>"
    )
    (fiche,) = read_fiches(io.BytesIO(data), ["RNCP12345"])
    assert "SECRET" not in fiche.sectors


# — Memory —


def test_a_big_export_is_read_in_bounded_memory(tmp_path):
    path = tmp_path / "export.xml"
    one = SAMPLE.read_bytes().split(b"<FICHE>")[2].split(b"</FICHE>")[0]
    with path.open("wb") as out:
        out.write(HEADER)
        for number in range(3000):
            out.write(b"<FICHE>" + one.replace(b"99901", str(50000 + number).encode()) + b"</FICHE>\n")
        out.write(b"</FICHES>")
    size = path.stat().st_size
    assert size > 15_000_000
    tracemalloc.start()
    try:
        (fiche,) = read_fiches(path, ["RNCP52999"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert fiche.rncp_code == "52999"
    assert [block.code for block in fiche.blocks][0] == "RNCP52999BC01"
    assert peak < size / 20, f"pic de mémoire {peak} octets pour un fichier de {size}"
