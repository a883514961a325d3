"""The three roles of the application, held as Django groups with permissions.

`ROLE_PERMISSIONS` is the single place that says what each role may do; `install_roles` (run after every
migrate) makes the groups match it.
"""

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import models


class Role(models.TextChoices):
    STAFF = "gestionnaire", "Gestionnaire IRUP"
    TRAINER = "formateur", "Formateur"
    PRESIDENT = "president", "Président de jury"


# "app_label.*" grants every permission of an application.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.STAFF: [
        "certif.*",
        "candidates.*",
        "evaluation.*",
        "juries.*",
        "documents.*",
        "declarations.*",
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
        # The security journal: failed passwords and lockouts, read only.
        "axes.view_accessattempt",
        "axes.view_accessfailurelog",
        "axes.view_accesslog",
    ],
    Role.TRAINER: [
        "certif.view_certification",
        "candidates.view_candidate",
        "evaluation.view_evaluationsession",
        "evaluation.view_blockevaluation",
        "evaluation.view_levelentry",
        "evaluation.add_levelentry",
        "evaluation.change_levelentry",
    ],
    Role.PRESIDENT: [
        "certif.view_certification",
        "juries.view_jurysession",
        "juries.view_decision",
        "juries.change_decision",
        "juries.add_rectification",
        "juries.view_rectification",
    ],
}


def _permissions_for(specs: list[str]) -> list[Permission]:
    permissions: list[Permission] = []
    for spec in specs:
        app_label, codename = spec.split(".")
        if codename == "*":
            apps.get_app_config(app_label)  # fails loudly on a misspelt application
            permissions.extend(Permission.objects.filter(content_type__app_label=app_label))
        else:
            permissions.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return permissions


def install_roles() -> None:
    for role, specs in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(_permissions_for(specs))


def roles_of(user) -> frozenset[str]:
    """The user's roles, read once per request (cached on the user object)."""
    if not user.is_authenticated:
        return frozenset()
    if not hasattr(user, "_mpes_roles"):
        names = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        if user.is_superuser:
            names.add(Role.STAFF)
        user._mpes_roles = frozenset(names)
    return user._mpes_roles


def holders_of(role: str):
    """The accounts that hold `role` (to choose a trainer, an evaluator, a president)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(groups__name=role)


def accounts_that_may_preside():
    """The accounts `may_preside` accepts, as a queryset (to choose a session's president)."""
    return (
        holders_of(Role.PRESIDENT)
        .filter(is_active=True, is_staff=False, is_superuser=False)
        .exclude(groups__name=Role.STAFF)
    )


def role_labels(user) -> list[str]:
    """The French names of the user's roles, in the order of `Role`."""
    roles = roles_of(user)
    return [Role(role).label for role in Role.values if role in roles]


def may_preside(user) -> bool:
    """Whether this account may preside a jury and sign for it: the president role, and no staff power.

    Who prepares the juries (staff, superusers) never presides them: the signature is someone else's act.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    roles = roles_of(user)
    return Role.PRESIDENT in roles and Role.STAFF not in roles and not user.is_staff and not user.is_superuser
