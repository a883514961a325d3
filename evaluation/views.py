from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape

from certif.audit import audit_trail
from certif.audit_display import describe_events
from certif.collation import french
from certif.permissions import may
from certif.selectors import certification_filter
from certif.sorting import SortColumn, TableSort
from certif.text import plural_suffix
from certif.validation import apply_service, refusal_text
from certif.views_helpers import apply_service_message, form_page, require
from evaluation import services
from evaluation.forms import ReopenForm, SessionOpenForm, parse_cells
from evaluation.models import BlockEvaluation, EvaluationSession, LevelEntry
from evaluation.selectors import grid_page
from evaluation.services import InvalidGridData


def _bad_request(message: str):
    return HttpResponseBadRequest(
        f"<!doctype html><html lang='fr'><meta charset='utf-8'><title>Requête refusée</title>"
        f"<h1>Requête refusée</h1><p>{escape(message)}</p><p>Rien n'a été enregistré.</p></html>"
    )


# — Sessions —

SESSION_COLUMNS = (
    SortColumn("promotion", "Promotion", (french("cohort__name"),)),
    SortColumn("certification", "Certification", ("cohort__certification__rncp_code",)),
    SortColumn("dates", "Dates", ("starts_on", "ends_on")),
)


@permission_required("evaluation.view_evaluationsession", raise_exception=True)
def session_list(request):
    certification, certifications = certification_filter(request)
    sort = TableSort(request, SESSION_COLUMNS, default="-dates", tie_break=("-pk",))  # newest first, as before
    sessions = sort.order_by(
        EvaluationSession.objects.visible_to(request.user)
        .select_related("cohort__certification", "opened_by")
        .prefetch_related(
            "evaluators",
            Prefetch(
                "block_evaluations",
                queryset=BlockEvaluation.objects.with_progress().select_related("block").order_by("block__number"),
            ),
        )
    )
    if certification is not None:
        sessions = sessions.filter(cohort__certification=certification)
    return render(
        request,
        "evaluation/session_list.html",
        {"sessions": sessions, "certification": certification, "certifications": certifications, "sort": sort},
    )


@permission_required("evaluation.add_evaluationsession", raise_exception=True)
def session_open(request):
    form = SessionOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done, session = apply_service(
            form, lambda: services.evaluation_session_open(actor=request.user, **form.cleaned_data)
        )
        if done:
            messages.success(request, f"Session d'évaluation ouverte pour « {session.cohort.name} ».")
            return redirect("evaluation:session_list")
    return form_page(
        request,
        title="Ouvrir une session d'évaluation",
        form=form,
        breadcrumb=[(reverse("evaluation:session_list"), "Évaluations")],
        intro="Une session ne s'ouvre que sur des blocs dont la grille est complète. Chaque grille garde la "
        "version du référentiel et de l'échelle en vigueur à l'ouverture.",
        submit="Ouvrir la session",
        cancel_url=reverse("evaluation:session_list"),
    )


# — The grid of one block —


def _block_evaluation(request, session_pk: int, number: int) -> BlockEvaluation:
    """The block evaluation, if the user may see it: staff, or one of the session's evaluators (else 403)."""
    block_evaluation = get_object_or_404(
        BlockEvaluation.objects.select_related(
            "block__certification", "grid", "scale", "session__cohort", "submitted_by"
        ).prefetch_related("scale__levels", "grid__competences", "session__evaluators"),
        session_id=session_pk,
        block__number=number,
    )
    require(request.user, "evaluation.see_blockevaluation", block_evaluation)
    return block_evaluation


def _grid_page(request, block_evaluation, *, status=200, **shown):
    context = grid_page(
        block_evaluation, may_enter=may(request.user, "evaluation.enter_levels", block_evaluation), **shown
    )
    return render(request, "evaluation/grid.html", context, status=status)


def _grid_saved_message(saved: int) -> str:
    if not saved:
        return "Grille enregistrée : aucune modification."
    plural = plural_suffix(saved)
    return f"Grille enregistrée : {saved} cellule{plural} modifiée{plural}."


@permission_required("evaluation.view_blockevaluation", raise_exception=True)
def grid(request, session_pk, number):
    block_evaluation = _block_evaluation(request, session_pk, number)
    if request.method != "POST":
        return _grid_page(request, block_evaluation)
    require(request.user, "evaluation.enter_levels", block_evaluation)
    cells = []
    try:
        cells = parse_cells(request.POST)
        result = services.block_evaluation_save(block_evaluation=block_evaluation, cells=cells, actor=request.user)
    except InvalidGridData as error:
        return _bad_request(str(error))
    except ValidationError as error:
        message = (
            refusal_text(error) + " Vos saisies sont restées affichées ci-dessous, elles ne sont pas enregistrées."
        )
        return _grid_page(
            request, block_evaluation, typed={cell.key: cell for cell in cells}, error=message, status=409
        )
    if result.conflicts:
        typed = {conflict.cell.key: conflict.cell for conflict in result.conflicts}
        return _grid_page(request, block_evaluation, typed=typed, conflicts=result.conflicts, status=409)
    messages.success(request, _grid_saved_message(len(result.saved)))
    if request.POST.get("action") == "submit":
        done, _ = apply_service_message(
            request, lambda: services.block_evaluation_submit(block_evaluation=block_evaluation, actor=request.user)
        )
        if done:
            messages.success(request, "Grille soumise : elle n'est plus modifiable par les formateurs.")
    return redirect("evaluation:grid", session_pk=session_pk, number=number)


@permission_required("evaluation.change_blockevaluation", raise_exception=True)
def grid_reopen(request, session_pk, number):
    block_evaluation = _block_evaluation(request, session_pk, number)
    grid_url = reverse("evaluation:grid", args=[session_pk, number])
    form = ReopenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done, _ = apply_service(
            form,
            lambda: services.block_evaluation_reopen(
                block_evaluation=block_evaluation, reason=form.cleaned_data["reason"], actor=request.user
            ),
        )
        if done:
            messages.success(request, "Grille rouverte : ses évaluateurs peuvent de nouveau la modifier.")
            return redirect(grid_url)
    return form_page(
        request,
        title=f"Rouvrir la grille du bloc {block_evaluation.block.number}",
        form=form,
        breadcrumb=[(reverse("evaluation:session_list"), "Évaluations"), (grid_url, "Grille")],
        intro=f"{block_evaluation.session}. La grille redevient modifiable par ses évaluateurs ; "
        "le motif est conservé dans l'historique.",
        submit="Rouvrir la grille",
        cancel_url=grid_url,
        confirm={
            "title": f"Rouvrir la grille du bloc {block_evaluation.block.number} ?",
            "body": "La grille redevient modifiable par ses évaluateurs : elle ne peut plus être présentée au jury, "
            "ni ses décisions enregistrées, tant qu'elle n'est pas soumise de nouveau.",
            "action": "Rouvrir la grille",
        },
    )


@permission_required("evaluation.view_blockevaluation", raise_exception=True)
def cell_history(request, session_pk, number, enrolment_pk, competence_pk):
    block_evaluation = _block_evaluation(request, session_pk, number)
    entry = get_object_or_404(
        LevelEntry.objects.select_related("enrolment__candidate", "competence"),
        block_evaluation=block_evaluation,
        enrolment_id=enrolment_pk,
        competence_id=competence_pk,
    )
    return render(
        request,
        "evaluation/cell_history.html",
        {"be": block_evaluation, "entry": entry, "events": describe_events(audit_trail(entry))},
    )
