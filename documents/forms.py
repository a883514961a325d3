from django import forms

from certif.validation import InputRulesFormMixin
from documents.models import LOGO_MAX_BYTES


class RevocationForm(InputRulesFormMixin, forms.Form):
    reason = forms.CharField(
        label="Motif de la révocation",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Conservé dans le journal d'audit ; la page publique de vérification dit seulement que le document "
        "est révoqué, et depuis quand.",
    )


class VerificationForm(InputRulesFormMixin, forms.Form):
    code = forms.CharField(
        label="Code de vérification",
        max_length=64,
        help_text="Les 20 caractères imprimés sous le QR code, avec ou sans tirets (XXXXX-XXXXX-XXXXX-XXXXX).",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )


class CertifierIdentityForm(InputRulesFormMixin, forms.Form):
    director_general_name = forms.CharField(
        label="Nom du directeur général",
        max_length=150,
        help_text="Prénom et nom, imprimés sous sa signature sur les certificats, attestations et procès-verbaux.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    logo = forms.FileField(
        label="Logo de l'IRUP",
        required=False,
        help_text="Image PNG, JPEG ou SVG, 1 Mo au plus ; imprimée en haut à gauche du certificat (50 × 22 mm au "
        "plus) et en tête des autres documents. Laissez vide pour garder le logo actuel.",
        widget=forms.ClearableFileInput(attrs={"accept": ".png,.jpg,.jpeg,.svg,image/png,image/jpeg,image/svg+xml"}),
    )
    remove_logo = forms.BooleanField(label="Retirer le logo actuel", required=False)

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and logo.size > LOGO_MAX_BYTES:
            raise forms.ValidationError(f"Ce fichier pèse {logo.size // 1024} Ko : le logo doit peser 1 Mo au plus.")
        return logo
