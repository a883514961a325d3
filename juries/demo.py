"""Demo juries for `make run` (called last by `seed_demo`): never in production.

Two sessions, every write through the services (each with its audit trace), all names fictitious:
- a session signed off on 14 June 2022 — inside the 2018–2023 registration of the fiche — for the Saint-Étienne
  apprenticeship promotion, evaluated on blocks 1 and 2 in spring 2022 (one decision departs from the proposal,
  with its reason; one member does not deliberate on the candidate whose tutor they are);
- a session signed off on 21 March 2023 — still inside that registration — for the same promotion on blocks 3 and
  4, evaluated from September 2022: the candidate whose block 1 or 2 the first jury validated against the proposal
  now holds the four blocks and is awarded the certification; the others hold some blocks (attestations);
- a session dated today for the Fort-de-France promotion on blocks 3 and 4, composed and with its candidates
  presented, ready to deliberate. It cannot be signed: both registrations of the fiche have ended, and the demo
  does not invent a renewal — the sign-off page says so until staff record one.

Then every document of the signed sessions (minutes, results statements, attestations, certificate) is asked
of the background worker (`db_worker`, started by `make run`), once.

Idempotent: each evaluation session and jury session is found again (promotion and blocks; place), grids already
submitted and decisions already taken are left as they are; documents already issued or already asked for are not
asked for again.
"""

import datetime

from django.utils import timezone

from candidates.models import Cohort
from certif.models import Block, Certification
from evaluation import services as evaluation
from evaluation.models import BlockEvaluation, EvaluationSession
from juries import services
from juries.documents import session_slots
from juries.models import BatchStatus, Decision, JuryMember, JurySession, MemberCategory
from juries.services_documents import batch_request

SIGNED_PLACE = "IRUP, Campus Industriel, Saint-Étienne — salle du conseil"
READY_PLACE = "GRETA de la Martinique / GIP-FCIP, Fort-de-France"
SIGNED_DAY = datetime.date(2022, 6, 14)
SECOND_PLACE = "IRUP, Campus Industriel, Saint-Étienne — amphithéâtre Copernic"
SECOND_DAY = datetime.date(2023, 3, 21)
OVERRIDE_REASON = (
    "Compétence « une activité économiquement pérenne » démontrée lors de l'entretien avec le jury "
    "(plan de financement présenté et argumenté)."
)

SIGNED_MEMBERS = [
    ("Hélène Garnier", "Fondation Les Hauts du Pilat", MemberCategory.EMPLOYER, True),
    ("Sylvie Rochette", "Association Loire Insertion Jeunesse", MemberCategory.EMPLOYEE, False),
    ("Bernard Poyet", "IRUP", MemberCategory.TRAINER, False),
    ("Isabelle Faure-Brac", "IRUP", MemberCategory.TRAINER, False),
]
READY_MEMBERS = [
    ("Hélène Garnier", "Fondation Les Hauts du Pilat", MemberCategory.EMPLOYER, True),
    ("Joël Sainte-Luce", "Mutuelle Entraide Caraïbe", MemberCategory.EMPLOYEE, False),
    ("Marie-Josée Théodore", "GRETA de la Martinique", MemberCategory.TRAINER, False),
    ("Frantz Lubin", "GRETA de la Martinique", MemberCategory.TRAINER, False),
]


def _row(index: int, number: int, size: int) -> str:
    """Deterministic levels: about one row in four falls short of the threshold."""
    if (index + number) % 4 == 0:
        return ("CDDD" * 3)[:size]
    return ("ABCB" * 3)[:size]


def _evaluated(cohort, numbers, *, starts_on, ends_on, staff, trainer):
    """An evaluation session of the cohort on those blocks, grids filled and submitted (found again if present)."""
    blocks = list(Block.objects.filter(certification=cohort.certification, number__in=numbers).order_by("number"))
    session = (
        EvaluationSession.objects.filter(cohort=cohort, block_evaluations__block__number=numbers[0])
        .order_by("pk")
        .first()
    )
    if session is None:
        session = evaluation.evaluation_session_open(
            cohort=cohort, blocks=blocks, evaluators=[trainer], starts_on=starts_on, ends_on=ends_on, actor=staff
        )
    enrolments = [e for e in evaluation.cohort_enrolments(cohort) if e.can_be_evaluated]
    for be in BlockEvaluation.objects.filter(session=session).select_related("grid", "block", "scale"):
        if be.is_submitted or be.is_locked:
            continue
        competences = list(be.grid.competences.order_by("position"))
        cells = [
            evaluation.CellInput(enrolment_id=e.pk, competence_id=c.pk, level=level, comment="", version=0)
            for index, e in enumerate(enrolments)
            for c, level in zip(competences, _row(index, be.block.number, len(competences)), strict=True)
        ]
        existing = set(be.entries.values_list("enrolment_id", "competence_id"))
        cells = [cell for cell in cells if cell.key not in existing]
        if cells:
            evaluation.block_evaluation_save(block_evaluation=be, cells=cells, actor=trainer)
        evaluation.block_evaluation_submit(block_evaluation=be, actor=trainer)
    return session


def _jury(certification, *, place, day, numbers, members, staff, president, cohort=None):
    session = JurySession.objects.filter(certification=certification, place=place).order_by("pk").first()
    if session is None:
        session = services.jury_session_create(
            certification=certification,
            date=day,
            place=place,
            blocks=Block.objects.filter(certification=certification, number__in=numbers),
            actor=staff,
        )
        for name, organisation, category, is_president in members:
            services.jury_member_save(
                member=JuryMember(
                    session=session,
                    name=name,
                    organisation=organisation,
                    category=category,
                    is_president=is_president,
                    user=president if is_president else None,
                ),
                actor=staff,
            )
        for item in services.eligibilities(session):
            if item.eligible and (cohort is None or item.enrolment.cohort_id == cohort.pk):
                services.presentation_add(session=session, enrolment=item.enrolment, actor=staff)
    return session


def create_demo_juries(*, staff, trainer, president) -> dict:
    certification = Certification.objects.get(rncp_code="16204")
    cohorts = {c.pathway.code: c for c in Cohort.objects.filter(certification=certification).select_related("pathway")}
    apprentices, martinique = cohorts.get("apprentissage"), cohorts.get("professionnalisation")
    if apprentices is None or martinique is None or not apprentices.enrolments.exists():
        return {"signed": 0, "ready": 0}

    _evaluated(
        apprentices,
        (1, 2),
        starts_on=datetime.date(2022, 3, 1),
        ends_on=datetime.date(2022, 5, 31),
        staff=staff,
        trainer=trainer,
    )
    signed = _jury(
        certification,
        place=SIGNED_PLACE,
        day=SIGNED_DAY,
        numbers=(1, 2),
        members=SIGNED_MEMBERS,
        staff=staff,
        president=president,
    )
    if not signed.is_signed:
        decisions = list(Decision.objects.filter(presentation__session=signed).order_by("pk"))
        override = next((d for d in decisions if d.proposal_outcome == "not_validated"), None)
        entries = [
            services.DecisionInput(
                decision_id=d.pk,
                outcome="validated" if d == override else d.proposal_outcome,
                reason=OVERRIDE_REASON if d == override else "",
            )
            for d in decisions
        ]
        services.decisions_record(session=signed, entries=entries, actor=president)
        services.jury_session_sign_off(session=signed, signed_by=president)

    _evaluated(
        apprentices,
        (3, 4),
        starts_on=datetime.date(2022, 9, 5),
        ends_on=datetime.date(2023, 2, 28),
        staff=staff,
        trainer=trainer,
    )
    second = _jury(
        certification,
        place=SECOND_PLACE,
        day=SECOND_DAY,
        numbers=(3, 4),
        members=SIGNED_MEMBERS,
        staff=staff,
        president=president,
        cohort=apprentices,
    )
    if not second.is_signed and second.presentations.exists():
        decisions = Decision.objects.filter(presentation__session=second).order_by("pk")
        entries = [services.DecisionInput(decision_id=d.pk, outcome=d.proposal_outcome, reason="") for d in decisions]
        services.decisions_record(session=second, entries=entries, actor=president)
        services.jury_session_sign_off(session=second, signed_by=president)

    _evaluated(
        martinique,
        (3, 4),
        starts_on=datetime.date(2026, 5, 4),
        ends_on=datetime.date(2026, 6, 12),
        staff=staff,
        trainer=trainer,
    )
    _jury(
        certification,
        place=READY_PLACE,
        day=timezone.localdate(),
        numbers=(3, 4),
        members=READY_MEMBERS,
        staff=staff,
        president=president,
    )
    signed.refresh_from_db()
    second.refresh_from_db()
    batches = sum(_ask_documents(session, staff) for session in (signed, second) if session.is_signed)
    return {"signed": 2 if second.is_signed else 1, "ready": 1, "document_batches": batches}


def _ask_documents(session: JurySession, staff) -> int:
    """Ask the worker for the session's documents, unless all are issued or a batch is already on its way."""
    if all(slot.current is not None for slot in session_slots(session)):
        return 0
    if session.document_batches.filter(status__in=[BatchStatus.PENDING, BatchStatus.RUNNING]).exists():
        return 0
    batch_request(session=session, actor=staff)
    return 1
