"""The jury side knows what it produced: each acquired block its decision, each award its session.

Link rows, written once, copied here from the columns candidates still holds (removed by candidates/0012).
"""

import django.db.models.deletion
import pgtrigger
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


def copy_provenance(apps, schema_editor):
    AcquiredBlock = apps.get_model("candidates", "AcquiredBlock")
    CertificationAward = apps.get_model("candidates", "CertificationAward")
    DecisionAcquiredBlock = apps.get_model("juries", "DecisionAcquiredBlock")
    SessionAward = apps.get_model("juries", "SessionAward")
    DecisionAcquiredBlock.objects.bulk_create(
        DecisionAcquiredBlock(decision_id=decision_id, acquired_block_id=pk)
        for pk, decision_id in AcquiredBlock.objects.filter(jury_decision__isnull=False)
        .order_by("pk")
        .values_list("pk", "jury_decision_id")
    )
    SessionAward.objects.bulk_create(
        SessionAward(session_id=session_id, award_id=pk)
        for pk, session_id in CertificationAward.objects.filter(jury_session__isnull=False)
        .order_by("pk")
        .values_list("pk", "jury_session_id")
    )


def copy_provenance_back(apps, schema_editor):
    """Back into the columns re-added by reversing candidates/0012 (their write-once triggers stepped over)."""
    AcquiredBlock = apps.get_model("candidates", "AcquiredBlock")
    CertificationAward = apps.get_model("candidates", "CertificationAward")
    DecisionAcquiredBlock = apps.get_model("juries", "DecisionAcquiredBlock")
    SessionAward = apps.get_model("juries", "SessionAward")
    with pgtrigger.ignore("candidates.AcquiredBlock:write_once", "candidates.CertificationAward:write_once"):
        for link in DecisionAcquiredBlock.objects.all():
            AcquiredBlock.objects.filter(pk=link.acquired_block_id).update(jury_decision_id=link.decision_id)
        for link in SessionAward.objects.all():
            CertificationAward.objects.filter(pk=link.award_id).update(jury_session_id=link.session_id)


class Migration(migrations.Migration):

    dependencies = [
        ('candidates', '0011_accesspathway_leaves_candidates'),
        ('juries', '0009_documents_and_jury_rule_leave_juries'),
    ]

    operations = [
        migrations.CreateModel(
            name='DecisionAcquiredBlock',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('acquired_block', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='jury_decision_link', to='candidates.acquiredblock', verbose_name='bloc acquis')),
                ('decision', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='acquired_block_links', to='juries.decision', verbose_name='décision du jury')),
            ],
            options={
                'verbose_name': 'bloc acquis par décision du jury',
                'verbose_name_plural': 'blocs acquis par décision du jury',
                'ordering': ['pk'],
            },
        ),
        migrations.CreateModel(
            name='SessionAward',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('award', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='jury_session_link', to='candidates.certificationaward', verbose_name='certification')),
                ('session', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='award_links', to='juries.jurysession', verbose_name='session de jury')),
            ],
            options={
                'verbose_name': 'certification délivrée par une session de jury',
                'verbose_name_plural': 'certifications délivrées par une session de jury',
                'ordering': ['pk'],
            },
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='decisionacquiredblock',
            trigger=pgtrigger.compiler.Trigger(name='write_once', sql=pgtrigger.compiler.UpsertTriggerSql(func="IF TG_OP = 'DELETE' THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un bloc acquis l''est sans limite de durée : il ne peut être ni modifié ni supprimé.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un bloc acquis l''est sans limite de durée : il ne peut être ni modifié ni supprimé.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME;", hash='fbe9a784d653304e2f90f17dd88d5d9ebe992f90', operation='UPDATE OR DELETE', pgid='pgtrigger_write_once_df4cd', table='juries_decisionacquiredblock', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='sessionaward',
            trigger=pgtrigger.compiler.Trigger(name='write_once', sql=pgtrigger.compiler.UpsertTriggerSql(func="IF TG_OP = 'DELETE' THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Une certification délivrée ne peut être ni modifiée ni supprimée : son numéro et sa date sont définitifs.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Une certification délivrée ne peut être ni modifiée ni supprimée : son numéro et sa date sont définitifs.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME;", hash='51cecad9a2537737be7627b1d9c6b18d4f01fe71', operation='UPDATE OR DELETE', pgid='pgtrigger_write_once_5870d', table='juries_sessionaward', when='BEFORE')),
        ),
        migrations.RunPython(copy_provenance, copy_provenance_back),
    ]
