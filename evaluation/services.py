"""Every change to an evaluation goes through one of these functions: validate, write, audit, in one transaction."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from candidates.models import Cohort, Enrolment
from certif import clock
from certif.audit import AuditAction, AuditChange, record_audit, record_audits
from certif.models import Block, Grid, RatingScale
from certif.roles import Role, holders_of
from certif.text import counted
from certif.validation import (
    PLANNING_HORIZON_YEARS,
    TEXT_MAX_LENGTH,
    check_text,
    event_date_problem,
    forbidden_character,
)
from evaluation.models import BlockEvaluation, BlockEvaluationStatus, EvaluationSession, LevelEntry, evaluable_q
from evaluation.selectors import cohort_enrolments, incomplete_grid_message, missing_cells

COMMENT_MAX_LENGTH = 2000


class InvalidGridData(Exception):
    """A grid POST that the page cannot have produced (tampered or forged): refused whole, nothing written."""


# — Opening a session —


def _session_snapshot(session: EvaluationSession) -> dict:
    return {
        "cohort": session.cohort.name,
        "blocks": sorted(session.blocks.values_list("number", flat=True)),
        "evaluators": sorted(session.evaluators.values_list("username", flat=True)),
        "starts_on": session.starts_on.isoformat(),
        "ends_on": session.ends_on.isoformat(),
    }


@transaction.atomic(durable=True)
def evaluation_session_open(
    *,
    cohort: Cohort,
    blocks: Iterable[Block],
    evaluators: Iterable[User],
    starts_on: datetime.date,
    ends_on: datetime.date,
    actor: User,
) -> EvaluationSession:
    """Open a session on complete grids only; each block evaluation keeps the grid and scale versions of today."""
    blocks = list(Block.objects.filter(pk__in=[block.pk for block in blocks]).order_by("number").with_current_grid())
    errors: dict[str, list[str]] = {}
    if not blocks:
        errors.setdefault("blocks", []).append("Choisissez au moins un bloc.")
    for block in blocks:
        grid = block.current_grid
        if block.certification_id != cohort.certification_id:
            errors.setdefault("blocks", []).append(f"Le bloc {block.number} n'appartient pas à la certification.")
        elif grid is None or not grid.is_complete:
            errors.setdefault("blocks", []).append(incomplete_grid_message(block, grid))
    already = (
        BlockEvaluation.objects.filter(session__cohort=cohort, block__in=blocks, locked_at__isnull=True)
        .values_list("block__number", flat=True)
        .distinct()
    )
    for number in sorted(already):
        errors.setdefault("blocks", []).append(
            f"Le bloc {number} est déjà en cours d'évaluation pour cette promotion (session non signée)."
        )
    evaluators = list(evaluators)
    trainer_pks = set(
        holders_of(Role.TRAINER).filter(pk__in=[user.pk for user in evaluators]).values_list("pk", flat=True)
    )
    if not evaluators:
        errors.setdefault("evaluators", []).append("Désignez au moins un évaluateur.")
    for user in evaluators:
        if user.pk not in trainer_pks:
            errors.setdefault("evaluators", []).append(
                f"{user.get_full_name() or user.username} n'a pas le rôle de formateur : seuls les formateurs évaluent."
            )
    for name, day in (("starts_on", starts_on), ("ends_on", ends_on)):
        if problem := event_date_problem(day, years_ahead=PLANNING_HORIZON_YEARS):
            errors.setdefault(name, []).append(problem)
    if starts_on and ends_on and ends_on < starts_on:
        errors.setdefault("ends_on", []).append("La fin de la session doit suivre son début.")
    if errors:
        raise ValidationError(errors)

    now = clock.now()
    scale = RatingScale.objects.filter(certification=cohort.certification).order_by("-version").first()
    if scale is None:
        raise ValidationError("La certification n'a pas d'échelle de niveaux.")
    session = EvaluationSession.objects.create(
        cohort=cohort, starts_on=starts_on, ends_on=ends_on, opened_by=actor, opened_at=now
    )
    session.blocks.set(blocks)
    session.evaluators.set(evaluators)
    BlockEvaluation.objects.bulk_create(
        BlockEvaluation(session=session, block=block, grid=block.current_grid, scale=scale) for block in blocks
    )
    # From now on a change of the referential makes new versions; this session keeps these ones.
    Grid.objects.filter(pk__in=[block.current_grid.pk for block in blocks], frozen_at__isnull=True).update(
        frozen_at=now
    )
    RatingScale.objects.filter(pk=scale.pk, first_used_at__isnull=True).update(first_used_at=now)
    record_audit(
        actor=actor, action=AuditAction.EVALUATION_SESSION_OPENED, target=session, after=_session_snapshot(session)
    )
    return session


# — Saving a grid —


@dataclass(frozen=True)
class CellInput:
    """One cell as the grid page posts it: the value typed, and what the page displayed (version, values)."""

    enrolment_id: int
    competence_id: int
    level: str
    comment: str
    version: int
    shown_level: str | None = None
    shown_comment: str | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.enrolment_id, self.competence_id)


@dataclass(frozen=True)
class Conflict:
    cell: CellInput
    current: LevelEntry


@dataclass
class SaveResult:
    saved: list[LevelEntry] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


def _check_cells(*, block_evaluation: BlockEvaluation, cells: list[CellInput]) -> tuple[dict, dict]:
    """Refuse (InvalidGridData) anything the page cannot have produced; return the enrolments and competences."""
    codes = {level.code for level in block_evaluation.scale.levels.all()}
    competences = {competence.pk: competence for competence in block_evaluation.grid.competences.all()}
    enrolments = {
        enrolment.pk: enrolment
        for enrolment in cohort_enrolments(block_evaluation.session.cohort_id)
        if enrolment.can_be_evaluated
    }
    seen = set()
    for cell in cells:
        if cell.key in seen:
            raise InvalidGridData("Une même cellule figure deux fois dans l'envoi.")
        seen.add(cell.key)
        if cell.level and cell.level not in codes:
            raise InvalidGridData(f"Le niveau « {cell.level[:20]} » n'existe pas dans l'échelle de cette grille.")
        if cell.competence_id not in competences:
            raise InvalidGridData("Une compétence envoyée n'appartient pas à la grille de ce bloc.")
        if cell.enrolment_id not in enrolments:
            raise InvalidGridData("Un candidat envoyé n'est pas évaluable dans cette promotion.")
        if len(cell.comment) > COMMENT_MAX_LENGTH:
            raise InvalidGridData(f"Un commentaire dépasse {COMMENT_MAX_LENGTH} caractères.")
        if cell.version < 0:
            raise InvalidGridData("Version de cellule invalide.")
    return enrolments, competences


def _refuse_if_frozen(block_evaluation: BlockEvaluation) -> None:
    if block_evaluation.is_locked:
        raise ValidationError("Le jury a signé les résultats de ce bloc : la grille ne peut plus être modifiée.")
    if block_evaluation.is_submitted:
        raise ValidationError(
            "Cette grille a été soumise : elle n'est plus modifiable. Un gestionnaire peut la rouvrir."
        )


def _locked_row(block_evaluation: BlockEvaluation) -> BlockEvaluation:
    """Lock the block evaluation's row (serialises saves of one grid) and refresh its state."""
    row = (
        BlockEvaluation.objects.select_for_update(of=("self",)).only("status", "locked_at").get(pk=block_evaluation.pk)
    )
    block_evaluation.status, block_evaluation.locked_at = row.status, row.locked_at
    return block_evaluation


@transaction.atomic(durable=True)
def block_evaluation_save(*, block_evaluation: BlockEvaluation, cells: list[CellInput], actor: User) -> SaveResult:
    """Save a whole grid in one go, in a bounded number of queries whatever the number of candidates.

    A cell whose stored version changed since the page showed it is a conflict when this person changed it too:
    it is not overwritten but returned, with the stored entry, so that the person can choose. A cell the person
    left as shown keeps the other person's value silently. Every written cell leaves one audit event.
    """
    enrolments, competences = _check_cells(block_evaluation=block_evaluation, cells=cells)
    _locked_row(block_evaluation)
    _refuse_if_frozen(block_evaluation)
    # Not forged: pasted from another program. Refused with the typed grid kept on screen.
    unprintable = [
        f"{enrolments[cell.enrolment_id].candidate.full_name}, « {competences[cell.competence_id].label[:60]} » : {problem}"
        for cell in cells
        if (problem := forbidden_character(cell.comment, multiline=True))
    ]
    if unprintable:
        raise ValidationError(["Un commentaire ne peut pas être enregistré.", *unprintable])

    existing = {
        (entry.enrolment_id, entry.competence_id): entry
        for entry in LevelEntry.objects.filter(block_evaluation=block_evaluation).select_related("updated_by")
    }
    now = clock.now()
    result = SaveResult()
    to_create, to_update, events = [], [], []
    for cell in cells:
        entry = existing.get(cell.key)
        stored = (entry.level, entry.comment) if entry else ("", "")
        typed = (cell.level, cell.comment)
        if typed == stored:
            continue
        stored_version = entry.version if entry else 0
        if cell.version != stored_version:
            if (cell.shown_level, cell.shown_comment) == typed:
                continue  # this person did not touch the cell: the newer value stays
            if entry is not None:
                result.conflicts.append(Conflict(cell=cell, current=entry))
                continue
        if entry is None:
            entry = LevelEntry(
                block_evaluation=block_evaluation,
                enrolment=enrolments[cell.enrolment_id],
                competence=competences[cell.competence_id],
                version=0,
            )
            to_create.append(entry)
        else:
            entry.enrolment = enrolments[cell.enrolment_id]
            entry.competence = competences[cell.competence_id]
            to_update.append(entry)
        entry.level, entry.comment = typed
        entry.version = stored_version + 1
        entry.updated_at, entry.updated_by = now, actor
        result.saved.append(entry)
        events.append((entry, {"level": stored[0], "comment": stored[1]}, {"level": typed[0], "comment": typed[1]}))

    LevelEntry.objects.bulk_create(to_create)
    if to_update:
        LevelEntry.objects.bulk_update(to_update, ["level", "comment", "version", "updated_at", "updated_by"])
    if events:
        record_audits(
            actor=actor,
            action=AuditAction.EVALUATION_LEVEL_CHANGED,
            changes=[AuditChange(target=entry, before=before, after=after) for entry, before, after in events],
            occurred_at=now,
        )
    return result


# — Submitting and reopening —


@transaction.atomic(durable=True)
def block_evaluation_submit(*, block_evaluation: BlockEvaluation, actor: User) -> BlockEvaluation:
    """A complete grid becomes read-only for trainers; staff may reopen it until the jury signs off."""
    _locked_row(block_evaluation)
    _refuse_if_frozen(block_evaluation)
    if not Enrolment.objects.filter(cohort_id=block_evaluation.session.cohort_id).filter(evaluable_q()).exists():
        raise ValidationError("Aucun candidat n'est évaluable dans cette promotion : rien à soumettre.")
    missing = missing_cells(block_evaluation)
    if missing:
        raise ValidationError(
            f"La grille n'est pas complète : {counted(missing, 'cellule', 'cellules')} sans niveau. "
            "Toutes les compétences de tous les candidats doivent être évaluées avant la soumission."
        )
    block_evaluation.status = BlockEvaluationStatus.SUBMITTED
    block_evaluation.submitted_at = clock.now()
    block_evaluation.submitted_by = actor
    block_evaluation.save(update_fields=["status", "submitted_at", "submitted_by"])
    record_audit(
        actor=actor,
        action=AuditAction.EVALUATION_SUBMITTED,
        target=block_evaluation,
        before={"status": BlockEvaluationStatus.DRAFT},
        after={"status": BlockEvaluationStatus.SUBMITTED},
    )
    return block_evaluation


@transaction.atomic(durable=True)
def block_evaluation_reopen(*, block_evaluation: BlockEvaluation, reason: str, actor: User) -> BlockEvaluation:
    """Staff give a submitted grid back to its evaluators, with a written reason; never after the jury signs."""
    reason = check_text(reason, field="reason", max_length=TEXT_MAX_LENGTH)
    if not reason:
        raise ValidationError({"reason": "Indiquez le motif de la réouverture."})
    _locked_row(block_evaluation)
    if block_evaluation.is_locked:
        raise ValidationError("Le jury a signé les résultats de ce bloc : la grille ne peut plus être rouverte.")
    if not block_evaluation.is_submitted:
        raise ValidationError("Cette grille n'est pas soumise : elle est déjà modifiable par ses évaluateurs.")
    block_evaluation.status = BlockEvaluationStatus.DRAFT
    block_evaluation.submitted_at = None
    block_evaluation.submitted_by = None
    block_evaluation.save(update_fields=["status", "submitted_at", "submitted_by"])
    record_audit(
        actor=actor,
        action=AuditAction.EVALUATION_REOPENED,
        target=block_evaluation,
        before={"status": BlockEvaluationStatus.SUBMITTED},
        after={"status": BlockEvaluationStatus.DRAFT, "reason": reason},
    )
    return block_evaluation
