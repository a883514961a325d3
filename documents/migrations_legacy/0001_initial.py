
import certif.validation
import importlib

import django.db.models.deletion
import django.utils.timezone
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models




def _move_content_types(moves):
    """Content types keep their ids (audit rows and permissions point at them): only their app label changes."""

    def forwards(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        for old_label, new_label, model in moves:
            if not ContentType.objects.using(db).filter(app_label=new_label, model=model).exists():
                ContentType.objects.using(db).filter(app_label=old_label, model=model).update(app_label=new_label)

    def backwards(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        for old_label, new_label, model in moves:
            if not ContentType.objects.using(db).filter(app_label=old_label, model=model).exists():
                ContentType.objects.using(db).filter(app_label=new_label, model=model).update(app_label=old_label)

    return migrations.RunPython(forwards, backwards)


def _task_paths(old, new):
    """Queued or finished document batches name their task and exceptions by import path: follow the move."""

    def rename(apps, schema_editor):
        DBTaskResult = apps.get_model("django_tasks_database", "DBTaskResult")
        db = schema_editor.connection.alias
        for field in ("task_path", "exception_class_path"):
            for path_old, path_new in ((f"{old}.tasks.", f"{new}.tasks."), (f"{old}.worker.", f"{new}.worker.")):
                for row in DBTaskResult.objects.using(db).filter(**{f"{field}__startswith": path_old}).only(field):
                    DBTaskResult.objects.using(db).filter(pk=row.pk).update(
                        **{field: path_new + getattr(row, field)[len(path_old) :]}
                    )

    return rename


def _moved_triggers(old_migrations, pgids):
    """The triggers a moved model had on its table, installed under its old app's name (a trigger's name hashes
    the model's label): dropped, and installed again under the new one, on PostgreSQL."""

    def operations(ops):
        for operation in ops:
            yield operation
            yield from operations(getattr(operation, "database_operations", []))
            yield from operations(getattr(operation, "state_operations", []))

    def triggers(module_names):
        found = {}
        for name in module_names:
            for operation in operations(importlib.import_module(name).Migration.operations):
                trigger = getattr(operation, "trigger", None)
                if isinstance(operation, pgtrigger.migrations.AddTrigger):
                    found[trigger.sql.pgid] = trigger
        return found

    def swap(drop, install):
        def run(apps, schema_editor):
            if schema_editor.connection.vendor != "postgresql":
                return
            for trigger in drop():
                schema_editor.execute(trigger.uninstall_sql)
                # pgtrigger leaves a dropped trigger's function behind; a fresh database never had it.
                schema_editor.execute(f"DROP FUNCTION IF EXISTS {trigger.sql.pgid}()")
            for trigger in install():
                schema_editor.execute(trigger.install_sql)

        return run

    def old():
        found = triggers(old_migrations)
        return [found[pgid] for pgid in pgids]

    def new():
        found = triggers([__name__])
        return [trigger for pgid, trigger in found.items() if pgid not in pgids]

    return migrations.RunPython(swap(old, new), swap(new, old))


class Migration(migrations.Migration):
    """Issued documents and their batches (from juries) and the documents a withdrawal revoked (from candidates):
    state only (tables keep their names and triggers), content types keep their ids."""

    initial = True

    dependencies = [
        ("candidates", "0011_accesspathway_leaves_candidates"),
        ("juries", "0009_documents_and_jury_rule_leave_juries"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='DocumentBatch',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('requested_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='demandé le')),
                        ('status', models.CharField(choices=[('pending', 'En attente'), ('running', 'En cours'), ('done', 'Terminé'), ('failed', 'Échec')], default='pending', max_length=20, verbose_name='statut')),
                        ('total', models.PositiveIntegerField(default=0, verbose_name='documents')),
                        ('done', models.PositiveIntegerField(default=0, verbose_name='documents prêts')),
                        ('task_id', models.CharField(blank=True, max_length=64, verbose_name='tâche')),
                        ('started_at', models.DateTimeField(blank=True, null=True, verbose_name='commencé le')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='terminé le')),
                        ('runner', models.CharField(blank=True, max_length=255, verbose_name='processus de production')),
                        ('heartbeat_at', models.DateTimeField(blank=True, null=True, verbose_name='dernier signe de vie')),
                        ('interruptions', models.PositiveSmallIntegerField(default=0, verbose_name='interruptions')),
                        ('error', models.TextField(blank=True, verbose_name='erreur')),
                        ('zip_file', models.BinaryField(blank=True, null=True, verbose_name='archive ZIP')),
                        ('merged_pdf', models.BinaryField(blank=True, null=True, verbose_name='PDF à imprimer')),
                        ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='demandé par')),
                        ('session', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='document_batches', to='juries.jurysession', verbose_name='session de jury')),
                    ],
                    options={
                        'verbose_name': 'lot de documents',
                        'verbose_name_plural': 'lots de documents',
                        'db_table': 'juries_documentbatch',
                        'ordering': ['-requested_at', '-pk'],
                    },
                ),
                migrations.CreateModel(
                    name='IssuedDocument',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('minutes', 'Procès-verbal de délibération'), ('results', 'Relevé de résultats'), ('attestation', 'Attestation de validation de blocs de compétences'), ('certificate', 'Certificat')], max_length=20, verbose_name='type de document')),
                        ('verification_code', models.CharField(max_length=20, unique=True, verbose_name='code de vérification')),
                        ('title', models.CharField(max_length=255, verbose_name='titre')),
                        ('holder_name', models.CharField(blank=True, max_length=255, verbose_name='titulaire')),
                        ('document_date', models.DateField(verbose_name='date du document')),
                        ('reference', models.CharField(blank=True, max_length=30, verbose_name='numéro de certificat')),
                        ('pdf', models.BinaryField(verbose_name='fichier PDF')),
                        ('sha256', models.CharField(max_length=64, verbose_name='empreinte SHA-256')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='émis le')),
                        ('status', models.CharField(choices=[('valid', 'Valide'), ('revoked', 'Révoqué'), ('rectified', 'Rectifié')], default='valid', max_length=20, verbose_name='statut')),
                        ('status_changed_at', models.DateTimeField(blank=True, null=True, verbose_name='statut changé le')),
                        ('status_reason', models.TextField(blank=True, verbose_name='motif de la révocation ou de la rectification')),
                        ('award', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='documents', to='candidates.certificationaward', verbose_name='certification délivrée')),
                        ('candidate', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='issued_documents', to='candidates.candidate', verbose_name='candidat')),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='émis par')),
                        ('session', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='documents', to='juries.jurysession', verbose_name='session de jury')),
                        ('status_changed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='statut changé par')),
                        ('superseded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='supersedes', to='documents.issueddocument', verbose_name='remplacé par')),
                    ],
                    options={
                        'verbose_name': 'document émis',
                        'verbose_name_plural': 'documents émis',
                        'db_table': 'juries_issueddocument',
                        'ordering': ['session', 'candidate', 'kind', '-created_at', '-pk'],
                    },
                    bases=(certif.validation.InputRulesMixin, models.Model),
                ),
                migrations.CreateModel(
                    name='WithdrawnDocument',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('document', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='withdrawn', to='documents.issueddocument', verbose_name='document retiré')),
                        ('withdrawal', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='documents', to='candidates.withdrawal', verbose_name='retrait')),
                    ],
                    options={
                        'verbose_name': 'document retiré',
                        'verbose_name_plural': 'documents retirés',
                        'db_table': 'candidates_withdrawndocument',
                        'ordering': ['pk'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='issueddocument',
                    constraint=models.UniqueConstraint(condition=models.Q(('candidate__isnull', False), ('status', 'valid')), fields=('session', 'kind', 'candidate'), name='unique_valid_candidate_document', violation_error_message='Un document valide de ce type existe déjà pour ce candidat et cette session.'),
                ),
                migrations.AddConstraint(
                    model_name='issueddocument',
                    constraint=models.UniqueConstraint(condition=models.Q(('candidate__isnull', True), ('status', 'valid')), fields=('session', 'kind'), name='unique_valid_session_document', violation_error_message='Un document valide de ce type existe déjà pour cette session.'),
                ),
                pgtrigger.migrations.AddTrigger(
                    model_name='issueddocument',
                    trigger=pgtrigger.compiler.Trigger(name='issued_document', sql=pgtrigger.compiler.UpsertTriggerSql(func="IF TG_OP = 'DELETE' THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un document émis ne peut pas être supprimé : révoquez-le.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; IF to_jsonb(OLD) - ARRAY['status', 'status_changed_at', 'status_changed_by_id', 'status_reason', 'superseded_by_id'] IS DISTINCT FROM to_jsonb(NEW) - ARRAY['status', 'status_changed_at', 'status_changed_by_id', 'status_reason', 'superseded_by_id'] THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un document émis ne peut pas être modifié : seul son statut change (révocation).', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; IF NEW.status IS DISTINCT FROM OLD.status THEN IF NOT (OLD.status = 'valid' AND NEW.status IN ('revoked', 'rectified')) THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un document valide peut seulement devenir révoqué ou rectifié ; un document révoqué ou rectifié le reste.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; ELSIF ROW(OLD.status_changed_at, OLD.status_changed_by_id, OLD.status_reason) IS DISTINCT FROM ROW(NEW.status_changed_at, NEW.status_changed_by_id, NEW.status_reason) THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un document émis ne peut pas être modifié : seul son statut change (révocation).', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; IF OLD.superseded_by_id IS NOT NULL AND NEW.superseded_by_id IS DISTINCT FROM OLD.superseded_by_id THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un document émis ne peut pas être modifié : seul son statut change (révocation).', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RETURN NEW;", hash='1014f295e9eaa6b6b4ea62033d622b3fe49b9300', operation='UPDATE OR DELETE', pgid='pgtrigger_issued_document_79ed0', table='juries_issueddocument', when='BEFORE')),
                ),
                pgtrigger.migrations.AddTrigger(
                    model_name='withdrawndocument',
                    trigger=pgtrigger.compiler.Trigger(name='write_once', sql=pgtrigger.compiler.UpsertTriggerSql(func="IF TG_OP = 'DELETE' THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un retrait enregistré ne peut pas être supprimé.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un retrait enregistré ne peut pas être modifié.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME;", hash='61d08ef7fdd20b4dfac258fb98a53c8c23f5074f', operation='UPDATE OR DELETE', pgid='pgtrigger_write_once_58872', table='candidates_withdrawndocument', when='BEFORE')),
                ),
            ],
        ),
        _move_content_types(
            [
                ("juries", "documents", "issueddocument"),
                ("juries", "documents", "documentbatch"),
                ("candidates", "documents", "withdrawndocument"),
            ]
        ),
        migrations.RunPython(_task_paths("juries", "documents"), _task_paths("documents", "juries")),
        _moved_triggers(['juries.migrations_legacy.0007_database_guards', 'candidates.migrations_legacy.0009_withdrawal_guards'], ['pgtrigger_issued_document_a6f09', 'pgtrigger_write_once_4429d']),
    ]
