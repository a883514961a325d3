from django.core.management.commands.migrate import Command as DjangoMigrateCommand
from django.db import connections

from config.migration_history import history_is_part_way, legacy_history


class Command(DjangoMigrateCommand):
    """Django's `migrate`, which first brings a database part-way through the history before the rooms to its end.

    Such a database cannot follow the squashed migrations (some of what they replace is applied, some not): the
    old migrations, kept in each room's `migrations_legacy`, run first; with all of them recorded, Django counts
    the squashed migrations as applied. A fresh or an up-to-date database goes straight to the usual run.
    """

    def handle(self, *args, **options):
        if history_is_part_way(connections[options["database"]]):
            if options["verbosity"] >= 1:
                self.stdout.write(
                    "Base construite avant les salles : son historique de migrations est d'abord mené à son terme "
                    "par les anciennes migrations."
                )
            with legacy_history():
                super().handle(*args, **{**options, "app_label": None, "migration_name": None})
            if options["plan"] or options["check_unapplied"]:
                return
        super().handle(*args, **options)
