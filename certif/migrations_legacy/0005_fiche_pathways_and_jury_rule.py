
import certif.validation
import django.db.models.deletion
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


class Migration(migrations.Migration):
    """The access pathways and the jury composition rule are fiche data: they join the referential. State only (the
    tables keep their names); content types keep their ids."""

    dependencies = [
        ("certif", "0004_database_guards"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AccessPathway',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.SlugField(max_length=40, verbose_name='code')),
                        ('label', models.CharField(max_length=255, verbose_name='libellé')),
                        ('is_open', models.BooleanField(default=False, verbose_name='ouverte')),
                        ('position', models.PositiveSmallIntegerField(default=0, verbose_name='rang')),
                    ],
                    options={
                        'verbose_name': "voie d'accès",
                        'verbose_name_plural': "voies d'accès",
                        'db_table': 'candidates_accesspathway',
                        'ordering': ['certification', 'position'],
                    },
                    bases=(certif.validation.InputRulesMixin, models.Model),
                ),
                migrations.CreateModel(
                    name='JuryCompositionRule',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('professionals_percent', models.PositiveSmallIntegerField(default=50, verbose_name='part de professionnels (%)')),
                        ('trainers_percent', models.PositiveSmallIntegerField(default=50, verbose_name='part de formateurs (%)')),
                        ('president_is_professional', models.BooleanField(default=True, verbose_name='le président est un professionnel')),
                        ('professionals_split_equally', models.BooleanField(default=True, verbose_name='professionnels salariés et employeurs à parts égales')),
                        ('text', models.TextField(verbose_name="composition telle que la fiche l'écrit")),
                    ],
                    options={
                        'verbose_name': 'règle de composition des jurys',
                        'verbose_name_plural': 'règles de composition des jurys',
                        'db_table': 'juries_jurycompositionrule',
                    },
                    bases=(certif.validation.InputRulesMixin, models.Model),
                ),
                migrations.AddField(
                    model_name='accesspathway',
                    name='certification',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='pathways', to='certif.certification'),
                ),
                migrations.AddField(
                    model_name='jurycompositionrule',
                    name='certification',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='jury_rule', to='certif.certification'),
                ),
                migrations.AddField(
                    model_name='jurycompositionrule',
                    name='pathways',
                    field=models.ManyToManyField(blank=True, db_table='juries_jurycompositionrule_pathways', related_name='jury_rules', to='certif.accesspathway'),
                ),
                migrations.AddConstraint(
                    model_name='accesspathway',
                    constraint=models.UniqueConstraint(fields=('certification', 'code'), name='unique_pathway_code', violation_error_message="Une voie d'accès porte déjà ce code."),
                ),
            ],
        ),
        _move_content_types([("candidates", "certif", "accesspathway"), ("juries", "certif", "jurycompositionrule")]),
    ]
