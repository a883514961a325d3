# The decisions' candidate is filled by the previous migration: a migration of its own, so that PostgreSQL holds no
# pending foreign-key checks from those updates when the column becomes NOT NULL.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('juries', '0005_one_unsigned_jury_and_substitutes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='decision',
            name='candidate',
            field=models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='jury_decisions', to='candidates.candidate', verbose_name='candidat'),
        ),
        migrations.AddConstraint(
            model_name='decision',
            constraint=models.UniqueConstraint(condition=models.Q(('is_open', True)), fields=('candidate', 'block'), name='one_unsigned_jury_per_candidate_block', violation_error_message='Ce candidat est déjà présenté pour ce bloc à un autre jury non signé.'),
        ),
    ]
