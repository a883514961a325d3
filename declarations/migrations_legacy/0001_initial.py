
import certif.validation
import importlib

import django.core.validators
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
    """The holders' declaration, out of certif: state only (tables keep their names), content types keep their ids."""

    initial = True

    dependencies = [
        ("candidates", "0011_accesspathway_leaves_candidates"),
        ("certif", "0006_declarations_leave_certif"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='CdcDeclarantSettings',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('sender_id_client', models.CharField(help_text="8 caractères (emetteur/idClient) : l'organisme qui dépose le fichier.", max_length=8, validators=[django.core.validators.RegexValidator('^\\S{8}$', "L'identifiant client compte exactement 8 caractères, sans espace (celui que la Caisse des Dépôts a communiqué).")], verbose_name="identifiant client de l'émetteur")),
                        ('certifier_id_client', models.CharField(help_text="8 caractères (certificateur/idClient) : souvent le même que celui de l'émetteur.", max_length=8, validators=[django.core.validators.RegexValidator('^\\S{8}$', "L'identifiant client compte exactement 8 caractères, sans espace (celui que la Caisse des Dépôts a communiqué).")], verbose_name='identifiant client du certificateur')),
                        ('contract_id', models.CharField(help_text="1 à 20 caractères (certificateur/idContrat), tel qu'il figure dans la convention avec la CDC.", max_length=20, validators=[django.core.validators.RegexValidator('^\\S(?:.{0,18}\\S)?$', 'Le numéro de contrat compte de 1 à 20 caractères, sans espace au début ni à la fin.')], verbose_name='numéro de contrat')),
                        ('certification', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='cdc_settings', to='certif.certification', verbose_name='certification')),
                    ],
                    options={
                        'verbose_name': 'identifiants auprès de la Caisse des Dépôts',
                        'verbose_name_plural': 'identifiants auprès de la Caisse des Dépôts',
                        'db_table': 'certif_cdcdeclarantsettings',
                    },
                    bases=(certif.validation.InputRulesMixin, models.Model),
                ),
                migrations.CreateModel(
                    name='HolderDeclaration',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('flux_id', models.CharField(max_length=50, unique=True, verbose_name='identifiant du flux')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='produit le')),
                        ('xml', models.BinaryField(verbose_name='fichier XML')),
                        ('sha256', models.CharField(max_length=64, verbose_name='empreinte SHA-256')),
                        ('certification', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='holder_declarations', to='certif.certification', verbose_name='certification')),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='produit par')),
                    ],
                    options={
                        'verbose_name': 'déclaration des titulaires',
                        'verbose_name_plural': 'déclarations des titulaires',
                        'db_table': 'certif_holderdeclaration',
                        'ordering': ['-created_at', '-pk'],
                        'permissions': [('declare_holders', 'Peut déclarer les titulaires à la Caisse des Dépôts')],
                    },
                ),
                migrations.CreateModel(
                    name='HolderDeclarationLine',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('is_resend', models.BooleanField(default=False, verbose_name='nouvel envoi')),
                        ('award', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='declaration_lines', to='candidates.certificationaward', verbose_name='certification délivrée')),
                        ('declaration', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='lines', to='declarations.holderdeclaration')),
                    ],
                    options={
                        'verbose_name': 'titulaire déclaré',
                        'verbose_name_plural': 'titulaires déclarés',
                        'db_table': 'certif_holderdeclarationline',
                        'ordering': ['declaration', 'award__number'],
                    },
                ),
                migrations.AddField(
                    model_name='holderdeclaration',
                    name='awards',
                    field=models.ManyToManyField(related_name='holder_declarations', through='declarations.HolderDeclarationLine', to='candidates.certificationaward', verbose_name='titulaires déclarés'),
                ),
                migrations.AddConstraint(
                    model_name='holderdeclarationline',
                    constraint=models.UniqueConstraint(fields=('declaration', 'award'), name='unique_declaration_award'),
                ),
                pgtrigger.migrations.AddTrigger(
                    model_name='holderdeclarationline',
                    trigger=pgtrigger.compiler.Trigger(name='write_once', sql=pgtrigger.compiler.UpsertTriggerSql(func="IF TG_OP = 'DELETE' THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Une déclaration des titulaires à la Caisse des Dépôts est conservée telle qu''elle a été produite : elle ne peut être ni modifiée ni supprimée.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Une déclaration des titulaires à la Caisse des Dépôts est conservée telle qu''elle a été produite : elle ne peut être ni modifiée ni supprimée.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME;", hash='422ff6fdfe81d71c5a139da130e8dd5ed86a31a1', operation='UPDATE OR DELETE', pgid='pgtrigger_write_once_59e17', table='certif_holderdeclarationline', when='BEFORE')),
                ),
                pgtrigger.migrations.AddTrigger(
                    model_name='holderdeclaration',
                    trigger=pgtrigger.compiler.Trigger(name='write_once', sql=pgtrigger.compiler.UpsertTriggerSql(func="IF TG_OP = 'DELETE' THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Une déclaration des titulaires à la Caisse des Dépôts est conservée telle qu''elle a été produite : elle ne peut être ni modifiée ni supprimée.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Une déclaration des titulaires à la Caisse des Dépôts est conservée telle qu''elle a été produite : elle ne peut être ni modifiée ni supprimée.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME;", hash='30f4422e340d58ccff1c637beedef0f3d5f7ec8a', operation='UPDATE OR DELETE', pgid='pgtrigger_write_once_01dd3', table='certif_holderdeclaration', when='BEFORE')),
                ),
            ],
        ),
        _move_content_types(
            [
                ("certif", "declarations", "cdcdeclarantsettings"),
                ("certif", "declarations", "holderdeclaration"),
                ("certif", "declarations", "holderdeclarationline"),
            ]
        ),
        _moved_triggers(['certif.migrations_legacy.0004_database_guards'], ['pgtrigger_write_once_2ecf8', 'pgtrigger_write_once_8d8d8']),
    ]
