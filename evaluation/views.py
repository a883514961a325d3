import json
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape

from certif.audit import audit_trail
from certif.roles import is_staff_member
from certif.rules import Outcome
from certif.validation import show_errors
from evaluation import selectors, services
from evaluation.forms import ReopenForm, SessionOpenForm, cell_prefix, parse_cells
from evaluation.models import BlockEvaluation, EvaluationSession, LevelEntry
from evaluation.services import Conflict, InvalidGridData

OUTCOME_BADGES = {
    Outcome.VALIDATED: "text-bg-success",
    Outcome.NOT_VALIDATED: "text-bg-danger",
    Outcome.INCOMPLETE: "text-bg-secondary",
}


def _bad_request(message: str):
    return HttpResponseBadRequest(
        f"<!doctype html><html lang='fr'><meta charset='utf-8'><title>Requête refusée</title>"
        f"<h1>Requête refusée</h1><p>{escape(message)}</p><p>Rien n'a été enregistré.</p></html>"
    )


# — Sessions —


@permission_required("evaluation.view_evaluationsession", raise_exception=True)
def session_list(request):
    sessions = (
        EvaluationSession.objects.visible_to(request.user)
        .select_related("cohort", "opened_by")
        .prefetch_related(
            "evaluators",
            Prefetch(
                "block_evaluations",
                queryset=BlockEvaluation.objects.with_progress().select_related("block").order_by("block__number"),
            ),
        )
    )
    return render(request, "evaluation/session_list.html", {"sessions": sessions})


@permission_required("evaluation.add_evaluationsession", raise_exception=True)
def session_open(request):
    form = SessionOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.evaluation_session_open(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, f"Session d'évaluation ouverte pour « {session.cohort.name} ».")
            return redirect("evaluation:session_list")
    return render(
        request,
        "form_page.html",
        {
            "title": "Ouvrir une session d'évaluation",
            "form": form,
            "breadcrumb": [(reverse("evaluation:session_list"), "Évaluations")],
            "intro": "Une session ne s'ouvre que sur des blocs dont la grille est complète. Chaque grille garde la "
            "version du référentiel et de l'échelle en vigueur à l'ouverture.",
            "submit": "Ouvrir la session",
            "cancel_url": reverse("evaluation:session_list"),
        },
        status=400 if request.method == "POST" else 200,
    )


# — The grid of one block —


@dataclass
class Access:
    is_staff: bool
    is_evaluator: bool

    @property
    def can_enter(self) -> bool:
        return self.is_evaluator


def _block_evaluation(request, session_pk: int, number: int) -> tuple[BlockEvaluation, Access]:
    """The block evaluation, if the user may see it: staff, or one of the session's evaluators (else 403)."""
    block_evaluation = get_object_or_404(
        BlockEvaluation.objects.select_related(
            "block__certification", "grid", "scale", "session__cohort", "submitted_by"
        ).prefetch_related("scale__levels", "grid__competences"),
        session_id=session_pk,
        block__number=number,
    )
    access = Access(
        is_staff=is_staff_member(request.user),
        is_evaluator=block_evaluation.session.evaluators.filter(pk=request.user.pk).exists(),
    )
    if not (access.is_staff or access.is_evaluator):
        raise PermissionDenied("Vous n'êtes pas évaluateur de cette session.")
    return block_evaluation, access


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


def _render_grid(
    request,
    block_evaluation: BlockEvaluation,
    access: Access,
    *,
    typed: dict | None = None,
    conflicts: list[Conflict] = (),
    error: str = "",
    status: int = 200,
):
    """The grid page. `typed`: cells posted but not saved, shown as typed so that nothing is lost."""
    typed = typed or {}
    conflict_map = {conflict.cell.key: conflict.current for conflict in conflicts}
    competences = list(block_evaluation.grid.competences.all())
    scale = block_evaluation.scale
    enrolments = list(selectors.cohort_enrolments(block_evaluation.session.cohort_id))
    entries = {
        (entry.enrolment_id, entry.competence_id): entry
        for entry in LevelEntry.objects.filter(block_evaluation=block_evaluation).select_related("updated_by")
    }
    editable = access.can_enter and not block_evaluation.is_submitted and not block_evaluation.is_locked
    rows, filled = [], 0
    for enrolment in (e for e in enrolments if e.can_be_evaluated):
        cells = []
        for competence in competences:
            key = (enrolment.pk, competence.pk)
            entry, cell_input, conflict = entries.get(key), typed.get(key), conflict_map.get(key)
            stored_level, stored_comment = (entry.level, entry.comment) if entry else ("", "")
            if conflict is not None:
                # Keep what this person typed; the hidden version and shown values now match the stored ones,
                # so that saving again keeps the typed value, and choosing the other value saves nothing.
                cell = GridCell(
                    cell_prefix(*key), competence, cell_input.level, cell_input.comment, conflict.version,
                    conflict.level, conflict.comment, entry, conflict, True,
                )  # fmt: skip
            elif cell_input is not None:
                cell = GridCell(
                    cell_prefix(*key), competence, cell_input.level, cell_input.comment, cell_input.version,
                    cell_input.shown_level or "", cell_input.shown_comment or "", entry, None,
                    (cell_input.level, cell_input.comment) != (stored_level, stored_comment),
                )  # fmt: skip
            else:
                cell = GridCell(
                    cell_prefix(*key), competence, stored_level, stored_comment, entry.version if entry else 0,
                    stored_level, stored_comment, entry, None, False,
                )  # fmt: skip
            filled += bool(stored_level)
            cells.append(cell)
        result = selectors.proposal(block_evaluation, [cell.level for cell in cells])
        rows.append(
            {
                "enrolment": enrolment,
                "cells": cells,
                "result": result,
                "label": Outcome(result.outcome).label,
                "badge": OUTCOME_BADGES[result.outcome],
            }
        )
    threshold = block_evaluation.block.threshold
    context = {
        "be": block_evaluation,
        "session": block_evaluation.session,
        "bloc": block_evaluation.block,  # not "block": the {% block %} tag owns that name in templates
        "competences": competences,
        "levels": scale.ordered_levels,
        "rows": rows,
        "waiting": [e for e in enrolments if not e.can_be_evaluated],
        "access": access,
        "editable": editable,
        "conflicts": [(conflict, conflict_map[conflict.cell.key]) for conflict in conflicts],
        "unsaved_count": sum(cell.unsaved for row in rows for cell in row["cells"]),
        "error": error,
        "filled": filled,
        "total": len(rows) * len(competences),
        "rule": threshold.describe(scale.floor_label),
        "js_config": json.dumps(
            {
                "required": threshold.required,
                "outOf": threshold.out_of,
                "validating": sorted(scale.validating_codes),
                "floorLabel": scale.floor_label,
                "labels": {outcome.value: outcome.label for outcome in Outcome},
                "badges": {outcome.value: css for outcome, css in OUTCOME_BADGES.items()},
            }
        ),
        "grid_state": json.dumps(
            {
                f"{cell.prefix[2:]}": [cell.version, cell.shown_level, cell.shown_comment]
                for row in rows
                for cell in row["cells"]
            },
            separators=(",", ":"),
        ),
        "show_comments": bool(conflicts) or any(cell.comment for row in rows for cell in row["cells"]),
    }
    return render(request, "evaluation/grid.html", context, status=status)


@permission_required("evaluation.view_blockevaluation", raise_exception=True)
def grid(request, session_pk, number):
    block_evaluation, access = _block_evaluation(request, session_pk, number)
    if request.method != "POST":
        return _render_grid(request, block_evaluation, access)
    if not access.can_enter or not request.user.has_perm("evaluation.change_levelentry"):
        raise PermissionDenied("Seuls les évaluateurs de la session saisissent les niveaux.")
    cells = []
    try:
        cells = parse_cells(request.POST)
        result = services.block_evaluation_save(block_evaluation=block_evaluation, cells=cells, actor=request.user)
    except InvalidGridData as error:
        return _bad_request(str(error))
    except ValidationError as error:
        typed = {cell.key: cell for cell in cells}
        message = (
            " ".join(error.messages) + " Vos saisies sont restées affichées ci-dessous, elles ne sont pas enregistrées."
        )
        return _render_grid(request, block_evaluation, access, typed=typed, error=message, status=409)
    if result.conflicts:
        typed = {conflict.cell.key: conflict.cell for conflict in result.conflicts}
        return _render_grid(request, block_evaluation, access, typed=typed, conflicts=result.conflicts, status=409)
    saved = len(result.saved)
    messages.success(
        request,
        f"Grille enregistrée : {saved} cellule{'s' if saved > 1 else ''} modifiée{'s' if saved > 1 else ''}."
        if saved
        else "Grille enregistrée : aucune modification.",
    )
    if request.POST.get("action") == "submit":
        try:
            services.block_evaluation_submit(block_evaluation=block_evaluation, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Grille soumise : elle n'est plus modifiable par les formateurs.")
    return redirect("evaluation:grid", session_pk=session_pk, number=number)


@permission_required("evaluation.change_blockevaluation", raise_exception=True)
def grid_reopen(request, session_pk, number):
    block_evaluation, access = _block_evaluation(request, session_pk, number)
    grid_url = reverse("evaluation:grid", args=[session_pk, number])
    form = ReopenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.block_evaluation_reopen(
                block_evaluation=block_evaluation, reason=form.cleaned_data["reason"], actor=request.user
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, "Grille rouverte : ses évaluateurs peuvent de nouveau la modifier.")
            return redirect(grid_url)
    return render(
        request,
        "form_page.html",
        {
            "title": f"Rouvrir la grille du bloc {block_evaluation.block.number}",
            "form": form,
            "breadcrumb": [(reverse("evaluation:session_list"), "Évaluations"), (grid_url, "Grille")],
            "intro": f"{block_evaluation.session}. La grille redevient modifiable par ses évaluateurs ; "
            "le motif est conservé dans l'historique.",
            "submit": "Rouvrir la grille",
            "cancel_url": grid_url,
        },
        status=400 if request.method == "POST" else 200,
    )


@permission_required("evaluation.view_blockevaluation", raise_exception=True)
def cell_history(request, session_pk, number, enrolment_pk, competence_pk):
    block_evaluation, access = _block_evaluation(request, session_pk, number)
    entry = get_object_or_404(
        LevelEntry.objects.select_related("enrolment__candidate", "competence"),
        block_evaluation=block_evaluation,
        enrolment_id=enrolment_pk,
        competence_id=competence_pk,
    )
    return render(
        request,
        "evaluation/cell_history.html",
        {"be": block_evaluation, "entry": entry, "events": audit_trail(entry)},
    )
