from django import forms
from django.urls import reverse
from django.utils.formats import date_format

from candidates import cog
from candidates.models import Candidate, Cohort, Enrolment
from candidates.selectors import CANDIDATE_AUDITED_FIELDS
from certif.collation import user_order
from certif.forms_widgets import DATE_WIDGET
from certif.models import AccessPathway, Block, Certification, PreparationPlace
from certif.roles import Role, holders_of
from certif.selectors import certification_choice_label, certifications_in_force_first
from certif.validation import InputRulesFormMixin, validate_past_event_date


class CandidateForm(InputRulesFormMixin, forms.ModelForm):
    confirm_not_duplicate = forms.BooleanField(
        label="Je confirme qu'il s'agit d'une autre personne que le ou les candidats signalés ci-dessus",
        required=False,
    )

    class Meta:
        model = Candidate
        # The country's label follows its code (Candidate.clean).
        fields = [name for name in CANDIDATE_AUDITED_FIELDS if name != "birth_country"]
        widgets = {"birth_date": DATE_WIDGET}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.duplicates = []
        # Search as you type (static/js/place-search.js); without it, the code typed is checked by the model.
        for name, url_name, label in (
            ("birth_insee_code", "candidates:birth_commune_search", "Rechercher la commune de naissance"),
            ("birth_country_code", "candidates:birth_country_search", "Rechercher le pays de naissance"),
        ):
            if name in self.fields:
                self.fields[name].widget.attrs.update(
                    {"data-place-search": reverse(url_name), "data-place-label": label, "autocomplete": "off"}
                )
        if "birth_insee_code" in self.fields:
            self.fields["birth_insee_code"].widget.attrs.update(
                {
                    "data-place-name": "id_birth_commune",
                    "data-place-postal": "id_birth_postal_code",
                    # a commune of the list is in France, overseas included
                    "data-place-country": "id_birth_country_code",
                    "data-place-country-code": cog.FRANCE_CODE,
                }
            )
        if "birth_country_code" in self.fields:
            self.fields["birth_country_code"].help_text += f" Listes : {cog.lists_version()}."

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
        queryset=Cohort.objects.select_related("certification", "pathway", "preparation_place"),
        error_messages={"required": "Choisissez une promotion."},
    )
    tutor_name = forms.CharField(label="Tuteur (entreprise)", max_length=150, required=False)
    vae_accompanist = forms.CharField(
        label="Accompagnateur VAE", max_length=150, required=False, help_text="Uniquement pour la voie VAE."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cohort"].label_from_instance = lambda cohort: (
            f"{cohort.name} — {cohort.pathway.label} ({cohort.certification.rncp_label})"
        )


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
    block = forms.ModelChoiceField(
        label="Bloc",
        queryset=Block.objects.select_related("certification").order_by("certification__rncp_code", "number"),
    )
    acquired_on = forms.DateField(label="Acquis le", widget=DATE_WIDGET)
    import_source = forms.CharField(
        label="Source",
        max_length=255,
        help_text="Par exemple « Procès-verbal du jury du 14 juin 2022 ».",
        error_messages={"required": "Indiquez d'où vient ce bloc (procès-verbal, attestation…)."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["block"].label_from_instance = lambda block: f"Bloc {block.number} — {block.title} ({block.code})"


def certification_field_setup(form, name: str, certifications: list[Certification]) -> None:
    """A certification choice listing every installed fiche, those in force today first, each saying which; with
    a single fiche installed there is nothing to choose: it is shown, fixed."""
    field = form.fields[name]
    field.queryset = Certification.objects.all()
    if len(certifications) == 1:
        field.empty_label = None
        field.disabled = True
        if not form.initial.get(name):
            form.initial[name] = certifications[0].pk
    else:
        field.empty_label = "Choisissez une certification"
    field.choices = ([("", field.empty_label)] if field.empty_label else []) + [
        (certification.pk, certification_choice_label(certification)) for certification in certifications
    ]


class CohortForm(InputRulesFormMixin, forms.ModelForm):
    """A cohort belongs to one certification: its pathway and preparation place are that certification's (the
    model refuses others, next to the field). Once created, a cohort keeps its certification."""

    class Meta:
        model = Cohort
        fields = ["certification", "name", "pathway", "preparation_place", "start_date", "end_date", "trainers"]
        widgets = {
            "start_date": DATE_WIDGET,
            "end_date": DATE_WIDGET,
            "trainers": forms.CheckboxSelectMultiple,
        }
        error_messages = {"certification": {"required": "Choisissez la certification de la promotion."}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        certifications = certifications_in_force_first()
        certification_field_setup(self, "certification", certifications)
        several = len(certifications) > 1
        if self.instance.pk:
            self.fields["certification"].disabled = True
        certification_id = self.instance.certification_id if self.instance.pk else None
        pathways = AccessPathway.objects.select_related("certification")
        places = PreparationPlace.objects.select_related("certification")
        if certification_id:
            pathways, places = (
                pathways.filter(certification_id=certification_id),
                places.filter(certification_id=certification_id),
            )
        self.fields["pathway"].queryset = pathways
        self.fields["preparation_place"].queryset = places
        self.fields["trainers"].queryset = holders_of(Role.TRAINER).order_by(*user_order())
        self.fields["trainers"].label_from_instance = lambda user: user.get_full_name() or user.username
        prefix = several and not certification_id
        self.fields["pathway"].label_from_instance = lambda pathway: (
            (f"{pathway.certification.rncp_label} · " if prefix else "")
            + (pathway.label if pathway.is_open else f"{pathway.label} (fermée par la fiche)")
        )
        self.fields["preparation_place"].label_from_instance = lambda place: (
            f"{place.certification.rncp_label} · {place.name}" if prefix else place.name
        )


class PreparationPlaceForm(InputRulesFormMixin, forms.ModelForm):
    class Meta:
        model = PreparationPlace
        fields = ["certification", "name", "address"]
        error_messages = {"certification": {"required": "Choisissez la certification que ce lieu prépare."}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        certification_field_setup(self, "certification", certifications_in_force_first())


class WithdrawalForm(InputRulesFormMixin, forms.Form):
    """The staff act withdrawing a certificate and/or blocks: what, by which decision, why, confirmed twice."""

    award = forms.BooleanField(label="Certificat", required=False)
    blocks = forms.TypedMultipleChoiceField(
        label="Blocs de compétences", required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    reference = forms.CharField(
        label="Référence de la décision",
        max_length=255,
        help_text="Par exemple « Décision du directeur général n° 2026-14 du 20 novembre 2026 ».",
        error_messages={
            "required": "Indiquez la référence de la décision de retrait.",
            "max_length": "La référence compte %(show_value)d caractères ; %(limit_value)d au plus.",
        },
    )
    decided_on = forms.DateField(
        label="Date de la décision",
        widget=DATE_WIDGET,
        error_messages={
            "required": "Indiquez la date de la décision de retrait.",
            "invalid": "Date invalide.",
        },
    )
    reason = forms.CharField(
        label="Motif du retrait",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Ce que la décision établit (fraude constatée, pièce falsifiée…). Le motif n'est jamais publié.",
        error_messages={
            "required": "Indiquez le motif du retrait.",
            "max_length": "Le motif compte %(show_value)d caractères ; %(limit_value)d au plus.",
        },
    )
    password = forms.CharField(
        label="Votre mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Le retrait est un acte que vous signez : saisissez de nouveau votre mot de passe.",
        error_messages={"required": "Saisissez votre mot de passe pour signer le retrait."},
    )
    confirm = forms.BooleanField(
        label="Je confirme le retrait : les résultats cochés ne seront plus détenus par le candidat et les documents "
        "qui les rapportent seront révoqués. Ce retrait est définitif.",
        error_messages={"required": "Cochez la case pour confirmer le retrait."},
    )

    def __init__(self, *args, options, **kwargs):
        super().__init__(*args, **kwargs)
        self.options = options
        if options.award is None:
            del self.fields["award"]
        else:
            delivered = date_format(options.award.awarded_on, "j F Y")
            self.fields["award"].label = f"Certificat n° {options.award.number}, délivré le {delivered}"
        self.fields["blocks"].choices = [(item.pk, _acquired_label(item)) for item in options.blocks]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("award") and not cleaned.get("blocks") and not self.has_error("blocks"):
            self.add_error(
                "blocks", "Choisissez ce qui est retiré : le certificat, un ou plusieurs blocs, ou les deux."
            )
        return cleaned


def _acquired_label(item) -> str:
    link = getattr(item, "jury_decision_link", None)  # selected with the block (withdrawal_options)
    if link is not None:
        how = f"jury du {date_format(link.decision.presentation.session.date, 'j F Y')}"
    else:
        how = f"reprise d'historique{f' : {item.import_source}' if item.import_source else ''}"
    return f"Bloc {item.block.number} — acquis le {date_format(item.acquired_on, 'j F Y')} ({how})"
