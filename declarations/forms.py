from typing import Any

from django import forms

from certif.validation import InputRulesFormMixin
from declarations.models import CdcDeclarantSettings


class DeclarantSettingsForm(InputRulesFormMixin, forms.ModelForm):
    class Meta:
        model = CdcDeclarantSettings
        fields = ["sender_id_client", "certifier_id_client", "contract_id"]
        error_messages = {
            "sender_id_client": {"max_length": "L'identifiant client compte exactement 8 caractères."},
            "certifier_id_client": {"max_length": "L'identifiant client compte exactement 8 caractères."},
            "contract_id": {"max_length": "Le numéro de contrat compte au plus 20 caractères."},
        }


class IdChoiceField(forms.TypedMultipleChoiceField):
    """Ticked ids checked against a set: Django's `valid_value` scans every choice for each ticked box, which is
    quadratic when staff tick thousands of holders at once."""

    allowed: frozenset[str] = frozenset()

    def offer(self, ids) -> None:
        ids = list(ids)
        self.choices = [(pk, pk) for pk in ids]
        self.allowed = frozenset(str(pk) for pk in ids)

    def valid_value(self, value) -> bool:
        return str(value) in self.allowed


class HolderSelectionForm(InputRulesFormMixin, forms.Form):
    """The holders ticked on the declaration page: `awards` never declared, `resend` declared before."""

    awards = IdChoiceField(
        label="Titulaires à déclarer", coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    resend = IdChoiceField(label="Déclarer à nouveau", coerce=int, required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, new_ids=(), declared_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Both are IdChoiceFields (declared above); `fields` is typed as holding any field.
        self.fields["awards"].offer(new_ids)  # type: ignore[attr-defined]
        self.fields["resend"].offer(declared_ids)  # type: ignore[attr-defined]
        self.fields["awards"].error_messages["invalid_choice"] = (
            "Un titulaire coché ne peut pas être déclaré (déjà déclaré ou dossier incomplet) : rechargez la page."
        )
        self.fields["resend"].error_messages["invalid_choice"] = (
            "Un titulaire coché ne peut pas être déclaré à nouveau (dossier incomplet) : rechargez la page."
        )

    def clean(self):
        cleaned: dict[str, Any] = super().clean()  # type: ignore[assignment]  # Form.clean returns cleaned_data
        if not self.errors and not cleaned.get("awards") and not cleaned.get("resend"):
            raise forms.ValidationError("Cochez au moins un titulaire à déclarer.")
        return cleaned


class ReceiptForm(InputRulesFormMixin, forms.Form):
    """The processing report (« accusé de traitement ») the CDC returned for a flux."""

    report = forms.FileField(
        label="Accusé de traitement de la Caisse des Dépôts (fichier XML)",
        help_text="Le fichier que le portail des certificateurs propose pour ce flux, tel quel.",
        error_messages={
            "required": "Choisissez le fichier de l'accusé de traitement.",
            "empty": "Le fichier est vide.",
        },
    )
