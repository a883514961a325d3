"""Every change to a jury session goes through one of these functions: validate, write, audit, in one transaction.

Sign-off (`jury_session_sign_off`) locks the session row first: a second sign-off — a double click, a second tab,
another president's session — waits for the first, then finds the session signed and records nothing more.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from candidates.models import (
    AcquiredBlock,
    AcquiredBlockOrigin,
    AcquiredBlockSource,
    Candidate,
    CertificationAward,
    Enrolment,
)
from candidates.selectors import HeldByCorrespondence, blocks_held_by_correspondence
from certif import clock
from certif.audit import AuditAction, AuditChange, record_audit, record_audits
from certif.models import Block, BlockCorrespondence, Certification, Grid, RatingScale
from certif.permissions import is_president, is_staff
from certif.roles import may_preside
from certif.rules import Outcome
from certif.validation import check_text, text_problem
from evaluation.models import BlockEvaluation, BlockEvaluationStatus, LevelEntry
from evaluation.selectors import proposal
from juries.models import (
    ALREADY_PRESENTED_MESSAGE,
    DATE_LOCKED_MESSAGE,
    SIGNED_MESSAGE,
    CertificateSequence,
    Decision,
    DecisionAcquiredBlock,
    DecisionOutcome,
    JuryMember,
    JurySession,
    JurySessionStatus,
    Presentation,
    Rectification,
    Recusal,
    RecusalSource,
    SessionAward,
)
from juries.selectors import (
    current_proposals,
    decisions_fingerprint,
    deliberation_started,
    eligibilities,
    file_links,
    french_day,
    latest_plannable_date,
    panel_problems,
    presentable_enrolments,
    session_violations,
    sign_off_problems,
)
from juries.signals import decision_rectified

REASON_MAX_LENGTH = 2000
RECUSAL_REASON_MAX_LENGTH = 255


def _refuse_if_signed(session: JurySession) -> None:
    if session.is_signed:
        raise ValidationError(SIGNED_MESSAGE)


def _locked_session(session: JurySession) -> JurySession:
    """Lock the session row (serialises every change of one session) and read its current state."""
    return JurySession.objects.select_for_update(of=("self",)).select_related("certification").get(pk=session.pk)


# — Composition —


def _session_snapshot(session: JurySession) -> dict:
    return {
        "date": session.date.isoformat(),
        "place": session.place,
        "blocks": sorted(session.blocks.values_list("number", flat=True)),
    }


def _member_snapshot(member: JuryMember) -> dict:
    return {
        "name": member.name,
        "organisation": member.organisation,
        "category": member.category,
        "is_president": member.is_president,
        "is_substitute": member.is_substitute,
        "user": member.user.username if member.user is not None else None,
    }


def _check_blocks(certification, blocks) -> list[Block]:
    blocks = list(blocks)
    if not blocks:
        raise ValidationError({"blocks": "Choisissez au moins un bloc examiné."})
    for block in blocks:
        if block.certification_id != certification.pk:
            raise ValidationError({"blocks": f"Le bloc {block.number} n'appartient pas à la certification."})
    return blocks


def _check_date(day) -> None:
    if day is None:
        raise ValidationError({"date": "Indiquez la date du jury."})
    latest = latest_plannable_date()
    if day > latest:
        raise ValidationError(
            {
                "date": f"Un jury ne se prévoit pas plus de deux ans à l'avance : choisissez une date au plus tard "
                f"le {french_day(latest)}."
            }
        )


@transaction.atomic(durable=True)
def jury_session_create(
    *, certification: Certification, date: datetime.date, place: str, blocks: Iterable[Block], actor: User
) -> JurySession:
    """Plan a session. Outside every registration period it is created all the same (the page warns at once:
    `registration_problem`); the sign-off refuses it while the date stays there."""
    blocks = _check_blocks(certification, blocks)
    _check_date(date)
    session = JurySession(
        certification=certification, date=date, place=(place or "").strip(), created_by=actor, created_at=clock.now()
    )
    session.full_clean()
    session.save()
    session.blocks.set(blocks)
    record_audit(actor=actor, action=AuditAction.JURY_SESSION_CREATED, target=session, after=_session_snapshot(session))
    return session


@transaction.atomic(durable=True)
def jury_session_update(
    *,
    session: JurySession,
    date: datetime.date,
    place: str,
    blocks: Iterable[Block],
    actor: User,
    date_change_reason: str = "",
) -> JurySession:
    """Change a prepared session. Once a candidate is presented its date moves only by staff, with a written
    reason (audited as « jury.date_moved », before and after); once signed, never."""
    session = _locked_session(session)
    _refuse_if_signed(session)
    blocks = _check_blocks(session.certification, blocks)
    before = _session_snapshot(session)
    presented = session.presentations.exists()
    if sorted(b.number for b in blocks) != before["blocks"] and presented:
        raise ValidationError(
            {"blocks": "Des candidats sont déjà présentés sur ces blocs : retirez-les avant de changer les blocs."}
        )
    reason = (date_change_reason or "").strip()
    moved = date != session.date
    if moved:
        _check_date(date)
    if moved and presented:
        if not is_staff(actor):
            raise ValidationError({"date": DATE_LOCKED_MESSAGE})
        if not reason:
            raise ValidationError(
                {
                    "date_change_reason": "Des candidats sont présentés à ce jury : indiquez le motif du changement "
                    "de date (il est conservé dans le journal d'audit)."
                }
            )
        if len(reason) > REASON_MAX_LENGTH:
            raise ValidationError({"date_change_reason": f"Le motif dépasse {REASON_MAX_LENGTH} caractères."})
        session._date_move_recorded = True
    session.date, session.place = date, (place or "").strip()
    session.full_clean()
    session.save()
    session.blocks.set(blocks)
    after = _session_snapshot(session)
    if moved and presented:
        record_audit(
            actor=actor,
            action=AuditAction.JURY_DATE_MOVED,
            target=session,
            before=before,
            after={**after, "reason": reason},
        )
    elif after != before:
        record_audit(actor=actor, action=AuditAction.JURY_SESSION_UPDATED, target=session, before=before, after=after)
    return session


def _check_member(member: JuryMember) -> None:
    member.name, member.organisation = member.name.strip(), member.organisation.strip()
    member.full_clean(exclude=["session"])
    if member.is_president and member.is_substitute:
        raise ValidationError(
            {"is_substitute": "Le président est un membre titulaire : un suppléant ne préside pas le jury."}
        )
    if member.is_president:
        if member.user is None:
            raise ValidationError({"user": "Reliez le président à son compte utilisateur : il signe avec ce compte."})
        if not is_president(member.user):
            raise ValidationError({"user": "Ce compte n'a pas le rôle « Président de jury »."})
        if not may_preside(member.user):
            raise ValidationError(
                {
                    "user": "Ce compte est un compte de gestion (gestionnaire, administration) ou est désactivé : "
                    "qui prépare les jurys ne les préside pas. Reliez le compte personnel du président."
                }
            )


@transaction.atomic(durable=True)
def jury_member_save(*, member: JuryMember, actor: User) -> list[str]:
    """Add or change a member; returns the composition violations after the change (shown at once)."""
    session = _locked_session(member.session)
    _refuse_if_signed(session)
    before = _member_snapshot(JuryMember.objects.select_related("user").get(pk=member.pk)) if member.pk else None
    _check_member(member)
    member.save()
    recusals_refresh(session=session)
    violations = session_violations(session)
    after = {**_member_snapshot(member), "violations": violations}
    record_audit(
        actor=actor,
        action=AuditAction.JURY_MEMBER_CHANGED if before else AuditAction.JURY_MEMBER_ADDED,
        target=session,
        before=before,
        after=after,
    )
    return violations


def _removal_snapshot(row) -> dict:
    return {
        "removed_at": row.removed_at.isoformat() if row.removed_at else None,
        "removed_by": row.removed_by.username if row.removed_by_id else None,
    }


def _refuse_restore_after_deliberation(session: JurySession, what: str) -> None:
    if deliberation_started(session):
        raise ValidationError(
            f"La délibération a commencé (des décisions sont enregistrées) : {what} retiré ne peut plus être rétabli."
        )


@transaction.atomic(durable=True)
def jury_member_remove(*, member: JuryMember, actor: User) -> list[str]:
    """Set the member aside: out of the composition, the panels and the documents, their links to candidates kept.
    Restorable (`jury_member_restore`) until the deliberation starts."""
    session = _locked_session(member.session)
    _refuse_if_signed(session)
    member = JuryMember.objects.select_for_update(of=("self",)).select_related("user").get(pk=member.pk)
    before = {**_member_snapshot(member), **_removal_snapshot(member)}
    member.removed_at, member.removed_by = clock.now(), actor
    member.save(update_fields=["removed_at", "removed_by"])
    violations = session_violations(session)
    record_audit(
        actor=actor,
        action=AuditAction.JURY_MEMBER_REMOVED,
        target=session,
        before=before,
        after={**_member_snapshot(member), **_removal_snapshot(member), "violations": violations},
    )
    return violations


@transaction.atomic(durable=True)
def jury_member_restore(*, member: JuryMember, actor: User) -> list[str]:
    """Bring back a removed member as they were (the links declared with candidates included), unless the
    deliberation has started; returns the composition violations after the change."""
    session = _locked_session(member.session)
    _refuse_if_signed(session)
    member = (
        JuryMember.all_objects.select_for_update(of=("self",)).select_related("user", "removed_by").get(pk=member.pk)
    )
    if not member.is_removed:
        raise ValidationError(f"{member.name} n'est pas retiré du jury.")
    _refuse_restore_after_deliberation(session, "un membre")
    _check_member(member)
    before = {**_member_snapshot(member), **_removal_snapshot(member)}
    member.removed_at, member.removed_by = None, None
    member.save(update_fields=["removed_at", "removed_by"])
    recusals_refresh(session=session)
    violations = session_violations(session)
    record_audit(
        actor=actor,
        action=AuditAction.JURY_MEMBER_RESTORED,
        target=session,
        before=before,
        after={**_member_snapshot(member), **_removal_snapshot(member), "violations": violations},
    )
    return violations


# — Conflicts of interest —


def recusals_refresh(*, session: JurySession) -> None:
    """Recompute the recusals the candidates' files dictate (declared ones stay as declared)."""
    members = list(session.members.all())
    presentations = list(
        session.presentations.select_related("enrolment__candidate", "enrolment__cohort").prefetch_related(
            "enrolment__cohort__trainers"
        )
    )
    Recusal.objects.filter(presentation__session=session, source=RecusalSource.FILE).delete()
    rows = []
    for presentation in presentations:
        trainer_ids = {user.pk for user in presentation.enrolment.cohort.trainers.all()}
        for member in members:
            links = file_links(member, presentation.enrolment, trainer_ids)
            if links:
                rows.append(
                    Recusal(
                        member=member, presentation=presentation, source=RecusalSource.FILE, reason=" ; ".join(links)
                    )
                )
    Recusal.objects.bulk_create(rows)


@transaction.atomic(durable=True)
def recusal_declare(*, member: JuryMember, presentation: Presentation, reason: str, actor: User) -> Recusal:
    session = _locked_session(member.session)
    _refuse_if_signed(session)
    reason = check_text(reason, field="reason", max_length=RECUSAL_REASON_MAX_LENGTH, multiline=False)
    if presentation.session_id != session.pk:
        raise ValidationError("Ce candidat n'est pas présenté à cette session.")
    if not reason:
        raise ValidationError({"reason": "Indiquez le lien déclaré avec le candidat."})
    recusal, _ = Recusal.objects.update_or_create(
        member=member, presentation=presentation, source=RecusalSource.DECLARED, defaults={"reason": reason}
    )
    record_audit(
        actor=actor,
        action=AuditAction.JURY_RECUSAL_DECLARED,
        target=session,
        after={"member": member.name, "candidate": str(presentation.enrolment.candidate), "reason": recusal.reason},
    )
    return recusal


# — Presenting candidates —


def _row_levels(block_evaluation: BlockEvaluation, enrolment_id: int) -> list[str]:
    entries = {
        entry.competence_id: entry.level
        for entry in LevelEntry.objects.filter(block_evaluation=block_evaluation, enrolment_id=enrolment_id)
    }
    return [entries.get(competence.pk, "") for competence in block_evaluation.grid.competences.all()]


@transaction.atomic(durable=True)
def presentation_add(*, session: JurySession, enrolment: Enrolment, actor: User) -> Presentation:
    """Present a candidate (through one enrolment) on the session's blocks they can be examined on.

    The candidate's row is locked first: two sessions presenting the same candidate at once are served one after
    the other, and the second sees the first's presentation (« déjà présenté au jury du … »). The database's
    partial unique constraint on open decisions is the last guard.
    """
    session = _locked_session(session)
    _refuse_if_signed(session)
    if enrolment.cohort.certification_id != session.certification_id:
        raise ValidationError("Cette inscription ne relève pas de la certification de la session.")
    list(Candidate.objects.select_for_update(of=("self",)).filter(pk=enrolment.candidate_id).values_list("pk"))
    if Presentation.objects.filter(session=session, enrolment=enrolment).exists():
        raise ValidationError("Ce candidat est déjà présenté à cette session.")
    if Presentation.all_objects.filter(session=session, enrolment=enrolment).exists() and not deliberation_started(
        session
    ):
        raise ValidationError(
            f"{enrolment.candidate.full_name} a été retiré de cette session : rétablissez-le depuis la page de la "
            "session, ses décisions et ses liens avec les membres sont conservés."
        )
    (eligibility,) = eligibilities(session, [enrolment])
    if not eligibility.eligible:
        raise ValidationError(
            f"{enrolment.candidate.full_name} ne peut pas être présenté : {' ; '.join(eligibility.reasons)}."
        )
    presentation = Presentation.objects.create(
        session=session, enrolment=enrolment, presented_by=actor, presented_at=clock.now()
    )
    for block, be in eligibility.examined:
        be = BlockEvaluation.objects.select_related("block", "scale", "grid").get(pk=be.pk)
        result = proposal(be, _row_levels(be, enrolment.pk))
        try:
            with transaction.atomic():
                Decision.objects.create(
                    presentation=presentation,
                    block=block,
                    block_evaluation=be,
                    proposal_outcome=result.outcome,
                    proposal_explanation=result.explanation,
                )
        except IntegrityError as error:
            raise ValidationError(
                f"{enrolment.candidate.full_name}, bloc {block.number} : {ALREADY_PRESENTED_MESSAGE}"
            ) from error
    recusals_refresh(session=session)
    record_audit(
        actor=actor,
        action=AuditAction.JURY_CANDIDATE_PRESENTED,
        target=session,
        after={
            "candidate": str(enrolment.candidate),
            "enrolment": enrolment.pk,
            "blocks": [block.number for block, _ in eligibility.examined],
        },
    )
    return presentation


@transaction.atomic(durable=True)
def presentations_add_eligible(*, session: JurySession, actor: User) -> list[Presentation]:
    """Present at once every candidate the page lists as presentable, each as `presentation_add` would; returns the
    new presentations. A fixed number of queries whatever the number of candidates: presentations, decisions and
    their audit rows are written in bulk.

    The candidates being weighed are locked first, in one go and in a fixed order (as `presentation_add` locks
    one), so that another session presenting one of them waits and then sees this one. Skipped, not refused: a
    candidate set aside from this session whom staff can still restore (with their decisions and links), and a
    second enrolment of a candidate already taken through a first one.
    """
    session = _locked_session(session)
    _refuse_if_signed(session)
    weighed = presentable_enrolments(session)
    list(
        Candidate.objects.select_for_update(of=("self",))
        .filter(pk__in=weighed.values("candidate_id"))
        .order_by("pk")
        .values_list("pk")
    )
    restorable: set[int] = set()
    if not deliberation_started(session):
        restorable = set(
            Presentation.all_objects.filter(session=session, removed_at__isnull=False).values_list(
                "enrolment_id", flat=True
            )
        )
    chosen, candidates = [], set()
    for eligibility in eligibilities(session, weighed):
        enrolment = eligibility.enrolment
        if eligibility.eligible and enrolment.pk not in restorable and enrolment.candidate_id not in candidates:
            candidates.add(enrolment.candidate_id)
            chosen.append(eligibility)
    if not chosen:
        return []
    now = clock.now()
    presentations = Presentation.objects.bulk_create(
        Presentation(session=session, enrolment=item.enrolment, presented_by=actor, presented_at=now) for item in chosen
    )
    evaluations = {
        be.pk: be
        for be in BlockEvaluation.objects.filter(
            pk__in={be.pk for item in chosen for _block, be in item.examined}
        ).select_related("block", "scale", "grid").prefetch_related("grid__competences", "scale__levels")
    }  # fmt: skip
    levels = {
        (entry.block_evaluation_id, entry.enrolment_id, entry.competence_id): entry.level
        for entry in LevelEntry.objects.filter(
            block_evaluation_id__in=set(evaluations), enrolment_id__in={item.enrolment.pk for item in chosen}
        ).only("block_evaluation_id", "enrolment_id", "competence_id", "level")
    }
    decisions = []
    for presentation, item in zip(presentations, chosen, strict=True):
        for block, examined in item.examined:
            be = evaluations[examined.pk]
            row = [
                levels.get((be.pk, item.enrolment.pk, competence.pk), "") for competence in be.grid.competences.all()
            ]
            result = proposal(be, row)
            # `Decision.save` copies the candidate and opens the decision; a bulk insert does not call it.
            decisions.append(
                Decision(
                    presentation=presentation,
                    block=block,
                    block_evaluation=be,
                    candidate_id=item.enrolment.candidate_id,
                    is_open=True,
                    proposal_outcome=result.outcome,
                    proposal_explanation=result.explanation,
                )
            )
    try:
        Decision.objects.bulk_create(decisions)
    except IntegrityError as error:  # the constraint on open decisions, should a lock have been bypassed
        raise ValidationError(f"Un des candidats : {ALREADY_PRESENTED_MESSAGE}") from error
    recusals_refresh(session=session)
    record_audits(
        actor=actor,
        action=AuditAction.JURY_CANDIDATE_PRESENTED,
        changes=[
            AuditChange(
                target=session,
                after={
                    "candidate": str(item.enrolment.candidate),
                    "enrolment": item.enrolment.pk,
                    "blocks": [block.number for block, _ in item.examined],
                },
            )
            for item in chosen
        ],
        occurred_at=now,
    )
    return presentations


def _presentation_snapshot(presentation: Presentation, decisions: list[Decision]) -> dict:
    return {
        "candidate": str(presentation.enrolment.candidate),
        "enrolment": presentation.enrolment_id,
        "blocks": sorted(decision.block.number for decision in decisions),
        **_removal_snapshot(presentation),
    }


@transaction.atomic(durable=True)
def presentation_remove(*, presentation: Presentation, actor: User) -> None:
    """Set the candidate aside: out of the deliberation, the sign-off, the documents and every count, their
    decisions and links kept as they are. Their decisions no longer hold the candidate's blocks (another jury may
    examine them). Restorable (`presentation_restore`) until the deliberation starts."""
    session = _locked_session(presentation.session)
    _refuse_if_signed(session)
    presentation = (
        Presentation.objects.select_for_update(of=("self",))
        .select_related("enrolment__candidate")
        .get(pk=presentation.pk)
    )
    decisions = list(Decision.objects.filter(presentation=presentation).select_related("block"))
    before = _presentation_snapshot(presentation, decisions)
    presentation.removed_at, presentation.removed_by = clock.now(), actor
    presentation.save(update_fields=["removed_at", "removed_by"])
    Decision.all_objects.filter(presentation=presentation).update(is_open=False)
    record_audit(
        actor=actor,
        action=AuditAction.JURY_CANDIDATE_WITHDRAWN,
        target=session,
        before=before,
        after=_presentation_snapshot(presentation, decisions),
    )


@transaction.atomic(durable=True)
def presentation_restore(*, presentation: Presentation, actor: User) -> Presentation:
    """Bring back a removed candidate with their decisions and links, unless the deliberation has started or the
    candidate can no longer be examined here on the same blocks (another jury, a block acquired since, a grid
    reopened)."""
    session = _locked_session(presentation.session)
    _refuse_if_signed(session)
    presentation = (
        Presentation.all_objects.select_for_update(of=("self",))
        .select_related("enrolment__candidate", "enrolment__cohort", "removed_by")
        .get(pk=presentation.pk)
    )
    enrolment = presentation.enrolment
    name = enrolment.candidate.full_name
    if not presentation.is_removed:
        raise ValidationError(f"{name} n'est pas retiré de cette session.")
    _refuse_restore_after_deliberation(session, "un candidat")
    list(Candidate.objects.select_for_update(of=("self",)).filter(pk=enrolment.candidate_id).values_list("pk"))
    if Presentation.objects.filter(session=session, enrolment=enrolment).exists():
        raise ValidationError(f"{name} est de nouveau présenté à cette session : il n'y a rien à rétablir.")
    decisions = list(Decision.all_objects.filter(presentation=presentation).select_related("block"))
    (eligibility,) = eligibilities(session, [enrolment])
    if not eligibility.eligible:
        raise ValidationError(f"{name} ne peut pas être rétabli : {' ; '.join(eligibility.reasons)}.")
    if {block.pk for block, _ in eligibility.examined} != {decision.block_id for decision in decisions}:
        raise ValidationError(
            f"{name} ne peut pas être rétabli : les blocs qu'il peut passer devant ce jury ont changé depuis son "
            "retrait. Présentez-le de nouveau."
        )
    before = _presentation_snapshot(presentation, decisions)
    presentation.removed_at, presentation.removed_by = None, None
    presentation.save(update_fields=["removed_at", "removed_by"])
    try:
        with transaction.atomic():
            Decision.all_objects.filter(presentation=presentation).update(is_open=True)
    except IntegrityError as error:
        raise ValidationError(f"{name} ne peut pas être rétabli : {ALREADY_PRESENTED_MESSAGE}") from error
    recusals_refresh(session=session)
    record_audit(
        actor=actor,
        action=AuditAction.JURY_CANDIDATE_RESTORED,
        target=session,
        before=before,
        after=_presentation_snapshot(presentation, decisions),
    )
    return presentation


# — Deliberation —


@dataclass(frozen=True)
class DecisionInput:
    decision_id: int
    outcome: str
    reason: str


def _president(session: JurySession) -> JuryMember | None:
    presidents = [member for member in session.members.all() if member.is_president]
    return presidents[0] if len(presidents) == 1 else None


def _refuse_unless_president(session: JurySession, user, what: str) -> None:
    president = _president(session)
    if president is None or user is None or president.user_id != user.pk:
        raise ValidationError(f"Seul le président du jury, avec son compte, peut {what}.")
    if not may_preside(user):
        # Whatever door linked it, an account with staff power or without the president role never signs.
        raise ValidationError(
            f"Ce compte n'a pas, ou plus, le seul rôle « Président de jury » : il ne peut pas {what}."
        )


def _decision_snapshot(decision: Decision) -> dict:
    return {
        "candidate": str(decision.presentation.enrolment.candidate),
        "block": decision.block.number,
        "proposal": decision.proposal_outcome,
        "outcome": decision.outcome,
        "departure_reason": decision.departure_reason,
    }


@transaction.atomic(durable=True)
def decisions_record(*, session: JurySession, entries: list[DecisionInput], actor: User) -> int:
    """Record the jury's decisions (all or nothing); returns how many changed.

    A departure from the proposal needs a written reason; both are kept. The proposal is recomputed from the
    submitted grid at that instant and stored with the decision.
    """
    session = _locked_session(session)
    _refuse_if_signed(session)
    _refuse_unless_president(session, actor, "enregistrer les décisions")
    members = list(session.members.all())
    violations = session_violations(session, members)
    if violations:
        raise ValidationError(
            ["La composition du jury ne respecte pas la fiche : le jury ne peut pas délibérer.", *violations]
        )
    unbalanced = panel_problems(
        session, members, session.presentations.select_related("enrolment__candidate").prefetch_related("recusals")
    )
    decisions = {
        d.pk: d
        for d in Decision.objects.filter(presentation__session=session).select_related(
            "block", "block_evaluation__block", "block_evaluation__scale", "block_evaluation__grid",
            "presentation__enrolment__candidate",
        )
    }  # fmt: skip
    proposals = current_proposals(list(decisions.values()))
    errors, changes = [], []
    now = clock.now()
    for entry in entries:
        decision = decisions.get(entry.decision_id)
        if decision is None:
            raise ValidationError("Une décision envoyée n'appartient pas à cette session.")
        if entry.outcome not in DecisionOutcome.values:
            raise ValidationError("Décision inconnue.")
        if decision.presentation_id in unbalanced:
            problem = unbalanced[decision.presentation_id]
            if problem not in errors:
                errors.append(problem)
            continue
        reason = (entry.reason or "").strip()
        if problem := text_problem(reason, max_length=REASON_MAX_LENGTH):
            errors.append(
                f"{decision.presentation.enrolment.candidate.full_name}, bloc {decision.block.number}, motif : {problem}"
            )
            continue
        if decision.block_evaluation.status != BlockEvaluationStatus.SUBMITTED:
            errors.append(
                f"{decision.presentation.enrolment.candidate.full_name}, bloc {decision.block.number} : "
                "la grille a été rouverte ; attendez qu'elle soit de nouveau soumise."
            )
            continue
        result = proposals[decision.pk]
        if entry.outcome != result.outcome and not reason:
            errors.append(
                f"{decision.presentation.enrolment.candidate.full_name}, bloc {decision.block.number} : "
                f"s'écarter de la proposition ({Outcome(result.outcome).label.lower()}) exige un motif écrit."
            )
            continue
        if entry.outcome == result.outcome:
            reason = ""
        before = _decision_snapshot(decision)
        decision.proposal_outcome, decision.proposal_explanation = result.outcome, result.explanation
        new = (decision.outcome, decision.departure_reason) != (entry.outcome, reason) or before[
            "proposal"
        ] != result.outcome
        if new:
            decision.outcome, decision.departure_reason = entry.outcome, reason
            decision.decided_by, decision.decided_at = actor, now
            changes.append((decision, before))
    if errors:
        raise ValidationError(errors)
    # One UPDATE for every changed decision and one INSERT of audit rows per action, whatever their number.
    Decision.objects.bulk_update(
        [decision for decision, _before in changes],
        ["proposal_outcome", "proposal_explanation", "outcome", "departure_reason", "decided_by", "decided_at"],
    )
    audits = [
        (
            decision.departs_from_proposal,
            AuditChange(target=decision, before=before, after=_decision_snapshot(decision)),
        )
        for decision, before in changes
    ]
    record_audits(
        actor=actor,
        action=AuditAction.JURY_DECISION_OVERRIDDEN,
        changes=[change for departs, change in audits if departs],
        occurred_at=now,
    )
    record_audits(
        actor=actor,
        action=AuditAction.JURY_DECISION_RECORDED,
        changes=[change for departs, change in audits if not departs],
        occurred_at=now,
    )
    return len(changes)


# — Sign-off —


def certificate_number_next(*, certification: Certification, year: int) -> str:
    """Draw the next number of the year under a row lock: never twice, even under concurrent sign-offs.

    Must run inside the caller's transaction; the unique constraint on CertificationAward.number is the last guard.
    """
    return certificate_numbers_next(certification=certification, year=year, count=1)[0]


def certificate_numbers_next(*, certification: Certification, year: int, count: int) -> list[str]:
    """Draw the next `count` numbers of the year at once, in order, under one row lock (a sign-off awards many)."""
    if count <= 0:
        return []
    CertificateSequence.objects.get_or_create(year=year)
    sequence = CertificateSequence.objects.select_for_update(of=("self",)).get(year=year)
    first = sequence.last_number + 1
    sequence.last_number += count
    sequence.save(update_fields=["last_number"])
    prefix = certification.acronym or f"RNCP{certification.rncp_code}"
    return [f"{prefix}-{year}-{number:04d}" for number in range(first, sequence.last_number + 1)]


def _acquire_and_award(
    *, decisions: list[Decision], session: JurySession, day, actor: User
) -> tuple[int, list[CertificationAward]]:
    """Add the blocks that `decisions` validate (as signed, or rectified to « validé ») to the candidates' ledgers
    (unless held), then award the certification to those now complete. A fixed number of queries whatever the
    number of decisions.

    The candidate rows must already be locked by the caller (serialises two sessions signing for one candidate).
    """
    if not decisions:
        return 0, []
    candidates = {
        decision.presentation.enrolment.candidate_id: decision.presentation.enrolment.candidate
        for decision in decisions
    }
    candidate_ids = set(candidates)
    block_ids = {decision.block_id for decision in decisions}
    acquisitions = AcquiredBlock.objects.filter(candidate_id__in=candidate_ids, block_id__in=block_ids)
    held = set(acquisitions.held().values_list("candidate_id", "block_id"))
    already_linked = set(
        DecisionAcquiredBlock.objects.filter(decision__in=decisions).values_list("decision_id", flat=True)
    )
    chain_ends: dict[tuple[int, int], AcquiredBlock] = {}
    for acquisition in acquisitions.filter(replaced_by__isnull=True).order_by("pk"):
        chain_ends.setdefault((acquisition.candidate_id, acquisition.block_id), acquisition)
    # A block already held stays as it is; a withdrawn block is acquired again only by another decision than the one
    # it was withdrawn from, as the next link of the chain of acquisitions.
    taken: list[Decision] = []
    for decision in decisions:
        key = (decision.presentation.enrolment.candidate_id, decision.block_id)
        if key in held or decision.pk in already_linked:
            continue
        held.add(key)
        taken.append(decision)
    written = AcquiredBlock.objects.bulk_create(
        AcquiredBlock(
            candidate=decision.presentation.enrolment.candidate,  # read, not fetched again, by the audit label
            block=decision.block,
            acquired_on=day,
            source=AcquiredBlockSource.JURY,
            recorded_by=actor,
            replaces=chain_ends.get((decision.presentation.enrolment.candidate_id, decision.block_id)),
        )
        for decision in taken
    )
    DecisionAcquiredBlock.objects.bulk_create(
        DecisionAcquiredBlock(decision=decision, acquired_block=acquired)
        for decision, acquired in zip(taken, written, strict=True)
    )
    record_audits(
        actor=actor,
        action=AuditAction.ACQUIRED_BLOCK_FROM_JURY,
        changes=[
            AuditChange(
                target=acquired,
                after={"block": decision.block.number, "acquired_on": day.isoformat(), "decision": decision.pk},
            )
            for decision, acquired in zip(taken, written, strict=True)
        ],
    )
    return len(written), _award_complete(
        candidates=[candidates[pk] for pk in sorted(candidates)], session=session, day=day, actor=actor
    )


def _award_complete(*, candidates: list[Candidate], session: JurySession, day, actor: User) -> list[CertificationAward]:
    """Award the certification to the candidates now holding every block of the session's fiche, some of them perhaps
    through the correspondence with a previous fiche: those are written first, in the same transaction, as blocks
    acquired by correspondence (what the award rests on). A candidate who is not complete gets nothing written."""
    certification = session.certification
    all_blocks = set(Block.objects.filter(certification=certification).values_list("pk", flat=True))
    by_id = {candidate.pk: candidate for candidate in candidates}
    candidate_ids = list(by_id)
    if not all_blocks or not candidate_ids:
        return []
    held: dict[int, set[int]] = {pk: set() for pk in candidate_ids}
    for candidate_id, block_id in (
        AcquiredBlock.objects.held().filter(candidate_id__in=candidate_ids).values_list("candidate_id", "block_id")
    ):
        held[candidate_id].add(block_id)
    awards = CertificationAward.objects.filter(candidate_id__in=candidate_ids, certification=certification)
    certified = set(awards.in_force().values_list("candidate_id", flat=True))
    missing = {pk: all_blocks - held[pk] for pk in candidate_ids if pk not in certified}
    through_previous = (
        blocks_held_by_correspondence([pk for pk, blocks in missing.items() if blocks], certification)
        if certification.previous_rncp_codes and any(missing.values())
        else {}
    )
    complete: list[int] = []
    for candidate_id, blocks in missing.items():
        if not blocks:
            complete.append(candidate_id)
            continue
        through = through_previous.get(candidate_id, {})
        if blocks <= through.keys():
            carried = [through[pk] for pk in sorted(blocks, key=lambda pk: through[pk].block.number)]
            _acquire_by_correspondence(candidate_id=candidate_id, carried=carried, actor=actor)
            complete.append(candidate_id)
    if not complete:
        return []
    # After a withdrawal, the new certificate (with a new number) follows the withdrawn one.
    withdrawn_ends: dict[int, CertificationAward] = {}
    for award in awards.filter(candidate_id__in=complete, replaced_by__isnull=True).order_by("pk"):
        withdrawn_ends.setdefault(award.candidate_id, award)
    numbers = certificate_numbers_next(certification=certification, year=day.year, count=len(complete))
    written = CertificationAward.objects.bulk_create(
        CertificationAward(
            candidate=by_id[candidate_id],
            certification=certification,
            number=number,
            awarded_on=day,
            replaces=withdrawn_ends.get(candidate_id),
        )
        for candidate_id, number in zip(complete, numbers, strict=True)
    )
    SessionAward.objects.bulk_create(SessionAward(session=session, award=award) for award in written)
    record_audits(
        actor=actor,
        action=AuditAction.CERTIFICATION_AWARDED,
        changes=[
            AuditChange(
                target=award, after={"number": award.number, "awarded_on": day.isoformat(), "session": session.pk}
            )
            for award in written
        ],
    )
    return written


def _acquire_by_correspondence(*, candidate_id: int, carried: list[HeldByCorrespondence], actor: User) -> None:
    """Write the blocks of the new fiche the candidate holds through the correspondence, each dated the day the
    last of its previous blocks was acquired, with one origin per previous acquisition; the rows used are frozen
    from now on (what was acquired rests on them)."""
    chains = {
        acquired.block_id: acquired
        for acquired in AcquiredBlock.objects.filter(
            candidate_id=candidate_id, block_id__in=[item.block.pk for item in carried], replaced_by__isnull=True
        )
    }
    written = AcquiredBlock.objects.bulk_create(
        AcquiredBlock(
            candidate_id=candidate_id,
            block=item.block,
            acquired_on=item.acquired_on,
            source=AcquiredBlockSource.CORRESPONDENCE,
            recorded_by=actor,
            replaces=chains.get(item.block.pk),
        )
        for item in carried
    )
    origins = [
        AcquiredBlockOrigin(
            acquired_block=acquired, correspondence=origin.correspondence, previous_acquisition=origin.acquired
        )
        for acquired, item in zip(written, carried, strict=True)
        for origin in item.origins
    ]
    audits = [
        AuditChange(
            target=acquired,
            after={
                "block": item.block.code,
                "acquired_on": item.acquired_on.isoformat(),
                "origins": [f"{origin.code} ({origin.where})" for origin in item.origins],
            },
        )
        for acquired, item in zip(written, carried, strict=True)
    ]
    AcquiredBlockOrigin.objects.bulk_create(origins)
    record_audits(actor=actor, action=AuditAction.ACQUIRED_BLOCK_BY_CORRESPONDENCE, changes=audits)
    BlockCorrespondence.objects.filter(
        pk__in={origin.correspondence_id for origin in origins}, first_used_at__isnull=True
    ).update(first_used_at=clock.now())


@dataclass
class SignOffResult:
    session: JurySession
    acquired: int
    awards: list[CertificationAward]


@transaction.atomic(durable=True)
def jury_session_sign_off(*, session: JurySession, signed_by: User) -> SignOffResult:
    """The president's sign-off: from this instant decisions, grids and scales are final.

    In the same transaction: validated blocks join the candidates' acquired blocks, candidates now holding every
    block are awarded the certification with a sequential number, and the grids are locked. The president's
    password is checked before, by the view (certif.security.check_signature_password): hashing is slow, and the
    session row stays locked for the whole transaction.
    """
    session = _locked_session(session)
    if session.is_signed:
        raise ValidationError(
            f"Cette session a déjà été signée le {timezone.localtime(session.signed_at):%d/%m/%Y à %H:%M} : "
            "la signature n'est enregistrée qu'une fois."
        )
    _refuse_unless_president(session, signed_by, "signer la session")
    # The links the candidates' files dictate today, before the deliberating panels are checked and frozen.
    recusals_refresh(session=session)
    problems = sign_off_problems(session)
    if problems:
        raise ValidationError(problems)

    decisions = list(
        Decision.objects.filter(presentation__session=session)
        .select_related(
            "block", "block_evaluation__grid", "block_evaluation__scale", "presentation__enrolment__candidate"
        )
        .order_by("presentation__enrolment__candidate_id", "block__number")
    )
    candidate_ids = sorted({d.presentation.enrolment.candidate_id for d in decisions})
    list(
        Candidate.objects.select_for_update(of=("self",)).filter(pk__in=candidate_ids).order_by("pk").values_list("pk")
    )

    now = clock.now()
    # Written while the session is still prepared (signed decisions are immutable, down to the database): the
    # candidates may now be presented to another jury for the blocks not validated.
    Decision.objects.filter(presentation__session=session).update(is_open=False)
    session.status = JurySessionStatus.SIGNED
    session.signed_at, session.signed_by = now, signed_by
    session.decisions_fingerprint = decisions_fingerprint(session, decisions)
    session.save()

    be_ids = {d.block_evaluation_id for d in decisions}
    BlockEvaluation.objects.filter(pk__in=be_ids, locked_at__isnull=True).update(locked_at=now)
    Grid.objects.filter(evaluations__in=be_ids, frozen_at__isnull=True).update(frozen_at=now)
    RatingScale.objects.filter(evaluations__in=be_ids, first_used_at__isnull=True).update(first_used_at=now)

    validated = [decision for decision in decisions if decision.outcome == DecisionOutcome.VALIDATED]
    acquired_count, awards = _acquire_and_award(decisions=validated, session=session, day=session.date, actor=signed_by)
    record_audit(
        actor=signed_by,
        action=AuditAction.JURY_SIGNED_OFF,
        target=session,
        before={"status": JurySessionStatus.PREPARED},
        after={
            "status": JurySessionStatus.SIGNED,
            "fingerprint": session.decisions_fingerprint,
            "decisions": len(decisions),
            "acquired_blocks": acquired_count,
            "awards": [award.number for award in awards],
        },
    )
    return SignOffResult(session=session, acquired=acquired_count, awards=awards)


# — Rectification —


@transaction.atomic(durable=True)
def decision_rectify(*, decision: Decision, outcome: str, reason: str, signed_by: User) -> Rectification:
    """A correction of a signed decision: a new act with a reason, signed by the president (whose password the view
    checks first, outside the transaction: certif.security.check_signature_password).

    The original decision stays as it was. A rectification that validates a block adds it to the candidate's
    acquired blocks (and may award the certification), dated like the session (the jury's decision, as
    rectified; the rectification keeps its own signing date). Invalidating a block
    that the candidate already holds is refused: acquired blocks are valid for good (« Validité des composantes
    acquises : illimitée ») and withdrawing one is not a jury rectification.
    """
    decision = Decision.objects.select_related("presentation__enrolment__candidate", "block").get(pk=decision.pk)
    session = _locked_session(decision.presentation.session)
    if not session.is_signed:
        raise ValidationError("La session n'est pas signée : modifiez la décision sur la page de délibération.")
    _refuse_unless_president(session, signed_by, "signer une rectification")
    reason = check_text(reason, field="reason", max_length=REASON_MAX_LENGTH)
    if not reason:
        raise ValidationError({"reason": "Une rectification doit être motivée."})
    if outcome not in DecisionOutcome.values:
        raise ValidationError({"outcome": "Décision inconnue."})
    current = decision.current_outcome
    if outcome == current:
        raise ValidationError({"outcome": "La rectification doit changer la décision."})
    candidate = Candidate.objects.select_for_update(of=("self",)).get(pk=decision.presentation.enrolment.candidate_id)
    withdrawn = (
        AcquiredBlock.objects.filter(jury_decision_link__decision=decision, withdrawn__isnull=False)
        .select_related("withdrawn__withdrawal")
        .first()
    )
    if withdrawn is not None:
        raise ValidationError(
            {
                "outcome": f"Le bloc {decision.block.number} que cette décision avait validé a été retiré au candidat "
                f"({withdrawn.withdrawal_act.reference}) : la décision ne se rectifie plus ; le bloc ne s'acquiert de "  # type: ignore[union-attr]  # withdrawn: filtered on withdrawn__isnull=False
                "nouveau que par une nouvelle évaluation et un nouveau jury."
            }
        )
    if (
        outcome == DecisionOutcome.NOT_VALIDATED
        and AcquiredBlock.objects.held().filter(candidate=candidate, block=decision.block).exists()
    ):
        raise ValidationError(
            {
                "outcome": f"Le bloc {decision.block.number} est acquis au candidat : un bloc acquis l'est sans "
                "limite de durée, une rectification ne peut pas le retirer."
            }
        )
    rectification = Rectification.objects.create(
        decision=decision, outcome=outcome, reason=reason, signed_by=signed_by, signed_at=clock.now()
    )
    record_audit(
        actor=signed_by,
        action=AuditAction.JURY_DECISION_RECTIFIED,
        target=decision,
        before={"outcome": current},
        after={"outcome": outcome, "reason": rectification.reason, "rectification": rectification.pk},
    )
    decision_rectified.send(sender=Rectification, rectification=rectification, actor=signed_by)
    if outcome == DecisionOutcome.VALIDATED:
        # Dated like the session's own decisions: the rectified decision is the jury's decision of that day.
        _acquire_and_award(decisions=[decision], session=session, day=session.date, actor=signed_by)
    return rectification
