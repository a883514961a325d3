from django.apps import apps
from django.contrib.auth.management import create_permissions


def install_after_migrate(sender, using="default", verbosity=1, **kwargs):
    """Roles and the default referential, once every application's tables and permissions exist."""
    if sender.name != "certif":
        return
    from certif.referential import import_referential, read_referential_file
    from certif.roles import install_roles

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    install_roles()
    certification, created = import_referential(read_referential_file())
    if created and verbosity >= 1:
        print(f"Référentiel installé : {certification}")
