from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class CertifConfig(AppConfig):
    name = "certif"
    verbose_name = "Référentiel de certification"

    def ready(self):
        from certif import accounts, permissions, security  # noqa: F401 (signal receivers, rules)
        from certif.collation import install_sqlite_collation
        from certif.guards import install_translation
        from certif.setup import install_after_migrate

        # After `migrate` (and after the test runner's flushes), the roles and the fiche RNCP 16204 exist.
        # Both installs are idempotent and never overwrite what staff have changed.
        post_migrate.connect(install_after_migrate, dispatch_uid="certif_install_after_migrate")
        # A guard trigger's refusal (PostgreSQL) reaches Python as the ORM guards' French FrozenRowError.
        connection_created.connect(install_translation, dispatch_uid="certif_translate_trigger_errors")
        # Names sort in French order on SQLite too (PostgreSQL has the ICU collation of the same name).
        connection_created.connect(install_sqlite_collation, dispatch_uid="certif_french_collation")
