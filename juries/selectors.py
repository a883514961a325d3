"""Reads of the juries' data that several rooms share (pages, documents, statistics, exports)."""

import datetime
import hashlib
import json
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, prefetch_related_objects
from django.utils.formats import date_format

from candidates.models import AcquiredBlock, Enrolment
from candidates.selectors import blocks_held_by_correspondence
from certif import clock
from certif.collation import french, person_order
from certif.text import counted
from evaluation.models import BlockEvaluation, BlockEvaluationStatus, LevelEntry
from evaluation.selectors import proposal
from juries.composition import Panel, composition_violations, deliberating_panel, panel_problem
from juries.models import (
    RECTIFICATION_ORDER,
    Decision,
    DecisionOutcome,
    JuryMember,
    JurySession,
    JurySessionStatus,
    Presentation,
    Rectification,
)

PLANNING_HORIZON_YEARS = 2  # a jury is not planned further ahead


def french_day(day) -> str:
    return date_format(day, "j F Y")


def composition_rule(session: JurySession):
    return getattr(session.certification, "jury_rule", None)


def _years_later(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


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


@dataclass
class Eligibility:
    enrolment: Enrolment
    examined: list  # [(block, block_evaluation)]
    reasons: list[str]
    notes: list[str]

    @property
    def eligible(self) -> bool:
        return not self.reasons and bool(self.examined)


@dataclass
class DateFacts:
    """What the session and sign-off pages say about the session's dates."""

    date: datetime.date
    registration: object | None  # the registration in force on that date
    registration_problem: str
    signable_from: datetime.date
    too_early: str
    date_rule: str


def latest_rectified_outcomes(decisions: QuerySet[Decision]) -> dict[int, str]:
    """{decision pk: its latest rectification's outcome}, for those of `decisions` that were rectified: one query
    over the rectifications, read once — not a subquery for every decision.

    "Latest" is the last in RECTIFICATION_ORDER, as `Decision.current_outcome` reads it in Python.
    """
    rectifications = (
        Rectification.objects.filter(decision__in=decisions.values("pk"))
        .order_by("decision_id", *RECTIFICATION_ORDER)
        .values_list("decision_id", "outcome")
    )
    return dict(rectifications)  # read in order: each decision keeps its latest


def session_violations(session: JurySession, members=None) -> list[str]:
    """How the session's titular members break the fiche's composition ([] when they respect it)."""
    rule = composition_rule(session)
    if rule is None:
        return ["La certification n'a pas de règle de composition des jurys."]
    members = list(session.members.all()) if members is None else members
    return composition_violations([member for member in members if not member.is_substitute], rule)


def presentation_panels(session: JurySession, members, presentations) -> dict[int, Panel]:
    """For each presentation, the members who deliberate on that candidate (recusals and substitutes applied).

    `members`: the session's members; `presentations`: with their `recusals` prefetched (no query here).
    """
    rule = composition_rule(session)
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


def deliberation_started(session: JurySession) -> bool:
    """The deliberation starts with the first decision the president records, on any candidate of the session
    (one removed since included): from then on the jury has judged with this composition and these candidates, and
    what staff removed is no longer restored."""
    return Decision.all_objects.filter(presentation__session=session).exclude(outcome="").exists()


def latest_plannable_date() -> datetime.date:
    return _years_later(clock.localdate(), PLANNING_HORIZON_YEARS)


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


def presentable_enrolments(session: JurySession) -> QuerySet[Enrolment]:
    """The enrolments the candidates page weighs: of the session's certification, not presented to it, in a cohort
    with an evaluation of one of its blocks still open (not yet judged by a jury).

    Chosen in SQL, so that the page reads the few cohorts being evaluated and not every enrolment ever made: a
    cohort with no open evaluation of these blocks has nobody who could be presented (« aucune évaluation », « déjà
    délibéré par un jury »), and so would only lengthen the list of those who cannot.
    """
    open_evaluations = BlockEvaluation.objects.filter(
        block__in=session.blocks.all(), locked_at__isnull=True, session__cohort__certification=session.certification
    )
    return (
        Enrolment.objects.filter(
            cohort__certification=session.certification, cohort_id__in=open_evaluations.values("session__cohort_id")
        )
        .exclude(pk__in=Presentation.objects.filter(session=session).values("enrolment_id"))
        .select_related("candidate", "cohort__pathway")
        .order_by(*person_order("candidate__"), "pk")
    )


def eligibilities(session: JurySession, enrolments=None) -> list[Eligibility]:
    """For each enrolment being evaluated (`presentable_enrolments`, or those given), can it be presented, and on
    which blocks.

    A block the candidate already holds is skipped; a block for which the candidate is already before an unsigned
    jury (this one through another enrolment, or another) makes them ineligible; every other block of the session
    needs a submitted grid (not yet judged by a jury) with a level for each of its competences for this candidate.
    Bounded queries.
    """
    blocks = list(session.blocks.order_by("number"))
    enrolments = list(presentable_enrolments(session) if enrolments is None else enrolments)
    cohort_ids = {e.cohort_id for e in enrolments}
    candidate_ids = {e.candidate_id for e in enrolments}
    held = set(
        AcquiredBlock.objects.held()
        .filter(candidate_id__in=candidate_ids, block__in=blocks)
        .values_list("candidate_id", "block_id")
    )
    # A block given by the correspondence table is held too: the jury of the new fiche does not examine it again.
    carried = {
        (candidate_id, block_id): held_block
        for candidate_id, by_block in blocks_held_by_correspondence(candidate_ids, session.certification).items()
        for block_id, held_block in by_block.items()
    }
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
            if (enrolment.candidate_id, block.pk) in carried:
                origins = ", ".join(origin.code for origin in carried[(enrolment.candidate_id, block.pk)].origins)
                notes.append(f"bloc {block.number} acquis par correspondance avec {origins}")
                continue
            if (enrolment.candidate_id, block.pk) in before_a_jury:
                day = before_a_jury[(enrolment.candidate_id, block.pk)]
                reasons.append(
                    f"déjà présenté au jury du {french_day(day)} pour le bloc {block.number}, non encore signé"
                )
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
                be = submitted[0]  # type: ignore[assignment]  # one of the rows annotated above (competence_count)
                if filled.get((be.pk, enrolment.pk), 0) < be.competence_count:
                    reasons.append(f"grille du bloc {block.number} incomplète pour ce candidat")
                else:
                    examined.append((block, be))
        if not reasons and not examined:
            reasons.append("tous les blocs de la session sont déjà acquis")
        results.append(Eligibility(enrolment=enrolment, examined=examined, reasons=reasons, notes=notes))
    return results


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


def registration_problem(session: JurySession) -> str:
    """Why no certificate can be issued on the jury's date ("" when it can): outside every registration of the
    fiche, or after France Compétences' last delivery date. Moving a jury to another fiche, or recording a
    registration, is a staff act: the message says so to whoever reads it, a president included."""
    certification = session.certification
    if certification.registration_on(session.date) is None:
        last = certification.registrations.order_by("-in_force_until").first()
        intro = f"La date du jury ({session.date:%d/%m/%Y}) est hors de toute période d'enregistrement au RNCP"
        if last is None or last.in_force_until >= session.date:
            return (
                f"{intro}. Un gestionnaire doit corriger la date du jury ou enregistrer la période qui la couvre "
                "avant la signature."
            )
        return (
            f"{intro} : l'enregistrement de la fiche {certification.rncp_label} a pris fin le "
            f"{french_day(last.in_force_until)}. {_move_to_successor(certification)}"
        )
    limit = certification.last_delivery_date
    if limit is not None and session.date > limit:
        return (
            f"La date du jury ({session.date:%d/%m/%Y}) est postérieure à la date limite de délivrance de la fiche "
            f"{certification.rncp_label}, le {french_day(limit)} : aucun jury de cette fiche ne signe après ce jour. "
            f"{_move_to_successor(certification)}"
        )
    return ""


def _move_to_successor(certification) -> str:
    successors = [code.strip().upper() for code in certification.next_rncp_codes or [] if code.strip()]
    if successors:
        return (
            f"Un gestionnaire doit rattacher le jury à la fiche qui lui succède ({' ou '.join(successors)}) : ses "
            "candidats y sont transférés et leurs blocs acquis comptent par correspondance."
        )
    return (
        "Un gestionnaire doit rattacher le jury à la fiche qui lui succède, une fois celle-ci installée : ses "
        "candidats y sont transférés et leurs blocs acquis comptent par correspondance."
    )


def too_early_problem(session: JurySession) -> str:
    """A session is signed on or after the day the jury sits, never before ("" when it can be signed today)."""
    today = clock.localdate()
    if today >= session.date:
        return ""
    return (
        f"Le jury siège le {french_day(session.date)} : sa session ne peut pas être signée avant ce jour "
        f"(nous sommes le {french_day(today)})."
    )


def session_date_facts(session: JurySession, *, presented: bool) -> DateFacts:
    if session.is_signed:
        rule = "Session signée : sa date ne change plus."
    elif presented:
        rule = (
            "Des candidats sont présentés : seul un gestionnaire peut encore déplacer la date, motif à l'appui "
            "(tracé dans le journal d'audit)."
        )
    else:
        rule = (
            f"Modifiable jusqu'à la présentation des candidats ; au plus tard le {french_day(latest_plannable_date())}."
        )
    return DateFacts(
        date=session.date,
        registration=session.certification.registration_on(session.date),
        registration_problem=registration_problem(session),
        signable_from=session.date,
        too_early="" if session.is_signed else too_early_problem(session),
        date_rule=rule,
    )


STAFF, PRESIDENT, TRAINER, NOBODY = "staff", "president", "trainer", "nobody"
WHO_ACTS = {
    STAFF: "À faire par un gestionnaire",
    PRESIDENT: "À faire par le président du jury",
    TRAINER: "À faire par le formateur de la grille",
    NOBODY: "Attendre le jour du jury",
}


@dataclass(frozen=True)
class SignOffBlocker:
    """Why the session cannot be signed now, who must act, and what they do."""

    problem: str
    who: str  # STAFF, PRESIDENT, TRAINER or NOBODY
    step: str

    @property
    def who_label(self) -> str:
        return WHO_ACTS[self.who]


def sign_off_blockers(session: JurySession, decisions=None) -> list[SignOffBlocker]:
    """Why the session cannot be signed now ([] when it can), each with who must do what. `decisions`: the
    session's decisions with their blocks, candidates and grids (read here when not given)."""
    blockers = []
    too_early = too_early_problem(session)
    if too_early:
        blockers.append(
            SignOffBlocker(too_early, NOBODY, f"la signature sera possible à partir du {french_day(session.date)}.")
        )
    members = list(session.members.all())
    violations = session_violations(session, members)
    if violations:
        blockers.append(
            SignOffBlocker(
                "La composition du jury ne respecte pas la fiche : " + " ".join(violations),
                STAFF,
                "composer le jury conformément à la fiche, sur la page de la session.",
            )
        )
    for problem in panel_problems(session, members).values():
        blockers.append(
            SignOffBlocker(problem, STAFF, "ajouter un suppléant de la même catégorie, sur la page de la session.")
        )
    if decisions is None:
        decisions = session_decisions(session)
    if not session.presentations.exists():
        blockers.append(
            SignOffBlocker(
                "Aucun candidat n'est présenté.", STAFF, "présenter les candidats, sur la page de la session."
            )
        )
    missing = [d for d in decisions if not d.is_decided]
    if missing:
        names = ", ".join(
            f"{d.presentation.enrolment.candidate.full_name} (bloc {d.block.number})" for d in missing[:5]
        )
        end = " …" if len(missing) > 5 else "."
        blockers.append(
            SignOffBlocker(
                f"{counted(len(missing), 'décision manque', 'décisions manquent')} : {names}{end}",
                PRESIDENT,
                "enregistrer ces décisions sur la page de délibération.",
            )
        )
    proposals = current_proposals([d for d in decisions if d.is_decided])
    for d in decisions:
        if not d.is_decided:
            continue
        if d.block_evaluation.status != BlockEvaluationStatus.SUBMITTED:
            blockers.append(
                SignOffBlocker(
                    f"La grille du bloc {d.block.number} de {d.presentation.enrolment.candidate.full_name} a été "
                    "rouverte.",
                    TRAINER,
                    "soumettre de nouveau la grille ; le président enregistre ensuite la décision.",
                )
            )
        elif proposals[d.pk].outcome != d.proposal_outcome:
            blockers.append(
                SignOffBlocker(
                    f"La proposition du bloc {d.block.number} de {d.presentation.enrolment.candidate.full_name} a "
                    "changé depuis la décision : enregistrez de nouveau les décisions.",
                    PRESIDENT,
                    "enregistrer de nouveau les décisions sur la page de délibération.",
                )
            )
    registration = registration_problem(session)
    if registration:
        blockers.append(
            SignOffBlocker(registration, STAFF, "régler la date ou la fiche du jury ; le président signe ensuite.")
        )
    return blockers


def session_decisions(session: JurySession) -> list[Decision]:
    """The decisions of the session's presented candidates, with what the sign-off checks and the recap shows."""
    return list(
        Decision.objects.filter(presentation__session=session)
        .select_related(
            "block",
            "presentation__enrolment__candidate",
            "block_evaluation__block",
            "block_evaluation__scale",
            "block_evaluation__grid",
        )
        .order_by(*person_order("presentation__enrolment__candidate__"), "presentation_id", "block__number")
    )


def sign_off_problems(session: JurySession) -> list[str]:
    """Why the session cannot be signed now ([] when it can). Read by the page and by the sign-off itself."""
    return [blocker.problem for blocker in sign_off_blockers(session)]


@dataclass
class RecapRow:
    """One candidate on the signature page: what the jury decided and what the signature gives them."""

    name: str
    validated: list[int]
    not_validated: list[int]
    undecided: list[int]
    certificate: bool = False
    already_certified: bool = False
    attestation: bool = False


@dataclass
class SignOffRecap:
    rows: list[RecapRow]

    @property
    def validated_blocks(self) -> int:
        return sum(len(row.validated) for row in self.rows)

    @property
    def certificates(self) -> int:
        return sum(row.certificate for row in self.rows)

    @property
    def attestations(self) -> int:
        return sum(row.attestation for row in self.rows)


def sign_off_recap(session: JurySession, decisions: list[Decision]) -> SignOffRecap:
    """What the signature would record with the decisions as they stand: per candidate the blocks validated and
    not, the certificate (every block of the fiche then held, directly or through the correspondence table, and no
    certificate in force) or else the attestation of the blocks held. Fixed number of queries."""
    from candidates.models import CertificationAward

    certification = session.certification
    by_candidate: dict[int, list[Decision]] = {}
    for decision in decisions:
        by_candidate.setdefault(decision.presentation.enrolment.candidate_id, []).append(decision)
    candidate_ids = list(by_candidate)
    all_blocks = set(certification.blocks.values_list("pk", flat=True))
    held: dict[int, set[int]] = {}
    for candidate_id, block_id in (
        AcquiredBlock.objects.held()
        .filter(candidate_id__in=candidate_ids, block__certification=certification)
        .values_list("candidate_id", "block_id")
    ):
        held.setdefault(candidate_id, set()).add(block_id)
    if certification.previous_rncp_codes and candidate_ids:
        for candidate_id, by_block in blocks_held_by_correspondence(candidate_ids, certification).items():
            held.setdefault(candidate_id, set()).update(by_block)
    certified = set(
        CertificationAward.objects.filter(candidate_id__in=candidate_ids, certification=certification)
        .in_force()
        .values_list("candidate_id", flat=True)
    )
    rows = []
    for candidate_id, items in by_candidate.items():
        row = RecapRow(
            name=items[0].presentation.enrolment.candidate.full_name,
            validated=[d.block.number for d in items if d.outcome == DecisionOutcome.VALIDATED],
            not_validated=[d.block.number for d in items if d.outcome == DecisionOutcome.NOT_VALIDATED],
            undecided=[d.block.number for d in items if not d.is_decided],
        )
        after = held.get(candidate_id, set()) | {d.block_id for d in items if d.outcome == DecisionOutcome.VALIDATED}
        if candidate_id in certified:
            row.already_certified = True
        elif all_blocks and all_blocks <= after:
            row.certificate = True
        elif after:
            row.attestation = True
        rows.append(row)
    return SignOffRecap(rows=rows)


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


def sessions_presided_by(user) -> QuerySet[JurySession]:
    """The sessions whose president is linked to this account."""
    return JurySession.objects.filter(members__user=user, members__is_president=True, members__removed_at__isnull=True)


# — The work a home page lists —


def grids_awaiting_a_jury() -> QuerySet[BlockEvaluation]:
    """Submitted grids that no jury has taken up yet (not locked by a signature, no candidate presented on them):
    staff present their candidates to a jury session. One query."""
    taken_up = Decision.objects.filter(block_evaluation=OuterRef("pk"))
    return (
        BlockEvaluation.objects.filter(status=BlockEvaluationStatus.SUBMITTED, locked_at__isnull=True)
        .filter(~Exists(taken_up))
        .select_related("block__certification", "session__cohort")
        .order_by("block__certification__rncp_code", french("session__cohort__name"), "session_id", "block__number")
    )


@dataclass
class SessionWork:
    """A prepared session as a home page reads it: its candidates, the decisions still to take, what its
    composition lacks, and where its day stands against today (a session signs on its jury day or after)."""

    session: JurySession
    candidate_count: int
    missing: int  # decisions not yet taken
    problems: list[str]  # the composition's, and « no candidate presented »
    today: datetime.date

    @property
    def is_due(self) -> bool:
        """The jury's day has come: today or past."""
        return self.session.date <= self.today

    @property
    def days_late(self) -> int:
        return max(0, (self.today - self.session.date).days)

    @property
    def to_deliberate(self) -> bool:
        return self.candidate_count > 0 and self.missing > 0

    @property
    def to_sign(self) -> bool:
        return self.candidate_count > 0 and self.missing == 0

    @property
    def decisions_text(self) -> str:
        if not self.candidate_count:
            return "aucun candidat présenté"
        candidates = counted(self.candidate_count, "candidat", "candidats")
        if self.missing:
            return f"{candidates}, {counted(self.missing, 'décision à prendre', 'décisions à prendre')}"
        return f"{candidates}, toutes les décisions prises"


def prepared_sessions_work(sessions: QuerySet[JurySession] | None = None) -> list[SessionWork]:
    """The prepared sessions (every one, or those of `sessions`), oldest jury first, as SessionWork. Two queries
    (the sessions with their counts, their members), whatever their number."""
    sessions = JurySession.objects.all() if sessions is None else sessions
    rows = (
        sessions.filter(status=JurySessionStatus.PREPARED)
        .select_related("certification__jury_rule")
        .prefetch_related("members")
        .annotate(
            candidate_count=Count("presentations", filter=Q(presentations__removed_at__isnull=True), distinct=True),
            missing=Count(
                "presentations__decisions",
                filter=Q(presentations__decisions__outcome="", presentations__removed_at__isnull=True),
                distinct=True,
            ),
        )
        .order_by("date", "pk")
    )
    today = clock.localdate()
    work = []
    for session in rows:
        problems = session_violations(session, list(session.members.all()))
        if not session.candidate_count:
            problems.append("Aucun candidat n'est présenté.")
        work.append(
            SessionWork(
                session=session,
                candidate_count=session.candidate_count,
                missing=session.missing,
                problems=problems,
                today=today,
            )
        )
    return work
