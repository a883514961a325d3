"""The staff's candidate list filters, shared by the list page and its CSV / XLSX exports."""

from django import forms
from django.db.models import Q

from candidates.models import Cohort, EnrolmentStatus
from certif.models import AccessPathway, PreparationPlace
from certif.validation import InputRulesFormMixin

SEARCH_SESSION_KEY = "candidate_search"


class CandidateFilterForm(InputRulesFormMixin, forms.Form):
    """Filters travel in the URL (ids and codes only); the free-text search, which holds names, lives in the
    session so that no personal data appears in URLs or server logs."""

    cohort = forms.ModelChoiceField(
        label="Promotion", queryset=Cohort.objects.all(), required=False, empty_label="Toutes"
    )
    pathway = forms.ModelChoiceField(
        label="Voie d'accès", queryset=AccessPathway.objects.filter(is_open=True), required=False, empty_label="Toutes"
    )
    status = forms.ChoiceField(label="Statut", choices=[("", "Tous")] + EnrolmentStatus.choices, required=False)
    place = forms.ModelChoiceField(
        label="Lieu de préparation", queryset=PreparationPlace.objects.all(), required=False, empty_label="Tous"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select"

    def filter(self, queryset, search: str = ""):
        if search:
            for word in search.split():
                queryset = queryset.filter(
                    Q(birth_name__icontains=word)
                    | Q(usage_name__icontains=word)
                    | Q(first_name__icontains=word)
                    | Q(email__icontains=word)
                )
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        enrolment_filter = Q()
        if data["cohort"]:
            enrolment_filter &= Q(enrolments__cohort=data["cohort"])
        if data["pathway"]:
            enrolment_filter &= Q(enrolments__cohort__pathway=data["pathway"])
        if data["status"]:
            enrolment_filter &= Q(enrolments__status=data["status"])
        if data["place"]:
            enrolment_filter &= Q(enrolments__cohort__preparation_place=data["place"])
        if enrolment_filter:
            # One join, so that every condition applies to the same enrolment.
            queryset = queryset.filter(pk__in=queryset.model.objects.filter(enrolment_filter).values("pk"))
        return queryset


def filtered_candidates(request, queryset):
    """The candidates of `queryset` that match the request's filters and the session's search."""
    form = CandidateFilterForm(request.GET or None)
    return form, form.filter(queryset, request.session.get(SEARCH_SESSION_KEY, ""))
