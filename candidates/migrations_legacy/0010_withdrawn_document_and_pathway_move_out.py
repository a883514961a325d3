import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """State only: the revoked documents' list goes to documents, cohorts point at the pathway in certif."""

    dependencies = [
        ("candidates", "0009_withdrawal_guards"),
        ("certif", "0005_fiche_pathways_and_jury_rule"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="cohort",
                    name="pathway",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cohorts",
                        to="certif.accesspathway",
                        verbose_name="voie d'accès",
                    ),
                ),
                migrations.DeleteModel(name="WithdrawnDocument"),
            ],
        ),
    ]
