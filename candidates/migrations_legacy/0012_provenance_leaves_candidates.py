"""The provenance of acquired blocks and awards now lives on the jury side (juries.DecisionAcquiredBlock,
juries.SessionAward, filled from these columns by juries/0010 before they go)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('candidates', '0011_accesspathway_leaves_candidates'),
        ('juries', '0010_jury_provenance'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='acquiredblock',
            name='jury_decision',
        ),
        migrations.RemoveField(
            model_name='certificationaward',
            name='jury_session',
        ),
    ]
