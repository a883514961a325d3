from django import forms
from django.contrib.auth import get_user_model

from candidates.models import Candidate, Cohort, Enrolment
from candidates.services import CANDIDATE_AUDITED_FIELDS
from certif.models import Block, PreparationPlace
from certif.roles import Role
from certif.validation import InputRulesFormMixin, validate_past_event_date

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CandidateForm(InputRulesFormMixin, forms.ModelForm):
    confirm_not_duplicate = forms.BooleanField(
        label="Je confirme qu'il s'agit d'une autre personne que le ou les candidats signalés ci-dessus",
        required=False,
    )

    class Meta:
        model = Candidate
        fields = CANDIDATE_AUDITED_FIELDS
        widgets = {"birth_date": DATE_WIDGET}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.duplicates = []

    def clean_birth_insee_code(self):
        return self.cleaned_data["birth_insee_code"].upper()  # "2a004" is Corsica's 2A004, as the import reads it

    def clean(self):
        cleaned = super().clean()
        birth_name, first_name, birth_date = (cleaned.get(name) for name in ("birth_name", "first_name", "birth_date"))
        if birth_name and first_name and birth_date:
            self.duplicates = list(
                Candidate.objects.likely_duplicates_of(
                    birth_name=birth_name, first_name=first_name, birth_date=birth_date, exclude_pk=self.instance.pk
                )
            )
        if self.duplicates and not cleaned.get("confirm_not_duplicate"):
            self.add_error(
                "confirm_not_duplicate",
                "Doublon probable : un candidat porte déjà ce nom de naissance, ce prénom et cette date de naissance. "
                "Vérifiez qu'il ne s'agit pas de la même personne, puis cochez cette case pour confirmer.",
            )
        return cleaned

    def model_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class EnrolmentForm(InputRulesFormMixin, forms.Form):
    cohort = forms.ModelChoiceField(
        label="Promotion",
        queryset=Cohort.objects.select_related("pathway", "preparation_place"),
        error_messages={"required": "Choisissez une promotion."},
    )
    tutor_name = forms.CharField(label="Tuteur (entreprise)", max_length=150, required=False)
    vae_accompanist = forms.CharField(
        label="Accompagnateur VAE", max_length=150, required=False, help_text="Uniquement pour la voie VAE."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cohort"].label_from_instance = lambda cohort: f"{cohort.name} — {cohort.pathway.label}"


class EnrolmentUpdateForm(InputRulesFormMixin, forms.ModelForm):
    class Meta:
        model = Enrolment
        fields = ["status", "tutor_name", "vae_accompanist"]


class AdmissibilityForm(InputRulesFormMixin, forms.Form):
    decided_on = forms.DateField(label="Date de la décision", widget=DATE_WIDGET, validators=[validate_past_event_date])
    favourable = forms.TypedChoiceField(
        label="Décision",
        choices=[("oui", "Recevable"), ("non", "Non recevable")],
        coerce=lambda value: value == "oui",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="Motif",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Obligatoire si non recevable.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("favourable") is False and not cleaned.get("reason", "").strip():
            self.add_error("reason", "Une décision défavorable doit être motivée.")
        return cleaned


class AcquiredBlockForm(InputRulesFormMixin, forms.Form):
    block = forms.ModelChoiceField(label="Bloc", queryset=Block.objects.select_related("certification"))
    acquired_on = forms.DateField(label="Acquis le", widget=DATE_WIDGET)
    import_source = forms.CharField(
        label="Source",
        max_length=255,
        help_text="Par exemple « Procès-verbal du jury du 14 juin 2022 ».",
        error_messages={"required": "Indiquez d'où vient ce bloc (procès-verbal, attestation…)."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["block"].label_from_instance = lambda block: f"Bloc {block.number} — {block.title}"


class CohortForm(InputRulesFormMixin, forms.ModelForm):
    class Meta:
        model = Cohort
        fields = ["name", "pathway", "preparation_place", "start_date", "end_date", "trainers"]
        widgets = {
            "start_date": DATE_WIDGET,
            "end_date": DATE_WIDGET,
            "trainers": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trainers"].queryset = (
            get_user_model().objects.filter(groups__name=Role.TRAINER).order_by("last_name", "first_name")
        )
        self.fields["trainers"].label_from_instance = lambda user: user.get_full_name() or user.username
        self.fields["pathway"].label_from_instance = lambda pathway: (
            pathway.label if pathway.is_open else f"{pathway.label} (fermée par la fiche)"
        )


class PreparationPlaceForm(InputRulesFormMixin, forms.ModelForm):
    class Meta:
        model = PreparationPlace
        fields = ["name", "address"]
