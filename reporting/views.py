"""The statistics dashboard and its exports (staff only): figures computed by `reporting.statistics`."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from certif import jobs
from certif.models import AccessPathway, JobKind
from certif.selectors import certification_filter
from certif.text import french_number
from certif.validation import InputRulesFormMixin
from certif.views_helpers import rule_required
from reporting import statistics
from reporting.jobs import export_file_name, export_parameters

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


class PathwayChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.label if obj.is_open else f"{obj.label} (fermée par la fiche)"


class StatisticsFilterForm(InputRulesFormMixin, forms.Form):
    year = forms.TypedChoiceField(
        label="Année (date du jury)",
        required=False,
        coerce=int,
        empty_value=None,
        help_text="Pour les certifiés : l'année de délivrance ; pour les blocs en attente : la situation au 31 décembre.",
    )
    pathway = PathwayChoiceField(
        label="Voie d'accès", queryset=AccessPathway.objects.none(), required=False, empty_label="Toutes les voies"
    )

    def __init__(self, *args, certification, years, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", "Toutes les années"), *((year, str(year)) for year in years)]
        self.fields["year"].error_messages["invalid_choice"] = "Aucune session de jury signée cette année-là."
        self.fields["pathway"].queryset = AccessPathway.objects.filter(certification=certification).order_by("position")
        self.fields["pathway"].error_messages["invalid_choice"] = "Voie d'accès inconnue."

    def filters(self) -> statistics.Filters:
        if not self.is_valid():
            return statistics.Filters()
        return statistics.Filters(year=self.cleaned_data["year"], pathway=self.cleaned_data["pathway"])


def _form(request, certification) -> StatisticsFilterForm:
    data = request.GET if any(request.GET.get(name) for name in ("year", "pathway")) else None
    return StatisticsFilterForm(data, certification=certification, years=statistics.available_years(certification))


def _year(request) -> int | None:
    value = request.GET.get("year", "")
    return int(value) if value.isdecimal() and len(value) == 4 else None


@require_safe
@rule_required("reporting.view_statistics")
def dashboard(request):
    certification, certifications = certification_filter(request)
    if not certifications:
        return render(request, "reporting/dashboard.html", {"certification": None})
    if certification is None and len(certifications) == 1:
        certification = certifications[0]
    if certification is None:
        # Every certification: each one's headline figures, the details one certification at a time.
        year = _year(request)
        return render(
            request,
            "reporting/dashboard.html",
            {
                "certifications": certifications,
                "overview": statistics.overview(certifications, year),
                "year": year,
            },
        )
    form = _form(request, certification)
    filters = form.filters()
    query = request.GET.copy()
    query["certification"] = certification.rncp_code
    return render(
        request,
        "reporting/dashboard.html",
        {
            "certification": certification,
            "certifications": certifications,
            "form": form,
            "dashboard": statistics.compute(certification, filters),
            "query": query.urlencode() if not form.is_bound or form.is_valid() else "",
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


def _download(content, *, content_type: str, name: str, certification, filters: statistics.Filters, extension: str):
    """The file as an attachment: bytes, or an iterator of bytes, streamed (the results CSV)."""
    filename = export_file_name(name, certification, filters, extension)
    if isinstance(content, bytes):
        response = HttpResponse(content, content_type=content_type)
    else:
        response = StreamingHttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"  # results name people: no copy in a shared cache
    return response


@rule_required("reporting.view_statistics")
def _export(request, builder):
    certification, certifications = certification_filter(request)
    if certification is None and len(certifications) == 1:
        certification = certifications[0]
    if certification is None:
        message = (
            "Choisissez la certification exportée (?certification=…)."
            if certifications
            else "Aucune certification n'est installée."
        )
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    form = _form(request, certification)
    if form.is_bound and not form.is_valid():
        errors = " ".join(error for field_errors in form.errors.values() for error in field_errors)
        return HttpResponseBadRequest(f"Filtres invalides : {errors}", content_type="text/plain; charset=utf-8")
    return builder(certification, form.filters())


def _export_view(*, name: str, extension: str, content_type: str, build):
    """A download view: `build(certification, filters)` returns the file's bytes, under the page's filters."""

    @require_safe
    def view(request):
        return _export(
            request,
            lambda certification, filters: _download(
                build(certification, filters),
                content_type=content_type,
                name=name,
                certification=certification,
                filters=filters,
                extension=extension,
            ),
        )

    return view


statistics_csv = _export_view(
    name="statistiques",
    extension="csv",
    content_type=CSV_CONTENT_TYPE,
    build=lambda certification, filters: statistics.statistics_csv(statistics.compute(certification, filters)),
)
statistics_xlsx = _export_view(
    name="statistiques",
    extension="xlsx",
    content_type=XLSX_CONTENT_TYPE,
    build=lambda certification, filters: statistics.statistics_xlsx(statistics.compute(certification, filters)),
)
results_csv = _export_view(
    name="resultats",
    extension="csv",
    content_type=CSV_CONTENT_TYPE,
    # Streamed: the first rows leave while the database still reads the last ones.
    build=lambda certification, filters: statistics.results_csv(statistics.result_rows(certification, filters)),
)
_results_xlsx_now = _export_view(
    name="resultats",
    extension="xlsx",
    content_type=XLSX_CONTENT_TYPE,
    build=lambda certification, filters: statistics.results_xlsx(statistics.result_rows(certification, filters)),
)


@require_http_methods(["GET", "HEAD", "POST"])
def results_xlsx(request):
    """Up to BACKGROUND_EXPORT_ABOVE decisions, the file at once; more, a page that asks for it in the background
    (POST), then the job's page with its progress and, when done, the file."""
    if request.method != "POST":
        return _export(request, lambda certification, filters: _results_xlsx_or_offer(request, certification, filters))
    return _export(request, lambda certification, filters: _results_xlsx_request(request, certification, filters))


def _results_xlsx_or_offer(request, certification, filters: statistics.Filters):
    count = statistics.result_decisions(certification, filters).count()
    if count <= settings.BACKGROUND_EXPORT_ABOVE:
        return _results_xlsx_now(request)
    return render(
        request,
        "reporting/background_export.html",
        {
            "certification": certification,
            "filters": filters,
            "count_label": f"{french_number(count)} décisions",
            "query": request.GET.urlencode(),
        },
    )


def _results_xlsx_request(request, certification, filters: statistics.Filters):
    count = statistics.result_decisions(certification, filters).count()
    job = jobs.job_request(
        kind=JobKind.RESULTS_XLSX,
        title=f"Résultats {certification.rncp_label} ({filters.describe()}) — {french_number(count)} décisions",
        parameters=export_parameters(certification, filters),
        total=count,
        actor=request.user,
    )
    messages.success(request, "Le fichier des résultats est en préparation : il sera à télécharger sur cette page.")
    return redirect("jobs:detail", pk=job.pk)
