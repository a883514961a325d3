from django import forms

from certif.forms_widgets import DATE_WIDGET
from certif.models import Block, Registration, ScaleLevel
from certif.rules import format_decimal
from certif.validation import InputRulesFormMixin


class CompetenceForm(InputRulesFormMixin, forms.Form):
    label = forms.CharField(
        label="Intitulé de la compétence",
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": "L'intitulé de la compétence ne peut pas être vide."},
    )


class NewCompetenceForm(CompetenceForm):
    label = forms.CharField(
        label="Intitulé de la nouvelle compétence",
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": "L'intitulé de la compétence ne peut pas être vide."},
    )


class BlockThresholdForm(InputRulesFormMixin, forms.ModelForm):
    """The block's validation rule. The threshold reads and is typed the French way (« 7 », « 62,5 »), never as the
    database stores it (« 7.00 »)."""

    class Meta:
        model = Block
        fields = ["threshold_kind", "threshold_value", "declared_competence_count"]
        localized_fields = ["threshold_value"]
        widgets = {"threshold_value": forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})}
        labels = {
            "threshold_kind": "Forme du seuil",
            "threshold_value": "Seuil à atteindre",
            "declared_competence_count": "Nombre de compétences que le bloc déclare",
        }
        help_texts = {
            "threshold_value": "Selon la forme du seuil : un pourcentage des compétences du bloc (75 pour 75 %, "
            "62,5 pour 62,5 %) ou un nombre de compétences (7).",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and self.instance.threshold_value is not None:
            self.initial["threshold_value"] = format_decimal(self.instance.threshold_value)


class RegistrationForm(InputRulesFormMixin, forms.ModelForm):
    class Meta:
        model = Registration
        fields = ["act", "publication", "publication_date", "in_force_from", "in_force_until", "level_note"]
        widgets = {
            "publication_date": DATE_WIDGET,
            "in_force_from": DATE_WIDGET,
            "in_force_until": DATE_WIDGET,
        }


class ScaleLevelForm(InputRulesFormMixin, forms.ModelForm):
    class Meta:
        model = ScaleLevel
        fields = ["position", "code", "label", "validates"]


ScaleLevelFormSet = forms.modelformset_factory(
    ScaleLevel, form=ScaleLevelForm, extra=1, can_delete=True, min_num=2, validate_min=True
)
