"""Accounts in the administration: staff get a restricted page, superusers Django's own.

A gestionnaire edits the username, names, address, whether the account is active and its roles (a choice among the
three), through `certif.accounts.account_save`: no superuser or staff status, no raw permission, no password field;
Django's password page is refused. A new account receives, at its address, the link with which the person chooses
their password. Superusers (`createsuperuser`) keep the full page; their role changes are audited too.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.html import format_html, format_html_join

from certif import accounts
from certif.audit import audit_trail, record_audit
from certif.audit_display import describe_events
from certif.roles import Role
from certif.validation import InputRulesFormMixin

User = get_user_model()

STAFF_FIELDS = ["username", "first_name", "last_name", "email", "is_active", "roles"]


class AccountForm(InputRulesFormMixin, forms.ModelForm):
    """What staff may change on an account."""

    roles = forms.MultipleChoiceField(
        label="Rôles",
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="« Gestionnaire IRUP » ouvre l'administration. Un gestionnaire ne peut pas être aussi président de "
        "jury.",
    )

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "is_active"]

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["email"].required = True
        self.fields["email"].help_text = "Le lien pour choisir le mot de passe est envoyé à cette adresse."
        if self.instance.pk:
            self.fields["roles"].initial = sorted(accounts.account_roles(self.instance))
            if self.instance.pk == actor.pk:
                for name in ("roles", "is_active"):
                    self.fields[name].disabled = True
                    self.fields[name].help_text = "Un autre gestionnaire change vos rôles ou désactive votre compte."
            if self.instance.has_usable_password() and not actor.is_superuser:
                self.fields["email"].disabled = True
                self.fields["email"].required = False
                self.fields["email"].help_text = (
                    "Compte activé : seul un superutilisateur change cette adresse (elle reçoit les liens pour choisir "
                    "le mot de passe)."
                )

    def _post_clean(self):
        # ModelForm's private hooks (_post_clean, _update_errors) are absent from the stubs.
        super()._post_clean()  # type: ignore[misc]  # the instance now carries the posted values
        if self.errors:
            return
        try:
            accounts.account_change_problems(
                account=self.instance, roles=set(self.cleaned_data.get("roles") or []), actor=self.actor
            )
        except ValidationError as error:
            self._update_errors(error)  # type: ignore[attr-defined]


class SuperuserAccountForm(InputRulesFormMixin, UserChangeForm):
    """Django's full form, for superusers, with the one rule that holds for everybody."""

    def clean(self):
        cleaned: dict[str, Any] = super().clean()  # type: ignore[assignment]  # Form.clean returns cleaned_data
        groups = cleaned.get("groups")
        names = {group.name for group in groups} if groups is not None else accounts.account_roles(self.instance)
        staff_power = cleaned.get("is_staff", self.instance.is_staff) or cleaned.get(
            "is_superuser", self.instance.is_superuser
        )
        if Role.PRESIDENT in names and (Role.STAFF in names or staff_power):
            raise ValidationError(accounts.BOTH_STAFF_AND_PRESIDENT)
        return cleaned


class RoleFilter(admin.SimpleListFilter):
    title = "rôle"
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return Role.choices

    def queryset(self, request, queryset):
        return queryset.filter(groups__name=self.value()) if self.value() in Role.values else queryset


class AccountAdmin(UserAdmin):
    form = SuperuserAccountForm
    list_display = ["username", "full_name", "email", "role_list", "is_active", "password_state"]
    actions = ["send_password_link"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    # — What staff see —

    def get_fieldsets(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        if obj is None:
            return [(None, {"fields": STAFF_FIELDS})]
        return [
            (None, {"fields": STAFF_FIELDS}),
            ("Connexion", {"fields": ["password_state", "last_login", "date_joined"]}),
            ("Historique du compte", {"fields": ["history"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ["history"] if obj else []
        return ["password_state", "last_login", "date_joined", "history"]

    def get_list_filter(self, request):
        return super().get_list_filter(request) if request.user.is_superuser else ["is_active", RoleFilter]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if request.user.is_superuser:
            return super().get_form(request, obj, change=change, **kwargs)
        actor = request.user

        class StaffAccountForm(AccountForm):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, actor=actor, **kwargs)

        return StaffAccountForm

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        response = super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)
        if add and not request.user.is_superuser:
            # Django's add page asks for a password; staff never set one.
            # render_change_form returns a TemplateResponse, typed as its base HttpResponse.
            response.template_name = ["admin/auth/user/change_form.html", "admin/change_form.html"]  # type: ignore[attr-defined]
        return response

    def add_view(self, request, form_url="", extra_context=None):
        response = super().add_view(request, form_url, extra_context)  # committed on return
        account = getattr(request, "_mpes_account_created", None)
        if account is not None:
            # Mailing can wait on a slow server: never inside the transaction.
            self._send_link(request, account)
        return response

    def has_change_permission(self, request, obj=None):
        if obj is not None and not request.user.has_perm("certif.change_account", obj):
            return False
        return super().has_change_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser:
            raise PermissionDenied(
                "Un mot de passe se choisit par la personne elle-même, avec le lien envoyé à son adresse : envoyez-lui "
                "ce lien depuis la liste des comptes."
            )
        return super().user_change_password(request, id, form_url)

    # — Saving —

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            accounts.account_save(account=obj, roles=form.cleaned_data.get("roles") or [], actor=request.user)
            if not change:
                request._mpes_account_created = obj  # the link leaves once the account is committed (add_view)
            return
        form._roles_before = (
            accounts.account_snapshot(User.objects.get(pk=obj.pk), accounts.account_roles(obj)) if change else None
        )
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not request.user.is_superuser:
            return
        account = form.instance
        after = accounts.account_snapshot(account, accounts.account_roles(account))
        before = getattr(form, "_roles_before", None)
        if before != after:
            record_audit(
                actor=request.user,
                action=accounts.account_audit_action(before, after),
                target=account,
                before=before,
                after=after,
            )

    def _send_link(self, request, account) -> None:
        try:
            sent = accounts.account_send_password_link(account=account, actor=request.user)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.WARNING)
        else:
            self.message_user(
                request,
                f"Un lien pour choisir son mot de passe a été envoyé à {sent.email} (valable 3 jours).",
                messages.SUCCESS,
            )

    @admin.action(description="Envoyer un lien pour choisir son mot de passe", permissions=["change"])
    def send_password_link(self, request, queryset):
        for account in queryset:
            self._send_link(request, account)

    # — Columns —

    @admin.display(description="nom")
    def full_name(self, obj):
        return obj.get_full_name()

    @admin.display(description="rôles")
    def role_list(self, obj):
        names = {group.name for group in obj.groups.all()}
        labels = [Role(role).label for role in Role.values if role in names]
        if obj.is_superuser:
            labels.insert(0, "Superutilisateur")
        return ", ".join(labels) or "—"

    @admin.display(description="mot de passe")
    def password_state(self, obj):
        return "choisi par la personne" if obj.has_usable_password() else "pas encore choisi"

    @admin.display(description="événements")
    def history(self, obj):
        events = describe_events(audit_trail(obj)[:50])
        if not events:
            return "Aucun événement."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} — {} — {} : {}</li>",
                # The label follows a dash, mid-line: it starts in lower case.
                (
                    (event.when, event.actor, event.label[:1].lower() + event.label[1:], event.summary)
                    for event in events
                ),
            ),
        )


admin.site.unregister(User)
admin.site.register(User, AccountAdmin)
