"""The statistics dashboard and its exports (staff only): figures computed by `reporting.statistics`."""

from django import forms
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from certif.models import AccessPathway
from certif.selectors import certification_filter
from certif.validation import InputRulesFormMixin
from certif.views_helpers import rule_required
from reporting import statistics

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


def _download(
    content: bytes, *, content_type: str, name: str, certification, filters: statistics.Filters, extension: str
):
    slug = filters.slug()
    filename = (
        f"{name}-{certification.rncp_label}-{timezone.localdate():%Y-%m-%d}{'-' + slug if slug else ''}.{extension}"
    )
    response = HttpResponse(content, content_type=content_type)
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
    build=lambda certification, filters: statistics.results_csv(statistics.result_rows(certification, filters)),
)
results_xlsx = _export_view(
    name="resultats",
    extension="xlsx",
    content_type=XLSX_CONTENT_TYPE,
    build=lambda certification, filters: statistics.results_xlsx(statistics.result_rows(certification, filters)),
)
