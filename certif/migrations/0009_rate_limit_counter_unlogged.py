from django.db import migrations

# The counters are disposable: a crash of PostgreSQL that empties them only restarts the current windows. Unlogged,
# the per-request upsert writes no WAL, so its commit does not wait for a flush to disk.
TABLE = "certif_ratelimitcounter"


def set_unlogged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} SET UNLOGGED")


def set_logged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} SET LOGGED")


class Migration(migrations.Migration):
    dependencies = [
        ("certif", "0008_rate_limit_counter"),
    ]

    operations = [migrations.RunPython(set_unlogged, set_logged, elidable=False)]
