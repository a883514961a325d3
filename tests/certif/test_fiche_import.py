"""Installing fiches from France Compétences' export: the preview says what would change and writes nothing; the
apply installs RNCP99901 as its fiche states it, or applies to an installed fiche only what changed — a frozen grid
gets a new version, a frozen block's rule is refused in the preview, and a second import changes nothing."""

import dataclasses
import datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from certif.audit import audit_trail
from certif.audit_display import describe_events
from certif.fiche_import import NO_DIFFERENCE, fiche_import_apply, fiche_import_preview
from certif.models import AuditAction, AuditEvent, Block, Certification, Grid, Registration
from certif.rncp_export import read_fiches

SAMPLE = Path(__file__).resolve().parents[2] / "certif" / "data" / "export-fiches-rncp-v4-1-exemple.xml"


def fiche(code):
    return read_fiches(SAMPLE, [code])[0]


def without_threshold(parsed, number):
    """The fiche with block `number`'s threshold unread, as when its words are ambiguous."""
    blocks = [
        dataclasses.replace(block, threshold=None, threshold_problem="seuil ambigu")
        if block.number == number
        else block
        for block in parsed.blocks
    ]
    return dataclasses.replace(parsed, blocks=blocks)


def counts() -> dict:
    return {
        "certifications": Certification.objects.count(),
        "blocks": Block.objects.count(),
        "grids": Grid.objects.count(),
        "registrations": Registration.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def installed_99901(staff_user):
    fiche_import_apply(fiches=[fiche("RNCP99901")], thresholds=None, actor=staff_user)
    return Certification.objects.get(rncp_code="99901")


def test_preview_of_a_new_fiche_says_creation_and_writes_nothing(certification):
    before = counts()
    preview = fiche_import_preview(fiches=[fiche("RNCP99901")])
    (plan,) = preview.fiches
    assert plan.status == "création"
    assert [block.threshold_text for block in plan.blocks] == [
        "3 compétences sur 4",
        "80 % des 5 compétences",
        "5 compétences sur 6",
        "5 compétences sur 6",
    ]
    assert preview.can_apply
    assert "Fiche RNCP99901 — Manager de proximité dans l'économie sociale et solidaire : création" in preview.lines()
    assert counts() == before


def test_apply_creates_99901_as_its_fiche_states_it(certification, staff_user):
    successor = installed_99901(staff_user)
    assert successor.title == "Manager de proximité dans l'économie sociale et solidaire"
    assert (successor.level_eqf, successor.level_1969) == (6, "II")
    assert (successor.certifier_name, successor.certifier_acronym) == (
        "Institut régional universitaire polytechnique",
        "IRUP",
    )
    # Taken from the predecessor installed here.
    assert successor.signatory_title == certification.signatory_title == "Directeur général"
    assert successor.acronym == "MPES"
    assert successor.acquired_blocks_validity == "illimitée"
    assert successor.certification_place == certification.certification_place
    assert successor.last_delivery_date == datetime.date(2030, 12, 20)
    assert successor.previous_rncp_codes == ["RNCP16204"]
    (registration,) = successor.registrations.all()
    assert registration.decision_date == datetime.date(2024, 12, 20)
    assert (registration.in_force_from, registration.in_force_until) == (
        datetime.date(2024, 12, 20),
        datetime.date(2029, 12, 20),
    )
    blocks = list(Block.objects.filter(certification=successor))
    assert [block.code for block in blocks] == [f"RNCP99901BC0{n}" for n in (1, 2, 3, 4)]
    assert [(b.threshold_kind, b.threshold_value, b.declared_competence_count) for b in blocks] == [
        ("count", Decimal(3), 4),
        ("proportion", Decimal(80), 5),
        ("count", Decimal(5), 6),
        ("count", Decimal(5), 6),
    ]
    assert [block.current_grid.competences.count() for block in blocks] == [4, 5, 6, 6]
    scale = successor.rating_scales.get()
    assert [(level.code, level.validates) for level in scale.ordered_levels] == [
        ("A", True),
        ("B", True),
        ("C", True),
        ("D", False),
    ]
    assert [p.code for p in successor.pathways.filter(is_open=True)] == [
        "apprentissage",
        "formation-continue",
        "professionnalisation",
        "vae",
    ]
    rule = successor.jury_rule
    assert (rule.professionals_percent, rule.president_is_professional, rule.professionals_split_equally) == (
        50,
        True,
        True,
    )
    assert rule.pathways.count() == 4
    # The predecessor now links to it.
    certification.refresh_from_db()
    assert certification.next_rncp_codes == ["RNCP99901"]


def test_apply_records_one_trace_for_the_new_fiche(certification, staff_user):
    successor = installed_99901(staff_user)
    (event,) = audit_trail(successor)
    assert event.action == AuditAction.REFERENTIAL_FICHE_IMPORTED
    assert event.actor == staff_user
    summary = describe_events([event])[0].summary
    assert "RNCP99901BC02 : 80 % des 5 compétences" in summary
    assert describe_events([event])[0].label == "Installation de la fiche depuis France Compétences"


def test_reimporting_the_same_export_changes_nothing(certification, staff_user):
    installed_99901(staff_user)
    before = counts()
    preview = fiche_import_preview(fiches=[fiche("RNCP99901")])
    assert preview.fiches[0].status == NO_DIFFERENCE
    assert "aucune différence" in preview.lines()[0]
    fiche_import_apply(fiches=[fiche("RNCP99901")], thresholds=None, actor=staff_user)
    assert counts() == before


def test_missing_threshold_refuses_the_apply_and_writes_nothing(certification, staff_user):
    parsed = without_threshold(fiche("RNCP99901"), 2)
    preview = fiche_import_preview(fiches=[parsed])
    assert preview.missing == ["RNCP99901 — Bloc RNCP99901BC02 : seuil à saisir (seuil ambigu)."]
    before = counts()
    with pytest.raises(ValidationError, match="L'installation attend encore ces saisies"):
        fiche_import_apply(fiches=[parsed], thresholds=None, actor=staff_user)
    assert counts() == before


def test_threshold_entered_by_staff_completes_the_fiche(certification, staff_user):
    parsed = without_threshold(fiche("RNCP99901"), 2)
    fiche_import_apply(fiches=[parsed], thresholds={"RNCP99901BC02": ("count", 4, 5)}, actor=staff_user)
    block = Block.objects.get(certification__rncp_code="99901", number=2)
    assert (block.threshold_kind, block.threshold_value, block.declared_competence_count) == ("count", 4, 5)


def test_a_threshold_entered_beyond_its_total_is_refused(certification):
    parsed = without_threshold(fiche("RNCP99901"), 2)
    preview = fiche_import_preview(fiches=[parsed], thresholds={"RNCP99901BC02": ("count", 6, 5)})
    assert not preview.can_apply
    assert "entre 1 et 5" in preview.missing[0]


def test_reimport_of_16204_shows_what_the_export_adds(certification, staff_user):
    preview = fiche_import_preview(fiches=[fiche("RNCP16204")])
    (plan,) = preview.fiches
    texts = [change.text for change in plan.all_changes]
    assert "fiches suivantes : — → RNCP99901" in texts
    assert "enregistrement : date de la décision : — → 09/04/2018" in texts
    # Only those: the rest (blocks, modality texts with their apostrophes, pathways, jury) is the same fiche.
    assert len(texts) == 2, texts
    fiche_import_apply(fiches=[fiche("RNCP16204")], thresholds=None, actor=staff_user)
    certification.refresh_from_db()
    assert certification.next_rncp_codes == ["RNCP99901"]
    assert certification.registrations.get(in_force_from=datetime.date(2018, 3, 5)).decision_date == datetime.date(
        2018, 4, 9
    )
    (event,) = audit_trail(certification)
    assert event.action == AuditAction.REFERENTIAL_FICHE_UPDATED
    assert event.after["next_rncp_codes"] == ["RNCP99901"]
    assert fiche_import_preview(fiches=[fiche("RNCP16204")]).fiches[0].status == NO_DIFFERENCE


def freeze(block: Block) -> Grid:
    grid = block.current_grid
    Grid.objects.filter(pk=grid.pk).update(frozen_at=timezone.now())
    grid.refresh_from_db()
    return grid


def renamed(parsed, number, position, label):
    blocks = []
    for block in parsed.blocks:
        if block.number == number:
            competences = list(block.competences)
            competences[position - 1] = label
            block = dataclasses.replace(block, competences=competences)
        blocks.append(block)
    return dataclasses.replace(parsed, blocks=blocks)


def test_competence_change_on_a_frozen_grid_makes_a_new_version(certification, staff_user):
    successor = installed_99901(staff_user)
    block = Block.objects.get(certification=successor, number=1)
    frozen = freeze(block)
    changed = renamed(fiche("RNCP99901"), 1, 2, "Conduire un diagnostic interne de l’entreprise de l’ESS")
    preview = fiche_import_preview(fiches=[changed])
    (change,) = preview.fiches[0].all_changes
    assert "nouvelle version de la grille" in change.label
    assert not change.refusal
    fiche_import_apply(fiches=[changed], thresholds=None, actor=staff_user)
    grids = list(Grid.objects.filter(block=block).order_by("version"))
    assert [grid.version for grid in grids] == [1, 2]
    assert grids[0].pk == frozen.pk
    assert (
        list(grids[0].competences.values_list("label", flat=True))[1]
        == "Conduire une analyse interne de l’entreprise de l’ESS"
    )
    assert list(grids[1].competences.values_list("label", flat=True))[1] == (
        "Conduire un diagnostic interne de l’entreprise de l’ESS"
    )
    events = [event for event in audit_trail(successor) if event.action == AuditAction.REFERENTIAL_FICHE_UPDATED]
    assert len(events) == 1
    assert events[0].after["bloc RNCP99901BC01"]["competences"][1].startswith("Conduire un diagnostic")


def test_threshold_change_on_a_frozen_block_is_refused_in_the_preview(certification, staff_user):
    successor = installed_99901(staff_user)
    block = Block.objects.get(certification=successor, number=3)
    freeze(block)
    parsed = fiche("RNCP99901")
    changed = dataclasses.replace(
        parsed,
        blocks=[
            dataclasses.replace(b, threshold=dataclasses.replace(b.threshold, value=Decimal(4))) if b.number == 3 else b
            for b in parsed.blocks
        ],
    )
    preview = fiche_import_preview(fiches=[changed])
    (change,) = preview.fiches[0].all_changes
    assert change.label == "bloc RNCP99901BC03 : seuil"
    assert "a servi à une évaluation" in change.refusal
    before = counts()
    fiche_import_apply(fiches=[changed], thresholds=None, actor=staff_user)
    block.refresh_from_db()
    assert block.threshold_value == 5
    assert counts() == before  # nothing applied, nothing recorded


def test_a_new_registration_period_is_added(certification, staff_user):
    successor = installed_99901(staff_user)
    renewed = dataclasses.replace(
        fiche("RNCP99901"),
        decision_date=datetime.date(2026, 11, 5),
        effect_date=datetime.date(2029, 12, 20),
        end_date=datetime.date(2034, 12, 20),
    )
    preview = fiche_import_preview(fiches=[renewed])
    texts = [change.text for change in preview.fiches[0].all_changes]
    assert (
        "nouvel enregistrement : — → Décision de France compétences du 5 novembre 2026, du 20/12/2029 au 20/12/2034"
        in texts
    )
    fiche_import_apply(fiches=[renewed], thresholds=None, actor=staff_user)
    assert successor.registrations.count() == 2


# — The command —


def test_command_preview_writes_nothing(certification):
    before = counts()
    out = StringIO()
    call_command("import_rncp", str(SAMPLE), "--fiche", "RNCP99901", stdout=out)
    assert "création" in out.getvalue()
    assert "rien n'a été écrit" in out.getvalue()
    assert counts() == before


def test_command_apply_creates_99901_with_one_trace(certification):
    out = StringIO()
    call_command("import_rncp", str(SAMPLE), "--fiche", "RNCP99901", "--apply", stdout=out)
    successor = Certification.objects.get(rncp_code="99901")
    assert successor.is_example is False
    assert Block.objects.filter(certification=successor).count() == 4
    assert [event.action for event in audit_trail(successor)] == [AuditAction.REFERENTIAL_FICHE_IMPORTED]
    assert "installée" in out.getvalue()


def test_command_threshold_option(certification):
    call_command(
        "import_rncp",
        str(SAMPLE),
        "--fiche",
        "99901",
        "--threshold",
        "RNCP99901BC02=count:4/5",
        "--apply",
        stdout=StringIO(),
    )
    block = Block.objects.get(certification__rncp_code="99901", number=2)
    assert (block.threshold_kind, block.threshold_value, block.declared_competence_count) == ("count", 4, 5)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--fiche", "RNCP11111"], "La fiche RNCP11111 ne figure pas dans ce fichier"),
        (["--fiche", "RNCP99901", "--threshold", "RNCP99901BC02=quatre"], "--threshold"),
    ],
)
def test_command_errors_are_french(certification, arguments, message):
    before = counts()
    with pytest.raises(CommandError, match=message):
        call_command("import_rncp", str(SAMPLE), *arguments, stdout=StringIO())
    assert counts() == before


BLOCK_WITHOUT_CODE = b"<CODE>RNCP99901BC03</CODE>"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.7", "ni une archive ZIP ni un fichier XML"),
        (SAMPLE.read_bytes().replace(b">4.1<", b">5.0<"), "Version du flux « 5.0 » trouvée, version 4.1 attendue"),
        (SAMPLE.read_bytes().replace(BLOCK_WITHOUT_CODE, b""), "Fiche RNCP99901 : le bloc « Mettre en œuvre"),
        (
            SAMPLE.read_bytes().replace(b"<DATE_EFFET>20/12/2024<", b"<DATE_EFFET>31/02/2024<"),
            "Fiche RNCP99901 : la date DATE_EFFET « 31/02/2024 » est illisible",
        ),
        (SAMPLE.read_bytes()[:-200], "mal formé"),
    ],
)
def test_command_refuses_an_unreadable_export_and_writes_nothing(certification, tmp_path, content, message):
    path = tmp_path / "export.xml"
    path.write_bytes(content)
    before = counts()
    with pytest.raises(CommandError, match=message):
        call_command("import_rncp", str(path), "--fiche", "RNCP99901", "--apply", stdout=StringIO())
    assert counts() == before


def test_command_apply_refuses_a_missing_threshold_and_writes_nothing(certification, tmp_path):
    path = tmp_path / "export.xml"
    path.write_bytes(SAMPLE.read_bytes().replace(b"valider 80 % des comp", b"valider les comp"))
    before = counts()
    with pytest.raises(CommandError, match="Bloc RNCP99901BC02 : seuil à saisir"):
        call_command("import_rncp", str(path), "--fiche", "RNCP99901", "--apply", stdout=StringIO())
    assert counts() == before


def test_command_without_fiche_reads_a_small_file_whole(certification):
    out = StringIO()
    call_command("import_rncp", str(SAMPLE), stdout=out)
    assert "Fiche RNCP16204" in out.getvalue() and "Fiche RNCP99901" in out.getvalue()


def test_command_example_flag_marks_the_created_fiche(certification):
    call_command("import_rncp", str(SAMPLE), "--fiche", "RNCP99901", "--apply", "--example", stdout=StringIO())
    assert Certification.objects.get(rncp_code="99901").is_example is True
    certification.refresh_from_db()
    assert certification.is_example is False


def test_what_the_models_refuse_is_said_in_the_preview_and_refuses_the_apply(certification, staff_user):
    parsed = dataclasses.replace(fiche("RNCP99901"), decision_date=datetime.date(2099, 1, 1))
    preview = fiche_import_preview(fiches=[parsed])
    assert not preview.can_apply
    assert "Données de la fiche refusées (enregistrement au RNCP)" in preview.missing[0]
    before = counts()
    with pytest.raises(ValidationError):
        fiche_import_apply(fiches=[parsed], thresholds=None, actor=staff_user)
    assert counts() == before
