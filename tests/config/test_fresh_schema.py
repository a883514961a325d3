"""A fresh database (the squashed migrations) has the schema the history before the rooms leads to.

The test database is built by the squashed migrations and those written after them; its schema is read. The rooms
are then taken back to the squashed migrations, to nothing, replayed through the old history (migrations_legacy),
brought forward by the later migrations, and the schema read again.
"""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from config.migration_history import ROOMS_WITH_LEGACY_MIGRATIONS, legacy_history, squashed_targets


def _schema():
    introspection = connection.introspection
    with connection.cursor() as cursor:
        tables = {
            table.name
            for table in introspection.get_table_list(cursor)
            if table.type == "t" and table.name != "django_migrations"
        }
        schema = {
            table: (
                {column.name for column in introspection.get_table_description(cursor, table)},
                set(introspection.get_constraints(cursor, table)),
            )
            for table in tables
        }
        triggers = set()
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal")
            triggers = set(cursor.fetchall())
    return schema, triggers


def _through_the_old_history():
    with legacy_history():
        executor = MigrationExecutor(connection)
        executor.migrate([(room, None) for room in ROOMS_WITH_LEGACY_MIGRATIONS])
        executor = MigrationExecutor(connection)
        executor.migrate([key for key in executor.loader.graph.leaf_nodes() if key[0] in ROOMS_WITH_LEGACY_MIGRATIONS])


def _back_to_the_squashed_migrations():
    """Undo the migrations written after the squash: the old history ends where the squashed migrations do."""
    MigrationExecutor(connection).migrate(squashed_targets())


@pytest.mark.django_db(transaction=True)
def test_a_fresh_database_has_the_schema_of_the_history_before_the_rooms():
    fresh, fresh_triggers = _schema()
    try:
        _back_to_the_squashed_migrations()
        _through_the_old_history()
    finally:
        # The migrations after the squash, on top of the old history: the schema must be the fresh one.
        call_command("migrate", verbosity=0)
    legacy, legacy_triggers = _schema()

    assert set(fresh) == set(legacy)
    for table in sorted(fresh):
        assert (table, fresh[table][0]) == (table, legacy[table][0])
        assert (table, fresh[table][1]) == (table, legacy[table][1])
    assert fresh_triggers == legacy_triggers
    if connection.vendor == "postgresql":
        assert len(fresh_triggers) > 0
