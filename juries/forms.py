from django import forms

from certif.collation import user_order
from certif.forms_widgets import DATE_WIDGET
from certif.models import Block, Certification
from certif.roles import accounts_that_may_preside
from certif.selectors import certification_choice_label
from certif.validation import InputRulesFormMixin
from juries.models import DecisionOutcome, JuryMember


class SessionCertificationForm(InputRulesFormMixin, forms.Form):
    """The first step of a new session when several fiches are installed: which certification it examines."""

    certification = forms.ModelChoiceField(
        label="Certification",
        queryset=Certification.objects.all(),
        to_field_name="rncp_code",
        error_messages={"required": "Choisissez la certification examinée par le jury."},
    )

    def __init__(self, *args, certifications, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["certification"].choices = [("", "Choisissez une certification")] + [
            (certification.rncp_code, certification_choice_label(certification)) for certification in certifications
        ]


class SessionForm(InputRulesFormMixin, forms.Form):
    date = forms.DateField(label="Date du jury", widget=DATE_WIDGET)
    place = forms.CharField(label="Lieu", max_length=255)
    blocks = forms.ModelMultipleChoiceField(
        label="Blocs examinés", queryset=Block.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    date_change_reason = forms.CharField(
        label="Motif du changement de date",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Obligatoire pour déplacer la date : des candidats sont déjà présentés. Conservé dans le journal "
        "d'audit avec l'ancienne et la nouvelle date.",
    )

    def __init__(self, *args, certification, date_locked=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["blocks"].queryset = Block.objects.filter(certification=certification).order_by("number")
        self.fields["blocks"].label_from_instance = lambda block: f"Bloc {block.number} — {block.title}"
        self.fields[
            "date"
        ].help_text = (
            "Un jury se prévoit au plus deux ans à l'avance ; il est signé le jour où il siège ou après, jamais avant."
        )
        if not date_locked:
            del self.fields["date_change_reason"]


class MemberForm(InputRulesFormMixin, forms.ModelForm):
    class Meta:
        model = JuryMember
        fields = ["name", "organisation", "category", "is_president", "is_substitute", "user"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only accounts that may preside: the president role, no staff power (juries.services checks it again).
        self.fields["user"].queryset = accounts_that_may_preside().order_by(*user_order())
        self.fields["user"].label_from_instance = lambda user: user.get_full_name() or user.username
        self.fields["user"].label = "Compte personnel du président"
        self.fields["user"].help_text = (
            "Obligatoire pour le président : il signe avec son propre compte, parmi les personnes qui ont le rôle "
            "« Président de jury »."
        )


class RecusalForm(InputRulesFormMixin, forms.Form):
    member = forms.ModelChoiceField(label="Membre", queryset=JuryMember.objects.none())
    presentation = forms.ModelChoiceField(label="Candidat", queryset=None)
    reason = forms.CharField(label="Lien déclaré", max_length=255, help_text="Par exemple « ancien collègue ».")

    def __init__(self, *args, session, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = session.members.all()
        self.fields["member"].label_from_instance = lambda member: member.name
        self.fields["presentation"].queryset = session.presentations.select_related("enrolment__candidate")
        self.fields["presentation"].label_from_instance = lambda p: p.enrolment.candidate.full_name


class SignOffForm(InputRulesFormMixin, forms.Form):
    password = forms.CharField(
        label="Votre mot de passe",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="La signature est un acte délibéré : confirmez-la avec le mot de passe de votre compte.",
    )


class RectificationForm(SignOffForm):
    outcome = forms.ChoiceField(label="Nouvelle décision", choices=DecisionOutcome.choices)
    reason = forms.CharField(
        label="Motif de la rectification", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    field_order = ["outcome", "reason", "password"]
