from django.db import migrations


class Migration(migrations.Migration):
    """The holders' declaration models move to the declarations app (state only: the tables stay)."""

    dependencies = [
        ("certif", "0005_fiche_pathways_and_jury_rule"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='cdcdeclarantsettings',
                    name='certification',
                ),
                migrations.RemoveField(
                    model_name='holderdeclaration',
                    name='awards',
                ),
                migrations.RemoveField(
                    model_name='holderdeclaration',
                    name='certification',
                ),
                migrations.RemoveField(
                    model_name='holderdeclaration',
                    name='created_by',
                ),
                migrations.RemoveConstraint(
                    model_name='holderdeclarationline',
                    name='unique_declaration_award',
                ),
                migrations.DeleteModel(
                    name='CdcDeclarantSettings',
                ),
                migrations.RemoveField(
                    model_name='holderdeclarationline',
                    name='award',
                ),
                migrations.RemoveField(
                    model_name='holderdeclarationline',
                    name='declaration',
                ),
                migrations.DeleteModel(
                    name='HolderDeclaration',
                ),
                migrations.DeleteModel(
                    name='HolderDeclarationLine',
                ),
            ],
        ),
    ]
