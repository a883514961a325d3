import certif.validation
import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """The referential as the rooms left it, in one migration depending only on the rooms below.

    A fresh database follows it; one built before it follows the replaced history (migrations_legacy),
    which `migrate` (config) runs first, and then records it as applied.
    """

    initial = True

    replaces = [
        ("certif", "0001_initial"),
        ("certif", "0002_cdc_holder_declarations"),
        ("certif", "0003_unique_messages_in_french"),
        ("certif", "0004_database_guards"),
        ("certif", "0005_fiche_pathways_and_jury_rule"),
        ("certif", "0006_declarations_leave_certif"),
        ("certif", "0007_auditevent_action_from_the_closed_set"),
    ]

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Certification",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("rncp_code", models.CharField(max_length=10, unique=True, verbose_name="code RNCP")),
                ("title", models.CharField(max_length=255, verbose_name="intitulé")),
                ("acronym", models.CharField(blank=True, max_length=20, verbose_name="sigle")),
                ("level_1969", models.CharField(max_length=10, verbose_name="niveau (nomenclature de 1969)")),
                ("level_eqf", models.PositiveSmallIntegerField(verbose_name="niveau (nomenclature européenne)")),
                ("nsf_code", models.CharField(max_length=10, verbose_name="code NSF")),
                ("nsf_label", models.CharField(max_length=255, verbose_name="libellé NSF")),
                ("summary", models.TextField(blank=True, verbose_name="résumé du référentiel d'emploi")),
                ("sectors", models.TextField(blank=True, verbose_name="secteurs d'activité")),
                ("example_jobs", models.JSONField(blank=True, default=list, verbose_name="exemples d'emplois")),
                ("certifier_name", models.CharField(max_length=255, verbose_name="autorité responsable")),
                (
                    "certifier_acronym",
                    models.CharField(blank=True, max_length=20, verbose_name="sigle du certificateur"),
                ),
                ("signatory_title", models.CharField(max_length=100, verbose_name="qualité du signataire")),
                ("certification_place", models.TextField(blank=True, verbose_name="lieu de certification")),
                ("regulation", models.TextField(blank=True, verbose_name="réglementation d'activités")),
                (
                    "accessible_new_caledonia",
                    models.BooleanField(default=False, verbose_name="accessible en Nouvelle-Calédonie"),
                ),
                (
                    "accessible_french_polynesia",
                    models.BooleanField(default=False, verbose_name="accessible en Polynésie française"),
                ),
                (
                    "acquired_blocks_validity",
                    models.CharField(max_length=50, verbose_name="validité des composantes acquises"),
                ),
                ("statistics", models.CharField(blank=True, max_length=255, verbose_name="statistiques")),
                ("website", models.URLField(blank=True, verbose_name="site")),
            ],
            options={
                "verbose_name": "certification",
                "ordering": ["rncp_code"],
                "permissions": [("manage_referential", "Peut modifier le référentiel de la certification")],
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="Block",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "number",
                    models.PositiveSmallIntegerField(
                        validators=[django.core.validators.MinValueValidator(1)], verbose_name="numéro"
                    ),
                ),
                ("title", models.TextField(verbose_name="intitulé")),
                ("evaluation_modality", models.TextField(blank=True, verbose_name="modalités d'évaluation")),
                (
                    "threshold_kind",
                    models.CharField(
                        choices=[("proportion", "Proportion des compétences"), ("count", "Nombre de compétences")],
                        max_length=20,
                        verbose_name="forme du seuil",
                    ),
                ),
                (
                    "threshold_value",
                    models.DecimalField(
                        decimal_places=2,
                        help_text="Un pourcentage (75) pour une proportion, un nombre de compétences (7) pour un décompte.",
                        max_digits=5,
                        verbose_name="valeur du seuil",
                    ),
                ),
                (
                    "declared_competence_count",
                    models.PositiveSmallIntegerField(
                        validators=[django.core.validators.MinValueValidator(1)],
                        verbose_name="nombre de compétences du bloc",
                    ),
                ),
                (
                    "certification",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="blocks", to="certif.certification"
                    ),
                ),
            ],
            options={
                "verbose_name": "bloc de compétences",
                "verbose_name_plural": "blocs de compétences",
                "ordering": ["certification", "number"],
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="AccessPathway",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.SlugField(max_length=40, verbose_name="code")),
                ("label", models.CharField(max_length=255, verbose_name="libellé")),
                ("is_open", models.BooleanField(default=False, verbose_name="ouverte")),
                ("position", models.PositiveSmallIntegerField(default=0, verbose_name="rang")),
                (
                    "certification",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="pathways", to="certif.certification"
                    ),
                ),
            ],
            options={
                "verbose_name": "voie d'accès",
                "verbose_name_plural": "voies d'accès",
                "db_table": "candidates_accesspathway",
                "ordering": ["certification", "position"],
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="Grid",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("version", models.PositiveIntegerField(default=1, verbose_name="version")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="créée le")),
                ("frozen_at", models.DateTimeField(blank=True, null=True, verbose_name="figée le")),
                (
                    "block",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="grids", to="certif.block"
                    ),
                ),
            ],
            options={
                "verbose_name": "grille d'évaluation",
                "verbose_name_plural": "grilles d'évaluation",
                "ordering": ["block", "-version"],
            },
        ),
        migrations.CreateModel(
            name="Competence",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("position", models.PositiveSmallIntegerField(verbose_name="rang")),
                ("label", models.TextField(verbose_name="compétence")),
                (
                    "grid",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="competences", to="certif.grid"
                    ),
                ),
            ],
            options={
                "verbose_name": "compétence",
                "ordering": ["grid", "position"],
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="JuryCompositionRule",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "professionals_percent",
                    models.PositiveSmallIntegerField(default=50, verbose_name="part de professionnels (%)"),
                ),
                (
                    "trainers_percent",
                    models.PositiveSmallIntegerField(default=50, verbose_name="part de formateurs (%)"),
                ),
                (
                    "president_is_professional",
                    models.BooleanField(default=True, verbose_name="le président est un professionnel"),
                ),
                (
                    "professionals_split_equally",
                    models.BooleanField(
                        default=True, verbose_name="professionnels salariés et employeurs à parts égales"
                    ),
                ),
                ("text", models.TextField(verbose_name="composition telle que la fiche l'écrit")),
                (
                    "certification",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="jury_rule", to="certif.certification"
                    ),
                ),
                (
                    "pathways",
                    models.ManyToManyField(
                        blank=True,
                        db_table="juries_jurycompositionrule_pathways",
                        related_name="jury_rules",
                        to="certif.accesspathway",
                    ),
                ),
            ],
            options={
                "verbose_name": "règle de composition des jurys",
                "verbose_name_plural": "règles de composition des jurys",
                "db_table": "juries_jurycompositionrule",
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="PreparationPlace",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=255, verbose_name="nom")),
                ("address", models.TextField(blank=True, verbose_name="adresse")),
                (
                    "certification",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="preparation_places",
                        to="certif.certification",
                    ),
                ),
            ],
            options={
                "verbose_name": "lieu de préparation",
                "verbose_name_plural": "lieux de préparation",
                "ordering": ["pk"],
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="RatingScale",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("version", models.PositiveIntegerField(default=1, verbose_name="version")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="créée le")),
                ("first_used_at", models.DateTimeField(blank=True, null=True, verbose_name="première utilisation")),
                (
                    "certification",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="rating_scales",
                        to="certif.certification",
                    ),
                ),
            ],
            options={
                "verbose_name": "échelle de niveaux",
                "verbose_name_plural": "échelles de niveaux",
                "ordering": ["certification", "-version"],
            },
        ),
        migrations.CreateModel(
            name="Registration",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "act",
                    models.CharField(
                        help_text="Par exemple « Arrêté du 9 avril 2018 ».", max_length=255, verbose_name="acte"
                    ),
                ),
                (
                    "publication",
                    models.CharField(
                        blank=True,
                        help_text="Par exemple « Journal Officiel du 17 avril 2018 ».",
                        max_length=255,
                        verbose_name="publication",
                    ),
                ),
                ("publication_date", models.DateField(blank=True, null=True, verbose_name="date de publication")),
                ("in_force_from", models.DateField(verbose_name="en vigueur du")),
                ("in_force_until", models.DateField(verbose_name="jusqu'au")),
                ("level_note", models.CharField(blank=True, max_length=50, verbose_name="niveau enregistré")),
                (
                    "certification",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="registrations",
                        to="certif.certification",
                    ),
                ),
            ],
            options={
                "verbose_name": "enregistrement au RNCP",
                "verbose_name_plural": "enregistrements au RNCP",
                "ordering": ["in_force_from"],
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="RomeCode",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.CharField(max_length=5, verbose_name="code ROME")),
                ("label", models.CharField(max_length=255, verbose_name="libellé")),
                (
                    "certification",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="rome_codes",
                        to="certif.certification",
                    ),
                ),
            ],
            options={
                "verbose_name": "code ROME",
                "ordering": ["code"],
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="ScaleLevel",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "position",
                    models.PositiveSmallIntegerField(help_text="1 = le meilleur niveau.", verbose_name="rang"),
                ),
                ("code", models.CharField(max_length=5, verbose_name="code")),
                ("label", models.CharField(max_length=100, verbose_name="libellé")),
                ("validates", models.BooleanField(default=False, verbose_name="valide la compétence")),
                (
                    "scale",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="levels", to="certif.ratingscale"
                    ),
                ),
            ],
            options={
                "verbose_name": "niveau",
                "ordering": ["scale", "position"],
            },
            bases=(certif.validation.InputRulesMixin, models.Model),
        ),
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "occurred_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name="date"),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("candidate.created", "Création de la fiche"),
                            ("candidate.updated", "Modification de la fiche"),
                            ("candidate.personal_data_exported", "Export des données personnelles"),
                            ("candidate.results_withdrawn", "Retrait de résultats"),
                            ("cohort.created", "Création de la promotion"),
                            ("cohort.updated", "Modification de la promotion"),
                            ("preparation_place.created", "Ajout d'un lieu de préparation"),
                            ("enrolment.created", "Inscription dans une promotion"),
                            ("enrolment.updated", "Modification de l'inscription"),
                            ("enrolment.admissibility_decided", "Décision de recevabilité"),
                            ("acquired_block.imported", "Reprise d'historique d'un bloc acquis"),
                            ("acquired_block.from_jury", "Bloc acquis sur décision du jury"),
                            ("certification.awarded", "Délivrance de la certification"),
                            ("referential.certification_changed", "Modification de la description"),
                            ("referential.registration_added", "Ajout de l'enregistrement"),
                            ("referential.registration_changed", "Correction de l'enregistrement"),
                            ("referential.registration_deleted", "Suppression de l'enregistrement"),
                            ("referential.threshold_changed", "Modification de la règle du bloc"),
                            ("referential.competence_added", "Ajout d'une compétence à la grille"),
                            ("referential.competence_renamed", "Renommage d'une compétence de la grille"),
                            ("referential.competence_moved", "Déplacement d'une compétence dans la grille"),
                            ("referential.competence_removed", "Retrait d'une compétence de la grille"),
                            ("referential.scale_changed", "Modification de l'échelle de niveaux"),
                            ("referential.scale_versioned", "Nouvelle version de l'échelle de niveaux"),
                            ("evaluation.session_opened", "Ouverture de la session d'évaluation"),
                            ("evaluation.level_changed", "Saisie d'un niveau"),
                            ("evaluation.submitted", "Soumission de la grille du bloc"),
                            ("evaluation.reopened", "Réouverture de la grille du bloc"),
                            ("jury.session_created", "Création de la session de jury"),
                            ("jury.session_updated", "Modification de la session de jury"),
                            ("jury.date_moved", "Déplacement de la date du jury"),
                            ("jury.member_added", "Ajout d'un membre du jury"),
                            ("jury.member_changed", "Modification d'un membre du jury"),
                            ("jury.member_removed", "Retrait d'un membre du jury"),
                            ("jury.recusal_declared", "Déclaration d'une récusation"),
                            ("jury.candidate_presented", "Présentation d'un candidat au jury"),
                            ("jury.candidate_withdrawn", "Retrait d'un candidat de la session"),
                            ("jury.decision_recorded", "Enregistrement d'une décision"),
                            ("jury.decision_overridden", "Décision s'écartant de la proposition"),
                            ("jury.signed_off", "Signature du procès-verbal"),
                            ("jury.decision_rectified", "Rectification d'une décision"),
                            ("document.issued", "Émission d'un document"),
                            ("document.revoked", "Révocation d'un document"),
                            ("document.rectified", "Document rendu caduc par une rectification"),
                            ("documents.batch_requested", "Demande de génération des documents de la session"),
                            ("cdc.settings_changed", "Modification des identifiants auprès de la Caisse des Dépôts"),
                            ("cdc.holders_declared", "Déclaration des titulaires à la Caisse des Dépôts"),
                            ("account.created", "Compte créé"),
                            ("account.changed", "Compte modifié"),
                            ("account.roles_changed", "Rôles modifiés"),
                            ("account.password_link_sent", "Lien pour choisir le mot de passe envoyé"),
                            ("security.locked_out", "Blocage après des essais de mot de passe"),
                        ],
                        max_length=100,
                        verbose_name="action",
                    ),
                ),
                ("target_id", models.CharField(max_length=64, verbose_name="identifiant de l'objet")),
                ("target_repr", models.CharField(max_length=255, verbose_name="objet")),
                ("before", models.JSONField(blank=True, null=True, verbose_name="avant")),
                ("after", models.JSONField(blank=True, null=True, verbose_name="après")),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="auteur",
                    ),
                ),
                (
                    "target_type",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        to="contenttypes.contenttype",
                        verbose_name="type d'objet",
                    ),
                ),
            ],
            options={
                "verbose_name": "trace d'audit",
                "verbose_name_plural": "traces d'audit",
                "ordering": ["-occurred_at", "-pk"],
                "indexes": [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")],
            },
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="auditevent",
            trigger=pgtrigger.compiler.Trigger(
                name="write_once",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="IF TG_OP = 'DELETE' THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Une trace d''audit ne peut pas être supprimée.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Une trace d''audit ne peut pas être modifiée.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME;",
                    hash="c26fa0a19feea2b9012f260d3c2e05336198f755",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_write_once_f46f0",
                    table="certif_auditevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="block",
            constraint=models.UniqueConstraint(
                fields=("certification", "number"),
                name="unique_block_number",
                violation_error_message="Un bloc porte déjà ce numéro dans cette certification.",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="block",
            trigger=pgtrigger.compiler.Trigger(
                name="frozen_rule",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="IF EXISTS (SELECT 1 FROM certif_grid grid WHERE grid.block_id = OLD.id AND grid.frozen_at IS NOT NULL) THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Une évaluation est ouverte ou des résultats ont été signés sur ce bloc : sa règle (seuil, nombre de compétences) ne peut plus être modifiée, ni le bloc supprimé.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW;",
                    hash="ab6f2a6c3483d8b637a01e02dbfcae5d8d40f371",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_frozen_rule_0c901",
                    table="certif_block",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="accesspathway",
            constraint=models.UniqueConstraint(
                fields=("certification", "code"),
                name="unique_pathway_code",
                violation_error_message="Une voie d'accès porte déjà ce code.",
            ),
        ),
        migrations.AddConstraint(
            model_name="grid",
            constraint=models.UniqueConstraint(fields=("block", "version"), name="unique_grid_version"),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="grid",
            trigger=pgtrigger.compiler.Trigger(
                name="frozen_rows",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.frozen_at IS NOT NULL)",
                    func="IF TG_OP = 'DELETE' THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Cette version de la grille est figée (une évaluation l''utilise ou des résultats ont été signés dessus) : ni elle ni ses compétences ne peuvent être modifiées ou supprimées. Modifier la grille en crée une nouvelle version.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Cette version de la grille est figée (une évaluation l''utilise ou des résultats ont été signés dessus) : ni elle ni ses compétences ne peuvent être modifiées ou supprimées. Modifier la grille en crée une nouvelle version.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME;",
                    hash="433ce4c61654bc1f5161a535c3c7a3dec5c4bfa1",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_frozen_rows_c7ec1",
                    table="certif_grid",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="competence",
            constraint=models.UniqueConstraint(
                fields=("grid", "position"),
                name="unique_competence_position",
                violation_error_message="Une compétence occupe déjà ce rang dans la grille.",
            ),
        ),
        migrations.AddConstraint(
            model_name="competence",
            constraint=models.UniqueConstraint(
                fields=("grid", "label"),
                name="unique_competence_label",
                violation_error_message="Cette compétence figure déjà dans la grille du bloc.",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="competence",
            trigger=pgtrigger.compiler.Trigger(
                name="frozen_parent",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    declare="DECLARE parent_frozen BOOLEAN;",
                    func="IF TG_OP <> 'INSERT' THEN SELECT grid.frozen_at IS NOT NULL INTO parent_frozen FROM certif_grid grid WHERE grid.id = OLD.grid_id FOR SHARE OF grid; IF parent_frozen THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Cette version de la grille est figée (une évaluation l''utilise ou des résultats ont été signés dessus) : ni elle ni ses compétences ne peuvent être modifiées ou supprimées. Modifier la grille en crée une nouvelle version.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; SELECT grid.frozen_at IS NOT NULL INTO parent_frozen FROM certif_grid grid WHERE grid.id = NEW.grid_id FOR SHARE OF grid; IF parent_frozen THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Cette version de la grille est figée (une évaluation l''utilise ou des résultats ont été signés dessus) : ni elle ni ses compétences ne peuvent être modifiées ou supprimées. Modifier la grille en crée une nouvelle version.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RETURN NEW;",
                    hash="54fe523a68c12cfe73ad228df217912a4f0249ad",
                    operation="INSERT OR UPDATE OR DELETE",
                    pgid="pgtrigger_frozen_parent_5f214",
                    table="certif_competence",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="preparationplace",
            constraint=models.UniqueConstraint(
                fields=("certification", "name"),
                name="unique_preparation_place",
                violation_error_message="Un lieu de préparation porte déjà ce nom.",
            ),
        ),
        migrations.AddConstraint(
            model_name="ratingscale",
            constraint=models.UniqueConstraint(fields=("certification", "version"), name="unique_rating_scale_version"),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="ratingscale",
            trigger=pgtrigger.compiler.Trigger(
                name="frozen_rows",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.first_used_at IS NOT NULL)",
                    func="IF TG_OP = 'DELETE' THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Cette version de l''échelle de niveaux est utilisée par une évaluation : ni elle ni ses niveaux ne peuvent être modifiés ou supprimés. Créez une nouvelle version.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Cette version de l''échelle de niveaux est utilisée par une évaluation : ni elle ni ses niveaux ne peuvent être modifiés ou supprimés. Créez une nouvelle version.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME;",
                    hash="a4db6fe698ce969772eaceb237af6eddd941b141",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_frozen_rows_d9523",
                    table="certif_ratingscale",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="registration",
            constraint=models.CheckConstraint(
                condition=models.Q(("in_force_until__gt", models.F("in_force_from"))),
                name="registration_dates_in_order",
            ),
        ),
        migrations.AddConstraint(
            model_name="romecode",
            constraint=models.UniqueConstraint(
                fields=("certification", "code"),
                name="unique_rome_code",
                violation_error_message="Ce code ROME figure déjà dans la fiche.",
            ),
        ),
        migrations.AddConstraint(
            model_name="scalelevel",
            constraint=models.UniqueConstraint(
                fields=("scale", "code"),
                name="unique_scale_level_code",
                violation_error_message="Deux niveaux ne peuvent pas avoir le même code.",
            ),
        ),
        migrations.AddConstraint(
            model_name="scalelevel",
            constraint=models.UniqueConstraint(
                fields=("scale", "position"),
                name="unique_scale_level_position",
                violation_error_message="Deux niveaux ne peuvent pas avoir le même rang.",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="scalelevel",
            trigger=pgtrigger.compiler.Trigger(
                name="frozen_parent",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    declare="DECLARE parent_frozen BOOLEAN;",
                    func="IF TG_OP <> 'INSERT' THEN SELECT scale.first_used_at IS NOT NULL INTO parent_frozen FROM certif_ratingscale scale WHERE scale.id = OLD.scale_id FOR SHARE OF scale; IF parent_frozen THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Cette version de l''échelle de niveaux est utilisée par une évaluation : ni elle ni ses niveaux ne peuvent être modifiés ou supprimés. Créez une nouvelle version.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; SELECT scale.first_used_at IS NOT NULL INTO parent_frozen FROM certif_ratingscale scale WHERE scale.id = NEW.scale_id FOR SHARE OF scale; IF parent_frozen THEN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = 'Cette version de l''échelle de niveaux est utilisée par une évaluation : ni elle ni ses niveaux ne peuvent être modifiés ou supprimés. Créez une nouvelle version.', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME; END IF; RETURN NEW;",
                    hash="fa862bfead43af2b2448de7576825f037bfc93b0",
                    operation="INSERT OR UPDATE OR DELETE",
                    pgid="pgtrigger_frozen_parent_8c66b",
                    table="certif_scalelevel",
                    when="BEFORE",
                ),
            ),
        ),
    ]
