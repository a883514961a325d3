"""The migration history before the rooms, kept for the databases built with it.

Each room's `migrations` holds one migration of its final state that replaces its whole old history, kept in
`migrations_legacy`: the old history moved models between rooms, so its migrations depend on each other up and
down the rooms, while the squashed ones depend only downward. Django can use a squashed migration only when none
or all of the migrations it replaces are applied; a database part-way through the old history is first brought
to its end by the old migrations themselves (the `migrate` command does it), and the squashed ones are then
recorded as applied.
"""

from django.conf import settings
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.test.utils import override_settings

ROOMS_WITH_LEGACY_MIGRATIONS = ("certif", "candidates", "evaluation", "juries", "documents", "declarations")
SQUASHED_MIGRATION = "0001_squashed_rooms"


def squashed_targets() -> list[tuple[str, str]]:
    """Each room at its squashed migration, where the old history ends (later migrations build on both)."""
    return [(room, SQUASHED_MIGRATION) for room in ROOMS_WITH_LEGACY_MIGRATIONS]


def legacy_migration_modules() -> dict[str, str]:
    """MIGRATION_MODULES under which the loader reads the old history instead of the squashed migrations."""
    modules = dict(getattr(settings, "MIGRATION_MODULES", {}) or {})
    modules.update({room: f"{room}.migrations_legacy" for room in ROOMS_WITH_LEGACY_MIGRATIONS})
    return modules


def legacy_history():
    """A context in which migrations (loader, executor, the `migrate` command) follow the old history."""
    return override_settings(MIGRATION_MODULES=legacy_migration_modules())


def replaced_migrations() -> set[tuple[str, str]]:
    """The old migrations the squashed ones replace, read from the squashed migrations themselves."""
    loader = MigrationLoader(None, ignore_no_migrations=True, replace_migrations=False)
    return {
        replaced
        for (room, _name), migration in loader.disk_migrations.items()
        if room in ROOMS_WITH_LEGACY_MIGRATIONS
        for replaced in migration.replaces
    }


def history_is_part_way(connection) -> bool:
    """Whether the database recorded some of the old migrations but not all (a fresh or an up-to-date one did not)."""
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return False
    replaced = replaced_migrations()
    applied = set(recorder.applied_migrations()) & replaced
    return bool(applied) and applied != replaced
