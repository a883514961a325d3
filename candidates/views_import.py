"""Bulk import of candidates (upload → preview → confirm) and export of the filtered candidate list. Staff only.

Between the preview and the confirmation the parsed rows wait in the session (never in a URL: they hold personal
data), under a one-time token that the confirmation form posts back.
"""

import secrets

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from candidates.exports import candidates_csv, candidates_xlsx
from candidates.filters import filtered_candidates
from candidates.imports import (
    COLUMNS,
    MAX_FILE_SIZE,
    CandidateImportError,
    ImportFileError,
    import_candidates,
    parse_file,
    validate_rows,
)
from candidates.models import Candidate, Cohort
from certif.text import plural_suffix
from certif.validation import InputRulesFormMixin

IMPORT_SESSION_KEY = "candidate_import"

staff_required = permission_required("candidates.add_candidate", raise_exception=True)


class CohortChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} — {obj.pathway.label} ({obj.certification.rncp_label})"


class ImportUploadForm(InputRulesFormMixin, forms.Form):
    file = forms.FileField(
        label="Fichier des candidats",
        help_text="Fichier CSV (séparateur « ; » ou « , ») ou classeur Excel .xlsx (première feuille) ; "
        "la première ligne porte les en-têtes de colonnes.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )
    cohort = CohortChoiceField(
        label="Inscrire les candidats importés dans la promotion",
        queryset=Cohort.objects.filter(pathway__is_open=True).select_related("certification", "pathway"),
        required=False,
        empty_label="Aucune : créer les candidats sans les inscrire",
        help_text="Facultatif. Seules les promotions d'une voie d'accès ouverte par la fiche RNCP sont proposées.",
    )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        name = uploaded.name.lower()
        if not name.endswith((".csv", ".txt", ".xlsx", ".xls")):
            raise ValidationError("Déposez un fichier CSV (.csv) ou un classeur Excel (.xlsx).")
        if uploaded.size > MAX_FILE_SIZE:
            raise ValidationError(f"Le fichier dépasse {MAX_FILE_SIZE // (1024 * 1024)} Mo.")
        try:
            self.parsed = parse_file(uploaded)
        except ImportFileError as error:
            raise ValidationError(error.messages) from error
        return uploaded


def _preview(request, *, candidates, issues, columns, ignored_columns, cohort, filename, token=None):
    return render(
        request,
        "candidates/import_preview.html",
        {
            "candidates": candidates,
            "issues": issues,
            "bad_rows": sorted({issue.row for issue in issues}),
            "columns": columns,
            "ignored_columns": ignored_columns,
            "cohort": cohort,
            "filename": filename,
            "token": token,
        },
    )


@staff_required
def import_upload(request):
    if request.method != "POST":
        return render(request, "candidates/import_upload.html", {"form": ImportUploadForm(), "import_columns": COLUMNS})
    form = ImportUploadForm(request.POST, request.FILES)
    # A new upload replaces whatever preview was pending: its confirmation button no longer works.
    request.session.pop(IMPORT_SESSION_KEY, None)
    if not form.is_valid():
        return render(request, "candidates/import_upload.html", {"form": form, "import_columns": COLUMNS})
    parsed = form.parsed
    cohort = form.cleaned_data["cohort"]
    candidates, issues = validate_rows(parsed.rows, parsed.columns)
    token = None if issues else _keep_pending(request, parsed, cohort, form.cleaned_data["file"].name)
    return _preview(
        request,
        candidates=candidates,
        issues=issues,
        columns=parsed.columns,
        ignored_columns=parsed.ignored_columns,
        cohort=cohort,
        filename=form.cleaned_data["file"].name,
        token=token,
    )


def _keep_pending(request, parsed, cohort, filename: str) -> str:
    """Keep a valid file's rows in the session until its confirmation; the token the confirmation posts back."""
    token = secrets.token_urlsafe(16)
    request.session[IMPORT_SESSION_KEY] = {
        "token": token,
        "rows": parsed.rows,
        "columns": parsed.columns,
        "cohort": cohort.pk if cohort else None,
        "filename": filename,
    }
    return token


def _refused_preview(request, pending, cohort, error: CandidateImportError):
    """The preview again, with what the confirmation found wrong; nothing was written."""
    return _preview(
        request,
        candidates=[],
        issues=error.issues,
        columns=pending["columns"],
        ignored_columns=[],
        cohort=cohort,
        filename=pending["filename"],
    )


def _imported_message(count: int, cohort) -> str:
    message = f"{count} candidat{plural_suffix(count)} importé{plural_suffix(count)}"
    if cohort:
        message += f" et inscrit{plural_suffix(count)} dans la promotion « {cohort.name} »"
    return message + "."


@staff_required
@require_POST
def import_confirm(request):
    pending = request.session.get(IMPORT_SESSION_KEY)
    if not pending or not secrets.compare_digest(str(pending.get("token")), request.POST.get("token", "")):
        messages.error(request, "Aucun import n'attend de confirmation : déposez à nouveau le fichier.")
        return redirect("candidates:import_upload")
    cohort = (
        Cohort.objects.select_related("pathway").filter(pk=pending["cohort"]).first() if pending["cohort"] else None
    )
    if pending["cohort"] and cohort is None:
        request.session.pop(IMPORT_SESSION_KEY, None)
        messages.error(request, "La promotion choisie n'existe plus : aucun candidat n'a été importé.")
        return redirect("candidates:import_upload")
    try:
        created = import_candidates(rows=pending["rows"], cohort=cohort, actor=request.user, columns=pending["columns"])
    except CandidateImportError as error:
        # Someone created one of these candidates since the preview, say: show why, write nothing.
        request.session.pop(IMPORT_SESSION_KEY, None)
        return _refused_preview(request, pending, cohort, error)
    except ValidationError as error:
        request.session.pop(IMPORT_SESSION_KEY, None)
        messages.error(request, "Aucun candidat n'a été importé : " + " ".join(error.messages))
        return redirect("candidates:import_upload")
    request.session.pop(IMPORT_SESSION_KEY, None)
    messages.success(request, _imported_message(len(created), cohort))
    return redirect("candidates:list")


def _export_response(content: bytes, *, content_type: str, extension: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="candidats-{timezone.localdate():%Y-%m-%d}.{extension}"'
    response["Cache-Control"] = "no-store"  # personal data: no copy in a shared cache
    return response


def _exported_candidates(request):
    _form, queryset = filtered_candidates(request, Candidate.objects.visible_to(request.user))
    return queryset


@staff_required
@require_safe
def export_csv(request):
    return _export_response(
        candidates_csv(_exported_candidates(request)), content_type="text/csv; charset=utf-8", extension="csv"
    )


@staff_required
@require_safe
def export_xlsx(request):
    return _export_response(
        candidates_xlsx(_exported_candidates(request)),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        extension="xlsx",
    )
