import candidates.models
import certif.validation
import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """The candidates' room as the rooms left it, in one migration depending only on the rooms below.

    A fresh database follows it; one built before it follows the replaced history (migrations_legacy),
    which `migrate` (config) runs first, and then records it as applied.
    """

    initial = True

    replaces = [
        ("candidates", "0001_initial"),
        ("candidates", "0002_initial"),
        ("candidates", "0003_candidate_cohort_enrolment_acquiredblock_and_more"),
        ("candidates", "0004_jury_links"),
        ("candidates", "0005_candidate_birth_postal_code"),
        ("candidates", "0006_withdrawals"),
        ("candidates", "0007_input_rules_messages"),
        ("candidates", "0008_database_guards"),
        ("candidates", "0009_withdrawal_guards"),
        ("candidates", "0010_withdrawn_document_and_pathway_move_out"),
        ("candidates", "0011_accesspathway_leaves_candidates"),
        ("candidates", "0012_provenance_leaves_candidates"),
    ]

    dependencies = [
        ("certif", "0001_squashed_rooms"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AcquiredBlock",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("acquired_on", models.DateField(verbose_name="acquis le")),
                (
                    "source",
                    models.CharField(
                        choices=[("jury", "Décision de jury"), ("import", "Reprise d'historique")],
                        max_length=10,
                        verbose_name="origine",
                    ),
                ),
                (
                    "import_source",
                    models.CharField(
                        blank=True,
                        help_text="Par exemple « PV du jury du 12 juin 2019 ».",
                        max_length=255,
                        verbose_name="source de la reprise",
                    ),
                ),
                ("recorded_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="enregistré le")),
            ],
            options={
                "verbose_name": "bloc acquis",
                "verbose_name_plural": "blocs acquis",
                "ordering": ["block__number"],
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="Candidate",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("birth_name", models.CharField(max_length=100, verbose_name="nom de naissance")),
                ("usage_name", models.CharField(blank=True, max_length=100, verbose_name="nom d'usage")),
                ("first_name", models.CharField(max_length=60, verbose_name="prénom")),
                ("second_first_name", models.CharField(blank=True, max_length=60, verbose_name="deuxième prénom")),
                ("third_first_name", models.CharField(blank=True, max_length=60, verbose_name="troisième prénom")),
                ("sex", models.CharField(choices=[("F", "Femme"), ("M", "Homme")], max_length=1, verbose_name="sexe")),
                ("birth_date", models.DateField(verbose_name="date de naissance")),
                ("birth_commune", models.CharField(max_length=100, verbose_name="commune de naissance")),
                (
                    "birth_insee_code",
                    models.CharField(
                        blank=True,
                        help_text="Pour une naissance en France (5 caractères ; 2A ou 2B pour la Corse).",
                        max_length=5,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^(?:\\d{5}|2[AB]\\d{3})$",
                                "Le code INSEE compte 5 caractères : 5 chiffres, ou 2A / 2B suivis de 3 chiffres pour la Corse.",
                            ),
                            candidates.models.validate_department_number,
                        ],
                        verbose_name="code INSEE de la commune de naissance",
                    ),
                ),
                (
                    "birth_postal_code",
                    models.CharField(
                        blank=True,
                        help_text="Pour une naissance en France quand le code INSEE n'est pas connu (5 chiffres) : la déclaration à la Caisse des Dépôts l'accepte à sa place.",
                        max_length=5,
                        validators=[
                            django.core.validators.RegexValidator("^\\d{5}$", "Le code postal compte 5 chiffres."),
                            candidates.models.validate_department_number,
                        ],
                        verbose_name="code postal de la commune de naissance",
                    ),
                ),
                ("birth_country", models.CharField(default="France", max_length=100, verbose_name="pays de naissance")),
                ("email", models.EmailField(blank=True, max_length=254, verbose_name="courriel")),
                (
                    "phone",
                    models.CharField(
                        blank=True,
                        max_length=25,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^(?:0[1-9](?:[ .-]?\\d{2}){4}|\\+\\d{1,3}(?:[ .-]?\\d{1,4}){2,6})$",
                                "Numéro de téléphone invalide : 10 chiffres commençant par 0 (06 12 34 56 78) ou format international (+33 6 12 34 56 78).",
                            )
                        ],
                        verbose_name="téléphone",
                    ),
                ),
                ("address", models.CharField(blank=True, max_length=255, verbose_name="adresse")),
                (
                    "postal_code",
                    models.CharField(
                        blank=True,
                        max_length=5,
                        validators=[
                            django.core.validators.RegexValidator("^\\d{5}$", "Le code postal compte 5 chiffres."),
                            candidates.models.validate_department_number,
                        ],
                        verbose_name="code postal",
                    ),
                ),
                ("city", models.CharField(blank=True, max_length=100, verbose_name="ville")),
                (
                    "employer_name",
                    models.CharField(blank=True, max_length=255, verbose_name="employeur (entreprise de l'ESS)"),
                ),
                (
                    "employer_kind",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("association", "Association"),
                            ("fondation", "Fondation"),
                            ("cooperative", "Coopérative"),
                            ("mutuelle", "Mutuelle"),
                            ("autre", "Autre"),
                        ],
                        max_length=20,
                        verbose_name="type d'employeur",
                    ),
                ),
                ("job_title", models.CharField(blank=True, max_length=255, verbose_name="emploi occupé")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="créé le")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="modifié le")),
            ],
            options={
                "verbose_name": "candidat",
                "ordering": ["birth_name", "first_name", "pk"],
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="CertificationAward",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.CharField(max_length=30, unique=True, verbose_name="numéro de certificat")),
                ("awarded_on", models.DateField(verbose_name="délivrée le")),
            ],
            options={
                "verbose_name": "certification délivrée",
                "verbose_name_plural": "certifications délivrées",
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="Cohort",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=150, verbose_name="nom")),
                ("start_date", models.DateField(verbose_name="début")),
                ("end_date", models.DateField(verbose_name="fin")),
            ],
            options={
                "verbose_name": "promotion",
                "ordering": ["-start_date", "name"],
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="Enrolment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("enrolled_on", models.DateField(default=django.utils.timezone.localdate, verbose_name="inscrit le")),
                (
                    "status",
                    models.CharField(
                        choices=[("en_cours", "En cours"), ("termine", "Parcours terminé"), ("abandon", "Abandon")],
                        default="en_cours",
                        max_length=20,
                        verbose_name="statut",
                    ),
                ),
                ("tutor_name", models.CharField(blank=True, max_length=150, verbose_name="tuteur")),
                ("vae_accompanist", models.CharField(blank=True, max_length=150, verbose_name="accompagnateur VAE")),
                (
                    "admissibility_date",
                    models.DateField(blank=True, null=True, verbose_name="date de la décision de recevabilité"),
                ),
                (
                    "admissibility_favourable",
                    models.BooleanField(blank=True, null=True, verbose_name="recevabilité favorable"),
                ),
                (
                    "admissibility_reason",
                    models.TextField(blank=True, verbose_name="motif de la décision de recevabilité"),
                ),
            ],
            options={
                "verbose_name": "inscription",
                "ordering": ["-enrolled_on", "-pk"],
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="Withdrawal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "reference",
                    models.CharField(
                        help_text="Par exemple « Décision du directeur général n° 2026-14 du 20 novembre 2026 ».",
                        max_length=255,
                        verbose_name="référence de la décision",
                    ),
                ),
                ("decided_on", models.DateField(verbose_name="date de la décision")),
                ("reason", models.TextField(verbose_name="motif")),
                ("recorded_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="enregistré le")),
            ],
            options={
                "verbose_name": "retrait",
                "verbose_name_plural": "retraits",
                "ordering": ["-decided_on", "-recorded_at", "-pk"],
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="WithdrawnBlock",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
            ],
            options={
                "verbose_name": "bloc retiré",
                "verbose_name_plural": "blocs retirés",
                "ordering": ["acquired_block__block__number", "pk"],
            },
        ),
        migrations.AddField(
            model_name="acquiredblock",
            name="block",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="acquisitions",
                to="certif.block",
                verbose_name="bloc",
            ),
        ),
        migrations.AddField(
            model_name="acquiredblock",
            name="recorded_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="enregistré par",
            ),
        ),
        migrations.AddField(
            model_name="acquiredblock",
            name="replaces",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="replaced_by",
                to="candidates.acquiredblock",
                verbose_name="acquis de nouveau après le retrait de",
            ),
        ),
        migrations.AddIndex(
            model_name="candidate",
            index=models.Index(fields=["birth_name", "first_name", "birth_date"], name="candidate_identity_idx"),
        ),
        migrations.AddField(
            model_name="acquiredblock",
            name="candidate",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="acquired_blocks", to="candidates.candidate"
            ),
        ),
        migrations.AddField(
            model_name="certificationaward",
            name="candidate",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="awards", to="candidates.candidate"
            ),
        ),
        migrations.AddField(
            model_name="certificationaward",
            name="certification",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="awards", to="certif.certification"
            ),
        ),
        migrations.AddField(
            model_name="certificationaward",
            name="replaces",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="replaced_by",
                to="candidates.certificationaward",
                verbose_name="délivrée de nouveau après le retrait de",
            ),
        ),
        migrations.AddField(
            model_name="cohort",
            name="certification",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="cohorts", to="certif.certification"
            ),
        ),
        migrations.AddField(
            model_name="cohort",
            name="pathway",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cohorts",
                to="certif.accesspathway",
                verbose_name="voie d'accès",
            ),
        ),
        migrations.AddField(
            model_name="cohort",
            name="preparation_place",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cohorts",
                to="certif.preparationplace",
                verbose_name="lieu de préparation",
            ),
        ),
        migrations.AddField(
            model_name="cohort",
            name="trainers",
            field=models.ManyToManyField(
                blank=True, related_name="trained_cohorts", to=settings.AUTH_USER_MODEL, verbose_name="formateurs"
            ),
        ),
        migrations.AddField(
            model_name="enrolment",
            name="candidate",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="enrolments", to="candidates.candidate"
            ),
        ),
        migrations.AddField(
            model_name="enrolment",
            name="cohort",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="enrolments",
                to="candidates.cohort",
                verbose_name="promotion",
            ),
        ),
        migrations.AddField(
            model_name="withdrawal",
            name="award",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="withdrawal",
                to="candidates.certificationaward",
                verbose_name="certificat retiré",
            ),
        ),
        migrations.AddField(
            model_name="withdrawal",
            name="candidate",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="withdrawals",
                to="candidates.candidate",
                verbose_name="candidat",
            ),
        ),
        migrations.AddField(
            model_name="withdrawal",
            name="certification",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="withdrawals",
                to="certif.certification",
                verbose_name="certification",
            ),
        ),
        migrations.AddField(
            model_name="withdrawal",
            name="recorded_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="enregistré par",
            ),
        ),
        migrations.AddField(
            model_name="withdrawnblock",
            name="acquired_block",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="withdrawn",
                to="candidates.acquiredblock",
                verbose_name="bloc acquis retiré",
            ),
        ),
        migrations.AddField(
            model_name="withdrawnblock",
            name="withdrawal",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="blocks",
                to="candidates.withdrawal",
                verbose_name="retrait",
            ),
        ),
        migrations.AddConstraint(
            model_name="acquiredblock",
            constraint=models.UniqueConstraint(
                condition=models.Q(("replaces__isnull", True)),
                fields=("candidate", "block"),
                name="unique_acquired_block",
                violation_error_message="Ce bloc est déjà acquis par ce candidat.",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="acquiredblock",
            trigger=pgtrigger.compiler.Trigger(
                name="write_once",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="IF TG_OP = 'DELETE' THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un bloc acquis l''est sans limite de durée : il ne peut être ni modifié ni supprimé.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un bloc acquis l''est sans limite de durée : il ne peut être ni modifié ni supprimé.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME;",
                    hash="ed4f033f68b3c425952b30abfe69fe79da337433",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_write_once_41838",
                    table="candidates_acquiredblock",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="certificationaward",
            constraint=models.UniqueConstraint(
                condition=models.Q(("replaces__isnull", True)),
                fields=("candidate", "certification"),
                name="unique_award_per_candidate",
                violation_error_message="Ce candidat a déjà reçu cette certification.",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="certificationaward",
            trigger=pgtrigger.compiler.Trigger(
                name="write_once",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="IF TG_OP = 'DELETE' THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Une certification délivrée ne peut être ni modifiée ni supprimée : son numéro et sa date sont définitifs.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Une certification délivrée ne peut être ni modifiée ni supprimée : son numéro et sa date sont définitifs.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME;",
                    hash="dfced45b2807c2c1ccf1728c58f3ea62b8b8c721",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_write_once_83c3d",
                    table="candidates_certificationaward",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="cohort",
            constraint=models.UniqueConstraint(
                fields=("certification", "name"),
                name="unique_cohort_name",
                violation_error_message="Une promotion porte déjà ce nom : choisissez-en un autre.",
            ),
        ),
        migrations.AddConstraint(
            model_name="enrolment",
            constraint=models.UniqueConstraint(
                fields=("candidate", "cohort"),
                name="unique_enrolment",
                violation_error_message="Ce candidat est déjà inscrit dans cette promotion.",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="withdrawal",
            trigger=pgtrigger.compiler.Trigger(
                name="write_once",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="IF TG_OP = 'DELETE' THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un retrait enregistré ne peut pas être supprimé.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un retrait enregistré ne peut pas être modifié.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME;",
                    hash="b5c7491fb55a6a55a506c45c9f3a0968a8d67d0e",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_write_once_82e91",
                    table="candidates_withdrawal",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="withdrawnblock",
            trigger=pgtrigger.compiler.Trigger(
                name="write_once",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="IF TG_OP = 'DELETE' THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un retrait enregistré ne peut pas être supprimé.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Un retrait enregistré ne peut pas être modifié.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME;",
                    hash="9ec6cd79af5c83fa1bc3ad1f8c3dccfc90f636f5",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_write_once_0c550",
                    table="candidates_withdrawnblock",
                    when="BEFORE",
                ),
            ),
        ),
    ]
