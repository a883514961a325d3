import certif.validation
import django.db.models.deletion
import django.utils.timezone
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """The jury room as the rooms left it, in one migration depending only on the rooms below.

    A fresh database follows it; one built before it follows the replaced history (migrations_legacy),
    which `migrate` (config) runs first, and then records it as applied.
    """

    initial = True

    replaces = [
        ("juries", "0001_initial"),
        ("juries", "0002_sessions_decisions"),
        ("juries", "0003_documents"),
        ("juries", "0004_unique_messages_in_french"),
        ("juries", "0005_one_unsigned_jury_and_substitutes"),
        ("juries", "0006_one_unsigned_jury_constraint"),
        ("juries", "0007_database_guards"),
        ("juries", "0008_document_batch_heartbeat"),
        ("juries", "0009_documents_and_jury_rule_leave_juries"),
        ("juries", "0010_jury_provenance"),
    ]

    dependencies = [
        ("certif", "0001_squashed_rooms"),
        ("candidates", "0001_squashed_rooms"),
        ("evaluation", "0001_squashed_rooms"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CertificateSequence",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("year", models.PositiveSmallIntegerField(unique=True, verbose_name="année")),
                ("last_number", models.PositiveIntegerField(default=0, verbose_name="dernier numéro")),
            ],
            options={
                "verbose_name": "séquence des numéros de certificat",
                "verbose_name_plural": "séquences des numéros de certificat",
            },
        ),
        migrations.CreateModel(
            name="Decision",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("is_open", models.BooleanField(default=True, editable=False, verbose_name="jury non signé")),
                (
                    "proposal_outcome",
                    models.CharField(
                        choices=[("validated", "Validé"), ("not_validated", "Non validé"), ("incomplete", "Incomplet")],
                        max_length=20,
                        verbose_name="proposition",
                    ),
                ),
                ("proposal_explanation", models.TextField(verbose_name="explication de la proposition")),
                (
                    "outcome",
                    models.CharField(
                        blank=True,
                        choices=[("validated", "Validé"), ("not_validated", "Non validé")],
                        max_length=20,
                        verbose_name="décision du jury",
                    ),
                ),
                ("departure_reason", models.TextField(blank=True, verbose_name="motif de l'écart à la proposition")),
                ("decided_at", models.DateTimeField(blank=True, null=True, verbose_name="décidée le")),
                (
                    "block",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="jury_decisions",
                        to="certif.block",
                        verbose_name="bloc",
                    ),
                ),
                (
                    "block_evaluation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="jury_decisions",
                        to="evaluation.blockevaluation",
                        verbose_name="grille",
                    ),
                ),
                (
                    "candidate",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="jury_decisions",
                        to="candidates.candidate",
                        verbose_name="candidat",
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="décidée par",
                    ),
                ),
            ],
            options={
                "verbose_name": "décision du jury",
                "verbose_name_plural": "décisions du jury",
                "ordering": ["presentation", "block__number"],
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="DecisionAcquiredBlock",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "acquired_block",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="jury_decision_link",
                        to="candidates.acquiredblock",
                        verbose_name="bloc acquis",
                    ),
                ),
                (
                    "decision",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="acquired_block_links",
                        to="juries.decision",
                        verbose_name="décision du jury",
                    ),
                ),
            ],
            options={
                "verbose_name": "bloc acquis par décision du jury",
                "verbose_name_plural": "blocs acquis par décision du jury",
                "ordering": ["pk"],
            },
        ),
        migrations.CreateModel(
            name="JurySession",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("date", models.DateField(verbose_name="date du jury")),
                ("place", models.CharField(max_length=255, verbose_name="lieu")),
                (
                    "status",
                    models.CharField(
                        choices=[("prepared", "En préparation"), ("signed", "Signée")],
                        default="prepared",
                        max_length=20,
                        verbose_name="statut",
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="créée le")),
                ("signed_at", models.DateTimeField(blank=True, null=True, verbose_name="signée le")),
                (
                    "decisions_fingerprint",
                    models.CharField(
                        blank=True,
                        help_text="Calculée à la signature.",
                        max_length=64,
                        verbose_name="empreinte des décisions (SHA-256)",
                    ),
                ),
                (
                    "blocks",
                    models.ManyToManyField(
                        related_name="jury_sessions", to="certif.block", verbose_name="blocs examinés"
                    ),
                ),
                (
                    "certification",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="jury_sessions",
                        to="certif.certification",
                        verbose_name="certification",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="créée par",
                    ),
                ),
                (
                    "signed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="signée par",
                    ),
                ),
            ],
            options={
                "verbose_name": "session de jury",
                "verbose_name_plural": "sessions de jury",
                "ordering": ["-date", "-pk"],
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="JuryMember",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=150, verbose_name="nom")),
                ("organisation", models.CharField(max_length=255, verbose_name="organisme")),
                (
                    "category",
                    models.CharField(
                        choices=[
                            ("employee_professional", "Professionnel salarié"),
                            ("employer_professional", "Professionnel employeur"),
                            ("trainer", "Formateur"),
                        ],
                        max_length=30,
                        verbose_name="catégorie",
                    ),
                ),
                ("is_president", models.BooleanField(default=False, verbose_name="président du jury")),
                (
                    "is_substitute",
                    models.BooleanField(
                        default=False,
                        help_text="Un suppléant ne délibère que pour remplacer, sur un candidat, un membre titulaire de sa catégorie qui ne délibère pas sur ce candidat (le premier suppléant désigné d'abord).",
                        verbose_name="suppléant",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        help_text="Obligatoire pour le président : il signe avec ce compte.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="jury_memberships",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="compte utilisateur",
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="members",
                        to="juries.jurysession",
                        verbose_name="session",
                    ),
                ),
            ],
            options={
                "verbose_name": "membre du jury",
                "verbose_name_plural": "membres du jury",
                "ordering": ["session", "-is_president", "is_substitute", "category", "name", "pk"],
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="Presentation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("presented_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="présenté le")),
                (
                    "enrolment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="jury_presentations",
                        to="candidates.enrolment",
                        verbose_name="inscription",
                    ),
                ),
                (
                    "presented_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="présenté par",
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="presentations",
                        to="juries.jurysession",
                        verbose_name="session",
                    ),
                ),
            ],
            options={
                "verbose_name": "candidat présenté",
                "verbose_name_plural": "candidats présentés",
                "ordering": ["session", "enrolment__candidate__birth_name", "enrolment__candidate__first_name", "pk"],
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.AddField(
            model_name="decision",
            name="presentation",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="decisions",
                to="juries.presentation",
                verbose_name="candidat présenté",
            ),
        ),
        migrations.CreateModel(
            name="Rectification",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "outcome",
                    models.CharField(
                        choices=[("validated", "Validé"), ("not_validated", "Non validé")],
                        max_length=20,
                        verbose_name="nouvelle décision",
                    ),
                ),
                ("reason", models.TextField(verbose_name="motif de la rectification")),
                ("signed_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="signée le")),
                (
                    "decision",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="rectifications",
                        to="juries.decision",
                        verbose_name="décision rectifiée",
                    ),
                ),
                (
                    "signed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="signée par",
                    ),
                ),
            ],
            options={
                "verbose_name": "rectification",
                "ordering": ["decision", "signed_at", "pk"],
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="Recusal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "source",
                    models.CharField(
                        choices=[("file", "Dossier du candidat"), ("declared", "Déclaré par le membre")],
                        max_length=10,
                        verbose_name="origine",
                    ),
                ),
                ("reason", models.CharField(max_length=255, verbose_name="lien avec le candidat")),
                (
                    "member",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="recusals",
                        to="juries.jurymember",
                        verbose_name="membre",
                    ),
                ),
                (
                    "presentation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="recusals",
                        to="juries.presentation",
                        verbose_name="candidat présenté",
                    ),
                ),
            ],
            options={
                "verbose_name": "membre qui ne délibère pas",
                "verbose_name_plural": "membres qui ne délibèrent pas",
                "ordering": ["presentation", "member__name", "source"],
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="SessionAward",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "award",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="jury_session_link",
                        to="candidates.certificationaward",
                        verbose_name="certification",
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="award_links",
                        to="juries.jurysession",
                        verbose_name="session de jury",
                    ),
                ),
            ],
            options={
                "verbose_name": "certification délivrée par une session de jury",
                "verbose_name_plural": "certifications délivrées par une session de jury",
                "ordering": ["pk"],
            },
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="decisionacquiredblock",
            trigger=pgtrigger.compiler.Trigger(
                name="write_once",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="IF TG_OP = 'DELETE' THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un bloc acquis l''est sans limite de durée : il ne peut être ni modifié ni supprimé.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un bloc acquis l''est sans limite de durée : il ne peut être ni modifié ni supprimé.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME;",
                    hash="fbe9a784d653304e2f90f17dd88d5d9ebe992f90",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_write_once_df4cd",
                    table="juries_decisionacquiredblock",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="jurysession",
            trigger=pgtrigger.compiler.Trigger(
                name="frozen_rows",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.status = 'signed')",
                    func="IF TG_OP = 'DELETE' THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Cette session de jury est signée : ses décisions sont définitives et ne peuvent plus être modifiées.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Cette session de jury est signée : ses décisions sont définitives et ne peuvent plus être modifiées.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME;",
                    hash="86a299dbc4f33b6bbed7e62563ca0e318f35ee3f",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_frozen_rows_7409b",
                    table="juries_jurysession",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="jurymember",
            trigger=pgtrigger.compiler.Trigger(
                name="frozen_parent",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    declare="DECLARE parent_frozen BOOLEAN;",
                    func="IF TG_OP <> 'INSERT' THEN SELECT session.status = 'signed' INTO parent_frozen FROM juries_jurysession session WHERE session.id = OLD.session_id FOR SHARE OF session; IF parent_frozen THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Cette session de jury est signée : ses décisions sont définitives et ne peuvent plus être modifiées.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; SELECT session.status = 'signed' INTO parent_frozen FROM juries_jurysession session WHERE session.id = NEW.session_id FOR SHARE OF session; IF parent_frozen THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Cette session de jury est signée : ses décisions sont définitives et ne peuvent plus être modifiées.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RETURN NEW;",
                    hash="aa463f79c596595b028c60be8bf5432061ee27d3",
                    operation="INSERT OR UPDATE OR DELETE",
                    pgid="pgtrigger_frozen_parent_ba240",
                    table="juries_jurymember",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="presentation",
            constraint=models.UniqueConstraint(
                fields=("session", "enrolment"),
                name="unique_presentation",
                violation_error_message="Ce candidat est déjà présenté à cette session.",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="presentation",
            trigger=pgtrigger.compiler.Trigger(
                name="frozen_parent",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    declare="DECLARE parent_frozen BOOLEAN;",
                    func="IF TG_OP <> 'INSERT' THEN SELECT session.status = 'signed' INTO parent_frozen FROM juries_jurysession session WHERE session.id = OLD.session_id FOR SHARE OF session; IF parent_frozen THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Cette session de jury est signée : ses décisions sont définitives et ne peuvent plus être modifiées.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; SELECT session.status = 'signed' INTO parent_frozen FROM juries_jurysession session WHERE session.id = NEW.session_id FOR SHARE OF session; IF parent_frozen THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Cette session de jury est signée : ses décisions sont définitives et ne peuvent plus être modifiées.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RETURN NEW;",
                    hash="3e652183f9577250bc2c6261280e1a299566e088",
                    operation="INSERT OR UPDATE OR DELETE",
                    pgid="pgtrigger_frozen_parent_63298",
                    table="juries_presentation",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="decision",
            constraint=models.UniqueConstraint(
                fields=("presentation", "block"),
                name="unique_decision",
                violation_error_message="Ce bloc a déjà une décision pour ce candidat.",
            ),
        ),
        migrations.AddConstraint(
            model_name="decision",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_open", True)),
                fields=("candidate", "block"),
                name="one_unsigned_jury_per_candidate_block",
                violation_error_message="Ce candidat est déjà présenté pour ce bloc à un autre jury non signé.",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="decision",
            trigger=pgtrigger.compiler.Trigger(
                name="frozen_parent",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    declare="DECLARE parent_frozen BOOLEAN;",
                    func="IF TG_OP <> 'INSERT' THEN SELECT session.status = 'signed' INTO parent_frozen FROM juries_presentation presentation JOIN juries_jurysession session ON session.id = presentation.session_id WHERE presentation.id = OLD.presentation_id FOR SHARE OF session; IF parent_frozen THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Cette session de jury est signée : ses décisions sont définitives et ne peuvent plus être modifiées.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; SELECT session.status = 'signed' INTO parent_frozen FROM juries_presentation presentation JOIN juries_jurysession session ON session.id = presentation.session_id WHERE presentation.id = NEW.presentation_id FOR SHARE OF session; IF parent_frozen THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Cette session de jury est signée : ses décisions sont définitives et ne peuvent plus être modifiées.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RETURN NEW;",
                    hash="3647ed36a2c82e9045fa6a718393a3e9b2632d3c",
                    operation="INSERT OR UPDATE OR DELETE",
                    pgid="pgtrigger_frozen_parent_44f1b",
                    table="juries_decision",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="rectification",
            trigger=pgtrigger.compiler.Trigger(
                name="write_once",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="IF TG_OP = 'DELETE' THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Une rectification signée ne peut pas être supprimée.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Une rectification signée ne peut pas être modifiée.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME;",
                    hash="076b7be48a80c6691c1b73325c2e99d22b9cf4fa",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_write_once_dae7b",
                    table="juries_rectification",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="recusal",
            constraint=models.UniqueConstraint(
                fields=("member", "presentation", "source"),
                name="unique_recusal_per_source",
                violation_error_message="Ce lien entre ce membre et ce candidat est déjà déclaré.",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="recusal",
            trigger=pgtrigger.compiler.Trigger(
                name="frozen_parent",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    declare="DECLARE parent_frozen BOOLEAN;",
                    func="IF TG_OP <> 'INSERT' THEN SELECT session.status = 'signed' INTO parent_frozen FROM juries_presentation presentation JOIN juries_jurysession session ON session.id = presentation.session_id WHERE presentation.id = OLD.presentation_id FOR SHARE OF session; IF parent_frozen THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Cette session de jury est signée : ses décisions sont définitives et ne peuvent plus être modifiées.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; SELECT session.status = 'signed' INTO parent_frozen FROM juries_presentation presentation JOIN juries_jurysession session ON session.id = presentation.session_id WHERE presentation.id = NEW.presentation_id FOR SHARE OF session; IF parent_frozen THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Cette session de jury est signée : ses décisions sont définitives et ne peuvent plus être modifiées.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RETURN NEW;",
                    hash="86915e330764b505b7fe85d5746e3e966148f144",
                    operation="INSERT OR UPDATE OR DELETE",
                    pgid="pgtrigger_frozen_parent_3e08b",
                    table="juries_recusal",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="sessionaward",
            trigger=pgtrigger.compiler.Trigger(
                name="write_once",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="IF TG_OP = 'DELETE' THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Une certification délivrée ne peut être ni modifiée ni supprimée : son numéro et sa date sont définitifs.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Une certification délivrée ne peut être ni modifiée ni supprimée : son numéro et sa date sont définitifs.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME;",
                    hash="51cecad9a2537737be7627b1d9c6b18d4f01fe71",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_write_once_5870d",
                    table="juries_sessionaward",
                    when="BEFORE",
                ),
            ),
        ),
    ]
