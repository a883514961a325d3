"""Signed is signed, down to the database.

- Through the ORM, on every database: each door (`QuerySet.update`, `bulk_update`, `delete`, `bulk_create`, the
  model's `save` and `delete`, related managers, many-to-many) refuses to write what a signature froze, with a
  French message, and the same doors stay open on what is not frozen. On PostgreSQL these doors are tried with every
  trigger ignored, so that the ORM guard alone answers.
- Through raw SQL on a second PostgreSQL connection (psql's door): the triggers refuse UPDATE, DELETE (and INSERT
  under a frozen parent) on every guarded table, and accept the same statements on open rows.
- A trigger's refusal reaching Django comes back as the same French `FrozenRowError`.
"""

import contextlib
import datetime

import pgtrigger
import psycopg
import pytest
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from candidates.models import AcquiredBlock, CertificationAward
from certif.guards import FrozenRowError
from certif.models import AuditEvent, Block, Competence, Grid, RatingScale, ScaleLevel
from config.integrity import integrity_report
from declarations.models import HolderDeclaration, HolderDeclarationLine
from documents.models import DocumentStatus, IssuedDocument
from evaluation.models import BlockEvaluation, LevelEntry
from juries.models import SIGNED_MESSAGE, Decision, JuryMember, JurySession, Presentation, Rectification, Recusal
from tests.signed_world import signed_world

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="Triggers exist on PostgreSQL only.")

REFUSED = "refusé"
ACCEPTED = "accepté"


@contextlib.contextmanager
def orm_guard_alone():
    """On PostgreSQL every trigger is ignored here: what refuses is the ORM guard, as on SQLite."""
    if connection.vendor == "postgresql":
        with pgtrigger.ignore():
            yield
    else:
        yield


class Rollback(Exception):
    pass


def attempt(door) -> str:
    """Run one write; `REFUSED` when a FrozenRowError with a French message stopped it. An accepted write is
    rolled back so that every door meets the same world."""
    try:
        with transaction.atomic():
            door()
            raise Rollback
    except Rollback:
        return ACCEPTED
    except FrozenRowError as error:
        message = " ".join(error.messages)
        assert message and ("ne peut" in message or "ne peuvent" in message or "seulement" in message), message
        return REFUSED


def snapshot(world) -> dict:
    """Every column of every frozen row of the world, read back from the database."""
    rows = {}
    for name in (
        "session", "presentation", "decision", "member", "recusal", "rectification", "evaluation", "entry", "block", "grid",
        "competence", "scale", "level", "minutes", "results", "award", "acquired", "audit", "declaration",
        "declaration_line",
    ):  # fmt: skip
        obj = getattr(world, name)
        rows[name] = type(obj)._base_manager.filter(pk=obj.pk).values().get()
    rows["session_blocks"] = sorted(world.session.blocks.values_list("number", flat=True))
    rows["counts"] = {
        model.__name__: model._base_manager.count()
        for model in (Decision, JuryMember, Presentation, Recusal, LevelEntry, Competence, ScaleLevel, AuditEvent)
    }
    return rows


def frozen_doors(w, blocks):
    """(table, door, write) for each way into a frozen row through the ORM."""
    now = timezone.now()

    def changed(obj, **values):
        obj = type(obj)._base_manager.get(pk=obj.pk)
        for key, value in values.items():
            setattr(obj, key, value)
        return obj

    decision = lambda: Decision.objects.filter(pk=w.decision.pk)  # noqa: E731
    return [
        ("décision", "filter().update(outcome=…)", lambda: decision().update(outcome="not_validated")),
        ("décision", "update() de toute la session", lambda: Decision.objects.filter(presentation__session=w.session).update(departure_reason="x")),  # noqa: E501
        ("décision", "bulk_update", lambda: Decision.objects.bulk_update([changed(w.decision, outcome="not_validated")], ["outcome"])),  # noqa: E501
        ("décision", "save()", lambda: changed(w.decision, outcome="not_validated").save()),
        ("décision", "delete()", lambda: changed(w.decision).delete()),
        ("décision", "filter().delete()", lambda: decision().delete()),
        ("décision", "presentation.decisions.all().delete()", lambda: w.presentation.decisions.all().delete()),
        ("décision", "create() dans la session signée", lambda: Decision.objects.create(presentation=w.presentation, block=blocks[3], block_evaluation=w.evaluation, proposal_outcome="validated", proposal_explanation="x")),  # noqa: E501
        ("décision", "bulk_create() dans la session signée", lambda: Decision.objects.bulk_create([Decision(presentation=w.presentation, block=blocks[3], block_evaluation=w.evaluation, proposal_outcome="validated", proposal_explanation="x")])),  # noqa: E501
        ("décision", "presentation.decisions.add() d'une autre décision", lambda: w.presentation.decisions.add(changed(w.open_decision))),  # noqa: E501
        ("décision", "_base_manager.filter().update()", lambda: Decision._base_manager.filter(pk=w.decision.pk).update(outcome="not_validated")),  # noqa: E501
        ("décision", "save() vers un candidat signé", lambda: changed(w.open_decision, presentation_id=w.presentation.pk).save()),  # noqa: E501
        ("session", "update(status=prepared)", lambda: JurySession.objects.filter(pk=w.session.pk).update(status="prepared")),  # noqa: E501
        ("session", "update(date=…)", lambda: JurySession.objects.filter(pk=w.session.pk).update(date=datetime.date(2022, 6, 15))),  # noqa: E501
        ("session", "update(decisions_fingerprint=…)", lambda: JurySession.objects.filter(pk=w.session.pk).update(decisions_fingerprint="0" * 64)),  # noqa: E501
        ("session", "save() (signed_at)", lambda: changed(w.session, signed_at=now).save()),
        ("session", "delete()", lambda: changed(w.session).delete()),
        ("session", "filter().delete()", lambda: JurySession.objects.filter(pk=w.session.pk).delete()),
        ("session", "blocks.add()", lambda: changed(w.session).blocks.add(blocks[3])),
        ("session", "blocks.clear()", lambda: changed(w.session).blocks.clear()),
        ("session", "block.jury_sessions.remove()", lambda: blocks[1].jury_sessions.remove(w.session)),
        ("membre", "update(name=…)", lambda: JuryMember.objects.filter(pk=w.member.pk).update(name="Autre")),
        ("membre", "save()", lambda: changed(w.member, organisation="Autre").save()),
        ("membre", "delete()", lambda: changed(w.member).delete()),
        ("membre", "session.members.add() d'un autre membre", lambda: changed(w.session).members.add(changed(w.open_member))),  # noqa: E501
        ("membre", "create() dans la session signée", lambda: JuryMember.objects.create(session=w.session, name="Ajout", organisation="IRUP", category="trainer")),  # noqa: E501
        ("candidat présenté", "update(presented_at=…)", lambda: Presentation.objects.filter(pk=w.presentation.pk).update(presented_at=now)),  # noqa: E501
        ("candidat présenté", "delete()", lambda: changed(w.presentation).delete()),
        ("candidat présenté", "create() dans la session signée", lambda: Presentation.objects.create(session=w.session, enrolment=w.open_presentation.enrolment, presented_by=w.session.created_by)),  # noqa: E501
        ("membre qui ne délibère pas", "update(reason=…)", lambda: Recusal.objects.filter(pk=w.recusal.pk).update(reason="x")),  # noqa: E501
        ("membre qui ne délibère pas", "filter().delete()", lambda: Recusal.objects.filter(presentation__session=w.session).delete()),  # noqa: E501
        ("membre qui ne délibère pas", "update_or_create()", lambda: Recusal.objects.update_or_create(member=w.recusal.member, presentation=w.recusal.presentation, source=w.recusal.source, defaults={"reason": "x"})),  # noqa: E501
        ("membre qui ne délibère pas", "bulk_create()", lambda: Recusal.objects.bulk_create([Recusal(member=w.member, presentation=w.presentation, source="declared", reason="x")])),  # noqa: E501
        ("grille verrouillée", "update(locked_at=None)", lambda: BlockEvaluation.objects.filter(pk=w.evaluation.pk).update(locked_at=None)),  # noqa: E501
        ("grille verrouillée", "update(status=draft)", lambda: BlockEvaluation.objects.filter(pk=w.evaluation.pk).update(status="draft")),  # noqa: E501
        ("grille verrouillée", "save()", lambda: changed(w.evaluation, status="draft").save()),
        ("grille verrouillée", "delete()", lambda: changed(w.evaluation).delete()),
        ("niveau saisi", "save()", lambda: changed(w.entry, level="D").save()),
        ("niveau saisi", "delete()", lambda: changed(w.entry).delete()),
        ("niveau saisi", "filter().update(level=…)", lambda: LevelEntry.objects.filter(pk=w.entry.pk).update(level="D")),  # noqa: E501
        ("niveau saisi", "bulk_update", lambda: LevelEntry.objects.bulk_update([changed(w.entry, level="D")], ["level"])),  # noqa: E501
        ("niveau saisi", "filter().delete()", lambda: LevelEntry.objects.filter(block_evaluation=w.evaluation).delete()),  # noqa: E501
        ("niveau saisi", "update(block_evaluation=…) hors de la grille", lambda: LevelEntry.objects.filter(pk=w.entry.pk).update(block_evaluation=w.open_evaluation)),  # noqa: E501
        ("niveau saisi", "bulk_create() dans la grille verrouillée", lambda: LevelEntry.objects.bulk_create([LevelEntry(block_evaluation=w.evaluation, enrolment=w.open_presentation.enrolment, competence=w.competence, level="A")])),  # noqa: E501
        ("bloc évalué", "update(threshold_value=…)", lambda: Block.objects.filter(pk=w.block.pk).update(threshold_value=1)),  # noqa: E501
        ("bloc évalué", "save() (nombre de compétences)", lambda: changed(w.block, declared_competence_count=5).save()),  # noqa: E501
        ("bloc évalué", "delete()", lambda: changed(w.block).delete()),
        ("grille figée", "update(frozen_at=None)", lambda: Grid.objects.filter(pk=w.grid.pk).update(frozen_at=None)),
        ("grille figée", "save()", lambda: changed(w.grid, version=99).save()),
        ("grille figée", "delete()", lambda: changed(w.grid).delete()),
        ("compétence", "save() (intitulé)", lambda: changed(w.competence, label="Autre intitulé").save()),
        ("compétence", "filter().update(label=…)", lambda: Competence.objects.filter(pk=w.competence.pk).update(label="Autre")),  # noqa: E501
        ("compétence", "delete()", lambda: changed(w.competence).delete()),
        ("compétence", "create() dans la grille figée", lambda: Competence.objects.create(grid=w.grid, position=50, label="Ajoutée")),  # noqa: E501
        ("compétence", "bulk_create() dans la grille figée", lambda: Competence.objects.bulk_create([Competence(grid=w.grid, position=51, label="Ajoutée")])),  # noqa: E501
        ("échelle utilisée", "update(first_used_at=None)", lambda: RatingScale.objects.filter(pk=w.scale.pk).update(first_used_at=None)),  # noqa: E501
        ("échelle utilisée", "filter().delete()", lambda: RatingScale.objects.filter(pk=w.scale.pk).delete()),
        ("niveau de l'échelle", "save()", lambda: changed(w.level, validates=False).save()),
        ("niveau de l'échelle", "update(label=…)", lambda: ScaleLevel.objects.filter(pk=w.level.pk).update(label="x")),  # noqa: E501
        ("niveau de l'échelle", "scale.levels.all().delete()", lambda: w.scale.levels.all().delete()),
        ("niveau de l'échelle", "create() dans l'échelle utilisée", lambda: ScaleLevel.objects.create(scale=w.scale, position=9, code="E", label="E")),  # noqa: E501
        ("document émis", "update(pdf=…)", lambda: IssuedDocument.objects.filter(pk=w.minutes.pk).update(pdf=b"%PDF-1.7 autre")),  # noqa: E501
        ("document émis", "update(sha256=…)", lambda: IssuedDocument.objects.filter(pk=w.minutes.pk).update(sha256="0" * 64)),  # noqa: E501
        ("document émis", "update(holder_name=…)", lambda: IssuedDocument.objects.filter(pk=w.results.pk).update(holder_name="Autre")),  # noqa: E501
        ("document émis", "update(status=valid) d'un document révoqué", lambda: revoke_then(w.results, lambda: IssuedDocument.objects.filter(pk=w.results.pk).update(status="valid"))),  # noqa: E501
        ("document émis", "update(status_reason=…) sans changement de statut", lambda: IssuedDocument.objects.filter(pk=w.minutes.pk).update(status_reason="x")),  # noqa: E501
        ("document émis", "update(superseded_by=…) une seconde fois", lambda: supersede_twice(w)),
        ("document émis", "save()", lambda: changed(w.minutes, title="Autre").save()),
        ("document émis", "delete()", lambda: changed(w.minutes).delete()),
        ("document émis", "filter().delete()", lambda: IssuedDocument.objects.filter(session=w.session).delete()),
        ("trace d'audit", "filter().delete()", lambda: AuditEvent.objects.filter(pk=w.audit.pk).delete()),
        ("trace d'audit", "update(after=…)", lambda: AuditEvent.objects.filter(pk=w.audit.pk).update(after={})),
        ("trace d'audit", "save()", lambda: changed(w.audit, action="autre").save()),
        ("trace d'audit", "delete()", lambda: changed(w.audit).delete()),
        ("rectification", "update(outcome=…)", lambda: Rectification.objects.filter(pk=w.rectification.pk).update(outcome="not_validated")),  # noqa: E501
        ("rectification", "save()", lambda: changed(w.rectification, reason="autre").save()),
        ("rectification", "delete()", lambda: changed(w.rectification).delete()),
        ("certification délivrée", "update(number=…) (renumérotation)", lambda: CertificationAward.objects.filter(pk=w.award.pk).update(number="MPES-2022-9999")),  # noqa: E501
        ("certification délivrée", "save()", lambda: changed(w.award, awarded_on=datetime.date(2022, 6, 15)).save()),
        ("certification délivrée", "delete()", lambda: changed(w.award).delete()),
        ("bloc acquis", "delete()", lambda: changed(w.acquired).delete()),
        ("bloc acquis", "filter().delete()", lambda: AcquiredBlock.objects.filter(candidate=w.first).delete()),
        ("bloc acquis", "update(acquired_on=…)", lambda: AcquiredBlock.objects.filter(pk=w.acquired.pk).update(acquired_on=datetime.date(2001, 1, 1))),  # noqa: E501
        ("déclaration CDC", "update(xml=…)", lambda: HolderDeclaration.objects.filter(pk=w.declaration.pk).update(xml=b"<autre/>")),  # noqa: E501
        ("déclaration CDC", "delete()", lambda: changed(w.declaration).delete()),
        ("titulaire déclaré", "update(is_resend=…)", lambda: HolderDeclarationLine.objects.filter(pk=w.declaration_line.pk).update(is_resend=True)),  # noqa: E501
        ("titulaire déclaré", "delete()", lambda: changed(w.declaration_line).delete()),
    ]  # fmt: skip


def revoke_then(document, door):
    IssuedDocument.objects.filter(pk=document.pk).update(
        status=DocumentStatus.REVOKED, status_changed_at=timezone.now(), status_reason="Erreur d'émission"
    )
    door()


def supersede_twice(w):
    IssuedDocument.objects.filter(pk=w.results.pk).update(
        status=DocumentStatus.RECTIFIED, status_changed_at=timezone.now(), status_reason="Rectifié"
    )
    IssuedDocument.objects.filter(pk=w.results.pk).update(superseded_by=w.minutes)
    IssuedDocument.objects.filter(pk=w.results.pk).update(superseded_by=None)


def open_doors(w):
    """The same doors on rows nothing froze yet, and the few changes a frozen row still allows."""

    def changed(obj, **values):
        obj = type(obj)._base_manager.get(pk=obj.pk)
        for key, value in values.items():
            setattr(obj, key, value)
        return obj

    return [
        ("décision", "filter().update(outcome=…)", lambda: Decision.objects.filter(pk=w.open_decision.pk).update(outcome="not_validated")),  # noqa: E501
        ("décision", "bulk_update", lambda: Decision.objects.bulk_update([changed(w.open_decision, outcome="validated")], ["outcome"])),  # noqa: E501
        ("décision", "save()", lambda: changed(w.open_decision, departure_reason="x").save()),
        ("décision", "presentation.decisions.all().delete()", lambda: w.open_presentation.decisions.all().delete()),
        ("session", "update(place=…)", lambda: JurySession.objects.filter(pk=w.prepared.pk).update(place="Autre salle")),  # noqa: E501
        ("session", "blocks.add()", lambda: changed(w.prepared).blocks.add(Block.objects.get(certification=w.certification, number=3))),  # noqa: E501
        ("membre", "save()", lambda: changed(w.open_member, organisation="Autre").save()),
        ("membre qui ne délibère pas", "filter().delete()", lambda: Recusal.objects.filter(pk=w.open_recusal.pk).delete()),  # noqa: E501
        ("grille soumise", "update(status=draft)", lambda: BlockEvaluation.objects.filter(pk=w.open_evaluation.pk).update(status="draft")),  # noqa: E501
        ("grille soumise", "update(locked_at=…) (la signature)", lambda: BlockEvaluation.objects.filter(pk=w.open_evaluation.pk).update(locked_at=timezone.now())),  # noqa: E501
        ("niveau saisi", "bulk_update", lambda: LevelEntry.objects.bulk_update([changed(w.open_entry, level="D")], ["level"])),  # noqa: E501
        ("niveau saisi", "save()", lambda: changed(w.open_entry, comment="x").save()),
        ("niveau saisi", "delete()", lambda: changed(w.open_entry).delete()),
        ("bloc non évalué", "update(threshold_value=…)", lambda: Block.objects.filter(pk=w.open_block.pk).update(threshold_value=6)),  # noqa: E501
        ("grille non figée", "update(frozen_at=…) (l'ouverture d'une évaluation)", lambda: Grid.objects.filter(pk=w.open_grid.pk).update(frozen_at=timezone.now())),  # noqa: E501
        ("compétence", "save() (intitulé)", lambda: changed(w.open_competence, label="Autre intitulé").save()),
        ("échelle non utilisée", "update(first_used_at=…)", lambda: RatingScale.objects.filter(pk=w.open_scale.pk).update(first_used_at=timezone.now())),  # noqa: E501
        ("niveau de l'échelle", "update(label=…)", lambda: ScaleLevel.objects.filter(pk=w.open_level.pk).update(label="Excellent")),  # noqa: E501
        ("document émis", "update(status=revoked, …) (révocation)", lambda: IssuedDocument.objects.filter(pk=w.minutes.pk).update(status=DocumentStatus.REVOKED, status_changed_at=timezone.now(), status_changed_by=w.session.created_by, status_reason="Erreur")),  # noqa: E501
        ("document émis", "update(superseded_by=…) d'un document rectifié", lambda: rectify_then_supersede(w)),
        ("trace d'audit", "create()", lambda: AuditEvent.objects.create(action="test", target_type_id=w.audit.target_type_id, target_id="1", target_repr="x")),  # noqa: E501
    ]  # fmt: skip


def rectify_then_supersede(w):
    IssuedDocument.objects.filter(pk=w.results.pk).update(
        status=DocumentStatus.RECTIFIED, status_changed_at=timezone.now(), status_reason="Rectifié"
    )
    IssuedDocument.objects.filter(pk=w.results.pk).update(superseded_by=w.minutes)


@pytest.fixture
def world(staff_user, trainer_user, president_user):
    return signed_world(staff_user, trainer_user, president_user)


@pytest.fixture
def blocks(certification):
    return {block.number: block for block in Block.objects.filter(certification=certification)}


@pytest.mark.django_db
def test_every_orm_door_to_a_frozen_row_is_refused_in_french_and_writes_nothing(world, blocks):
    before = snapshot(world)
    doors = frozen_doors(world, blocks)
    with orm_guard_alone():
        outcomes = {(table, name): attempt(door) for table, name, door in doors}
    assert {key: outcome for key, outcome in outcomes.items() if outcome != REFUSED} == {}
    assert len(outcomes) == len(doors)
    assert snapshot(world) == before
    assert integrity_report().ok


@pytest.mark.django_db
def test_the_same_orm_doors_stay_open_on_what_is_not_frozen(world):
    doors = open_doors(world)
    with orm_guard_alone():
        outcomes = {(table, name): attempt(door) for table, name, door in doors}
    assert {key: outcome for key, outcome in outcomes.items() if outcome != ACCEPTED} == {}


@pytest.mark.django_db
def test_the_refusal_names_what_froze_the_row(world):
    with orm_guard_alone(), pytest.raises(FrozenRowError) as refused:
        Decision.objects.filter(pk=world.decision.pk).update(outcome="not_validated")
    assert refused.value.messages == [SIGNED_MESSAGE]
    with orm_guard_alone(), pytest.raises(FrozenRowError, match="Le jury a signé les résultats de ce bloc"):
        LevelEntry.objects.filter(pk=world.entry.pk).update(level="D")
    with orm_guard_alone(), pytest.raises(FrozenRowError, match="seul son statut change"):
        IssuedDocument.objects.filter(pk=world.minutes.pk).update(sha256="0" * 64)


# — PostgreSQL: the triggers —


@postgresql_only
@pytest.mark.django_db
def test_a_write_around_the_orm_guard_is_refused_by_the_trigger_with_the_same_french_error(world):
    """A plain QuerySet has no guard: the trigger answers, and Django receives the same FrozenRowError."""
    with pytest.raises(FrozenRowError) as refused, transaction.atomic():
        QuerySet(model=Decision).filter(pk=world.decision.pk).update(outcome="not_validated")
    assert refused.value.messages == [SIGNED_MESSAGE]
    refused_delete = pytest.raises(FrozenRowError, match="Une trace d'audit ne peut pas être supprimée")
    with refused_delete, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM certif_auditevent")
    assert Decision.objects.get(pk=world.decision.pk).outcome == "validated"


def second_connection():
    """A second session on the test database, as psql would open: autocommit, no Django in between."""
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        autocommit=True,
    )


def run_sql(cursor, sql, params=()) -> tuple[str, str]:
    try:
        cursor.execute(sql, params)
    except psycopg.errors.RestrictViolation as error:
        return REFUSED, error.diag.message_primary
    return ACCEPTED, f"{cursor.statusmessage}"


def frozen_statements(w) -> list[tuple[str, str, tuple]]:
    e = w.open_presentation.enrolment
    return [
        ("juries_decision", "UPDATE juries_decision SET outcome = 'not_validated' WHERE id = %s", (w.decision.pk,)),
        ("juries_decision", "UPDATE juries_decision SET departure_reason = 'x' WHERE presentation_id = %s", (w.presentation.pk,)),  # noqa: E501
        ("juries_decision", "DELETE FROM juries_decision WHERE id = %s", (w.decision.pk,)),
        ("juries_decision", "INSERT INTO juries_decision (presentation_id, block_id, block_evaluation_id, proposal_outcome, proposal_explanation, outcome, departure_reason) SELECT %s, id, %s, 'validated', 'x', 'validated', '' FROM certif_block WHERE number = 3", (w.presentation.pk, w.evaluation.pk)),  # noqa: E501
        ("juries_decision", "UPDATE juries_decision SET presentation_id = %s WHERE id = %s", (w.presentation.pk, w.open_decision.pk)),  # noqa: E501
        ("juries_jurysession", "UPDATE juries_jurysession SET status = 'prepared' WHERE id = %s", (w.session.pk,)),
        ("juries_jurysession", "UPDATE juries_jurysession SET date = date + 1 WHERE id = %s", (w.session.pk,)),
        ("juries_jurysession", "UPDATE juries_jurysession SET decisions_fingerprint = '' WHERE id = %s", (w.session.pk,)),  # noqa: E501
        ("juries_jurysession", "UPDATE juries_jurysession SET signed_at = now(), signed_by_id = created_by_id WHERE id = %s", (w.session.pk,)),  # noqa: E501
        ("juries_jurysession", "DELETE FROM juries_jurysession WHERE id = %s", (w.session.pk,)),
        ("juries_jurymember", "UPDATE juries_jurymember SET name = 'Autre' WHERE session_id = %s", (w.session.pk,)),
        ("juries_jurymember", "DELETE FROM juries_jurymember WHERE id = %s", (w.member.pk,)),
        ("juries_jurymember", "INSERT INTO juries_jurymember (session_id, name, organisation, category, is_president) VALUES (%s, 'Ajout', 'IRUP', 'trainer', false)", (w.session.pk,)),  # noqa: E501
        ("juries_presentation", "UPDATE juries_presentation SET presented_at = now() WHERE id = %s", (w.presentation.pk,)),  # noqa: E501
        ("juries_presentation", "DELETE FROM juries_presentation WHERE id = %s", (w.presentation.pk,)),
        ("juries_presentation", "INSERT INTO juries_presentation (session_id, enrolment_id, presented_by_id, presented_at) SELECT %s, %s, created_by_id, now() FROM juries_jurysession WHERE id = %s", (w.session.pk, e.pk, w.session.pk)),  # noqa: E501
        ("juries_recusal", "UPDATE juries_recusal SET reason = 'x' WHERE id = %s", (w.recusal.pk,)),
        ("juries_recusal", "DELETE FROM juries_recusal WHERE id = %s", (w.recusal.pk,)),
        ("juries_recusal", "INSERT INTO juries_recusal (member_id, presentation_id, source, reason) VALUES (%s, %s, 'declared', 'x')", (w.member.pk, w.presentation.pk)),  # noqa: E501
        ("evaluation_blockevaluation", "UPDATE evaluation_blockevaluation SET locked_at = NULL WHERE id = %s", (w.evaluation.pk,)),  # noqa: E501
        ("evaluation_blockevaluation", "UPDATE evaluation_blockevaluation SET status = 'draft' WHERE id = %s", (w.evaluation.pk,)),  # noqa: E501
        ("evaluation_blockevaluation", "DELETE FROM evaluation_blockevaluation WHERE id = %s", (w.evaluation.pk,)),
        ("evaluation_levelentry", "UPDATE evaluation_levelentry SET level = 'D' WHERE id = %s", (w.entry.pk,)),
        ("evaluation_levelentry", "UPDATE evaluation_levelentry SET block_evaluation_id = %s WHERE id = %s", (w.open_evaluation.pk, w.entry.pk)),  # noqa: E501
        ("evaluation_levelentry", "DELETE FROM evaluation_levelentry WHERE block_evaluation_id = %s", (w.evaluation.pk,)),  # noqa: E501
        ("evaluation_levelentry", "INSERT INTO evaluation_levelentry (block_evaluation_id, enrolment_id, competence_id, level, comment, version, updated_at) VALUES (%s, %s, %s, 'A', '', 1, now())", (w.evaluation.pk, e.pk, w.competence.pk)),  # noqa: E501
        ("certif_block", "UPDATE certif_block SET threshold_kind = 'count', threshold_value = 1 WHERE id = %s", (w.block.pk,)),  # noqa: E501
        ("certif_block", "DELETE FROM certif_block WHERE id = %s", (w.block.pk,)),
        ("certif_grid", "UPDATE certif_grid SET frozen_at = NULL WHERE id = %s", (w.grid.pk,)),
        ("certif_grid", "DELETE FROM certif_grid WHERE id = %s", (w.grid.pk,)),
        ("certif_competence", "UPDATE certif_competence SET label = 'Autre intitulé' WHERE id = %s", (w.competence.pk,)),  # noqa: E501
        ("certif_competence", "DELETE FROM certif_competence WHERE id = %s", (w.competence.pk,)),
        ("certif_competence", "INSERT INTO certif_competence (grid_id, position, label) VALUES (%s, 50, 'Ajoutée')", (w.grid.pk,)),  # noqa: E501
        ("certif_competence", "UPDATE certif_competence SET grid_id = %s, position = 60 WHERE id = %s", (w.grid.pk, w.open_competence.pk)),  # noqa: E501
        ("certif_ratingscale", "UPDATE certif_ratingscale SET first_used_at = NULL WHERE id = %s", (w.scale.pk,)),
        ("certif_ratingscale", "DELETE FROM certif_ratingscale WHERE id = %s", (w.scale.pk,)),
        ("certif_scalelevel", "UPDATE certif_scalelevel SET validates = NOT validates WHERE scale_id = %s", (w.scale.pk,)),  # noqa: E501
        ("certif_scalelevel", "DELETE FROM certif_scalelevel WHERE id = %s", (w.level.pk,)),
        ("certif_scalelevel", "INSERT INTO certif_scalelevel (scale_id, position, code, label, validates) VALUES (%s, 9, 'E', 'E', false)", (w.scale.pk,)),  # noqa: E501
        ("juries_issueddocument", "UPDATE juries_issueddocument SET pdf = 'autre'::bytea WHERE id = %s", (w.minutes.pk,)),  # noqa: E501
        ("juries_issueddocument", "UPDATE juries_issueddocument SET sha256 = repeat('0', 64) WHERE id = %s", (w.minutes.pk,)),  # noqa: E501
        ("juries_issueddocument", "UPDATE juries_issueddocument SET pdf = 'autre'::bytea, sha256 = encode(sha256('autre'::bytea), 'hex') WHERE id = %s", (w.minutes.pk,)),  # noqa: E501
        ("juries_issueddocument", "UPDATE juries_issueddocument SET holder_name = 'Autre' WHERE id = %s", (w.results.pk,)),  # noqa: E501
        ("juries_issueddocument", "UPDATE juries_issueddocument SET status_reason = 'x' WHERE id = %s", (w.minutes.pk,)),  # noqa: E501
        ("juries_issueddocument", "UPDATE juries_issueddocument SET status = 'revoked', title = 'Autre' WHERE id = %s", (w.minutes.pk,)),  # noqa: E501
        ("juries_issueddocument", "DELETE FROM juries_issueddocument WHERE id = %s", (w.minutes.pk,)),
        ("certif_auditevent", "UPDATE certif_auditevent SET after = '{}'::jsonb WHERE id = %s", (w.audit.pk,)),
        ("certif_auditevent", "DELETE FROM certif_auditevent WHERE action = 'jury.signed_off'", ()),
        ("juries_rectification", "UPDATE juries_rectification SET outcome = 'not_validated' WHERE id = %s", (w.rectification.pk,)),  # noqa: E501
        ("juries_rectification", "DELETE FROM juries_rectification WHERE id = %s", (w.rectification.pk,)),
        ("candidates_certificationaward", "UPDATE candidates_certificationaward SET number = 'MPES-2022-9999' WHERE id = %s", (w.award.pk,)),  # noqa: E501
        ("candidates_certificationaward", "DELETE FROM candidates_certificationaward WHERE id = %s", (w.award.pk,)),
        ("candidates_acquiredblock", "UPDATE candidates_acquiredblock SET acquired_on = '2001-01-01' WHERE id = %s", (w.acquired.pk,)),  # noqa: E501
        ("candidates_acquiredblock", "DELETE FROM candidates_acquiredblock WHERE id = %s", (w.acquired.pk,)),
        ("certif_holderdeclaration", "UPDATE certif_holderdeclaration SET xml = '<autre/>'::bytea WHERE id = %s", (w.declaration.pk,)),  # noqa: E501
        ("certif_holderdeclaration", "DELETE FROM certif_holderdeclaration WHERE id = %s", (w.declaration.pk,)),
        ("certif_holderdeclarationline", "UPDATE certif_holderdeclarationline SET is_resend = true WHERE id = %s", (w.declaration_line.pk,)),  # noqa: E501
        ("certif_holderdeclarationline", "DELETE FROM certif_holderdeclarationline WHERE id = %s", (w.declaration_line.pk,)),  # noqa: E501
    ]  # fmt: skip


def open_statements(w) -> list[tuple[str, str, tuple]]:
    """Legitimate writes: the same tables, on rows no signature froze, and the status changes documents allow."""
    return [
        ("juries_decision", "UPDATE juries_decision SET outcome = 'not_validated' WHERE id = %s", (w.open_decision.pk,)),  # noqa: E501
        ("juries_jurysession", "UPDATE juries_jurysession SET place = 'Autre salle' WHERE id = %s", (w.prepared.pk,)),  # noqa: E501
        ("juries_jurymember", "UPDATE juries_jurymember SET organisation = 'Autre' WHERE id = %s", (w.open_member.pk,)),  # noqa: E501
        ("juries_recusal", "DELETE FROM juries_recusal WHERE id = %s", (w.open_recusal.pk,)),
        ("evaluation_levelentry", "UPDATE evaluation_levelentry SET level = 'D' WHERE id = %s", (w.open_entry.pk,)),
        ("evaluation_blockevaluation", "UPDATE evaluation_blockevaluation SET status = 'draft' WHERE id = %s", (w.open_evaluation.pk,)),  # noqa: E501
        ("certif_competence", "UPDATE certif_competence SET label = 'Autre intitulé' WHERE id = %s", (w.open_competence.pk,)),  # noqa: E501
        ("certif_scalelevel", "UPDATE certif_scalelevel SET label = 'Excellent' WHERE id = %s", (w.open_level.pk,)),
        ("certif_block", "UPDATE certif_block SET threshold_value = 6 WHERE id = %s", (w.open_block.pk,)),
        ("certif_grid", "UPDATE certif_grid SET frozen_at = now() WHERE id = %s", (w.open_grid.pk,)),
        ("certif_ratingscale", "UPDATE certif_ratingscale SET first_used_at = now() WHERE id = %s", (w.open_scale.pk,)),  # noqa: E501
        ("evaluation_blockevaluation", "UPDATE evaluation_blockevaluation SET locked_at = now() WHERE id = %s", (w.open_evaluation.pk,)),  # noqa: E501
        ("certif_auditevent", "INSERT INTO certif_auditevent (occurred_at, action, target_type_id, target_id, target_repr) SELECT now(), 'test', target_type_id, '1', 'x' FROM certif_auditevent WHERE id = %s", (w.audit.pk,)),  # noqa: E501
        ("juries_issueddocument", "UPDATE juries_issueddocument SET status = 'rectified', status_changed_at = now(), status_reason = 'Rectifié' WHERE id = %s", (w.results.pk,)),  # noqa: E501
        ("juries_issueddocument", "UPDATE juries_issueddocument SET superseded_by_id = %s WHERE id = %s", (w.minutes.pk, w.results.pk)),  # noqa: E501
        ("juries_issueddocument", "UPDATE juries_issueddocument SET status = 'revoked', status_changed_at = now(), status_reason = 'Erreur' WHERE id = %s", (w.minutes.pk,)),  # noqa: E501
    ]  # fmt: skip


def frozen_after_open_statements(w) -> list[tuple[str, str, tuple]]:
    """Once revoked, rectified or replaced, a document stays so."""
    return [
        ("juries_issueddocument", "UPDATE juries_issueddocument SET status = 'valid' WHERE id = %s", (w.minutes.pk,)),
        ("juries_issueddocument", "UPDATE juries_issueddocument SET status = 'revoked' WHERE id = %s", (w.results.pk,)),  # noqa: E501
        ("juries_issueddocument", "UPDATE juries_issueddocument SET superseded_by_id = NULL WHERE id = %s", (w.results.pk,)),  # noqa: E501
        ("juries_issueddocument", "UPDATE juries_issueddocument SET status_changed_at = now() WHERE id = %s", (w.minutes.pk,)),  # noqa: E501
    ]  # fmt: skip


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_raw_sql_on_a_second_connection_cannot_touch_what_a_signature_froze(staff_user, trainer_user, president_user):
    world = signed_world(staff_user, trainer_user, president_user)
    before = snapshot(world)
    with second_connection() as psql, psql.cursor() as cursor:
        refused = {sql: run_sql(cursor, sql, params) for _, sql, params in frozen_statements(world)}
        assert {sql: result for sql, result in refused.items() if result[0] != REFUSED} == {}
        assert snapshot(world) == before

        # Psql is told why, in French, and by which trigger.
        with pytest.raises(psycopg.errors.RestrictViolation) as error:
            cursor.execute("UPDATE juries_decision SET outcome = 'not_validated' WHERE id = %s", (world.decision.pk,))
        assert error.value.diag.message_primary == SIGNED_MESSAGE
        assert error.value.diag.constraint_name.startswith("pgtrigger_frozen_parent_")
        assert error.value.diag.table_name == "juries_decision"

        accepted = {sql: run_sql(cursor, sql, params) for _, sql, params in open_statements(world)}
        expected = {"UPDATE": "UPDATE 1", "DELETE": "DELETE 1", "INSERT": "INSERT 0 1"}
        assert accepted == {sql: (ACCEPTED, expected[sql.split()[0]]) for _, sql, _ in open_statements(world)}

        refused_after = {sql: run_sql(cursor, sql, params) for _, sql, params in frozen_after_open_statements(world)}
        assert {sql: result for sql, result in refused_after.items() if result[0] != REFUSED} == {}
    assert len({table for table, _, _ in frozen_statements(world)}) == 19
    assert Decision.objects.get(pk=world.open_decision.pk).outcome == "not_validated"
    assert IssuedDocument.objects.get(pk=world.minutes.pk).status == DocumentStatus.REVOKED


# — A renewal: the correspondence rows a block was acquired through, and that block's origins —


def carried_world(staff):
    """RNCP99901's BC04 acquired through the correspondence with 16204's BC04 (its row frozen), BC01's row unused."""
    from candidates.models import AcquiredBlockOrigin, AcquiredBlockSource
    from candidates.services import acquired_block_import
    from certif.models import BlockCorrespondence
    from tests.factories import make_candidate
    from tests.renewal import install_successor, new_blocks, old_blocks, record_table

    successor = install_successor()
    record_table(successor, staff)
    new, old = new_blocks(successor), old_blocks()
    candidate = make_candidate(staff)
    previous = acquired_block_import(
        candidate=candidate,
        block=old[4],
        acquired_on=datetime.date(2021, 6, 17),
        import_source="Procès-verbal du jury du 17 juin 2021",
        actor=staff,
    )
    used = BlockCorrespondence.objects.get(block=new[4])
    carried = AcquiredBlock.objects.create(
        candidate=candidate,
        block=new[4],
        acquired_on=previous.acquired_on,
        source=AcquiredBlockSource.CORRESPONDENCE,
        recorded_by=staff,
    )
    origin = AcquiredBlockOrigin.objects.create(
        acquired_block=carried, correspondence=used, previous_acquisition=previous
    )
    BlockCorrespondence.objects.filter(pk=used.pk).update(first_used_at=timezone.now())
    unused = BlockCorrespondence.objects.get(block=new[1])
    return used, unused, origin, old


@pytest.mark.django_db
def test_a_used_correspondence_and_an_origin_are_refused_through_the_orm(staff_user, certification):
    from candidates.models import AcquiredBlockOrigin
    from certif.models import BlockCorrespondence

    used, unused, origin, old = carried_world(staff_user)
    with orm_guard_alone():
        doors = {
            "update": lambda: BlockCorrespondence.objects.filter(pk=used.pk).update(previous_block=old[3]),
            "save": lambda: BlockCorrespondence.objects.get(pk=used.pk).save(),
            "delete": lambda: BlockCorrespondence.objects.get(pk=used.pk).delete(),
            "queryset delete": lambda: BlockCorrespondence.objects.filter(pk=used.pk).delete(),
            "origin update": lambda: AcquiredBlockOrigin.objects.filter(pk=origin.pk).update(previous_acquisition=None),
            "origin delete": lambda: AcquiredBlockOrigin.objects.get(pk=origin.pk).delete(),
        }
        assert {name: attempt(door) for name, door in doors.items()} == dict.fromkeys(doors, REFUSED)
        assert attempt(lambda: BlockCorrespondence.objects.filter(pk=unused.pk).delete()) == ACCEPTED


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_raw_sql_cannot_touch_a_used_correspondence_nor_an_origin(staff_user):
    used, unused, origin, old = carried_world(staff_user)
    frozen = [
        ("UPDATE certif_blockcorrespondence SET previous_block_id = %s WHERE id = %s", (old[3].pk, used.pk)),
        ("UPDATE certif_blockcorrespondence SET first_used_at = NULL WHERE id = %s", (used.pk,)),
        ("DELETE FROM certif_blockcorrespondence WHERE id = %s", (used.pk,)),
        ("UPDATE candidates_acquiredblockorigin SET correspondence_id = %s WHERE id = %s", (unused.pk, origin.pk)),
        ("DELETE FROM candidates_acquiredblockorigin WHERE id = %s", (origin.pk,)),
    ]
    with second_connection() as psql, psql.cursor() as cursor:
        results = [run_sql(cursor, sql, params) for sql, params in frozen]
        assert [result[0] for result in results] == [REFUSED] * len(frozen)
        assert (
            results[0][1]
            == "Un bloc a été acquis par cette correspondance : elle ne peut plus être modifiée ni supprimée."
        )
        assert results[-1][1].startswith("L'origine d'un bloc acquis par correspondance est définitive")
        assert run_sql(
            cursor, "UPDATE certif_blockcorrespondence SET recorded_at = now() WHERE id = %s", (unused.pk,)
        ) == (
            ACCEPTED,
            "UPDATE 1",
        )
