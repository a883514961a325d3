"""Evaluation sessions and grids: trainers enter a level per competence, the application proposes each outcome.

Each block evaluation keeps the grid version and the scale version it was made on, so that later edits of the
referential (which then make new versions) never change what was judged.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from candidates.models import VAE_PATHWAY_CODE, Cohort, Enrolment, EnrolmentStatus
from certif.guards import FrozenRowsModel, FrozenRowsQuerySet, frozen_parent_trigger, frozen_rows_trigger
from certif.models import Block, Competence, Grid, RatingScale
from certif.permissions import is_staff, is_trainer
from certif.validation import InputRulesMixin

LOCKED_MESSAGE = "Le jury a signé les résultats de ce bloc : la grille ne peut plus être modifiée."


def evaluable_q(prefix: str = "") -> Q:
    """The database form of `Enrolment.can_be_evaluated`: not withdrawn, and not VAE or VAE with a favourable
    admissibility."""
    return ~Q(**{f"{prefix}status": EnrolmentStatus.WITHDRAWN}) & (
        ~Q(**{f"{prefix}cohort__pathway__code": VAE_PATHWAY_CODE}) | Q(**{f"{prefix}admissibility_favourable": True})
    )


def _count(queryset, group_by: str):
    return Coalesce(Subquery(queryset.values(group_by).annotate(n=Count("pk")).values("n")[:1]), 0)


class EvaluationSessionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Staff see every session; a trainer the sessions they evaluate in; anyone else none."""
        if is_staff(user):
            return self
        if is_trainer(user):
            return self.filter(evaluators=user)
        return self.none()


class EvaluationSession(InputRulesMixin, models.Model):
    """A period in which named trainers evaluate one cohort on one or more blocks."""

    planned_event_dates = ("starts_on", "ends_on")

    cohort = models.ForeignKey(
        Cohort, on_delete=models.PROTECT, related_name="evaluation_sessions", verbose_name="promotion"
    )
    blocks = models.ManyToManyField(Block, related_name="evaluation_sessions", verbose_name="blocs")
    evaluators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="evaluation_sessions", verbose_name="évaluateurs"
    )
    starts_on = models.DateField("début")
    ends_on = models.DateField("fin")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="ouverte par"
    )
    opened_at = models.DateTimeField("ouverte le", default=timezone.now)

    objects = EvaluationSessionQuerySet.as_manager()

    class Meta:
        verbose_name = "session d'évaluation"
        verbose_name_plural = "sessions d'évaluation"
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="evaluation_session_dates_in_order"
            )
        ]

    def __str__(self):
        return f"Évaluation {self.cohort} du {self.starts_on:%d/%m/%Y} au {self.ends_on:%d/%m/%Y}"

    def clean(self):
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "La fin de la session doit suivre son début."})


class BlockEvaluationStatus(models.TextChoices):
    DRAFT = "draft", "En cours de saisie"
    SUBMITTED = "submitted", "Soumise"


class BlockEvaluationQuerySet(FrozenRowsQuerySet):
    def with_progress(self):
        """Annotate `filled_cells` and `total_cells` (evaluable candidates × competences): one query in all."""
        return self.annotate(
            filled_cells=_count(
                LevelEntry.objects.filter(block_evaluation=OuterRef("pk"))
                .exclude(level="")
                .filter(evaluable_q("enrolment__")),
                "block_evaluation",
            ),
            candidate_count=_count(
                Enrolment.objects.filter(cohort=OuterRef("session__cohort")).filter(evaluable_q()), "cohort"
            ),
            competence_count=_count(Competence.objects.filter(grid=OuterRef("grid")), "grid"),
        )


class BlockEvaluation(FrozenRowsModel):
    """The grid of one block in one session, on the grid and scale versions current when the session opened.

    Locked (`locked_at`) by the jury's sign-off, in the same transaction: from then on neither it nor its levels
    change."""

    frozen_when = Q(locked_at__isnull=False)
    change_refused = delete_refused = LOCKED_MESSAGE

    session = models.ForeignKey(
        EvaluationSession, on_delete=models.CASCADE, related_name="block_evaluations", verbose_name="session"
    )
    block = models.ForeignKey(Block, on_delete=models.PROTECT, related_name="evaluations", verbose_name="bloc")
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="evaluations", verbose_name="grille")
    scale = models.ForeignKey(RatingScale, on_delete=models.PROTECT, related_name="evaluations", verbose_name="échelle")
    status = models.CharField(
        "statut", max_length=20, choices=BlockEvaluationStatus.choices, default=BlockEvaluationStatus.DRAFT
    )
    submitted_at = models.DateTimeField("soumise le", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="soumise par",
    )
    locked_at = models.DateTimeField(
        "verrouillée le", null=True, blank=True, help_text="Renseignée à la signature du jury : plus rien ne change."
    )

    objects = BlockEvaluationQuerySet.as_manager()

    class Meta:
        verbose_name = "grille d'une session"
        verbose_name_plural = "grilles des sessions"
        ordering = ["session", "block__number"]
        constraints = [models.UniqueConstraint(fields=["session", "block"], name="unique_block_evaluation")]
        triggers = [
            frozen_rows_trigger(condition="OLD.locked_at IS NOT NULL", change=LOCKED_MESSAGE, delete=LOCKED_MESSAGE)
        ]

    def __str__(self):
        return f"Bloc {self.block.number} — {self.session}"

    @property
    def is_submitted(self) -> bool:
        return self.status == BlockEvaluationStatus.SUBMITTED

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def total_cells(self) -> int:
        """Needs `with_progress()`."""
        return self.candidate_count * self.competence_count


class LevelEntry(InputRulesMixin, FrozenRowsModel):
    """One cell of a grid: a candidate's level on one competence, with a comment; `version` counts changes."""

    frozen_with = "block_evaluation"
    change_refused = delete_refused = LOCKED_MESSAGE

    block_evaluation = models.ForeignKey(
        BlockEvaluation, on_delete=models.CASCADE, related_name="entries", verbose_name="grille"
    )
    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.PROTECT, related_name="level_entries", verbose_name="inscription"
    )
    competence = models.ForeignKey(
        Competence, on_delete=models.PROTECT, related_name="level_entries", verbose_name="compétence"
    )
    level = models.CharField("niveau", max_length=5, blank=True, help_text="Code d'un niveau de l'échelle, ou vide.")
    comment = models.TextField("commentaire", blank=True)
    version = models.PositiveIntegerField("version", default=1)
    updated_at = models.DateTimeField("modifié le", default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="modifié par",
    )

    class Meta:
        verbose_name = "niveau saisi"
        verbose_name_plural = "niveaux saisis"
        constraints = [
            models.UniqueConstraint(
                fields=["block_evaluation", "enrolment", "competence"],
                name="unique_level_entry",
                violation_error_message="Un niveau est déjà saisi pour ce candidat sur cette compétence.",
            )
        ]
        triggers = [
            frozen_parent_trigger(
                column="block_evaluation_id",
                parent_frozen="evaluation.locked_at IS NOT NULL",
                parent_rows="evaluation_blockevaluation evaluation WHERE evaluation.id = {id}",
                lock="evaluation",
                message=LOCKED_MESSAGE,
            )
        ]

    def __str__(self):
        return f"Niveau {self.enrolment.candidate} — {self.competence.label[:80]}"
