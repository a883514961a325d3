import certif.validation
import django.db.models.deletion
import django.utils.timezone
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """The evaluation room as the rooms left it, in one migration depending only on the rooms below.

    A fresh database follows it; one built before it follows the replaced history (migrations_legacy),
    which `migrate` (config) runs first, and then records it as applied.
    """

    initial = True

    replaces = [
        ("evaluation", "0001_initial"),
        ("evaluation", "0002_unique_messages_in_french"),
        ("evaluation", "0003_database_guards"),
    ]

    dependencies = [
        ("certif", "0001_squashed_rooms"),
        ("candidates", "0001_squashed_rooms"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="EvaluationSession",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("starts_on", models.DateField(verbose_name="début")),
                ("ends_on", models.DateField(verbose_name="fin")),
                ("opened_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="ouverte le")),
                (
                    "blocks",
                    models.ManyToManyField(related_name="evaluation_sessions", to="certif.block", verbose_name="blocs"),
                ),
                (
                    "cohort",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="evaluation_sessions",
                        to="candidates.cohort",
                        verbose_name="promotion",
                    ),
                ),
                (
                    "evaluators",
                    models.ManyToManyField(
                        related_name="evaluation_sessions", to=settings.AUTH_USER_MODEL, verbose_name="évaluateurs"
                    ),
                ),
                (
                    "opened_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="ouverte par",
                    ),
                ),
            ],
            options={
                "verbose_name": "session d'évaluation",
                "verbose_name_plural": "sessions d'évaluation",
                "ordering": ["-starts_on", "-pk"],
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="BlockEvaluation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "status",
                    models.CharField(
                        choices=[("draft", "En cours de saisie"), ("submitted", "Soumise")],
                        default="draft",
                        max_length=20,
                        verbose_name="statut",
                    ),
                ),
                ("submitted_at", models.DateTimeField(blank=True, null=True, verbose_name="soumise le")),
                (
                    "locked_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="Renseignée à la signature du jury : plus rien ne change.",
                        null=True,
                        verbose_name="verrouillée le",
                    ),
                ),
                (
                    "block",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="evaluations",
                        to="certif.block",
                        verbose_name="bloc",
                    ),
                ),
                (
                    "grid",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="evaluations",
                        to="certif.grid",
                        verbose_name="grille",
                    ),
                ),
                (
                    "scale",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="evaluations",
                        to="certif.ratingscale",
                        verbose_name="échelle",
                    ),
                ),
                (
                    "submitted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="soumise par",
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="block_evaluations",
                        to="evaluation.evaluationsession",
                        verbose_name="session",
                    ),
                ),
            ],
            options={
                "verbose_name": "grille d'une session",
                "verbose_name_plural": "grilles des sessions",
                "ordering": ["session", "block__number"],
            },
        ),
        migrations.CreateModel(
            name="LevelEntry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "level",
                    models.CharField(
                        blank=True,
                        help_text="Code d'un niveau de l'échelle, ou vide.",
                        max_length=5,
                        verbose_name="niveau",
                    ),
                ),
                ("comment", models.TextField(blank=True, verbose_name="commentaire")),
                ("version", models.PositiveIntegerField(default=1, verbose_name="version")),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="modifié le")),
                (
                    "block_evaluation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="entries",
                        to="evaluation.blockevaluation",
                        verbose_name="grille",
                    ),
                ),
                (
                    "competence",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="level_entries",
                        to="certif.competence",
                        verbose_name="compétence",
                    ),
                ),
                (
                    "enrolment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="level_entries",
                        to="candidates.enrolment",
                        verbose_name="inscription",
                    ),
                ),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="modifié par",
                    ),
                ),
            ],
            options={
                "verbose_name": "niveau saisi",
                "verbose_name_plural": "niveaux saisis",
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.AddConstraint(
            model_name="evaluationsession",
            constraint=models.CheckConstraint(
                condition=models.Q(("ends_on__gte", models.F("starts_on"))), name="evaluation_session_dates_in_order"
            ),
        ),
        migrations.AddConstraint(
            model_name="blockevaluation",
            constraint=models.UniqueConstraint(fields=("session", "block"), name="unique_block_evaluation"),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="blockevaluation",
            trigger=pgtrigger.compiler.Trigger(
                name="frozen_rows",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.locked_at IS NOT NULL)",
                    func="IF TG_OP = 'DELETE' THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Le jury a signé les résultats de ce bloc : la grille ne peut plus être modifiée.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Le jury a signé les résultats de ce bloc : la grille ne peut plus être modifiée.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME;",
                    hash="2524e0e70732b0928c76860c7243ff5f1b1df147",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_frozen_rows_12e79",
                    table="evaluation_blockevaluation",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="levelentry",
            constraint=models.UniqueConstraint(
                fields=("block_evaluation", "enrolment", "competence"),
                name="unique_level_entry",
                violation_error_message="Un niveau est déjà saisi pour ce candidat sur cette compétence.",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="levelentry",
            trigger=pgtrigger.compiler.Trigger(
                name="frozen_parent",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    declare="DECLARE parent_frozen BOOLEAN;",
                    func="IF TG_OP <> 'INSERT' THEN SELECT evaluation.locked_at IS NOT NULL INTO parent_frozen FROM evaluation_blockevaluation evaluation WHERE evaluation.id = OLD.block_evaluation_id FOR SHARE OF evaluation; IF parent_frozen THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Le jury a signé les résultats de ce bloc : la grille ne peut plus être modifiée.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; SELECT evaluation.locked_at IS NOT NULL INTO parent_frozen FROM evaluation_blockevaluation evaluation WHERE evaluation.id = NEW.block_evaluation_id FOR SHARE OF evaluation; IF parent_frozen THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Le jury a signé les résultats de ce bloc : la grille ne peut plus être modifiée.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RETURN NEW;",
                    hash="bf66b769918f20f720cf34c555110ec05000f59e",
                    operation="INSERT OR UPDATE OR DELETE",
                    pgid="pgtrigger_frozen_parent_78d57",
                    table="evaluation_levelentry",
                    when="BEFORE",
                ),
            ),
        ),
    ]
