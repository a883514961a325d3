"""Reads: what the pages, documents and services show or check, never a write."""

from candidates.models import Enrolment
from certif.models import Block, Grid
from certif.rules import BlockResult, block_outcome
from certif.text import counted, plural
from evaluation.models import BlockEvaluation, LevelEntry, evaluable_q


def cohort_enrolments(cohort):
    """The enrolments of a cohort, in name order, with what `can_be_evaluated` and the grid page read."""
    return (
        Enrolment.objects.filter(cohort=cohort)
        .select_related("candidate", "cohort__pathway")
        .order_by("candidate__birth_name", "candidate__first_name", "pk")
    )


def proposal(block_evaluation: BlockEvaluation, levels) -> BlockResult:
    """The proposed outcome of one candidate's row; `levels` = one code or "" per competence of the grid."""
    scale = block_evaluation.scale
    return block_outcome(
        levels=[level or None for level in levels],
        threshold=block_evaluation.block.threshold,
        validating_levels=scale.validating_codes,
        floor_label=scale.floor_label,
    )


def incomplete_grid_message(block: Block, grid: Grid) -> str:
    missing, defined = grid.missing_count, grid.defined_count
    if grid.surplus_count:
        surplus = grid.surplus_count
        return (
            f"Le bloc {block.number} a une grille qui compte {defined} compétences alors qu'il en déclare "
            f"{block.declared_competence_count} : retirez-en {surplus} (une grille compte exactement les "
            "compétences que le bloc déclare)."
        )
    return (
        f"Le bloc {block.number} a une grille incomplète : {missing} "
        f"{plural(missing, 'compétence manque', 'compétences manquent')} "
        f"({counted(defined, 'définie', 'définies')} sur {block.declared_competence_count})."
    )


def missing_cells(block_evaluation: BlockEvaluation) -> int:
    """How many cells of the evaluable candidates still lack a level."""
    candidates = Enrolment.objects.filter(cohort_id=block_evaluation.session.cohort_id).filter(evaluable_q()).count()
    competences = block_evaluation.grid.competences.count()
    filled = (
        LevelEntry.objects.filter(block_evaluation=block_evaluation)
        .exclude(level="")
        .filter(evaluable_q("enrolment__"))
        .count()
    )
    return candidates * competences - filled
