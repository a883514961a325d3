from django import forms

from certif.validation import InputRulesFormMixin


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
