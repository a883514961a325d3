from django.db import migrations


class Migration(migrations.Migration):
    """State only: the access pathway now lives in certif (same table)."""

    dependencies = [
        ("candidates", "0010_withdrawn_document_and_pathway_move_out"),
        ("juries", "0009_documents_and_jury_rule_leave_juries"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(model_name="accesspathway", name="unique_pathway_code"),
                migrations.DeleteModel(name="AccessPathway"),
            ],
        ),
    ]
