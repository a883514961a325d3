"""Demo juries for `make run` (called by `seed_demo`): never in production.

A history told through the services, every step dated when it happened (the services' clock moved back by
`certif.demo.history_at`, see certif.clock), each with its audit trace; all names fictitious. Both registrations of
RNCP 16204 ended on 17 April 2023: its juries sit inside the 2018–2023 one, and the later ones are juries of its
successor, the example fiche RNCP99901 (in force from 20 December 2024), which the demo installs with a
correspondence table (certif/demo.py) and never with an invented registration.

- « MPES 2021-2023 — Saint-Étienne, apprentissage » (RNCP 16204, enrolled in September 2021). Blocks 1 and 2
  evaluated from March to May 2022; jury of 14 June 2022, signed that evening. Its one departure from a proposal is
  on a borderline case (2 competences of 4 at level C or better, 3 required), with the reason a jury writes. Sylvie
  Rochette, employer and tutor of Thomas Giraud, does not deliberate on him: the substitute Nadine Peyrard, also a
  salaried professional, takes her seat. Yanis Haddad leaves the promotion in September 2022 (he enrols again in
  2026; his blocks stay his). Blocks 3 and 4 evaluated from September 2022 to February 2023; jury of 21 March 2023,
  signed that evening: three apprentices then hold the four blocks and are awarded the certification, the others
  hold some (attestations). The enrolments end with the promotion, on 30 June 2023.
- « MPES 2022-2023 — Fort-de-France, contrat de professionnalisation » (RNCP 16204, enrolled in January 2022). The
  four blocks evaluated from January to March 2023; jury of 4 April 2023, signed that evening. Laetitia Célestin
  holds blocks 1 and 2 from 2021 and is examined on blocks 3 and 4; Joël Sainte-Luce does not deliberate on the
  candidate his mutual employs, and the substitute Rose-Marie Jean-Joseph replaces him.
- « MPES 2025 — Saint-Étienne, apprentissage, fin de parcours » (RNCP99901). Three apprentices of 2021-2023 who lacked one
  block are transferred to the successor in January 2025, keeping their history: through the correspondence table
  they hold the new blocks their old ones give, and are evaluated from February to May 2025 on the others (block 3,
  new, for all). Jury of 17 June 2025, signed that evening: all three are awarded RNCP99901, Sarah Nguyen with three
  of its four blocks carried over from RNCP 16204.
- « VAE 2026 — Saint-Étienne » (RNCP99901). The candidates whose admissibility was favourable are evaluated from
  October to November 2026; jury of 26 November 2026 composed and its candidates presented, ready to deliberate:
  the demo president deliberates and signs it today, under a fiche in force. Valérie Besson holds the new block 1
  through her old block 2 (jury of 2019) and Karine Mercier the new block 4 through her old block 4.

Then `documents.demo` asks the background worker for every document of the signed sessions (called by
`seed_demo` right after this module).

Idempotent: each evaluation session and jury session is found again (promotion and blocks; place), grids already
submitted and decisions already taken are left as they are.
"""

import datetime

from candidates import services as candidate_services
from candidates.demo import LEAVES_AFTER_FIRST_JURY
from candidates.models import Cohort, Enrolment, EnrolmentStatus
from candidates.services_transfers import enrolments_transfer
from certif.collation import person_order
from certif.demo import DEMO_FICHE, DEMO_SUCCESSOR, history_at
from certif.models import Block, Certification
from evaluation import selectors as evaluation_selectors
from evaluation import services as evaluation
from evaluation.demo import complete_demo_grids, grid_cells
from evaluation.models import BlockEvaluation, EvaluationSession
from juries import selectors, services
from juries.models import Decision, DecisionOutcome, JuryMember, JurySession, MemberCategory

D = datetime.date
EMPLOYER, EMPLOYEE, TRAINER = MemberCategory.EMPLOYER, MemberCategory.EMPLOYEE, MemberCategory.TRAINER

SIGNED_PLACE = "IRUP, Campus Industriel, Saint-Étienne — salle du conseil"
SECOND_PLACE = "IRUP, Campus Industriel, Saint-Étienne — amphithéâtre Copernic"
MARTINIQUE_PLACE = "GRETA de la Martinique / GIP-FCIP, Fort-de-France"
RESUMED_PLACE = SIGNED_PLACE
READY_PLACE = "IRUP, Campus Industriel, Saint-Étienne — salle Jean Monnet"
SIGNED_DAY = D(2022, 6, 14)
SECOND_DAY = D(2023, 3, 21)
MARTINIQUE_DAY = D(2023, 4, 4)
RESUMED_DAY = D(2025, 6, 17)
READY_DAY = D(2026, 11, 26)
# Apprentices of 2021-2023 who lacked one block when the registration ended: transferred to the successor.
TRANSFERRED = ("Giraud", "Nguyen", "Poncet")
TRANSFERRED_ON = D(2025, 1, 20)

OVERRIDE_CANDIDATE = "Guillot"  # block 1: 2 competences of 4 at C or better on the grid, 3 required
OVERRIDE_BLOCK = 1
OVERRIDE_REASON = (
    "Compétence « une activité économiquement pérenne au service de l'utilité sociale » démontrée lors de "
    "l'entretien avec le jury : le candidat a présenté et argumenté le plan de financement sur trois ans de son "
    "projet, qui manquait au dossier évalué. Le jury la retient : 3 compétences sur 4 au niveau C ou mieux."
)

# (name, organisation, category, president, substitute)
SIGNED_MEMBERS = [
    ("Hélène Garnier", "Fondation Les Hauts du Pilat", EMPLOYER, True, False),
    ("Sylvie Rochette", "Association Loire Insertion Jeunesse", EMPLOYEE, False, False),
    ("Bernard Poyet", "IRUP", TRAINER, False, False),
    ("Isabelle Faure-Brac", "IRUP", TRAINER, False, False),
    ("Nadine Peyrard", "Union régionale des Scop Auvergne-Rhône-Alpes", EMPLOYEE, False, True),
]
MARTINIQUE_MEMBERS = [
    ("Hélène Garnier", "Fondation Les Hauts du Pilat", EMPLOYER, True, False),
    ("Joël Sainte-Luce", "Mutuelle Entraide Caraïbe", EMPLOYEE, False, False),
    ("Marie-Josée Théodore", "GRETA de la Martinique", TRAINER, False, False),
    ("Frantz Lubin", "GRETA de la Martinique", TRAINER, False, False),
    ("Rose-Marie Jean-Joseph", "Fédération des œuvres laïques de la Martinique", EMPLOYEE, False, True),
]

# Levels by birth name and block, one letter per competence (blocks of 4, 9, 7 and 9 competences; C or better
# validates; 3 of 4, 7 of 9, 5 of 7 and 7 of 9 required). A row that falls short is marked in the comment.
B1 = ("ABCB", "BACA", "ABBC", "CBAB")
B2 = ("ABCBABCBA", "BBACCBADB", "ACBBDCBAC", "BACDBCABB")
B3 = ("ABCBACB", "BCADBCA", "ACBBCDA")
B4 = ("ABCBABCBA", "BACBDACBB", "CBABCADBA")
SHORT = {1: "CDDD", 2: "CDBDDCADB", 3: "CDDBDCD", 4: "BDCDDADCD"}  # 1 of 4, 5 of 9, 3 of 7, 4 of 9
APPRENTICE_LEVELS = {
    "Barbier": {1: B1[0], 2: B2[0], 3: B3[0], 4: B4[0]},
    "Ferrand": {1: B1[1], 2: SHORT[2], 3: B3[1], 4: B4[1]},
    "Giraud": {1: B1[2], 2: B2[1], 3: B3[2], 4: SHORT[4]},
    "Guillot": {1: "ABDD", 2: B2[2], 3: B3[0], 4: B4[2]},  # block 1 borderline: the jury's one departure
    "Haddad": {1: B1[3], 2: B2[3]},
    "Nguyen": {1: B1[0], 2: B2[1], 3: SHORT[3], 4: B4[0]},
    "Poncet": {1: SHORT[1], 2: B2[0], 3: B3[1], 4: B4[1]},
    "Santini": {1: B1[1], 2: B2[2], 3: B3[2], 4: B4[2]},
}
MARTINIQUE_LEVELS = {
    "Augustin": {1: B1[0], 2: B2[0], 3: B3[0], 4: B4[0]},
    "Bellance": {1: B1[1], 2: B2[1], 3: SHORT[3], 4: B4[1]},
    "Célestin": {1: B1[2], 2: B2[2], 3: B3[1], 4: B4[2]},
    "Désiré": {1: B1[3], 2: B2[3], 3: B3[2], 4: B4[0]},
    "Éloi": {1: B1[0], 2: B2[1], 3: B3[0], 4: B4[1]},
    "Lapierre": {1: B1[1], 2: SHORT[2], 3: B3[1], 4: B4[2]},
    "Médard": {1: B1[2], 2: B2[0], 3: B3[2], 4: B4[0]},
    "Marie-Luce": {1: B1[3], 2: B2[2], 3: B3[0], 4: SHORT[4]},
}
# RNCP99901: blocks of 4, 5, 6 and 6 competences; 3 of 4, 80 % (4 of 5), 5 of 6 and 5 of 6 required.
N1 = ("ABCB", "BACC", "CBAB")
N2 = ("ABCBA", "BACCB", "CBBAC")
N3 = ("ABCBAC", "BACCBA", "CBACBB")
N4 = ("ABCBAB", "BACCBB", "CABBCA")
NEW_SHORT = {1: "CDDB", 2: "CDBDC", 3: "CDBDDA", 4: "BDCDAD"}  # 2 of 4, 3 of 5, 3 of 6, 3 of 6
# Every row of a grid is filled, a block held already included: the jury only decides on the others.
RESUMED_LEVELS = {
    "Giraud": {2: N2[0], 3: N3[0], 4: N4[1]},
    "Nguyen": {2: N2[1], 3: N3[1], 4: N4[0]},
    "Poncet": {2: N2[2], 3: N3[2], 4: N4[2]},
}
VAE_LEVELS = {
    "Morel": {1: N1[0], 2: N2[0], 3: N3[0], 4: N4[0]},
    "Lacroix": {1: N1[1], 2: N2[1], 3: NEW_SHORT[3], 4: N4[1]},
    "Mercier": {1: N1[2], 2: N2[2], 3: N3[1], 4: N4[2]},
    "El Amrani": {1: N1[0], 2: N2[1], 3: N3[2], 4: N4[0]},
    "Durand": {1: N1[1], 2: NEW_SHORT[2], 3: N3[0], 4: N4[1]},
}


def _evaluated(cohort, numbers, *, levels, opened_on, starts_on, ends_on, staff, trainer):
    """An evaluation session of the cohort on those blocks, grids filled and submitted (found again if present)."""
    blocks = list(Block.objects.filter(certification=cohort.certification, number__in=numbers).order_by("number"))
    session = (
        EvaluationSession.objects.filter(cohort=cohort, block_evaluations__block__number=numbers[0])
        .order_by("pk")
        .first()
    )
    if session is None:
        with history_at(opened_on, 10):
            session = evaluation.evaluation_session_open(
                cohort=cohort, blocks=blocks, evaluators=[trainer], starts_on=starts_on, ends_on=ends_on, actor=staff
            )
    enrolments = [e for e in evaluation_selectors.cohort_enrolments(cohort) if e.can_be_evaluated]
    for be in BlockEvaluation.objects.filter(session=session).select_related("grid", "block", "scale"):
        if be.is_submitted or be.is_locked:
            continue
        cells = grid_cells(be, [(e, levels[e.candidate.birth_name][be.block.number]) for e in enrolments])
        with history_at(ends_on - datetime.timedelta(days=7), 17):
            if cells:
                evaluation.block_evaluation_save(block_evaluation=be, cells=cells, actor=trainer)
        with history_at(ends_on, 17, 30):
            evaluation.block_evaluation_submit(block_evaluation=be, actor=trainer)
    return session


def _jury(certification, *, place, day, numbers, members, staff, president, cohort, composed_on, presented_on):
    """A jury session, composed, with the cohort's eligible candidates presented (found again by place and day)."""
    session = JurySession.objects.filter(certification=certification, place=place, date=day).order_by("pk").first()
    if session is not None:
        return session
    with history_at(composed_on, 10):
        session = jury_compose(
            certification=certification,
            day=day,
            place=place,
            numbers=numbers,
            members=members,
            president=president,
            actor=staff,
        )
    with history_at(presented_on, 9, 30):
        for item in selectors.eligibilities(session):
            if item.eligible and item.enrolment.cohort_id == cohort.pk:
                services.presentation_add(session=session, enrolment=item.enrolment, actor=staff)
    return session


def jury_compose(*, certification, day, place, numbers, members, president, actor) -> JurySession:
    """A jury session on blocks `numbers` with its members: (name, organisation, category, is president[, is
    substitute]); the president member is the account `president`. Shared by the demo and tests/factories.py."""
    session = services.jury_session_create(
        certification=certification,
        date=day,
        place=place,
        blocks=Block.objects.filter(certification=certification, number__in=numbers),
        actor=actor,
    )
    for name, organisation, category, is_president, *substitute in members:
        services.jury_member_save(
            member=JuryMember(
                session=session,
                name=name,
                organisation=organisation,
                category=category,
                is_president=is_president,
                is_substitute=bool(substitute and substitute[0]),
                user=president if is_president else None,
            ),
            actor=actor,
        )
    return session


def decisions_as_proposed(session, *, president, overrides=None):
    """Record every decision of the session as proposed, except `overrides` {decision pk: (outcome, reason)}."""
    overrides = overrides or {}
    entries = [
        services.DecisionInput(
            decision_id=decision.pk,
            outcome=overrides.get(decision.pk, (decision.proposal_outcome, ""))[0],
            reason=overrides.get(decision.pk, (None, ""))[1],
        )
        for decision in Decision.objects.filter(presentation__session=session).order_by("pk")
    ]
    return services.decisions_record(session=session, entries=entries, actor=president)


def _deliberate_and_sign(session, *, president, override=None, decided_at=(16, 15), signed_at=(17, 40)):
    """The president records the decisions (the proposals, but `override`: (birth name, block, reason)) in the
    afternoon of the jury's day and signs that evening."""
    if session.is_signed or not session.presentations.exists():
        return
    overrides = {}
    if override:
        birth_name, number, reason = override
        decision = Decision.objects.get(
            presentation__session=session,
            presentation__enrolment__candidate__birth_name=birth_name,
            block__number=number,
        )
        overrides[decision.pk] = (DecisionOutcome.VALIDATED, reason)
    with history_at(session.date, *decided_at):
        decisions_as_proposed(session, president=president, overrides=overrides)
    with history_at(session.date, *signed_at):
        services.jury_session_sign_off(session=session, signed_by=president)


def _end_enrolments(cohort, *, on, staff):
    """The enrolments still in progress end with the promotion (« parcours terminé »)."""
    with history_at(on, 18):
        for enrolment in Enrolment.objects.filter(cohort=cohort, status=EnrolmentStatus.IN_PROGRESS):
            candidate_services.enrolment_update(
                enrolment=enrolment,
                actor=staff,
                status=EnrolmentStatus.COMPLETED,
                tutor_name=enrolment.tutor_name,
                vae_accompanist=enrolment.vae_accompanist,
            )


def _leave(cohort, birth_name_first_name, *, on, staff):
    birth_name, first_name = birth_name_first_name
    enrolment = Enrolment.objects.filter(
        cohort=cohort, candidate__birth_name=birth_name, candidate__first_name=first_name
    ).first()
    if enrolment is None or enrolment.status != EnrolmentStatus.IN_PROGRESS:
        return
    with history_at(on, 10):
        candidate_services.enrolment_update(
            enrolment=enrolment,
            actor=staff,
            status=EnrolmentStatus.WITHDRAWN,
            tutor_name=enrolment.tutor_name,
            vae_accompanist=enrolment.vae_accompanist,
        )


def _transfer(source, target, birth_names, *, on, staff):
    """Enrol the candidates of `source` named in `birth_names` in `target`, on the successor fiche (once)."""
    done = set(Enrolment.objects.filter(cohort=target).values_list("candidate_id", flat=True))
    enrolments = [
        enrolment
        for enrolment in Enrolment.objects.filter(cohort=source, candidate__birth_name__in=birth_names)
        .select_related("candidate")
        .order_by(*person_order("candidate__"))
        if enrolment.candidate_id not in done
    ]
    if enrolments:
        with history_at(on, 10):
            enrolments_transfer(enrolments=enrolments, cohort=target, actor=staff)


def create_demo_juries(*, staff, trainer, president) -> dict:
    certification = Certification.objects.get(rncp_code=DEMO_FICHE)
    cohorts = {c.pathway.code: c for c in Cohort.objects.filter(certification=certification).select_related("pathway")}
    apprentices, martinique = cohorts.get("apprentissage"), cohorts.get("professionnalisation")
    if apprentices is None or martinique is None or not apprentices.enrolments.exists():
        return {"signed": [], "signed_sessions": [], "ready": None}
    complete_demo_grids(staff=staff)

    # 2021-2023 apprenticeship: blocks 1 and 2, jury of 14 June 2022.
    _evaluated(
        apprentices,
        (1, 2),
        levels=APPRENTICE_LEVELS,
        opened_on=D(2022, 2, 21),
        starts_on=D(2022, 3, 1),
        ends_on=D(2022, 5, 31),
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
        cohort=apprentices,
        composed_on=D(2022, 4, 11),
        presented_on=D(2022, 6, 7),
    )
    _deliberate_and_sign(signed, president=president, override=(OVERRIDE_CANDIDATE, OVERRIDE_BLOCK, OVERRIDE_REASON))
    _leave(apprentices, LEAVES_AFTER_FIRST_JURY, on=D(2022, 9, 16), staff=staff)

    # Blocks 3 and 4, jury of 21 March 2023.
    _evaluated(
        apprentices,
        (3, 4),
        levels=APPRENTICE_LEVELS,
        opened_on=D(2022, 8, 29),
        starts_on=D(2022, 9, 5),
        ends_on=D(2023, 2, 28),
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
        composed_on=D(2023, 1, 16),
        presented_on=D(2023, 3, 13),
    )
    _deliberate_and_sign(second, president=president, decided_at=(16, 5), signed_at=(17, 25))
    _end_enrolments(apprentices, on=apprentices.end_date, staff=staff)

    # 2022-2023 Fort-de-France: the four blocks, jury of 4 April 2023.
    _evaluated(
        martinique,
        (1, 2, 3, 4),
        levels=MARTINIQUE_LEVELS,
        opened_on=D(2022, 12, 19),
        starts_on=D(2023, 1, 9),
        ends_on=D(2023, 3, 17),
        staff=staff,
        trainer=trainer,
    )
    third = _jury(
        certification,
        place=MARTINIQUE_PLACE,
        day=MARTINIQUE_DAY,
        numbers=(1, 2, 3, 4),
        members=MARTINIQUE_MEMBERS,
        staff=staff,
        president=president,
        cohort=martinique,
        composed_on=D(2023, 2, 6),
        presented_on=D(2023, 3, 27),
    )
    _deliberate_and_sign(third, president=president, decided_at=(15, 50), signed_at=(18, 5))
    _end_enrolments(martinique, on=martinique.end_date, staff=staff)
    sessions = [signed, second, third]

    successor = Certification.objects.filter(rncp_code=DEMO_SUCCESSOR).first()
    new_cohorts = {c.name: c for c in Cohort.objects.filter(certification=successor)} if successor else {}
    resumed = next((c for name, c in new_cohorts.items() if "fin de parcours" in name), None)
    vae = next((c for c in new_cohorts.values() if c.pathway.code == "vae"), None)
    ready = None
    if successor is not None and resumed is not None:
        # 2025: three apprentices finish under the successor, their old blocks carried over.
        _transfer(apprentices, resumed, TRANSFERRED, on=TRANSFERRED_ON, staff=staff)
        _evaluated(
            resumed,
            (2, 3, 4),
            levels=RESUMED_LEVELS,
            opened_on=D(2025, 1, 27),
            starts_on=D(2025, 2, 3),
            ends_on=D(2025, 5, 30),
            staff=staff,
            trainer=trainer,
        )
        fourth = _jury(
            successor,
            place=RESUMED_PLACE,
            day=RESUMED_DAY,
            numbers=(2, 3, 4),
            members=SIGNED_MEMBERS,
            staff=staff,
            president=president,
            cohort=resumed,
            composed_on=D(2025, 4, 14),
            presented_on=D(2025, 6, 10),
        )
        _deliberate_and_sign(fourth, president=president, decided_at=(16, 20), signed_at=(17, 35))
        _end_enrolments(resumed, on=resumed.end_date, staff=staff)
        sessions.append(fourth)
    if successor is not None and vae is not None:
        # VAE 2026: the four blocks of the successor, jury of 26 November 2026, ready to deliberate.
        _evaluated(
            vae,
            (1, 2, 3, 4),
            levels=VAE_LEVELS,
            opened_on=D(2026, 9, 30),
            starts_on=D(2026, 10, 5),
            ends_on=D(2026, 11, 13),
            staff=staff,
            trainer=trainer,
        )
        ready = _jury(
            successor,
            place=READY_PLACE,
            day=READY_DAY,
            numbers=(1, 2, 3, 4),
            members=SIGNED_MEMBERS,
            staff=staff,
            president=president,
            cohort=vae,
            composed_on=D(2026, 10, 5),
            presented_on=D(2026, 11, 19),
        )
        ready.refresh_from_db()

    for session in sessions:
        session.refresh_from_db()
    signed_sessions = [session for session in sessions if session.is_signed]
    return {
        "signed": [session.date for session in signed_sessions],
        "signed_sessions": signed_sessions,
        "ready": None if ready is None or ready.is_signed else ready.date,
    }
