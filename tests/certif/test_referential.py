"""The referential as installed equals the fiche RNCP 16204 (certif/data/fiche-rncp-16204.txt).

The fiche is parsed here, independently of certif/data/rncp-16204.json, and compared with the database.
"""

import datetime
import json
import re
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from certif.models import AccessPathway, Block, Certification, Competence, JuryCompositionRule, Registration
from certif.referential import export_referential, import_referential, read_referential_file
from certif.rules import ThresholdKind
from certif.text import french_dates_in

FICHE_PATH = Path(__file__).resolve().parents[2] / "certif" / "data" / "fiche-rncp-16204.txt"
FICHE_RAW = FICHE_PATH.read_text(encoding="utf-8")

MONTHS = {
    name: number
    for number, name in enumerate(
        [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ],
        start=1,
    )
}


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


FICHE = normalise(FICHE_RAW)


def french_date(text: str) -> datetime.date:
    day, month, year = text.split()
    return datetime.date(int(year), MONTHS[month], int(day))


def between(text: str, start: str, end: str) -> str:
    begin = text.index(start) + len(start)
    return text[begin : text.index(end, begin)]


def fiche_blocks() -> dict[int, dict]:
    """Each « Bloc de compétence n°X de la fiche n° 16204 - … » section: title, competences, threshold."""
    sections = re.split(r"Bloc de compétence n°(\d+) de la fiche n° 16204 - ", FICHE)[1:]
    blocks = {}
    for number, body in zip(sections[::2], sections[1::2], strict=True):
        body = body.split("Validité des composantes acquises")[0]
        title = body.split(" Les compétences attestées sont :")[0]
        assert title.endswith(".")
        listed = between(body, "Les compétences attestées sont :", "Modalités d'évaluation")
        competences = [item.strip().rstrip(",.").strip() for item in listed.split("- ") if item.strip()]
        proportion = re.search(r"valider (\d+)% des compétences", body)
        count = re.search(r"valider (\d+) des (\d+) compétences", body)
        assert bool(proportion) != bool(count), f"block {number}: one threshold form expected"
        if proportion:
            threshold = (ThresholdKind.PROPORTION, int(proportion.group(1)), len(competences))
        else:
            threshold = (ThresholdKind.COUNT, int(count.group(1)), int(count.group(2)))
        blocks[int(number)] = {"title": title[:-1], "competences": competences, "threshold": threshold}
    return blocks


FICHE_BLOCKS = fiche_blocks()


def fiche_registrations() -> list[dict]:
    pattern = re.compile(
        r"(Arrêté du \d{1,2} \w+ \d{4}) publié au (Journal Officiel du (\d{1,2} \w+ \d{4})) .*?"
        r"au niveau (\w+), .*?avec effet au (\d{1,2} \w+ \d{4}), jusqu'au (\d{1,2} \w+ \d{4})\."
    )
    return [
        {
            # The referential writes the fiche's dates in the French form (« 9 avril 2018 », not « 09 »).
            "act": french_dates_in(match.group(1)),
            "publication": french_dates_in(match.group(2)),
            "publication_date": french_date(match.group(3)),
            "level_note": f"niveau {match.group(4)}",
            "in_force_from": french_date(match.group(5)),
            "in_force_until": french_date(match.group(6)),
        }
        for match in pattern.finditer(FICHE)
    ]


def fiche_pathway_rows() -> dict[str, str]:
    """The OUI/NON table: each pathway label with what its row says (jury composition when open)."""
    table = between(FICHE, "CONDITIONS D'INSCRIPTION À LA CERTIFICATION OUINON COMPOSITION DES JURYS", "OUI NON")
    labels = [
        "Après un parcours de formation sous statut d'élève ou d'étudiant",
        "En contrat d'apprentissage",
        "Après un parcours de formation continue",
        "En contrat de professionnalisation",
        "Par candidature individuelle",
        "Par expérience dispositif VAE prévu en 2012",
    ]
    positions = [table.index(label) for label in labels]
    assert positions == sorted(positions)
    ends = positions[1:] + [len(table)]
    return {
        label: table[start + len(label) : end].strip()
        for label, start, end in zip(labels, positions, ends, strict=True)
    }


def current_competences(block: Block) -> list[str]:
    return [competence.label for competence in block.current_grid.competences.all()]


def export_json(code: str = "16204") -> dict:
    out = StringIO()
    call_command("export_fiche", code, stdout=out)
    return json.loads(out.getvalue())


def counts(certification: Certification) -> dict[str, int]:
    return {
        "certifications": Certification.objects.count(),
        "blocks": certification.blocks.count(),
        "competences": Competence.objects.filter(grid__block__certification=certification).count(),
        "registrations": certification.registrations.count(),
        "rome_codes": certification.rome_codes.count(),
        "preparation_places": certification.preparation_places.count(),
        "pathways": certification.pathways.count(),
        "scale_levels": sum(scale.levels.count() for scale in certification.rating_scales.all()),
    }


# --- the parser itself reads what the fiche says ------------------------------------------------------------


def test_fiche_parser_finds_four_blocks_and_two_registrations():
    assert sorted(FICHE_BLOCKS) == [1, 2, 3, 4]
    assert [len(block["competences"]) for block in FICHE_BLOCKS.values()] == [4, 6, 3, 5]
    assert len(fiche_registrations()) == 2


# --- blocks ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_installed_blocks_are_the_fiches_four(certification):
    blocks = list(Block.objects.filter(certification=certification).order_by("number"))
    assert [block.number for block in blocks] == sorted(FICHE_BLOCKS)
    assert [block.code for block in blocks] == [f"RNCP16204BC0{n}" for n in (1, 2, 3, 4)]


@pytest.mark.django_db
@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_block_title_is_the_fiches(blocks, number):
    assert normalise(blocks[number].title) == FICHE_BLOCKS[number]["title"]


@pytest.mark.django_db
@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_block_grid_lists_the_fiches_competences_in_order(blocks, number):
    assert [normalise(label) for label in current_competences(blocks[number])] == FICHE_BLOCKS[number]["competences"]


@pytest.mark.django_db
@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_block_threshold_is_the_fiches(blocks, number):
    block = blocks[number]
    kind, value, out_of = FICHE_BLOCKS[number]["threshold"]
    assert block.threshold_kind == kind
    assert block.threshold_value == Decimal(value)
    assert block.declared_competence_count == out_of


@pytest.mark.django_db
@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_block_evaluation_modality_is_the_fiches_text(blocks, number):
    modality = normalise(blocks[number].evaluation_modality)
    assert modality.startswith("Toutes les compétences sont évaluées.")
    assert modality in FICHE


@pytest.mark.django_db
def test_declared_counts_beyond_listed_competences_leave_grids_incomplete(blocks):
    """Blocks 2, 3, 4 declare 9, 7, 9 competences; the fiche lists 6, 3, 5."""
    state = {n: (block.current_grid.defined_count, block.current_grid.is_complete) for n, block in blocks.items()}
    assert state == {1: (4, True), 2: (6, False), 3: (3, False), 4: (5, False)}


# --- certification --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_certification_identity_is_the_fiches(certification):
    assert certification.rncp_code == re.search(r"Code RNCP : (\d+)", FICHE).group(1)
    assert certification.title == between(FICHE, "Intitulé ", " AUTORITÉ RESPONSABLE")
    assert certification.title == "Manager de proximité dans l'économie sociale et solidaire"
    assert certification.acronym == "MPES"
    assert f"La certification {certification.acronym} " in FICHE


@pytest.mark.django_db
def test_certification_level_and_nsf(certification):
    assert f"{certification.level_1969} (Nomenclature de 1969)" in FICHE
    assert f"{certification.level_eqf} (Nomenclature Europe)" in FICHE
    assert (certification.level_1969, certification.level_eqf) == ("II", 6)
    assert certification.nsf_code == "330p"
    assert f"Code(s) NSF : {certification.nsf_code} {certification.nsf_label} Formacode(s)" in FICHE
    assert certification.nsf_label == "Spécialités plurivalentes des services aux personnes (organisation, conception)"


@pytest.mark.django_db
def test_certifier_and_signatory(certification):
    line = between(
        FICHE, "AUTORITÉ RESPONSABLE DE LA CERTIFICATION QUALITÉ DU(ES) SIGNATAIRE(S) DE LA CERTIFICATION ", " Niveau"
    )
    name, acronym, signatory = re.fullmatch(r"(.+) \((\w+)\)(.+)", line).groups()
    assert certification.certifier_name == name == "Institut régional universitaire polytechnique"
    assert certification.certifier_acronym == acronym == "IRUP"
    assert certification.signatory_title == signatory == "Directeur général"


@pytest.mark.django_db
def test_rome_codes_as_the_fiche_writes_them(certification):
    section = between(FICHE, "Codes des fiches ROME les plus proches :", "Réglementation d'activités")
    fiche_codes = re.findall(r"([A-Z]\d{4}) : (.+?)(?= [A-Z]\d{4} :|$)", section.strip())
    installed = [(rome.code, rome.label) for rome in certification.rome_codes.order_by("code")]
    assert installed == fiche_codes
    assert [code for code, _ in installed] == ["K1403", "K1802", "M1302"]


@pytest.mark.django_db
def test_acquired_blocks_validity_is_unlimited(certification):
    assert certification.acquired_blocks_validity == "illimitée"
    assert f"Validité des composantes acquises : {certification.acquired_blocks_validity}" in FICHE


@pytest.mark.django_db
def test_registrations_are_the_fiches_two_with_their_dates(certification):
    installed = [
        {
            "act": registration.act,
            "publication": registration.publication,
            "publication_date": registration.publication_date,
            "level_note": registration.level_note,
            "in_force_from": registration.in_force_from,
            "in_force_until": registration.in_force_until,
        }
        for registration in certification.registrations.order_by("in_force_from")
    ]
    assert installed == fiche_registrations()
    assert [(r["in_force_from"], r["in_force_until"]) for r in installed] == [
        (datetime.date(2010, 12, 13), datetime.date(2018, 3, 5)),
        (datetime.date(2018, 3, 5), datetime.date(2023, 4, 17)),
    ]


@pytest.mark.django_db
def test_registrations_cover_their_periods_and_nothing_after(certification):
    assert certification.registration_on(datetime.date(2010, 12, 13)).act == "Arrêté du 22 janvier 2013"
    assert certification.registration_on(datetime.date(2020, 6, 1)).act == "Arrêté du 9 avril 2018"
    assert certification.registration_on(datetime.date(2023, 4, 17)).act == "Arrêté du 9 avril 2018"
    assert certification.registration_on(datetime.date(2010, 12, 12)) is None
    assert certification.registration_on(datetime.date(2023, 4, 18)) is None


@pytest.mark.django_db
def test_preparation_places_are_the_fiches_two(certification):
    section = between(
        FICHE_RAW, "Lieu(x) de préparation à la certification déclarés par l'organisme certificateur :", "Historique"
    )
    lines = [normalise(line) for line in section.splitlines() if line.strip()]
    fiche_places = [tuple(line.split(" - ", 1)) for line in lines]
    installed = [(normalise(place.name), normalise(place.address)) for place in certification.preparation_places.all()]
    assert installed == fiche_places
    assert [name for name, _ in installed] == ["IRUP", "GRETA de la Martinique/GIP-FCIP"]


@pytest.mark.django_db
def test_overseas_flags_are_loaded_as_no(certification):
    assert certification.accessible_new_caledonia is False
    assert certification.accessible_french_polynesia is False


@pytest.mark.django_db
def test_certification_place_is_the_fiches(certification):
    assert normalise(certification.certification_place) == normalise(
        between(FICHE_RAW, "Lieu(x) de certification :", "Lieu(x) de préparation")
    )


# --- pathways and jury rule --------------------------------------------------------------------------------


OPEN_BY_DOMAIN = {
    "Après un parcours de formation sous statut d'élève ou d'étudiant": False,
    "En contrat d'apprentissage": True,
    "Après un parcours de formation continue": True,
    "En contrat de professionnalisation": True,
    "Par candidature individuelle": False,
    "Par expérience dispositif VAE prévu en 2012": True,
}


@pytest.mark.django_db
def test_six_pathways_with_open_as_domain_says(certification):
    pathways = list(AccessPathway.objects.filter(certification=certification).order_by("position"))
    assert {pathway.label: pathway.is_open for pathway in pathways} == OPEN_BY_DOMAIN
    assert [pathway.label for pathway in pathways] == list(OPEN_BY_DOMAIN)


@pytest.mark.django_db
def test_pathway_labels_are_in_the_fiche_and_open_rows_carry_a_jury(certification):
    rows = fiche_pathway_rows()
    for pathway in certification.pathways.all():
        assert normalise(pathway.label) in FICHE
        carries_jury = rows[pathway.label].startswith("X 50% professionnels, 50% formateurs")
        assert pathway.is_open == carries_jury, pathway.label


@pytest.mark.django_db
def test_closed_pathway_explains_itself(certification):
    closed = certification.pathways.get(label="Par candidature individuelle")
    assert closed.closed_reason == (
        "La fiche RNCP 16204 n'ouvre pas la certification à cette voie d'accès "
        "(« Par candidature individuelle » : NON)."
    )


@pytest.mark.django_db
def test_jury_rule_is_the_fiches(certification):
    rule = JuryCompositionRule.objects.get(certification=certification)
    assert rule.professionals_percent == 50
    assert rule.trainers_percent == 50
    assert rule.president_is_professional is True
    assert rule.professionals_split_equally is True
    assert rule.minimum_members == 4
    assert set(rule.pathways.all()) == set(certification.pathways.filter(is_open=True))
    assert rule.pathways.count() == 4
    text = normalise(rule.text)
    assert text == (
        "50% professionnels, 50% formateurs Président : un professionnel Les professionnels composant ce jury "
        "seront des salariés et des employeurs, à parts égales"
    )
    assert FICHE.count(text) == 4  # once per open pathway row


# --- rating scale -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rating_scale_a_b_c_validate_d_does_not(certification):
    scale = certification.rating_scales.get()
    assert [(level.code, level.validates) for level in scale.ordered_levels] == [
        ("A", True),
        ("B", True),
        ("C", True),
        ("D", False),
    ]
    assert [level.position for level in scale.ordered_levels] == [1, 2, 3, 4]
    assert scale.validating_codes == {"A", "B", "C"}
    assert scale.floor_label == "C"
    assert f"au moins au niveau {scale.floor_label}" in FICHE
    assert not scale.is_in_use


# --- idempotent install --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_second_import_changes_nothing(certification):
    before = counts(certification)
    exported_before = export_referential(certification)
    again, created = import_referential(read_referential_file())
    assert created is False
    assert again == certification
    assert counts(certification) == before
    assert export_referential(certification) == exported_before


@pytest.mark.django_db
def test_staff_change_survives_a_second_import(blocks):
    competence = blocks[1].current_grid.competences.get(position=1)
    competence.label = "un projet formalisé et partagé"
    competence.save()
    _, created = import_referential(read_referential_file())
    assert created is False
    assert current_competences(Block.objects.get(pk=blocks[1].pk))[0] == "un projet formalisé et partagé"


@pytest.mark.django_db
def test_load_fiche_without_argument_reports_already_present(certification):
    out = StringIO()
    call_command("load_fiche", stdout=out)
    assert "déjà présente, inchangée" in out.getvalue()
    assert Certification.objects.count() == 1
    assert certification.registrations.count() == 2


# --- export_fiche / load_fiche ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_fiche_prints_blocks_thresholds(certification):
    exported = export_json("16204")
    assert [(block["code"], block["threshold"]) for block in exported["blocks"]] == [
        ("RNCP16204BC01", {"kind": "proportion", "value": 75, "out_of": 4}),
        ("RNCP16204BC02", {"kind": "count", "value": 7, "out_of": 9}),
        ("RNCP16204BC03", {"kind": "count", "value": 5, "out_of": 7}),
        ("RNCP16204BC04", {"kind": "count", "value": 7, "out_of": 9}),
    ]
    assert [len(block["competences"]) for block in exported["blocks"]] == [4, 6, 3, 5]


@pytest.mark.django_db
def test_export_fiche_prints_pathways_and_jury_rule(certification):
    exported = export_json("RNCP16204")
    assert {pathway["label"]: pathway["open"] for pathway in exported["pathways"]} == OPEN_BY_DOMAIN
    rule = exported["jury_rule"]
    assert rule["professionals_percent"] == 50
    assert rule["trainers_percent"] == 50
    assert rule["president_is_professional"] is True
    assert rule["professionals_split_equally"] is True
    open_codes = [pathway["code"] for pathway in exported["pathways"] if pathway["open"]]
    assert rule["applies_to"] == open_codes
    assert len(open_codes) == 4


@pytest.mark.django_db
def test_export_fiche_of_unknown_code_is_refused(certification):
    with pytest.raises(CommandError, match="Aucune certification RNCP 12345"):
        call_command("export_fiche", "12345", stdout=StringIO())


@pytest.mark.django_db
def test_round_trip_through_another_code(certification):
    first = export_json("16204")
    copy = json.loads(json.dumps(first))
    copy["certification"]["rncp_code"] = "99999"
    second_certification, created = import_referential(copy)
    assert created is True
    assert Certification.objects.count() == 2
    second = export_json("99999")

    assert second["certification"]["rncp_code"] == "99999"
    assert [block["code"] for block in second["blocks"]] == [f"RNCP99999BC0{n}" for n in (1, 2, 3, 4)]
    for exported in (first, second):
        exported["certification"].pop("rncp_code")
        for block in exported["blocks"]:
            block.pop("code")
    assert second == first
    # The original is untouched.
    assert export_json("16204")["certification"]["rncp_code"] == "16204"
    assert Registration.objects.filter(certification=second_certification).count() == 2


@pytest.mark.django_db
def test_load_fiche_installs_an_exported_file(certification, tmp_path):
    data = export_json("16204")
    data["certification"]["rncp_code"] = "99998"
    path = tmp_path / "fiche.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = StringIO()
    call_command("load_fiche", str(path), stdout=out)
    assert "RNCP 99998" in out.getvalue()
    assert "installée" in out.getvalue()
    assert Block.objects.filter(certification__rncp_code="99998").count() == 4


@pytest.mark.django_db
def test_load_fiche_with_wrong_format_is_refused_in_french(certification, tmp_path):
    data = read_referential_file()
    data["format"] = "autre-format/2"
    data["certification"]["rncp_code"] = "99997"
    path = tmp_path / "fiche.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError) as error:
        call_command("load_fiche", str(path), stdout=StringIO())
    message = str(error.value)
    assert "Référentiel illisible" in message
    assert "Format de référentiel inconnu : 'autre-format/2' (attendu : mpes-referentiel/1)" in message
    assert not Certification.objects.filter(rncp_code="99997").exists()


@pytest.mark.django_db
def test_load_fiche_with_missing_file_is_refused_in_french(certification, tmp_path):
    with pytest.raises(CommandError, match="Référentiel illisible"):
        call_command("load_fiche", str(tmp_path / "absent.json"), stdout=StringIO())


# --- load_fiche refuses, in French and writing nothing, what the forms would refuse --------------------------


def write_fiche(tmp_path, data) -> str:
    path = tmp_path / "fiche.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


@pytest.mark.django_db
def test_load_fiche_with_a_json_array_is_refused_in_french(certification, tmp_path):
    with pytest.raises(CommandError, match="Référentiel illisible"):
        call_command("load_fiche", write_fiche(tmp_path, []), stdout=StringIO())


@pytest.mark.django_db
def test_load_fiche_with_registration_ending_before_it_starts_is_refused_in_french(certification, tmp_path):
    data = read_referential_file()
    data["certification"]["rncp_code"] = "99996"
    data["registrations"][0]["in_force_until"] = "2009-01-01"
    with pytest.raises(CommandError, match="Référentiel illisible"):
        call_command("load_fiche", write_fiche(tmp_path, data), stdout=StringIO())
    assert not Certification.objects.filter(rncp_code="99996").exists()


@pytest.mark.django_db
def test_load_fiche_with_threshold_above_the_block_is_refused(certification, tmp_path):
    data = read_referential_file()
    data["certification"]["rncp_code"] = "99995"
    data["blocks"][1]["threshold"]["value"] = 12  # « valider 12 des 9 compétences »: no candidate could validate
    with pytest.raises(CommandError):
        call_command("load_fiche", write_fiche(tmp_path, data), stdout=StringIO())
    assert not Certification.objects.filter(rncp_code="99995").exists()
