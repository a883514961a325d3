"""Reads: what the pages, documents and services show or check, never a write."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import CharField, DateTimeField, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from candidates.models import Enrolment
from certif.badges import OUTCOME_BADGES
from certif.collation import person_order
from certif.models import AuditAction, AuditEvent, Block, Grid
from certif.rules import BlockResult, Outcome, block_outcome
from certif.text import counted, plural
from evaluation.models import BlockEvaluation, LevelEntry, evaluable_q

if TYPE_CHECKING:  # the services read these selectors: the type only, to keep the import one way
    from evaluation.services import Conflict


def cell_prefix(enrolment_id: int, competence_id: int) -> str:
    """The name prefix of one cell's fields on the grid page."""
    return f"c-{enrolment_id}-{competence_id}"


def cohort_enrolments(cohort):
    """The enrolments of a cohort, in name order, with what `can_be_evaluated` and the grid page read."""
    return (
        Enrolment.objects.filter(cohort=cohort)
        .select_related("candidate", "cohort__pathway")
        .order_by(*person_order("candidate__"), "pk")
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


def _latest_reopening(column) -> Subquery:
    """The latest « grid reopened » trace of the annotated grid: one of its columns."""
    traces = AuditEvent.objects.filter(
        action=AuditAction.EVALUATION_REOPENED,
        target_type__app_label="evaluation",
        target_type__model="blockevaluation",
        target_id=Cast(OuterRef("pk"), CharField()),
    ).order_by("-occurred_at", "-pk")
    if column == "reason":
        return Subquery(traces.annotate(reason=KT("after__reason")).values("reason")[:1], output_field=CharField())
    return Subquery(traces.values("occurred_at")[:1], output_field=DateTimeField())


def trainer_grids(user) -> QuerySet[BlockEvaluation]:
    """The grids a jury has not signed yet in the sessions a trainer evaluates in, newest session first, with their
    progress (`with_progress`) and, for a grid staff gave back, when and why (`reopened_at`, `reopened_reason`; None
    for a grid never reopened). One query, whatever the number of grids."""
    return (
        BlockEvaluation.objects.filter(session__evaluators=user, locked_at__isnull=True)
        .with_progress()
        .annotate(reopened_at=_latest_reopening("occurred_at"), reopened_reason=_latest_reopening("reason"))
        .select_related("block__certification", "session__cohort")
        .order_by("-session__starts_on", "session_id", "block__number")
    )


@dataclass
class TrainerTasks:
    """The trainer's grids sorted by what is left to do on them. A grid staff reopened since its last submission is
    « given back » (whether cells remain or not); a draft grid with cells left is « to fill »; a draft grid whose every
    cell is filled is « to submit »."""

    given_back: list[BlockEvaluation]
    to_fill: list[BlockEvaluation]
    to_submit: list[BlockEvaluation]
    open_grids: list[BlockEvaluation]  # every grid not signed yet, submitted ones included

    @property
    def cells_left(self) -> int:
        return sum(be.total_cells - _filled(be) for be in self.to_fill)

    @property
    def count(self) -> int:
        return len(self.given_back) + len(self.to_fill) + len(self.to_submit)


def _filled(block_evaluation: BlockEvaluation) -> int:
    """The `filled_cells` annotation of trainer_grids."""
    return block_evaluation.filled_cells  # type: ignore[attr-defined]


def _reopened(block_evaluation: BlockEvaluation) -> bool:
    """From the `reopened_at` annotation of trainer_grids."""
    return block_evaluation.reopened_at is not None  # type: ignore[attr-defined]


def trainer_tasks(user) -> TrainerTasks:
    grids = list(trainer_grids(user))
    open_drafts = [be for be in grids if not be.is_submitted and be.total_cells]
    given_back = [be for be in open_drafts if _reopened(be)]
    others = [be for be in open_drafts if not _reopened(be)]
    return TrainerTasks(
        given_back=given_back,
        to_fill=[be for be in others if _filled(be) < be.total_cells],
        to_submit=[be for be in others if _filled(be) >= be.total_cells],
        open_grids=grids,
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


@dataclass
class GridCell:
    prefix: str
    competence: object
    level: str
    comment: str
    version: int
    shown_level: str
    shown_comment: str
    entry: LevelEntry | None
    conflict: LevelEntry | None
    unsaved: bool
    history_url: str = ""
    level_options: str = ""  # the <option>s of its select, this cell's level selected (LevelOptions)


class LevelOptions:
    """The <option>s of a cell's level select, built once per level for the whole grid: every cell offers the same
    scale, only the selected option differs (270 cells would otherwise loop over the scale in the template)."""

    def __init__(self, levels):
        self.levels = list(levels)
        self._built: dict[str, str] = {}

    def __call__(self, selected: str) -> str:
        if selected not in self._built:
            options = [format_html('<option value=""{}>—</option>', mark_safe(" selected") if not selected else "")]
            options.extend(
                format_html(
                    '<option value="{}"{}>{}{}</option>',
                    level.code,
                    mark_safe(" selected") if level.code == selected else "",
                    level.code,
                    f" — {level.label}" if level.label != level.code else "",
                )
                for level in self.levels
            )
            self._built[selected] = mark_safe("".join(options))
        return self._built[selected]


def _grid_cell(key, competence, entry, cell_input, conflict) -> GridCell:
    """One cell: what was typed and refused (kept as typed so that nothing is lost), else what is stored."""
    stored_level, stored_comment = (entry.level, entry.comment) if entry else ("", "")
    if conflict is not None:
        # Keep what this person typed; the hidden version and shown values now match the stored ones,
        # so that saving again keeps the typed value, and choosing the other value saves nothing.
        return GridCell(
            cell_prefix(*key), competence, cell_input.level, cell_input.comment, conflict.version,
            conflict.level, conflict.comment, entry, conflict, True,
        )  # fmt: skip
    if cell_input is not None:
        return GridCell(
            cell_prefix(*key), competence, cell_input.level, cell_input.comment, cell_input.version,
            cell_input.shown_level or "", cell_input.shown_comment or "", entry, None,
            (cell_input.level, cell_input.comment) != (stored_level, stored_comment),
        )  # fmt: skip
    return GridCell(
        cell_prefix(*key), competence, stored_level, stored_comment, entry.version if entry else 0,
        stored_level, stored_comment, entry, None, False,
    )  # fmt: skip


def _grid_rows(block_evaluation, enrolments, competences, typed, conflict_map) -> list[dict]:
    """One row per evaluable candidate: their cells and the outcome the application proposes."""
    entries = {
        (entry.enrolment_id, entry.competence_id): entry
        for entry in LevelEntry.objects.filter(block_evaluation=block_evaluation).select_related("updated_by")
    }
    # One reversal for the page: each cell's history link only appends its two ids.
    history_base = reverse(
        "evaluation:cell_history",
        args=[block_evaluation.session_id, block_evaluation.block.number, 0, 0],
    ).removesuffix("0/0/")
    level_options = LevelOptions(block_evaluation.scale.ordered_levels)
    rows = []
    for enrolment in (e for e in enrolments if e.can_be_evaluated):
        cells = []
        for competence in competences:
            key = (enrolment.pk, competence.pk)
            cell = _grid_cell(key, competence, entries.get(key), typed.get(key), conflict_map.get(key))
            cell.history_url = f"{history_base}{enrolment.pk}/{competence.pk}/"
            cell.level_options = level_options(cell.level)
            cells.append(cell)
        result = proposal(block_evaluation, [cell.level for cell in cells])
        rows.append(
            {
                "enrolment": enrolment,
                "cells": cells,
                "result": result,
                "label": Outcome(result.outcome).label,
                "badge": OUTCOME_BADGES[Outcome(result.outcome)],
            }
        )
    return rows


def _grid_script_config(block_evaluation: BlockEvaluation) -> str:
    """What the page's script needs to recompute a proposal as levels are chosen."""
    threshold, scale = block_evaluation.block.threshold, block_evaluation.scale
    return json.dumps(
        {
            "required": threshold.required,
            "outOf": threshold.out_of,
            "validating": sorted(scale.validating_codes),
            "floorLabel": scale.floor_label,
            "labels": {outcome.value: outcome.label for outcome in Outcome},
            "badges": {outcome.value: css for outcome, css in OUTCOME_BADGES.items()},
        }
    )


def grid_page(
    block_evaluation: BlockEvaluation,
    *,
    may_enter: bool,
    typed: dict | None = None,
    conflicts: "Sequence[Conflict]" = (),
    error: str = "",
) -> dict:
    """The grid page's context. `typed`: cells posted but not saved, shown as typed."""
    typed = typed or {}
    conflict_map = {conflict.cell.key: conflict.current for conflict in conflicts}
    competences = list(block_evaluation.grid.competences.all())
    scale = block_evaluation.scale
    enrolments = list(cohort_enrolments(block_evaluation.session.cohort_id))
    rows = _grid_rows(block_evaluation, enrolments, competences, typed, conflict_map)
    cells = [cell for row in rows for cell in row["cells"]]
    return {
        "be": block_evaluation,
        "session": block_evaluation.session,
        "bloc": block_evaluation.block,  # not "block": the {% block %} tag owns that name in templates
        "competences": competences,
        "levels": scale.ordered_levels,
        "rows": rows,
        "waiting": [e for e in enrolments if not e.can_be_evaluated],
        "editable": may_enter and not block_evaluation.is_submitted and not block_evaluation.is_locked,
        "conflicts": [(conflict, conflict_map[conflict.cell.key]) for conflict in conflicts],
        "unsaved_count": sum(cell.unsaved for cell in cells),
        "error": error,
        # What the page shows, typed but unsaved levels included: the script counts the same way as levels change.
        "filled": sum(bool(cell.level) for cell in cells),
        "level_codes": [level.code for level in scale.ordered_levels],
        "total": len(rows) * len(competences),
        "rule": block_evaluation.block.threshold.describe(scale.floor_label),
        "js_config": _grid_script_config(block_evaluation),
        "grid_state": json.dumps(
            {f"{cell.prefix[2:]}": [cell.version, cell.shown_level, cell.shown_comment] for cell in cells},
            separators=(",", ":"),
        ),
        "show_comments": bool(conflicts) or any(cell.comment for cell in cells),
    }
