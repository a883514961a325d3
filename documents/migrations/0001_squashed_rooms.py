import certif.validation
import django.db.models.deletion
import django.utils.timezone
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """The documents' room as the rooms left it, in one migration depending only on the rooms below.

    A fresh database follows it; one built before it follows the replaced history (migrations_legacy),
    which `migrate` (config) runs first, and then records it as applied.
    """

    initial = True

    replaces = [
        ("documents", "0001_initial"),
    ]

    dependencies = [
        ("candidates", "0001_squashed_rooms"),
        ("juries", "0001_squashed_rooms"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DocumentBatch",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("requested_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="demandé le")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "En attente"),
                            ("running", "En cours"),
                            ("done", "Terminé"),
                            ("failed", "Échec"),
                        ],
                        default="pending",
                        max_length=20,
                        verbose_name="statut",
                    ),
                ),
                ("total", models.PositiveIntegerField(default=0, verbose_name="documents")),
                ("done", models.PositiveIntegerField(default=0, verbose_name="documents prêts")),
                ("task_id", models.CharField(blank=True, max_length=64, verbose_name="tâche")),
                ("started_at", models.DateTimeField(blank=True, null=True, verbose_name="commencé le")),
                ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="terminé le")),
                ("runner", models.CharField(blank=True, max_length=255, verbose_name="processus de production")),
                ("heartbeat_at", models.DateTimeField(blank=True, null=True, verbose_name="dernier signe de vie")),
                ("interruptions", models.PositiveSmallIntegerField(default=0, verbose_name="interruptions")),
                ("error", models.TextField(blank=True, verbose_name="erreur")),
                ("zip_file", models.BinaryField(blank=True, null=True, verbose_name="archive ZIP")),
                ("merged_pdf", models.BinaryField(blank=True, null=True, verbose_name="PDF à imprimer")),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="demandé par",
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="document_batches",
                        to="juries.jurysession",
                        verbose_name="session de jury",
                    ),
                ),
            ],
            options={
                "verbose_name": "lot de documents",
                "verbose_name_plural": "lots de documents",
                "db_table": "juries_documentbatch",
                "ordering": ["-requested_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="IssuedDocument",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("minutes", "Procès-verbal de délibération"),
                            ("results", "Relevé de résultats"),
                            ("attestation", "Attestation de validation de blocs de compétences"),
                            ("certificate", "Certificat"),
                        ],
                        max_length=20,
                        verbose_name="type de document",
                    ),
                ),
                (
                    "verification_code",
                    models.CharField(max_length=20, unique=True, verbose_name="code de vérification"),
                ),
                ("title", models.CharField(max_length=255, verbose_name="titre")),
                ("holder_name", models.CharField(blank=True, max_length=255, verbose_name="titulaire")),
                ("document_date", models.DateField(verbose_name="date du document")),
                ("reference", models.CharField(blank=True, max_length=30, verbose_name="numéro de certificat")),
                ("pdf", models.BinaryField(verbose_name="fichier PDF")),
                ("sha256", models.CharField(max_length=64, verbose_name="empreinte SHA-256")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="émis le")),
                (
                    "status",
                    models.CharField(
                        choices=[("valid", "Valide"), ("revoked", "Révoqué"), ("rectified", "Rectifié")],
                        default="valid",
                        max_length=20,
                        verbose_name="statut",
                    ),
                ),
                ("status_changed_at", models.DateTimeField(blank=True, null=True, verbose_name="statut changé le")),
                (
                    "status_reason",
                    models.TextField(blank=True, verbose_name="motif de la révocation ou de la rectification"),
                ),
                (
                    "award",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="documents",
                        to="candidates.certificationaward",
                        verbose_name="certification délivrée",
                    ),
                ),
                (
                    "candidate",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="issued_documents",
                        to="candidates.candidate",
                        verbose_name="candidat",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="émis par",
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="documents",
                        to="juries.jurysession",
                        verbose_name="session de jury",
                    ),
                ),
                (
                    "status_changed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="statut changé par",
                    ),
                ),
                (
                    "superseded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="supersedes",
                        to="documents.issueddocument",
                        verbose_name="remplacé par",
                    ),
                ),
            ],
            options={
                "verbose_name": "document émis",
                "verbose_name_plural": "documents émis",
                "db_table": "juries_issueddocument",
                "ordering": ["session", "candidate", "kind", "-created_at", "-pk"],
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="WithdrawnDocument",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "document",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="withdrawn",
                        to="documents.issueddocument",
                        verbose_name="document retiré",
                    ),
                ),
                (
                    "withdrawal",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="documents",
                        to="candidates.withdrawal",
                        verbose_name="retrait",
                    ),
                ),
            ],
            options={
                "verbose_name": "document retiré",
                "verbose_name_plural": "documents retirés",
                "db_table": "candidates_withdrawndocument",
                "ordering": ["pk"],
            },
        ),
        migrations.AddConstraint(
            model_name="issueddocument",
            constraint=models.UniqueConstraint(
                condition=models.Q(("candidate__isnull", False), ("status", "valid")),
                fields=("session", "kind", "candidate"),
                name="unique_valid_candidate_document",
                violation_error_message="Un document valide de ce type existe déjà pour ce candidat et cette session.",
            ),
        ),
        migrations.AddConstraint(
            model_name="issueddocument",
            constraint=models.UniqueConstraint(
                condition=models.Q(("candidate__isnull", True), ("status", "valid")),
                fields=("session", "kind"),
                name="unique_valid_session_document",
                violation_error_message="Un document valide de ce type existe déjà pour cette session.",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="issueddocument",
            trigger=pgtrigger.compiler.Trigger(
                name="issued_document",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="IF TG_OP = 'DELETE' THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un document émis ne peut pas être supprimé : révoquez-le.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; IF to_jsonb(OLD) - ARRAY['status', 'status_changed_at', 'status_changed_by_id', 'status_reason', 'superseded_by_id'] IS DISTINCT FROM to_jsonb(NEW) - ARRAY['status', 'status_changed_at', 'status_changed_by_id', 'status_reason', 'superseded_by_id'] THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un document émis ne peut pas être modifié : seul son statut change (révocation).', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; IF NEW.status IS DISTINCT FROM OLD.status THEN IF NOT (OLD.status = 'valid' AND NEW.status IN ('revoked', 'rectified')) THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un document valide peut seulement devenir révoqué ou rectifié ; un document révoqué ou rectifié le reste.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; ELSIF ROW(OLD.status_changed_at, OLD.status_changed_by_id, OLD.status_reason) IS DISTINCT FROM ROW(NEW.status_changed_at, NEW.status_changed_by_id, NEW.status_reason) THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un document émis ne peut pas être modifié : seul son statut change (révocation).', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; IF OLD.superseded_by_id IS NOT NULL AND NEW.superseded_by_id IS DISTINCT FROM OLD.superseded_by_id THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un document émis ne peut pas être modifié : seul son statut change (révocation).', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RETURN NEW;",
                    hash="1014f295e9eaa6b6b4ea62033d622b3fe49b9300",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_issued_document_79ed0",
                    table="juries_issueddocument",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="withdrawndocument",
            trigger=pgtrigger.compiler.Trigger(
                name="write_once",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="IF TG_OP = 'DELETE' THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un retrait enregistré ne peut pas être supprimé.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un retrait enregistré ne peut pas être modifié.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME;",
                    hash="61d08ef7fdd20b4dfac258fb98a53c8c23f5074f",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_write_once_58872",
                    table="candidates_withdrawndocument",
                    when="BEFORE",
                ),
            ),
        ),
    ]
