"""Small builders for test data, written through the same services the application uses."""

import datetime
import itertools

from candidates import services
from candidates.models import Cohort
from certif.models import AccessPathway, Block, Certification, PreparationPlace
from evaluation import services as evaluation
from evaluation.demo import grid_cells, grids_complete
from evaluation.models import BlockEvaluation
from juries import services as juries
from juries.demo import decisions_as_proposed, jury_compose

_sequence = itertools.count(1)


def candidate_fields(**overrides) -> dict:
    number = next(_sequence)
    fields = {
        "birth_name": f"Martin{number}",
        "first_name": "Camille",
        "sex": "F",
        "birth_date": datetime.date(1988, 5, 17),
        "birth_commune": "Saint-Étienne",
        "birth_insee_code": "42218",
        "birth_country": "France",
        "email": f"camille.martin{number}@example.org",
        "phone": "06 12 34 56 78",
        "employer_name": "Association Loire Solidarités",
        "employer_kind": "association",
        "job_title": "Chef de service",
    }
    fields.update(overrides)
    return fields


def make_candidate(actor, **overrides):
    return services.candidate_create(actor=actor, **candidate_fields(**overrides))


def make_cohort(
    actor, *, pathway_code="formation-continue", place_name="IRUP", trainers=(), name=None, rncp_code="16204"
):
    certification = Certification.objects.get(rncp_code=rncp_code)
    cohort = Cohort(
        certification=certification,
        name=name or f"Promotion {next(_sequence)}",
        pathway=AccessPathway.objects.get(certification=certification, code=pathway_code),
        preparation_place=PreparationPlace.objects.get(certification=certification, name__startswith=place_name),
        start_date=datetime.date(2025, 9, 1),
        end_date=datetime.date(2026, 6, 30),
    )
    return services.cohort_save(cohort=cohort, trainers=list(trainers), actor=actor)


# — Evaluations and juries: the demo's own builders (evaluation.demo, juries.demo), with test data —

JURY_DAY = datetime.date(2022, 6, 14)  # inside the 2018–2023 registration of the fiche
DEMO_PLACEHOLDER = "[Test] Critère complémentaire n°{n}"


def complete_grids(actor, numbers=(2, 3, 4), rncp_code="16204"):
    """Complete the grids the fiche leaves incomplete (blocks 2 to 4) with plainly-labelled test criteria."""
    blocks = Block.objects.filter(certification__rncp_code=rncp_code, number__in=numbers)
    grids_complete(blocks=blocks, label=DEMO_PLACEHOLDER, actor=actor)


def enrol_many(cohort, actor, count, **overrides):
    return [
        services.enrolment_create(candidate=make_candidate(actor, **overrides), cohort=cohort, actor=actor)
        for _ in range(count)
    ]


def fill_and_submit(block_evaluation, enrolments, trainer, codes):
    """Enter a level per competence for each enrolment, then submit the grid.

    `codes`: one letter for the whole row ("A" validates everything, "D" nothing), or a dict {enrolment pk: letter
    or row string}.
    """
    rows = [(enrolment, codes.get(enrolment.pk, "A") if isinstance(codes, dict) else codes) for enrolment in enrolments]
    evaluation.block_evaluation_save(
        block_evaluation=block_evaluation, cells=grid_cells(block_evaluation, rows), actor=trainer
    )
    evaluation.block_evaluation_submit(block_evaluation=block_evaluation, actor=trainer)


def evaluated_cohort(actor, trainer, *, numbers=(1, 2), count=3, codes="A", submit=True, name=None, rncp_code="16204"):
    """A cohort of `count` candidates evaluated on blocks `numbers`, grids filled and submitted.

    `codes`: a letter for every cell ("A"), or {block number: letter, or [one row string per candidate]}.
    Returns (cohort, enrolments, evaluation session).
    """
    complete_grids(actor, rncp_code=rncp_code)
    cohort = make_cohort(actor, trainers=[trainer], name=name, rncp_code=rncp_code)
    enrolments = enrol_many(cohort, actor, count)
    blocks = list(Block.objects.filter(certification__rncp_code=rncp_code, number__in=numbers).order_by("number"))
    session = evaluation.evaluation_session_open(
        cohort=cohort,
        blocks=blocks,
        evaluators=[trainer],
        starts_on=datetime.date(2022, 3, 1),
        ends_on=datetime.date(2022, 5, 31),
        actor=actor,
    )
    if submit:
        for block_evaluation in BlockEvaluation.objects.filter(session=session).select_related("grid", "block"):
            block_codes = codes.get(block_evaluation.block.number, "A") if isinstance(codes, dict) else codes
            if isinstance(block_codes, list):
                block_codes = {enrolment.pk: row for enrolment, row in zip(enrolments, block_codes, strict=True)}
            fill_and_submit(block_evaluation, enrolments, trainer, block_codes)
    return cohort, enrolments, session


VALID_MEMBERS = [
    ("Hélène Garnier", "Fondation Les Hauts du Pilat", "employer_professional", True),
    ("Marc Dumas", "Association Loire Insertion", "employee_professional", False),
    ("Anne Roche", "IRUP", "trainer", False),
    ("Paul Vernet", "IRUP", "trainer", False),
]


def make_jury(
    actor,
    president,
    *,
    numbers=(1, 2),
    day=JURY_DAY,
    members=VALID_MEMBERS,
    place="IRUP, Saint-Étienne",
    rncp_code="16204",
):
    """A jury session with a composition that respects the fiche (the president member is `president`)."""
    return jury_compose(
        certification=Certification.objects.get(rncp_code=rncp_code),
        day=day,
        place=place,
        numbers=numbers,
        members=members,
        president=president,
        actor=actor,
    )


def present_all(session, enrolments, actor):
    return [juries.presentation_add(session=session, enrolment=enrolment, actor=actor) for enrolment in enrolments]


def decide_all(session, president, overrides=None):
    """Record every decision as proposed, except `overrides` {decision pk: (outcome, reason)}."""
    return decisions_as_proposed(session, president=president, overrides=overrides)
