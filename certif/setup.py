from django.apps import apps
from django.conf import settings
from django.contrib.auth.management import create_permissions


def _reading_the_old_history() -> bool:
    """True during the first step of `migrate` on a database built before the rooms (config.migration_history):
    the tables are not yet those of the models, and the usual run that follows installs what is missing."""
    modules = getattr(settings, "MIGRATION_MODULES", None) or {}
    return any(str(module).endswith(".migrations_legacy") for module in modules.values())


def install_after_migrate(sender, using="default", verbosity=1, **kwargs):
    """Roles and the default referential, once every application's tables and permissions exist."""
    if sender.name != "certif" or _reading_the_old_history():
        return
    from certif.referential import import_referential, read_referential_file
    from certif.roles import install_roles

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    install_roles()
    certification, created = import_referential(read_referential_file())
    if created and verbosity >= 1:
        print(f"Référentiel installé : {certification}")
