"""The staff's candidate list filters, shared by the list page and its CSV / XLSX exports."""

from django import forms
from django.db.models import Q

from candidates.models import Cohort, EnrolmentStatus
from candidates.selectors import LISTED_CERTIFICATION_COLUMNS
from certif.forms_widgets import QuickSelect, ShortChoiceIterator
from certif.models import AccessPathway, Certification, PreparationPlace
from certif.validation import InputRulesFormMixin

SEARCH_SESSION_KEY = "candidate_search"


class CandidateFilterForm(InputRulesFormMixin, forms.Form):
    """Filters travel in the URL (ids and codes only); the free-text search, which holds names, lives in the
    session so that no personal data appears in URLs or server logs."""

    certification = forms.ModelChoiceField(
        label="Certification",
        queryset=Certification.objects.all(),
        to_field_name="rncp_code",
        required=False,
        empty_label="Toutes",
        widget=QuickSelect,
    )
    cohort = forms.ModelChoiceField(
        label="Promotion", queryset=Cohort.objects.all(), required=False, empty_label="Toutes", widget=QuickSelect
    )
    pathway = forms.ModelChoiceField(
        label="Voie d'accès",
        queryset=AccessPathway.objects.filter(is_open=True),
        required=False,
        empty_label="Toutes",
        widget=QuickSelect,
    )
    status = forms.ChoiceField(
        label="Statut", choices=[("", "Tous")] + EnrolmentStatus.choices, required=False, widget=QuickSelect
    )
    place = forms.ModelChoiceField(
        label="Lieu de préparation",
        queryset=PreparationPlace.objects.all(),
        required=False,
        empty_label="Tous",
        widget=QuickSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select"
        # The certifications are read only when the form is shown (the exports use the filters, not the form).
        self._certifications: list[Certification] | None = None
        self.fields["certification"].choices = lambda: (
            [("", "Toutes")]
            + [(certification.rncp_code, certification.display_name) for certification in self.certifications()]
        )
        # With several fiches, pathways and places of the same name are told apart by their certification (its code
        # only: the fiche's texts are not read for a menu). The iterator first: setting a queryset hands the widget
        # the field's iterator.
        for name in ("pathway", "place", "cohort"):
            self.fields[name].iterator = ShortChoiceIterator
        self.fields["pathway"].queryset = (
            AccessPathway.objects.filter(is_open=True)
            .select_related("certification")
            .only("label", "certification__rncp_code")
        )
        self.fields["place"].queryset = PreparationPlace.objects.select_related("certification").only(
            "name", "certification__rncp_code"
        )
        self.fields["cohort"].queryset = Cohort.objects.select_related("certification").only(
            "name", "certification__rncp_code"
        )
        self.fields["pathway"].label_from_instance = lambda item: self._named(item.certification, item.label)
        self.fields["place"].label_from_instance = lambda item: self._named(item.certification, item.name)
        self.fields["cohort"].label_from_instance = lambda item: (
            f"{item.name} ({item.certification.rncp_label})" if len(self.certifications()) > 1 else item.name
        )

    def certifications(self) -> list[Certification]:
        if self._certifications is None:
            self._certifications = list(Certification.objects.only(*LISTED_CERTIFICATION_COLUMNS))
        return self._certifications

    def _named(self, certification: Certification, label: str) -> str:
        return f"{certification.rncp_label} · {label}" if len(self.certifications()) > 1 else label

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
        if data["certification"]:
            enrolment_filter &= Q(enrolments__cohort__certification=data["certification"])
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
            matching = Q(pk__in=queryset.model.objects.filter(enrolment_filter).values("pk"))
            if data["certification"] and len(enrolment_filter) == 1:
                # Blocks held of a fiche (taken over from before the application) count as much as an enrolment.
                matching |= Q(
                    pk__in=queryset.model.objects.filter(
                        acquired_blocks__block__certification=data["certification"]
                    ).values("pk")
                )
            queryset = queryset.filter(matching)
        return queryset


def filtered_candidates(request, queryset):
    """The candidates of `queryset` that match the request's filters and the session's search."""
    form = CandidateFilterForm(request.GET or None)
    return form, form.filter(queryset, request.session.get(SEARCH_SESSION_KEY, ""))
