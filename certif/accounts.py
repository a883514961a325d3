"""Accounts as staff manage them: names, address, active or not, and the three roles; nothing more.

Staff never grant superuser status, staff status or raw permissions (staff status follows the « gestionnaire » role:
it opens the administration), never set nor see anyone's password (a person chooses their own from a link sent to
their address), and never preside: an account is never both « gestionnaire » and « président de jury ». Superusers
(`createsuperuser`) keep Django's full administration. Every change is audited with its roles before and after.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models.signals import m2m_changed, pre_save
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from certif.audit import AuditAction, record_audit
from certif.permissions import may
from certif.roles import Role

User = get_user_model()

BOTH_STAFF_AND_PRESIDENT = (
    "Un compte ne peut pas être à la fois « Gestionnaire IRUP » et « Président de jury » : qui prépare les jurys ne "
    "les préside pas. Créez un compte distinct pour la présidence."
)


def account_roles(account) -> set[str]:
    if account.pk is None:
        return set()
    return set(account.groups.filter(name__in=Role.values).values_list("name", flat=True))


def account_snapshot(account, roles) -> dict:
    return {
        "username": account.username,
        "first_name": account.first_name,
        "last_name": account.last_name,
        "email": account.email,
        "is_active": account.is_active,
        "is_staff": account.is_staff,
        "roles": sorted(roles),
    }


def _refuse_roles(roles) -> None:
    unknown = set(roles) - set(Role.values)
    if unknown:
        raise ValidationError({"roles": "Rôle inconnu : " + ", ".join(sorted(unknown)) + "."})
    if Role.STAFF in roles and Role.PRESIDENT in roles:
        raise ValidationError({"roles": BOTH_STAFF_AND_PRESIDENT})


def account_change_problems(*, account, roles, actor) -> None:
    """What staff may not do to this account (raises ValidationError, by field); superusers may do anything."""
    if actor.is_superuser:
        _refuse_roles(roles)
        if account.is_superuser and Role.PRESIDENT in roles:
            raise ValidationError({"roles": BOTH_STAFF_AND_PRESIDENT})
        return
    if not may(actor, "certif.manage_accounts"):
        raise PermissionDenied("Seuls les gestionnaires gèrent les comptes.")
    if account.pk is None:
        _refuse_roles(roles)
        return
    stored = User.objects.get(pk=account.pk)
    if not may(actor, "certif.change_account", stored):
        raise ValidationError("Seul un superutilisateur modifie un compte d'administration technique.")
    if stored.pk == actor.pk and (set(roles) != account_roles(stored) or not account.is_active):
        raise ValidationError(
            {
                "roles": "Vous ne pouvez ni changer vos propres rôles ni désactiver votre compte : demandez-le à un "
                "autre gestionnaire."
            }
        )
    if account.email.strip().casefold() != stored.email.strip().casefold() and stored.has_usable_password():
        # The address receives the links that set the password: changing it would let staff take over the account.
        raise ValidationError(
            {
                "email": "Ce compte est activé : son adresse ne peut être changée que par un superutilisateur (c'est "
                "à elle que partent les liens pour choisir le mot de passe)."
            }
        )
    _refuse_roles(roles)


@transaction.atomic
def account_save(*, account, roles, actor):
    """Create or change an account: validate → write (roles, staff status) → audit. Returns the account."""
    roles = set(roles)
    created = account.pk is None
    stored = None if created else User.objects.select_for_update(of=("self",)).get(pk=account.pk)
    account_change_problems(account=account, roles=roles, actor=actor)
    if created:
        before = None
        account.set_unusable_password()  # the person chooses it, from the link sent to their address
    else:
        assert stored is not None  # read above, for an account that exists
        before = account_snapshot(stored, account_roles(stored))
        account.password = stored.password  # never changed here, whatever the form posted
        account.is_superuser = stored.is_superuser if not actor.is_superuser else account.is_superuser
    if not account.is_superuser:
        # Staff status opens /admin/: it follows the « gestionnaire » role, and nothing else gives it.
        account.is_staff = Role.STAFF in roles
    account.username = account.username.strip()
    account.email = account.email.strip()
    account.full_clean(exclude=["password"])
    role_groups = list(Group.objects.filter(name__in=Role.values))
    if not created:  # roles taken away first: the account never holds, even for an instant, what it may not
        account.groups.remove(*[group for group in role_groups if group.name not in roles])
    account.save()
    account.groups.add(*[group for group in role_groups if group.name in roles])
    account.__dict__.pop("_mpes_roles", None)
    after = account_snapshot(account, roles)
    if after != before:
        record_audit(
            actor=actor, action=account_audit_action(before, after), target=account, before=before, after=after
        )
    return account


def account_audit_action(before, after) -> AuditAction:
    if before is None:
        return AuditAction.ACCOUNT_CREATED
    return AuditAction.ACCOUNT_ROLES_CHANGED if before["roles"] != after["roles"] else AuditAction.ACCOUNT_CHANGED


# — The link with which a person chooses their password —


def password_link(account) -> str:
    uid = urlsafe_base64_encode(force_bytes(account.pk))
    token = default_token_generator.make_token(account)
    return settings.PUBLIC_BASE_URL + reverse("password_reset_confirm", args=[uid, token])


@dataclass(frozen=True)
class LinkSent:
    account: object
    email: str


def account_send_password_link(*, account, actor) -> LinkSent:
    """Mail the person a link to choose their password (valid 3 days, once). Staff never see the link.

    Shown to staff, the link would let them choose the password of someone else, and sign in their name: it goes
    to the address on the account only, and the audit says who sent it, when and where.
    """
    if not (actor.is_superuser or may(actor, "certif.manage_accounts")):
        raise PermissionDenied("Seuls les gestionnaires envoient les liens de mot de passe.")
    if account.is_superuser and not actor.is_superuser:
        raise ValidationError("Seul un superutilisateur gère un compte superutilisateur.")
    if not account.is_active:
        raise ValidationError(f"Le compte {account.username} est désactivé : aucun lien ne lui est envoyé.")
    if not account.email:
        raise ValidationError(f"Le compte {account.username} n'a pas d'adresse électronique : saisissez-la d'abord.")
    context = {
        "account": account,
        "link": password_link(account),
        "days": settings.PASSWORD_RESET_TIMEOUT // 86400,
        "first_time": not account.has_usable_password(),
    }
    send_mail(
        subject="MPES — choisissez votre mot de passe",
        message=render_to_string("registration/password_link_email.txt", context),
        from_email=None,
        recipient_list=[account.email],
    )
    record_audit(
        actor=actor,
        action=AuditAction.ACCOUNT_PASSWORD_LINK_SENT,
        target=account,
        after={"email": account.email, "first_time": context["first_time"]},
    )
    return LinkSent(account=account, email=account.email)


# — Whatever the door (admin, shell, ORM): the staff and president roles never meet on one account —


def _holds_staff_power(account) -> bool:
    return account.is_superuser or account.is_staff


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="mpes_roles_never_meet")
def refuse_staff_and_president_together(sender, instance, action, reverse, pk_set, **kwargs):
    if action != "pre_add" or not pk_set:
        return
    if reverse:  # group.user_set.add(...)
        group_names = {instance.name}
        accounts = list(User.objects.filter(pk__in=pk_set))
    else:
        group_names = set(Group.objects.filter(pk__in=pk_set).values_list("name", flat=True))
        accounts = [instance]
    for account in accounts:
        names = group_names | account_roles(account)
        if Role.PRESIDENT in names and (Role.STAFF in names or _holds_staff_power(account)):
            raise ValidationError(BOTH_STAFF_AND_PRESIDENT)


@receiver(pre_save, sender=User, dispatch_uid="mpes_president_never_staff")
def refuse_staff_status_for_a_president(sender, instance, update_fields=None, **kwargs):
    if update_fields is not None and not {"is_staff", "is_superuser"} & set(update_fields):
        return  # e.g. last_login at each login
    if instance.pk and _holds_staff_power(instance) and Role.PRESIDENT in account_roles(instance):
        raise ValidationError(BOTH_STAFF_AND_PRESIDENT)
