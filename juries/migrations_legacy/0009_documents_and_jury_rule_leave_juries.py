from django.db import migrations


class Migration(migrations.Migration):
    """State only: documents and batches go to the documents app, the composition rule to certif (same tables)."""

    dependencies = [
        ("juries", "0008_document_batch_heartbeat"),
        ("candidates", "0010_withdrawn_document_and_pathway_move_out"),
        ("certif", "0005_fiche_pathways_and_jury_rule"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="DocumentBatch"),
                migrations.DeleteModel(name="IssuedDocument"),
                migrations.DeleteModel(name="JuryCompositionRule"),
            ],
        ),
    ]
