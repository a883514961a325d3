"""Demo evaluation for `make run` (called by `seed_demo`): never in production.

The fiche lists fewer competences than blocks 2 to 4 declare (the full list is in the référentiel de
certification, which is not public); the demo completes those grids only with criteria that say plainly that they
are placeholders — in 2021, before the first evaluation of the demo's history (juries/demo.py). It then opens one
session on blocks 1 and 2 of the example successor fiche RNCP99901 for the demo trainer's current promotion
(formation continue 2026-2027, evaluated from November 2026 to January 2027), and fills part of the grids. Every write goes through the services, dated when it happened
(certif.demo.history_at), so each demo object has its audit trace.

Idempotent: placeholders are added only while a grid is incomplete; the session is found again by its promotion
and its blocks; cells already filled are left as they are.
"""

import datetime

from candidates.models import Cohort
from certif import services as referential
from certif.collation import french
from certif.demo import DEMO_FICHE, DEMO_SUCCESSOR, history_at
from certif.models import Block
from evaluation import selectors, services
from evaluation.models import BlockEvaluation, EvaluationSession

PLACEHOLDER = "[Démo] Critère complémentaire n°{n} (à remplacer par le référentiel de certification)"
GRIDS_COMPLETED_ON = datetime.date(2021, 6, 1)
DEMO_BLOCKS = (1, 2)
STARTS_ON, ENDS_ON = datetime.date(2026, 11, 9), datetime.date(2027, 1, 29)
OPENED_ON, FILLED_ON = datetime.date(2026, 11, 2), datetime.date(2026, 11, 27)
# Levels for the first candidates (one string per candidate, one letter per competence; "." = not yet entered).
DEMO_LEVELS = {
    1: ["ABCB", "CDDC", "BB.."],
    2: ["ABBCC", "CCDDC", "BBA.."],
}


def grids_complete(*, blocks, label: str, actor) -> int:
    """Complete the grids of `blocks` that define fewer competences than they declare, with criteria labelled
    `label` (a text with {n}, which says plainly that they are placeholders); returns how many were added.

    Shared by the demo and the tests' builders (tests/factories.py)."""
    added = 0
    for block in blocks.order_by("number").with_current_grid():
        for n in range(block.current_grid.defined_count + 1, block.declared_competence_count + 1):
            referential.competence_add(block=block, label=label.format(n=n), actor=actor)
            added += 1
    return added


def grid_cells(block_evaluation, rows) -> list[services.CellInput]:
    """The cells to enter on a grid: `rows` pairs an enrolment with its letters, one per competence in grid order
    (a single letter stands for the whole row; "." leaves a cell empty). Cells already entered are left alone."""
    competences = list(block_evaluation.grid.competences.order_by("position"))
    entered = set(block_evaluation.entries.values_list("enrolment_id", "competence_id"))
    cells = []
    for enrolment, letters in rows:
        letters = letters * len(competences) if len(letters) == 1 else letters
        for competence, letter in zip(competences, letters, strict=False):
            if letter != "." and (enrolment.pk, competence.pk) not in entered:
                cells.append(
                    services.CellInput(
                        enrolment_id=enrolment.pk, competence_id=competence.pk, level=letter, comment="", version=0
                    )
                )
    return cells


def complete_demo_grids(*, staff) -> int:
    """Complete the incomplete grids with plainly-labelled placeholders; returns how many criteria were added."""
    with history_at(GRIDS_COMPLETED_ON, 10):
        return grids_complete(
            blocks=Block.objects.filter(certification__rncp_code=DEMO_FICHE), label=PLACEHOLDER, actor=staff
        )


def create_demo_evaluation(*, staff, trainer) -> dict:
    """Open the demo session with partly filled grids on the demo trainer's latest promotion; creates nothing when
    the demo promotions are absent."""
    cohort = (
        Cohort.objects.filter(trainers=trainer, certification__rncp_code=DEMO_SUCCESSOR)
        .exclude(pathway__code="vae")
        .order_by("-start_date", french("name"))
        .first()
    )
    if cohort is None or not cohort.enrolments.exists():
        return {"sessions": 0, "created_sessions": 0, "placeholders": 0}
    placeholders = complete_demo_grids(staff=staff)
    blocks = list(Block.objects.filter(certification=cohort.certification, number__in=DEMO_BLOCKS).order_by("number"))
    session = (
        EvaluationSession.objects.filter(cohort=cohort, block_evaluations__block__number=DEMO_BLOCKS[0])
        .order_by("pk")
        .first()
    )
    created = 0
    if session is None:
        with history_at(OPENED_ON, 10):
            session = services.evaluation_session_open(
                cohort=cohort, blocks=blocks, evaluators=[trainer], starts_on=STARTS_ON, ends_on=ENDS_ON, actor=staff
            )
        created = 1
    enrolments = [enrolment for enrolment in selectors.cohort_enrolments(cohort) if enrolment.can_be_evaluated]
    for block_evaluation in BlockEvaluation.objects.filter(session=session).select_related(
        "block", "grid", "scale", "session"
    ):
        if block_evaluation.is_submitted or block_evaluation.is_locked:
            continue
        rows = zip(enrolments, DEMO_LEVELS.get(block_evaluation.block.number, []), strict=False)
        cells = grid_cells(block_evaluation, rows)
        if cells:
            with history_at(FILLED_ON, 17):
                services.block_evaluation_save(block_evaluation=block_evaluation, cells=cells, actor=trainer)
    return {"sessions": 1, "created_sessions": created, "placeholders": placeholders}
