"""Every change to a jury session goes through one of these functions: validate, write, audit, in one transaction.

Sign-off (`jury_session_sign_off`) locks the session row first: a second sign-off — a double click, a second tab,
another president's session — waits for the first, then finds the session signed and records nothing more.
"""

import datetime
import hashlib
import json
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, prefetch_related_objects
from django.utils import timezone
from django.utils.formats import date_format

from candidates.models import AcquiredBlock, AcquiredBlockSource, Candidate, CertificationAward, Enrolment
from certif import clock
from certif.audit import record_audit
from certif.models import Block, Grid, RatingScale
from certif.roles import Role, may_preside, roles_of
from certif.rules import Outcome
from certif.text import counted
from certif.validation import check_text, text_problem
from evaluation.models import BlockEvaluation, BlockEvaluationStatus, LevelEntry
from evaluation.services import proposal
from juries.composition import Panel, composition_violations, deliberating_panel, panel_problem
from juries.models import (
    ALREADY_PRESENTED_MESSAGE,
    DATE_LOCKED_MESSAGE,
    SIGNED_MESSAGE,
    CertificateSequence,
    Decision,
    DecisionOutcome,
    JuryMember,
    JurySession,
    JurySessionStatus,
    Presentation,
    Rectification,
    Recusal,
    RecusalSource,
)
from juries.services_documents import documents_mark_rectified

REASON_MAX_LENGTH = 2000
RECUSAL_REASON_MAX_LENGTH = 255
PLANNING_HORIZON_YEARS = 2  # a jury is not planned further ahead


def _d(day) -> str:
    return date_format(day, "j F Y")


def _refuse_if_signed(session: JurySession) -> None:
    if session.is_signed:
        raise ValidationError(SIGNED_MESSAGE)


def _locked_session(session: JurySession) -> JurySession:
    """Lock the session row (serialises every change of one session) and read its current state."""
    return JurySession.objects.select_for_update(of=("self",)).select_related("certification").get(pk=session.pk)


# — Composition —


def _rule(session: JurySession):
    return getattr(session.certification, "jury_rule", None)


def session_violations(session: JurySession, members=None) -> list[str]:
    """How the session's titular members break the fiche's composition ([] when they respect it)."""
    rule = _rule(session)
    if rule is None:
        return ["La certification n'a pas de règle de composition des jurys."]
    members = list(session.members.all()) if members is None else members
    return composition_violations([member for member in members if not member.is_substitute], rule)


def presentation_panels(session: JurySession, members, presentations) -> dict[int, Panel]:
    """For each presentation, the members who deliberate on that candidate (recusals and substitutes applied).

    `members`: the session's members; `presentations`: with their `recusals` prefetched (no query here).
    """
    rule = _rule(session)
    return {
        presentation.pk: deliberating_panel(
            members, {recusal.member_id for recusal in presentation.recusals.all()}, rule
        )
        for presentation in presentations
    }


def panel_problems(session: JurySession, members=None, presentations=None) -> dict[int, str]:
    """{presentation pk: the French sentence} for each candidate whose deliberating panel breaks the rule.

    Read only when the titular composition respects the fiche (otherwise that is the problem to fix first).
    """
    members = list(session.members.all()) if members is None else members
    if session_violations(session, members):
        return {}
    if presentations is None:
        presentations = session.presentations.select_related("enrolment__candidate").prefetch_related("recusals")
    presentations = list(presentations)
    panels = presentation_panels(session, members, presentations)
    problems = {}
    for presentation in presentations:
        problem = panel_problem(presentation.enrolment.candidate.full_name, panels[presentation.pk])
        if problem:
            problems[presentation.pk] = problem
    return problems


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
        "user": member.user.username if member.user_id else None,
    }


def _check_blocks(certification, blocks) -> list[Block]:
    blocks = list(blocks)
    if not blocks:
        raise ValidationError({"blocks": "Choisissez au moins un bloc examiné."})
    for block in blocks:
        if block.certification_id != certification.pk:
            raise ValidationError({"blocks": f"Le bloc {block.number} n'appartient pas à la certification."})
    return blocks


def _years_later(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def latest_plannable_date() -> datetime.date:
    return _years_later(clock.localdate(), PLANNING_HORIZON_YEARS)


def _check_date(day) -> None:
    if day is None:
        raise ValidationError({"date": "Indiquez la date du jury."})
    latest = latest_plannable_date()
    if day > latest:
        raise ValidationError(
            {
                "date": f"Un jury ne se prévoit pas plus de deux ans à l'avance : choisissez une date au plus tard "
                f"le {_d(latest)}."
            }
        )


@transaction.atomic
def jury_session_create(*, certification, date, place, blocks, actor) -> JurySession:
    """Plan a session. Outside every registration period it is created all the same (the page warns at once:
    `registration_problem`); the sign-off will refuse it until a renewal is recorded."""
    blocks = _check_blocks(certification, blocks)
    _check_date(date)
    session = JurySession(
        certification=certification, date=date, place=(place or "").strip(), created_by=actor, created_at=clock.now()
    )
    session.full_clean()
    session.save()
    session.blocks.set(blocks)
    record_audit(actor=actor, action="jury.session_created", target=session, after=_session_snapshot(session))
    return session


@transaction.atomic
def jury_session_update(*, session, date, place, blocks, actor, date_change_reason: str = "") -> JurySession:
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
        if Role.STAFF not in roles_of(actor):
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
            actor=actor, action="jury.date_moved", target=session, before=before, after={**after, "reason": reason}
        )
    elif after != before:
        record_audit(actor=actor, action="jury.session_updated", target=session, before=before, after=after)
    return session


def _check_member(member: JuryMember) -> None:
    member.name, member.organisation = member.name.strip(), member.organisation.strip()
    member.full_clean(exclude=["session"])
    if member.is_president and member.is_substitute:
        raise ValidationError(
            {"is_substitute": "Le président est un membre titulaire : un suppléant ne préside pas le jury."}
        )
    if member.is_president:
        if member.user_id is None:
            raise ValidationError({"user": "Reliez le président à son compte utilisateur : il signe avec ce compte."})
        if not member.user.groups.filter(name=Role.PRESIDENT).exists():
            raise ValidationError({"user": "Ce compte n'a pas le rôle « Président de jury »."})
        if not may_preside(member.user):
            raise ValidationError(
                {
                    "user": "Ce compte est un compte de gestion (gestionnaire, administration) ou est désactivé : "
                    "qui prépare les jurys ne les préside pas. Reliez le compte personnel du président."
                }
            )


@transaction.atomic
def jury_member_save(*, member: JuryMember, actor) -> list[str]:
    """Add or change a member; returns the composition violations after the change (shown at once)."""
    session = _locked_session(member.session)
    _refuse_if_signed(session)
    before = _member_snapshot(JuryMember.objects.select_related("user").get(pk=member.pk)) if member.pk else None
    _check_member(member)
    member.save()
    refresh_recusals(session)
    violations = session_violations(session)
    after = {**_member_snapshot(member), "violations": violations}
    record_audit(
        actor=actor,
        action="jury.member_changed" if before else "jury.member_added",
        target=session,
        before=before,
        after=after,
    )
    return violations


@transaction.atomic
def jury_member_remove(*, member: JuryMember, actor) -> list[str]:
    session = _locked_session(member.session)
    _refuse_if_signed(session)
    before = _member_snapshot(member)
    member.delete()
    violations = session_violations(session)
    record_audit(
        actor=actor, action="jury.member_removed", target=session, before=before, after={"violations": violations}
    )
    return violations


# — Conflicts of interest —


def _norm(text: str) -> str:
    return " ".join((text or "").split()).casefold()


def _name_matches(member_name: str, recorded: str) -> bool:
    """« Mme Sylvie Rochette » in the file matches the member « Sylvie Rochette » (case, spaces, civility)."""
    member, recorded = _norm(member_name), _norm(recorded)
    if not member or not recorded:
        return False
    for civility in ("mme ", "m. ", "mlle ", "mr ", "monsieur ", "madame "):
        member = member.removeprefix(civility)
        recorded = recorded.removeprefix(civility)
    return member == recorded or recorded.startswith(member + " (")


def file_links(member: JuryMember, enrolment: Enrolment, cohort_trainer_ids: set[int]) -> list[str]:
    """The links between a member and a candidate that the candidate's file records."""
    links = []
    if member.user_id and member.user_id in cohort_trainer_ids:
        links.append("formateur du candidat")
    if _norm(member.organisation) and _norm(member.organisation) == _norm(enrolment.candidate.employer_name):
        links.append("employeur du candidat")
    if _name_matches(member.name, enrolment.tutor_name):
        links.append("tuteur du candidat")
    if _name_matches(member.name, enrolment.vae_accompanist):
        links.append("accompagnateur VAE du candidat")
    return links


def refresh_recusals(session: JurySession) -> None:
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


@transaction.atomic
def recusal_declare(*, member: JuryMember, presentation: Presentation, reason: str, actor) -> Recusal:
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
        action="jury.recusal_declared",
        target=session,
        after={"member": member.name, "candidate": str(presentation.enrolment.candidate), "reason": recusal.reason},
    )
    return recusal


# — Presenting candidates —


@dataclass
class Eligibility:
    enrolment: Enrolment
    examined: list  # [(block, block_evaluation)]
    reasons: list[str]
    notes: list[str]

    @property
    def eligible(self) -> bool:
        return not self.reasons and bool(self.examined)


def eligibilities(session: JurySession, enrolments=None) -> list[Eligibility]:
    """For each enrolment of the certification (or those given), can it be presented, and on which blocks.

    A block the candidate already holds is skipped; a block for which the candidate is already before an unsigned
    jury (this one through another enrolment, or another) makes them ineligible; every other block of the session
    needs a submitted grid (not yet judged by a jury) with a level for each of its competences for this candidate.
    Bounded queries.
    """
    blocks = list(session.blocks.order_by("number"))
    if enrolments is None:
        enrolments = (
            Enrolment.objects.filter(cohort__certification=session.certification)
            .exclude(jury_presentations__session=session)
            .select_related("candidate", "cohort__pathway")
            .order_by("candidate__birth_name", "candidate__first_name", "pk")
        )
    enrolments = list(enrolments)
    cohort_ids = {e.cohort_id for e in enrolments}
    candidate_ids = {e.candidate_id for e in enrolments}
    held = set(
        AcquiredBlock.objects.held()
        .filter(candidate_id__in=candidate_ids, block__in=blocks)
        .values_list("candidate_id", "block_id")
    )
    before_a_jury: dict[tuple[int, int], datetime.date] = {}
    for candidate_id, block_id, day in Decision.objects.filter(
        is_open=True, candidate_id__in=candidate_ids, block__in=blocks
    ).values_list("candidate_id", "block_id", "presentation__session__date"):
        before_a_jury.setdefault((candidate_id, block_id), day)
    evaluations: dict[tuple[int, int], list[BlockEvaluation]] = {}
    for be in (
        BlockEvaluation.objects.filter(session__cohort_id__in=cohort_ids, block__in=blocks)
        .select_related("block", "grid", "session")
        .annotate(competence_count=Count("grid__competences", distinct=True))
        .order_by("-session__starts_on", "-pk")
    ):
        evaluations.setdefault((be.session.cohort_id, be.block_id), []).append(be)
    filled = {
        (row["block_evaluation_id"], row["enrolment_id"]): row["n"]
        for row in LevelEntry.objects.filter(enrolment__in=enrolments, block_evaluation__block__in=blocks)
        .exclude(level="")
        .values("block_evaluation_id", "enrolment_id")
        .annotate(n=Count("pk"))
    }
    results = []
    for enrolment in enrolments:
        reasons, notes, examined = [], [], []
        if not enrolment.can_be_evaluated:
            reasons.append(enrolment.not_evaluated_reason)
        for block in blocks:
            if (enrolment.candidate_id, block.pk) in held:
                notes.append(f"bloc {block.number} déjà acquis")
                continue
            if (enrolment.candidate_id, block.pk) in before_a_jury:
                day = before_a_jury[(enrolment.candidate_id, block.pk)]
                reasons.append(f"déjà présenté au jury du {_d(day)} pour le bloc {block.number}, non encore signé")
                continue
            found = evaluations.get((enrolment.cohort_id, block.pk), [])
            open_ones = [be for be in found if be.locked_at is None]
            submitted = [be for be in open_ones if be.status == BlockEvaluationStatus.SUBMITTED]
            if not found:
                reasons.append(f"aucune évaluation du bloc {block.number}")
            elif not open_ones:
                reasons.append(
                    f"bloc {block.number} déjà délibéré par un jury : une nouvelle évaluation est nécessaire"
                )
            elif not submitted:
                reasons.append(f"grille du bloc {block.number} non soumise")
            else:
                be = submitted[0]
                if filled.get((be.pk, enrolment.pk), 0) < be.competence_count:
                    reasons.append(f"grille du bloc {block.number} incomplète pour ce candidat")
                else:
                    examined.append((block, be))
        if not reasons and not examined:
            reasons.append("tous les blocs de la session sont déjà acquis")
        results.append(Eligibility(enrolment=enrolment, examined=examined, reasons=reasons, notes=notes))
    return results


def _row_levels(block_evaluation: BlockEvaluation, enrolment_id: int) -> list[str]:
    entries = {
        entry.competence_id: entry.level
        for entry in LevelEntry.objects.filter(block_evaluation=block_evaluation, enrolment_id=enrolment_id)
    }
    return [entries.get(competence.pk, "") for competence in block_evaluation.grid.competences.all()]


def current_proposals(decisions: list[Decision]) -> dict:
    """`current_proposal` of many decisions, in a fixed number of queries whatever their number.

    The decisions come with `block_evaluation__block` and `presentation` selected.
    """
    prefetch_related_objects(decisions, "block_evaluation__grid__competences", "block_evaluation__scale__levels")
    levels = {
        (entry.block_evaluation_id, entry.enrolment_id, entry.competence_id): entry.level
        for entry in LevelEntry.objects.filter(
            block_evaluation_id__in={d.block_evaluation_id for d in decisions},
            enrolment_id__in={d.presentation.enrolment_id for d in decisions},
        ).only("block_evaluation_id", "enrolment_id", "competence_id", "level")
    }
    results = {}
    for decision in decisions:
        be, enrolment_id = decision.block_evaluation, decision.presentation.enrolment_id
        row = [levels.get((be.pk, enrolment_id, competence.pk), "") for competence in be.grid.competences.all()]
        results[decision.pk] = proposal(be, row)
    return results


@transaction.atomic
def presentation_add(*, session: JurySession, enrolment: Enrolment, actor) -> Presentation:
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
    refresh_recusals(session)
    record_audit(
        actor=actor,
        action="jury.candidate_presented",
        target=session,
        after={
            "candidate": str(enrolment.candidate),
            "enrolment": enrolment.pk,
            "blocks": [block.number for block, _ in eligibility.examined],
        },
    )
    return presentation


@transaction.atomic
def presentation_remove(*, presentation: Presentation, actor) -> None:
    session = _locked_session(presentation.session)
    _refuse_if_signed(session)
    before = {"candidate": str(presentation.enrolment.candidate), "enrolment": presentation.enrolment_id}
    presentation.decisions.all().delete()
    presentation.recusals.all().delete()
    presentation.delete()
    record_audit(actor=actor, action="jury.candidate_withdrawn", target=session, before=before)


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


@transaction.atomic
def decisions_record(*, session: JurySession, entries: list[DecisionInput], actor) -> int:
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
    for decision, before in changes:
        decision.save()
        record_audit(
            actor=actor,
            action="jury.decision_overridden" if decision.departs_from_proposal else "jury.decision_recorded",
            target=decision,
            before=before,
            after=_decision_snapshot(decision),
        )
    return len(changes)


# — Sign-off —


def registration_problem(session: JurySession) -> str:
    certification = session.certification
    if certification.registration_on(session.date) is not None:
        return ""
    last = certification.registrations.order_by("-in_force_until").first()
    ended = f" : le dernier enregistrement a pris fin le {_d(last.in_force_until)}" if last else ""
    return (
        f"La date du jury ({session.date:%d/%m/%Y}) est hors de toute période d'enregistrement au RNCP{ended}. "
        "Enregistrez un renouvellement avant de signer."
    )


def too_early_problem(session: JurySession) -> str:
    """A session is signed on or after the day the jury sits, never before ("" when it can be signed today)."""
    today = clock.localdate()
    if today >= session.date:
        return ""
    return (
        f"Le jury siège le {_d(session.date)} : sa session ne peut pas être signée avant ce jour "
        f"(nous sommes le {_d(today)})."
    )


@dataclass
class DateFacts:
    """What the session and sign-off pages say about the session's dates."""

    date: datetime.date
    registration: object | None  # the registration in force on that date
    registration_problem: str
    signable_from: datetime.date
    too_early: str
    date_rule: str


def session_date_facts(session: JurySession, *, presented: bool) -> DateFacts:
    if session.is_signed:
        rule = "Session signée : sa date ne change plus."
    elif presented:
        rule = (
            "Des candidats sont présentés : seul un gestionnaire peut encore déplacer la date, motif à l'appui "
            "(tracé dans le journal d'audit)."
        )
    else:
        rule = f"Modifiable jusqu'à la présentation des candidats ; au plus tard le {_d(latest_plannable_date())}."
    return DateFacts(
        date=session.date,
        registration=session.certification.registration_on(session.date),
        registration_problem=registration_problem(session),
        signable_from=session.date,
        too_early="" if session.is_signed else too_early_problem(session),
        date_rule=rule,
    )


def sign_off_problems(session: JurySession) -> list[str]:
    """Why the session cannot be signed now ([] when it can). Read by the page and by the sign-off itself."""
    problems = []
    too_early = too_early_problem(session)
    if too_early:
        problems.append(too_early)
    members = list(session.members.all())
    violations = session_violations(session, members)
    if violations:
        problems.append("La composition du jury ne respecte pas la fiche : " + " ".join(violations))
    problems.extend(panel_problems(session, members).values())
    decisions = list(
        Decision.objects.filter(presentation__session=session).select_related(
            "block", "presentation__enrolment__candidate", "block_evaluation__block", "block_evaluation__scale",
            "block_evaluation__grid",
        )
    )  # fmt: skip
    if not session.presentations.exists():
        problems.append("Aucun candidat n'est présenté.")
    missing = [d for d in decisions if not d.is_decided]
    if missing:
        names = ", ".join(
            f"{d.presentation.enrolment.candidate.full_name} (bloc {d.block.number})" for d in missing[:5]
        )
        end = " …" if len(missing) > 5 else "."
        problems.append(f"{counted(len(missing), 'décision manque', 'décisions manquent')} : {names}{end}")
    proposals = current_proposals([d for d in decisions if d.is_decided])
    for d in decisions:
        if not d.is_decided:
            continue
        if d.block_evaluation.status != BlockEvaluationStatus.SUBMITTED:
            problems.append(
                f"La grille du bloc {d.block.number} de {d.presentation.enrolment.candidate.full_name} a été rouverte."
            )
        elif proposals[d.pk].outcome != d.proposal_outcome:
            problems.append(
                f"La proposition du bloc {d.block.number} de {d.presentation.enrolment.candidate.full_name} a changé "
                "depuis la décision : enregistrez de nouveau les décisions."
            )
    registration = registration_problem(session)
    if registration:
        problems.append(registration)
    return problems


def decisions_fingerprint(session: JurySession, decisions: list[Decision]) -> str:
    """SHA-256 of a canonical JSON of the session and its decisions (printed on the minutes)."""
    payload = {
        "session": session.pk,
        "date": session.date.isoformat(),
        "certification": session.certification.rncp_code,
        "decisions": sorted(
            (
                {
                    "enrolment": d.presentation.enrolment_id,
                    "candidate": d.presentation.enrolment.candidate_id,
                    "block": d.block.number,
                    "grid_version": d.block_evaluation.grid.version,
                    "scale_version": d.block_evaluation.scale.version,
                    "proposal": d.proposal_outcome,
                    "outcome": d.outcome,
                    "departure_reason": d.departure_reason,
                }
                for d in decisions
            ),
            key=lambda item: (item["enrolment"], item["block"]),
        ),
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def next_certificate_number(certification, year: int) -> str:
    """Draw the next number of the year under a row lock: never twice, even under concurrent sign-offs.

    Must run inside the caller's transaction; the unique constraint on CertificationAward.number is the last guard.
    """
    CertificateSequence.objects.get_or_create(year=year)
    sequence = CertificateSequence.objects.select_for_update(of=("self",)).get(year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    prefix = certification.acronym or f"RNCP{certification.rncp_code}"
    return f"{prefix}-{year}-{sequence.last_number:04d}"


def _acquire_and_award(
    *, decision: Decision, session: JurySession, day, actor
) -> tuple[bool, CertificationAward | None]:
    """Add a validated block to the candidate's ledger (unless held) and award the certification if now complete.

    The candidate row must already be locked by the caller (serialises two sessions signing for one candidate).
    """
    candidate_id = decision.presentation.enrolment.candidate_id
    acquired = None
    acquisitions = AcquiredBlock.objects.filter(candidate_id=candidate_id, block=decision.block)
    # A block already held stays as it is; a withdrawn block is acquired again only by another decision than the one
    # it was withdrawn from, as the next link of the chain of acquisitions.
    if not acquisitions.held().exists() and not acquisitions.filter(jury_decision=decision).exists():
        acquired = AcquiredBlock.objects.create(
            candidate_id=candidate_id,
            block=decision.block,
            acquired_on=day,
            source=AcquiredBlockSource.JURY,
            jury_decision=decision,
            recorded_by=actor,
            replaces=acquisitions.filter(replaced_by__isnull=True).first(),
        )
        record_audit(
            actor=actor,
            action="acquired_block.from_jury",
            target=acquired,
            after={"block": decision.block.number, "acquired_on": day.isoformat(), "decision": decision.pk},
        )
    return acquired is not None, _award_if_complete(candidate_id=candidate_id, session=session, day=day, actor=actor)


def _award_if_complete(*, candidate_id: int, session: JurySession, day, actor) -> CertificationAward | None:
    certification = session.certification
    all_blocks = set(Block.objects.filter(certification=certification).values_list("pk", flat=True))
    held = set(AcquiredBlock.objects.held().filter(candidate_id=candidate_id).values_list("block_id", flat=True))
    if not all_blocks or not all_blocks <= held:
        return None
    awards = CertificationAward.objects.filter(candidate_id=candidate_id, certification=certification)
    if awards.in_force().exists():
        return None
    award = CertificationAward.objects.create(
        candidate_id=candidate_id,
        certification=certification,
        number=next_certificate_number(certification, day.year),
        awarded_on=day,
        jury_session=session,
        # After a withdrawal, the new certificate (with a new number) follows the withdrawn one.
        replaces=awards.filter(replaced_by__isnull=True).first(),
    )
    record_audit(
        actor=actor,
        action="certification.awarded",
        target=award,
        after={"number": award.number, "awarded_on": day.isoformat(), "session": session.pk},
    )
    return award


@dataclass
class SignOffResult:
    session: JurySession
    acquired: int
    awards: list[CertificationAward]


@transaction.atomic(durable=True)
def jury_session_sign_off(*, session: JurySession, signed_by) -> SignOffResult:
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
    refresh_recusals(session)
    problems = sign_off_problems(session)
    if problems:
        raise ValidationError(problems)

    decisions = list(
        Decision.objects.filter(presentation__session=session)
        .select_related("block", "block_evaluation__grid", "block_evaluation__scale", "presentation__enrolment")
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

    acquired_count, awards = 0, []
    for decision in decisions:
        if decision.outcome != DecisionOutcome.VALIDATED:
            continue
        acquired, award = _acquire_and_award(decision=decision, session=session, day=session.date, actor=signed_by)
        acquired_count += acquired
        if award:
            awards.append(award)
    record_audit(
        actor=signed_by,
        action="jury.signed_off",
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
def decision_rectify(*, decision: Decision, outcome: str, reason: str, signed_by) -> Rectification:
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
        AcquiredBlock.objects.filter(jury_decision=decision, withdrawn__isnull=False)
        .select_related("withdrawn__withdrawal")
        .first()
    )
    if withdrawn is not None:
        raise ValidationError(
            {
                "outcome": f"Le bloc {decision.block.number} que cette décision avait validé a été retiré au candidat "
                f"({withdrawn.withdrawal_act.reference}) : la décision ne se rectifie plus ; le bloc ne s'acquiert de "
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
        action="jury.decision_rectified",
        target=decision,
        before={"outcome": current},
        after={"outcome": outcome, "reason": rectification.reason, "rectification": rectification.pk},
    )
    documents_mark_rectified(rectification=rectification, actor=signed_by)
    if outcome == DecisionOutcome.VALIDATED:
        # Dated like the session's own decisions: the rectified decision is the jury's decision of that day.
        _acquire_and_award(decision=decision, session=session, day=session.date, actor=signed_by)
    return rectification


def president_pending_sessions(user):
    """The prepared sessions a president presides (home page)."""
    return (
        JurySession.objects.filter(members__user=user, members__is_president=True, status=JurySessionStatus.PREPARED)
        .annotate(
            candidate_count=Count("presentations", distinct=True),
            missing=Count("presentations__decisions", filter=Q(presentations__decisions__outcome=""), distinct=True),
        )
        .order_by("date", "pk")
    )
