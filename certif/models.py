"""The referential: the certification as the fiche RNCP describes it, held as data."""

import datetime
from collections.abc import Callable, Iterable

import pgtrigger
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import OuterRef, Prefetch, Subquery
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import timezone

from certif.guards import (
    FrozenRowError,
    FrozenRowsModel,
    FrozenRowsQuerySet,
    WriteOnceModel,
    frozen_parent_trigger,
    frozen_rows_trigger,
    raise_sql,
    write_once_trigger,
)
from certif.rules import Threshold, ThresholdKind
from certif.text import is_plural
from certif.validation import InputRulesMixin

GRID_FROZEN_MESSAGE = (
    "Cette version de la grille est figée (une évaluation l'utilise ou des résultats ont été signés dessus) : "
    "ni elle ni ses compétences ne peuvent être modifiées ou supprimées. Modifier la grille en crée une nouvelle "
    "version."
)
SCALE_IN_USE_MESSAGE = (
    "Cette version de l'échelle de niveaux est utilisée par une évaluation : ni elle ni ses niveaux ne peuvent être "
    "modifiés ou supprimés. Créez une nouvelle version."
)
BLOCK_FROZEN_MESSAGE = (
    "Une évaluation est ouverte ou des résultats ont été signés sur ce bloc : sa règle (seuil, nombre de "
    "compétences) ne peut plus être modifiée, ni le bloc supprimé."
)
CORRESPONDENCE_FROZEN_MESSAGE = (
    "Un bloc a été acquis par cette correspondance : elle ne peut plus être modifiée ni supprimée."
)
EXAMPLE_FICHE_LABEL = "fiche d'exemple (démonstration)"
AUDIT_CHANGE_REFUSED = "Une trace d'audit ne peut pas être modifiée."
AUDIT_DELETE_REFUSED = "Une trace d'audit ne peut pas être supprimée."


class Certification(InputRulesMixin, models.Model):
    free_text_max_length = 10_000  # the fiche's summary, sectors and regulation, as France Compétences writes them

    rncp_code = models.CharField("code RNCP", max_length=10, unique=True)
    title = models.CharField("intitulé", max_length=255)
    acronym = models.CharField("sigle", max_length=20, blank=True)
    level_1969 = models.CharField("niveau (nomenclature de 1969)", max_length=10)
    level_eqf = models.PositiveSmallIntegerField("niveau (nomenclature européenne)")
    nsf_code = models.CharField("code NSF", max_length=10)
    nsf_label = models.CharField("libellé NSF", max_length=255)
    summary = models.TextField("résumé du référentiel d'emploi", blank=True)
    sectors = models.TextField("secteurs d'activité", blank=True)
    example_jobs = models.JSONField("exemples d'emplois", default=list, blank=True)
    certifier_name = models.CharField("autorité responsable", max_length=255)
    certifier_acronym = models.CharField("sigle du certificateur", max_length=20, blank=True)
    signatory_title = models.CharField("qualité du signataire", max_length=100)
    certification_place = models.TextField("lieu de certification", blank=True)
    regulation = models.TextField("réglementation d'activités", blank=True)
    accessible_new_caledonia = models.BooleanField("accessible en Nouvelle-Calédonie", default=False)
    accessible_french_polynesia = models.BooleanField("accessible en Polynésie française", default=False)
    acquired_blocks_validity = models.CharField("validité des composantes acquises", max_length=50)
    statistics = models.CharField("statistiques", max_length=255, blank=True)
    website = models.URLField("site", blank=True)
    # What France Compétences says of the fiche's place in a line of renewals, as RNCP codes (« RNCP16204 »): a
    # predecessor or successor need not be installed here.
    previous_rncp_codes = models.JSONField("fiches précédentes (codes RNCP)", default=list, blank=True)
    next_rncp_codes = models.JSONField("fiches suivantes (codes RNCP)", default=list, blank=True)
    last_delivery_date = models.DateField(
        "date limite de délivrance",
        null=True,
        blank=True,
        help_text="Après ce jour, aucun jury de cette certification ne signe (France Compétences la donne à la fin "
        "d'un enregistrement).",
    )
    is_example = models.BooleanField(
        "fiche d'exemple",
        default=False,
        help_text="Une fiche illustrative (la démonstration en installe une), signalée comme telle sur chaque page.",
    )

    class Meta:
        verbose_name = "certification"
        ordering = ["rncp_code"]
        permissions = [("manage_referential", "Peut modifier le référentiel de la certification")]

    def __str__(self):
        return f"RNCP {self.rncp_code} — {self.title}"

    @property
    def rncp_label(self) -> str:
        return f"RNCP{self.rncp_code}"

    @property
    def display_name(self) -> str:
        """How every page names the certification: an illustrative fiche says so wherever it appears."""
        name = f"{self.rncp_label} — {self.title}"
        return f"{name} · {EXAMPLE_FICHE_LABEL}" if self.is_example else name

    def in_force_on(self, day: datetime.date) -> bool:
        """A jury of this certification may sit on `day`: inside a registration, not after the last delivery date."""
        if self.last_delivery_date and day > self.last_delivery_date:
            return False
        return self.registration_on(day) is not None

    def force_label(self, day: datetime.date) -> str:
        """« en vigueur » or « enregistrement terminé le … » (uses the prefetched registrations)."""
        if self.in_force_on(day):
            return "en vigueur"
        ends = [registration.in_force_until for registration in self.registrations.all()]
        if self.last_delivery_date:
            ends.append(self.last_delivery_date)
        past = [end for end in ends if end < day]
        if past:
            return f"enregistrement terminé le {max(past):%d/%m/%Y}"
        return "aucun enregistrement en vigueur"

    def registration_on(self, day: datetime.date):
        """The registration in force on `day`, or None: a jury is only valid inside one."""
        for registration in self.registrations.all():
            if registration.covers(day):
                return registration
        return None


class RomeCode(InputRulesMixin, models.Model):
    certification = models.ForeignKey(Certification, on_delete=models.CASCADE, related_name="rome_codes")
    code = models.CharField("code ROME", max_length=5)
    label = models.CharField("libellé", max_length=255)

    class Meta:
        verbose_name = "code ROME"
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["certification", "code"],
                name="unique_rome_code",
                violation_error_message="Ce code ROME figure déjà dans la fiche.",
            )
        ]

    def __str__(self):
        return f"{self.code} : {self.label}"


class PreparationPlace(InputRulesMixin, models.Model):
    """A place where candidates prepare the certification (the fiche declares two; staff may add)."""

    certification = models.ForeignKey(Certification, on_delete=models.CASCADE, related_name="preparation_places")
    name = models.CharField("nom", max_length=255)
    address = models.TextField("adresse", blank=True)

    class Meta:
        verbose_name = "lieu de préparation"
        verbose_name_plural = "lieux de préparation"
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["certification", "name"],
                name="unique_preparation_place",
                violation_error_message="Un lieu de préparation porte déjà ce nom.",
            )
        ]

    def __str__(self):
        return self.name


# The signed jury sessions live above the referential: juries registers how to find them (juries.apps), so that a
# registration a signed result rests on is guarded without the referential reading the jury's tables.
_signed_sessions_finders: list[Callable[..., Iterable]] = []


def register_signed_sessions_finder(finder: Callable[..., Iterable]) -> None:
    """`finder(certification_id=, first_day=, last_day=)` → the signed sessions held in those days, oldest first."""
    if finder not in _signed_sessions_finders:
        _signed_sessions_finders.append(finder)


def signed_sessions_between(*, certification_id, first_day, last_day) -> list:
    return [
        session
        for finder in _signed_sessions_finders
        for session in finder(certification_id=certification_id, first_day=first_day, last_day=last_day)
    ]


class RegistrationQuerySet(models.QuerySet["Registration"]):
    def bulk_update(self, objs, fields, *args, **kwargs):
        # Checked before Django's own transaction opens, so that a refusal leaves the caller's transaction usable.
        if {"in_force_from", "in_force_until"} & set(fields):
            uncovered = [session for obj in objs for session in obj.sessions_uncovered_by_change()]
            if uncovered:
                raise ValidationError(_uncovered_message(uncovered))
        return super().bulk_update(objs, fields, *args, **kwargs)

    def update(self, **kwargs):
        # The period of a registration a signed jury rests on does not move by a blind update.
        if {"in_force_from", "in_force_until"} & kwargs.keys():
            resting = [session for registration in self for session in registration.signed_sessions_resting_on()]
            if resting:
                raise ValidationError(_uncovered_message(resting))
        return super().update(**kwargs)


class Registration(InputRulesMixin, models.Model):
    """An enregistrement au RNCP: a certificate is only valid for a jury held inside one.

    Both dates are inclusive: the fiche's registrations meet on the same day
    (« jusqu'au 05 mars 2018 » and « avec effet au 05 mars 2018 »), which is not an overlap.
    """

    past_event_dates = ("publication_date", "decision_date")
    planned_event_dates = ("in_force_from", "in_force_until")
    planning_horizon_years = 10  # a renewal is recorded ahead of a period of up to five years, sometimes extended

    certification = models.ForeignKey(Certification, on_delete=models.CASCADE, related_name="registrations")
    act = models.CharField("acte", max_length=255, help_text="Par exemple « Arrêté du 9 avril 2018 ».")
    publication = models.CharField(
        "publication", max_length=255, blank=True, help_text="Par exemple « Journal Officiel du 17 avril 2018 »."
    )
    publication_date = models.DateField("date de publication", null=True, blank=True)
    decision_date = models.DateField("date de la décision", null=True, blank=True)
    in_force_from = models.DateField("en vigueur du")
    in_force_until = models.DateField("jusqu'au")
    level_note = models.CharField("niveau enregistré", max_length=50, blank=True)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        verbose_name = "enregistrement au RNCP"
        verbose_name_plural = "enregistrements au RNCP"
        ordering = ["in_force_from"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(in_force_until__gt=models.F("in_force_from")),
                name="registration_dates_in_order",
            )
        ]

    def __str__(self):
        return self.act

    def save(self, *args, **kwargs):
        uncovered = self.sessions_uncovered_by_change()
        if uncovered:
            raise ValidationError(_uncovered_message(uncovered))
        super().save(*args, **kwargs)

    def covers(self, day: datetime.date) -> bool:
        return self.in_force_from <= day <= self.in_force_until

    def signed_sessions_resting_on(self):
        """The signed jury sessions of the certification held inside this registration's stored period, oldest
        first: their results and documents (which print the registration) rest on it."""
        if self.pk is None:
            return []
        stored = Registration.objects.filter(pk=self.pk).values("in_force_from", "in_force_until").first()
        if stored is None:
            return []
        return signed_sessions_between(
            certification_id=self.certification_id, first_day=stored["in_force_from"], last_day=stored["in_force_until"]
        )

    def sessions_uncovered_by_change(self) -> list:
        """The signed sessions this registration covers as stored, that its new period (and no other
        registration) would no longer cover."""
        if self.pk is None or not (self.in_force_from and self.in_force_until):
            return []
        others = list(Registration.objects.filter(certification_id=self.certification_id).exclude(pk=self.pk))
        return [
            session
            for session in self.signed_sessions_resting_on()
            if not self.covers(session.date) and not any(other.covers(session.date) for other in others)
        ]

    def clean(self):
        uncovered = self.sessions_uncovered_by_change()
        if uncovered:
            raise ValidationError({"in_force_until": _uncovered_message(uncovered)})
        if self.in_force_from and self.in_force_until and self.in_force_until <= self.in_force_from:
            raise ValidationError(
                {"in_force_until": "La date de fin doit être postérieure à la date d'entrée en vigueur."}
            )
        if self.in_force_from and self.in_force_until and self.certification_id:
            overlapping = (
                Registration.objects.filter(certification_id=self.certification_id)
                .exclude(pk=self.pk)
                .filter(in_force_from__lt=self.in_force_until, in_force_until__gt=self.in_force_from)
                .first()
            )
            if overlapping:
                raise ValidationError(
                    {
                        "in_force_from": (
                            f"Cette période chevauche l'enregistrement « {overlapping.act} » "
                            f"(du {overlapping.in_force_from:%d/%m/%Y} au {overlapping.in_force_until:%d/%m/%Y})."
                        )
                    }
                )


BLOCK_RULE_FIELDS = ("threshold_kind", "threshold_value", "declared_competence_count")
BLOCK_RULE_FIELDS_SET = frozenset(BLOCK_RULE_FIELDS)


def block_rule_frozen_message(number=None) -> str:
    which = f"Le bloc {number}" if number else "Ce bloc"
    return (
        f"{which} a déjà servi à une évaluation : sa règle de validation (seuil et nombre de compétences déclarées) "
        "ne peut plus changer, car chaque résultat reste jugé et imprimé selon la règle qui lui a été appliquée. "
        "Une autre règle s'installe avec une nouvelle fiche (load_fiche), sous son propre code RNCP."
    )


@receiver(pre_delete, sender=Registration, dispatch_uid="registration_delete_guard")
def _refuse_deleting_a_registration_signed_results_rest_on(sender, instance, **kwargs):
    """Instance and queryset deletes alike (and a certification's cascade) send pre_delete for each row."""
    sessions = list(instance.signed_sessions_resting_on())
    if sessions:
        raise ValidationError(registration_delete_refused_message(sessions))


def _sessions_list(sessions) -> str:
    dates = [f"{session.date:%d/%m/%Y}" for session in sessions[:5]]
    more = " …" if len(sessions) > 5 else ""
    return ", ".join(dates) + more


def _uncovered_message(sessions) -> str:
    plural = is_plural(len(sessions))
    return (
        f"{'Les jurys' if plural else 'Le jury'} du {_sessions_list(sessions)}, "
        f"{'signés' if plural else 'signé'} pendant cet enregistrement, n'en "
        f"{'seraient' if plural else 'serait'} plus couvert{'s' if plural else ''} : une session signée reste "
        "dans la période d'enregistrement où elle a été tenue."
    )


def registration_delete_refused_message(sessions) -> str:
    plural = is_plural(len(sessions))
    return (
        f"Cet enregistrement ne peut pas être supprimé : {'les jurys' if plural else 'le jury'} du "
        f"{_sessions_list(sessions)} y {'ont' if plural else 'a'} été {'signés' if plural else 'signé'}, "
        "et leurs résultats et documents en dépendent."
    )


class BlockQuerySet(FrozenRowsQuerySet):
    def bulk_update(self, objs, fields, *args, **kwargs):
        # Checked before Django's own transaction opens, so that a refusal leaves the caller's transaction usable.
        objs = list(objs)
        if BLOCK_RULE_FIELDS_SET & set(fields):
            for obj in objs:
                if obj._rule_changes(obj._stored_rule()) and obj.rule_is_frozen:
                    raise FrozenRowError(block_rule_frozen_message(obj.number))
        return super().bulk_update(objs, fields, *args, **kwargs)

    def update(self, **kwargs):
        # The rule of a used block changes through no door, not even a blind update.
        if (
            BLOCK_RULE_FIELDS_SET & kwargs.keys()
            and Grid.objects.filter(block__in=self, frozen_at__isnull=False).exists()
        ):
            raise FrozenRowError(block_rule_frozen_message())
        return super().update(**kwargs)

    def with_current_grid(self):
        """Blocks with `current_grids` = [latest grid version, with its competences]: two extra queries."""
        latest_version = Grid.objects.filter(block=OuterRef("block")).order_by("-version").values("version")[:1]
        return self.prefetch_related(
            Prefetch(
                "grids",
                queryset=Grid.objects.filter(version=Subquery(latest_version)).prefetch_related("competences"),
                to_attr="current_grids",
            )
        )


class Block(InputRulesMixin, FrozenRowsModel):
    """A bloc de compétences, identified by its number in the fiche's "Bloc de compétence n°X" section.

    Its rule is what every result on it was judged by: frozen with its first frozen grid (an evaluation opened)."""

    frozen_when = models.Q(grids__frozen_at__isnull=False)
    change_refused = delete_refused = BLOCK_FROZEN_MESSAGE

    certification = models.ForeignKey(Certification, on_delete=models.CASCADE, related_name="blocks")
    number = models.PositiveSmallIntegerField("numéro", validators=[MinValueValidator(1)])
    title = models.TextField("intitulé")
    evaluation_modality = models.TextField("modalités d'évaluation", blank=True)
    threshold_kind = models.CharField("forme du seuil", max_length=20, choices=ThresholdKind.choices)
    threshold_value = models.DecimalField(
        "valeur du seuil",
        max_digits=5,
        decimal_places=2,
        help_text="Un pourcentage (75) pour une proportion, un nombre de compétences (7) pour un décompte.",
    )
    declared_competence_count = models.PositiveSmallIntegerField(
        "nombre de compétences du bloc", validators=[MinValueValidator(1)]
    )

    # The plugin reads the abstract base's manager as a class variable; this one only narrows its queryset.
    objects = BlockQuerySet.as_manager()  # type: ignore[misc]

    class Meta:
        verbose_name = "bloc de compétences"
        verbose_name_plural = "blocs de compétences"
        ordering = ["certification", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["certification", "number"],
                name="unique_block_number",
                violation_error_message="Un bloc porte déjà ce numéro dans cette certification.",
            )
        ]
        triggers = [
            pgtrigger.Trigger(
                name="frozen_rule",
                when=pgtrigger.Before,
                operation=pgtrigger.Update | pgtrigger.Delete,
                func=(
                    "IF EXISTS (SELECT 1 FROM certif_grid grid WHERE grid.block_id = OLD.id "
                    "AND grid.frozen_at IS NOT NULL) THEN "
                    f"{raise_sql(BLOCK_FROZEN_MESSAGE)} END IF; "
                    "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW;"
                ),
            )
        ]

    def __str__(self):
        return f"Bloc {self.number} — {self.title}"

    def save(self, *args, **kwargs):
        if self._rule_changes(self._stored_rule()) and self.rule_is_frozen:
            raise FrozenRowError(block_rule_frozen_message(self.number))
        super().save(*args, **kwargs)

    @property
    def code(self) -> str:
        return f"RNCP{self.certification.rncp_code}BC{self.number:02d}"

    @property
    def threshold(self) -> Threshold:
        return Threshold(kind=self.threshold_kind, value=self.threshold_value, out_of=self.declared_competence_count)

    @property
    def current_grid(self) -> "Grid":
        if hasattr(self, "current_grids"):
            return self.current_grids[0] if self.current_grids else None  # type: ignore[return-value]  # every block is created with its first grid
        return self.grids.order_by("-version").first()  # type: ignore[return-value]  # every block is created with its first grid

    @property
    def rule_is_frozen(self) -> bool:
        """True once an evaluation has opened on the block (which freezes its grid): results rest on its rule."""
        return self.pk is not None and self.grids.filter(frozen_at__isnull=False).exists()

    def _stored_rule(self) -> dict | None:
        if self.pk is None or self._state.adding:
            return None
        return Block.objects.filter(pk=self.pk).values(*BLOCK_RULE_FIELDS).first()

    def _rule_changes(self, stored: dict | None) -> set[str]:
        if stored is None:
            return set()
        return {
            name
            for name in BLOCK_RULE_FIELDS
            # The rule fields are the block's own columns, never a reverse relation.
            if stored[name] != self._meta.get_field(name).to_python(getattr(self, name))  # type: ignore[union-attr]
        }

    def clean(self):
        errors = {}
        changes = self._rule_changes(self._stored_rule())
        if changes and self.rule_is_frozen:
            raise ValidationError(block_rule_frozen_message(self.number))
        if "declared_competence_count" in changes and self.declared_competence_count:
            defined = Competence.objects.filter(grid=self.current_grid).count()
            if self.declared_competence_count < defined:
                errors["declared_competence_count"] = (
                    f"La grille compte déjà {defined} compétences : retirez-en avant de réduire ce nombre "
                    "(une grille compte exactement les compétences que le bloc déclare)."
                )
        if self.threshold_value is not None:
            if self.threshold_kind == ThresholdKind.PROPORTION and not (0 < self.threshold_value <= 100):
                errors["threshold_value"] = "Une proportion doit être comprise entre 0 % (exclu) et 100 %."
            if self.threshold_kind == ThresholdKind.COUNT:
                if self.threshold_value != int(self.threshold_value) or self.threshold_value < 1:
                    errors["threshold_value"] = "Un nombre de compétences doit être un entier d'au moins 1."
                elif self.declared_competence_count and self.threshold_value > self.declared_competence_count:
                    errors["threshold_value"] = (
                        f"Le seuil ({int(self.threshold_value)}) dépasse le nombre de compétences du bloc "
                        f"({self.declared_competence_count})."
                    )
        if errors:
            raise ValidationError(errors)


class Grid(FrozenRowsModel):
    """One version of a block's evaluation grid: its ordered competences.

    A grid freezes when an evaluation opens on it (and stays frozen once a result judged on it is signed off);
    editing a frozen grid makes a new version, so every result keeps the grid it was judged on.
    """

    frozen_when = models.Q(frozen_at__isnull=False)
    change_refused = delete_refused = GRID_FROZEN_MESSAGE

    block = models.ForeignKey(Block, on_delete=models.PROTECT, related_name="grids")
    version = models.PositiveIntegerField("version", default=1)
    created_at = models.DateTimeField("créée le", default=timezone.now)
    frozen_at = models.DateTimeField("figée le", null=True, blank=True)

    class Meta:
        verbose_name = "grille d'évaluation"
        verbose_name_plural = "grilles d'évaluation"
        ordering = ["block", "-version"]
        constraints = [models.UniqueConstraint(fields=["block", "version"], name="unique_grid_version")]
        triggers = [
            frozen_rows_trigger(
                condition="OLD.frozen_at IS NOT NULL", change=GRID_FROZEN_MESSAGE, delete=GRID_FROZEN_MESSAGE
            )
        ]

    def __str__(self):
        return f"Grille du bloc {self.block.number}, version {self.version}"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None

    @property
    def defined_count(self) -> int:
        return len(self.competences.all())

    @property
    def missing_count(self) -> int:
        return max(self.block.declared_competence_count - self.defined_count, 0)

    @property
    def surplus_count(self) -> int:
        return max(self.defined_count - self.block.declared_competence_count, 0)

    @property
    def is_complete(self) -> bool:
        """Exactly the declared number: a surplus competence would otherwise count toward the threshold."""
        return self.defined_count == self.block.declared_competence_count


class Competence(InputRulesMixin, FrozenRowsModel):
    frozen_with = "grid"
    change_refused = delete_refused = GRID_FROZEN_MESSAGE

    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="competences")
    position = models.PositiveSmallIntegerField("rang")
    label = models.TextField("compétence")

    class Meta:
        verbose_name = "compétence"
        ordering = ["grid", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["grid", "position"],
                name="unique_competence_position",
                violation_error_message="Une compétence occupe déjà ce rang dans la grille.",
            ),
            models.UniqueConstraint(
                fields=["grid", "label"],
                name="unique_competence_label",
                violation_error_message="Cette compétence figure déjà dans la grille du bloc.",
            ),
        ]
        triggers = [
            frozen_parent_trigger(
                column="grid_id",
                parent_frozen="grid.frozen_at IS NOT NULL",
                parent_rows="certif_grid grid WHERE grid.id = {id}",
                lock="grid",
                message=GRID_FROZEN_MESSAGE,
            )
        ]

    def __str__(self):
        return self.label


class RatingScale(FrozenRowsModel):
    """One version of the rating scale. Editable until first used; then a change makes a new version."""

    frozen_when = models.Q(first_used_at__isnull=False)
    change_refused = delete_refused = SCALE_IN_USE_MESSAGE

    certification = models.ForeignKey(Certification, on_delete=models.CASCADE, related_name="rating_scales")
    version = models.PositiveIntegerField("version", default=1)
    created_at = models.DateTimeField("créée le", default=timezone.now)
    first_used_at = models.DateTimeField("première utilisation", null=True, blank=True)

    class Meta:
        verbose_name = "échelle de niveaux"
        verbose_name_plural = "échelles de niveaux"
        ordering = ["certification", "-version"]
        constraints = [models.UniqueConstraint(fields=["certification", "version"], name="unique_rating_scale_version")]
        triggers = [
            frozen_rows_trigger(
                condition="OLD.first_used_at IS NOT NULL", change=SCALE_IN_USE_MESSAGE, delete=SCALE_IN_USE_MESSAGE
            )
        ]

    def __str__(self):
        return f"Échelle de niveaux, version {self.version}"

    @property
    def is_in_use(self) -> bool:
        return self.first_used_at is not None

    @property
    def ordered_levels(self) -> list["ScaleLevel"]:
        return sorted(self.levels.all(), key=lambda level: level.position)

    @property
    def validating_codes(self) -> frozenset[str]:
        return frozenset(level.code for level in self.levels.all() if level.validates)

    @property
    def floor_label(self) -> str:
        """The lowest level that still validates ("C" for A > B > C > D)."""
        validating = [level for level in self.ordered_levels if level.validates]
        return validating[-1].label if validating else "?"


class ScaleLevel(InputRulesMixin, FrozenRowsModel):
    frozen_with = "scale"
    change_refused = delete_refused = SCALE_IN_USE_MESSAGE

    scale = models.ForeignKey(RatingScale, on_delete=models.CASCADE, related_name="levels")
    position = models.PositiveSmallIntegerField("rang", help_text="1 = le meilleur niveau.")
    code = models.CharField("code", max_length=5)
    label = models.CharField("libellé", max_length=100)
    validates = models.BooleanField("valide la compétence", default=False)

    class Meta:
        verbose_name = "niveau"
        ordering = ["scale", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["scale", "code"],
                name="unique_scale_level_code",
                violation_error_message="Deux niveaux ne peuvent pas avoir le même code.",
            ),
            models.UniqueConstraint(
                fields=["scale", "position"],
                name="unique_scale_level_position",
                violation_error_message="Deux niveaux ne peuvent pas avoir le même rang.",
            ),
        ]
        triggers = [
            frozen_parent_trigger(
                column="scale_id",
                parent_frozen="scale.first_used_at IS NOT NULL",
                parent_rows="certif_ratingscale scale WHERE scale.id = {id}",
                lock="scale",
                message=SCALE_IN_USE_MESSAGE,
            )
        ]

    def __str__(self):
        return self.label

    @property
    def display_name(self) -> str:
        """« Maîtrisé (A) », or « A » alone where the label is the code: never « A (A) »."""
        return self.label if self.label == self.code else f"{self.label} ({self.code})"


class BlockCorrespondenceQuerySet(FrozenRowsQuerySet["BlockCorrespondence"]):
    def in_use(self):
        return self.filter(first_used_at__isnull=False)


class BlockCorrespondence(InputRulesMixin, FrozenRowsModel):
    """One block of a previous fiche that gives a block of its successor, as the certifier declares it.

    A new block with several rows is given by holding all their previous blocks together; a new block with none has
    no correspondence. A row is frozen from the first time a candidate holds the new block through it.
    """

    frozen_when = models.Q(first_used_at__isnull=False)
    change_refused = delete_refused = CORRESPONDENCE_FROZEN_MESSAGE

    block = models.ForeignKey(
        Block, on_delete=models.PROTECT, related_name="correspondences", verbose_name="bloc de la nouvelle fiche"
    )
    previous_block = models.ForeignKey(
        Block,
        on_delete=models.PROTECT,
        related_name="successor_correspondences",
        verbose_name="bloc de la fiche précédente",
    )
    recorded_at = models.DateTimeField("enregistrée le", default=timezone.now)
    first_used_at = models.DateTimeField("première utilisation", null=True, blank=True)

    objects = BlockCorrespondenceQuerySet.as_manager()  # type: ignore[misc]

    class Meta:
        verbose_name = "correspondance de blocs"
        verbose_name_plural = "correspondances de blocs"
        ordering = ["block__certification", "block__number", "previous_block__number"]
        constraints = [
            models.UniqueConstraint(
                fields=["block", "previous_block"],
                name="unique_block_correspondence",
                violation_error_message="Cette correspondance est déjà enregistrée.",
            ),
            models.CheckConstraint(
                condition=~models.Q(block=models.F("previous_block")), name="block_correspondence_two_blocks"
            ),
        ]
        triggers = [
            frozen_rows_trigger(
                condition="OLD.first_used_at IS NOT NULL",
                change=CORRESPONDENCE_FROZEN_MESSAGE,
                delete=CORRESPONDENCE_FROZEN_MESSAGE,
            )
        ]

    def __str__(self):
        return f"{self.previous_block.code} → {self.block.code}"


class AuditAction(models.TextChoices):
    """Every action an audit trace may record, with the label the history shows. The values are the codes stored in
    `AuditEvent.action` since the first trace: never rename one, add a member instead."""

    # Candidates, promotions, enrolments
    CANDIDATE_CREATED = "candidate.created", "Création de la fiche"
    CANDIDATE_UPDATED = "candidate.updated", "Modification de la fiche"
    CANDIDATE_PERSONAL_DATA_EXPORTED = "candidate.personal_data_exported", "Export des données personnelles"
    CANDIDATE_RESULTS_WITHDRAWN = "candidate.results_withdrawn", "Retrait de résultats"
    COHORT_CREATED = "cohort.created", "Création de la promotion"
    COHORT_UPDATED = "cohort.updated", "Modification de la promotion"
    PREPARATION_PLACE_CREATED = "preparation_place.created", "Ajout d'un lieu de préparation"
    ENROLMENT_CREATED = "enrolment.created", "Inscription dans une promotion"
    ENROLMENT_UPDATED = "enrolment.updated", "Modification de l'inscription"
    ENROLMENT_ADMISSIBILITY_DECIDED = "enrolment.admissibility_decided", "Décision de recevabilité"
    ACQUIRED_BLOCK_IMPORTED = "acquired_block.imported", "Reprise d'historique d'un bloc acquis"
    ACQUIRED_BLOCK_FROM_JURY = "acquired_block.from_jury", "Bloc acquis sur décision du jury"
    ACQUIRED_BLOCK_BY_CORRESPONDENCE = "acquired_block.by_correspondence", "Bloc acquis par correspondance"
    ENROLMENT_TRANSFERRED = "enrolment.transferred", "Transfert vers la nouvelle fiche"
    CERTIFICATION_AWARDED = "certification.awarded", "Délivrance de la certification"
    # Referential
    REFERENTIAL_CERTIFICATION_CHANGED = "referential.certification_changed", "Modification de la description"
    REFERENTIAL_REGISTRATION_ADDED = "referential.registration_added", "Ajout de l'enregistrement"
    REFERENTIAL_REGISTRATION_CHANGED = "referential.registration_changed", "Correction de l'enregistrement"
    REFERENTIAL_REGISTRATION_DELETED = "referential.registration_deleted", "Suppression de l'enregistrement"
    REFERENTIAL_THRESHOLD_CHANGED = "referential.threshold_changed", "Modification de la règle du bloc"
    REFERENTIAL_COMPETENCE_ADDED = "referential.competence_added", "Ajout d'une compétence à la grille"
    REFERENTIAL_COMPETENCE_RENAMED = "referential.competence_renamed", "Renommage d'une compétence de la grille"
    REFERENTIAL_COMPETENCE_MOVED = "referential.competence_moved", "Déplacement d'une compétence dans la grille"
    REFERENTIAL_COMPETENCE_REMOVED = "referential.competence_removed", "Retrait d'une compétence de la grille"
    REFERENTIAL_SCALE_CHANGED = "referential.scale_changed", "Modification de l'échelle de niveaux"
    REFERENTIAL_SCALE_VERSIONED = "referential.scale_versioned", "Nouvelle version de l'échelle de niveaux"
    REFERENTIAL_FICHE_IMPORTED = "referential.fiche_imported", "Installation de la fiche depuis France Compétences"
    REFERENTIAL_FICHE_UPDATED = "referential.fiche_updated", "Mise à jour de la fiche depuis France Compétences"
    REFERENTIAL_CORRESPONDENCE_CHANGED = (
        "referential.correspondence_changed",
        "Modification des correspondances de blocs",
    )
    # Evaluation
    EVALUATION_SESSION_OPENED = "evaluation.session_opened", "Ouverture de la session d'évaluation"
    EVALUATION_LEVEL_CHANGED = "evaluation.level_changed", "Saisie d'un niveau"
    EVALUATION_SUBMITTED = "evaluation.submitted", "Soumission de la grille du bloc"
    EVALUATION_REOPENED = "evaluation.reopened", "Réouverture de la grille du bloc"
    # Juries
    JURY_SESSION_CREATED = "jury.session_created", "Création de la session de jury"
    JURY_SESSION_UPDATED = "jury.session_updated", "Modification de la session de jury"
    JURY_DATE_MOVED = "jury.date_moved", "Déplacement de la date du jury"
    JURY_MEMBER_ADDED = "jury.member_added", "Ajout d'un membre du jury"
    JURY_MEMBER_CHANGED = "jury.member_changed", "Modification d'un membre du jury"
    JURY_MEMBER_REMOVED = "jury.member_removed", "Retrait d'un membre du jury"
    JURY_MEMBER_RESTORED = "jury.member_restored", "Rétablissement d'un membre du jury"
    JURY_RECUSAL_DECLARED = "jury.recusal_declared", "Déclaration d'une récusation"
    JURY_CANDIDATE_PRESENTED = "jury.candidate_presented", "Présentation d'un candidat au jury"
    JURY_CANDIDATE_WITHDRAWN = "jury.candidate_withdrawn", "Retrait d'un candidat de la session"
    JURY_CANDIDATE_RESTORED = "jury.candidate_restored", "Rétablissement d'un candidat dans la session"
    JURY_DECISION_RECORDED = "jury.decision_recorded", "Enregistrement d'une décision"
    JURY_DECISION_OVERRIDDEN = "jury.decision_overridden", "Décision s'écartant de la proposition"
    JURY_SIGNED_OFF = "jury.signed_off", "Signature du procès-verbal"
    JURY_DECISION_RECTIFIED = "jury.decision_rectified", "Rectification d'une décision"
    # Documents
    DOCUMENT_ISSUED = "document.issued", "Émission d'un document"
    DOCUMENT_REVOKED = "document.revoked", "Révocation d'un document"
    DOCUMENT_RECTIFIED = "document.rectified", "Document rendu caduc par une rectification"
    DOCUMENTS_BATCH_REQUESTED = "documents.batch_requested", "Demande de génération des documents de la session"
    CERTIFIER_IDENTITY_CHANGED = "documents.identity_changed", "Modification du logo ou du signataire des documents"
    # Declarations to the Caisse des Dépôts
    CDC_SETTINGS_CHANGED = "cdc.settings_changed", "Modification des identifiants auprès de la Caisse des Dépôts"
    CDC_HOLDERS_DECLARED = "cdc.holders_declared", "Déclaration des titulaires à la Caisse des Dépôts"
    # The CDC's processing reports and the corrections they call for
    CDC_RECEIPT_RECORDED = "cdc.receipt_recorded", "Enregistrement de l'accusé de traitement de la Caisse des Dépôts"
    CDC_CORRECTION_FLAGGED = "cdc.correction_flagged", "Déclaration à corriger auprès de la Caisse des Dépôts"
    # Accounts and security
    ACCOUNT_CREATED = "account.created", "Compte créé"
    ACCOUNT_CHANGED = "account.changed", "Compte modifié"
    ACCOUNT_ROLES_CHANGED = "account.roles_changed", "Rôles modifiés"
    ACCOUNT_PASSWORD_LINK_SENT = "account.password_link_sent", "Lien pour choisir le mot de passe envoyé"
    SECURITY_LOCKED_OUT = "security.locked_out", "Blocage après des essais de mot de passe"
    # Work done in the background
    BACKGROUND_JOB_REQUESTED = "job.requested", "Demande d'un travail en arrière-plan"


class AuditEvent(WriteOnceModel):
    """Who changed what, when, from what to what. Written once, never updated nor deleted."""

    change_refused = AUDIT_CHANGE_REFUSED
    delete_refused = AUDIT_DELETE_REFUSED

    occurred_at = models.DateTimeField("date", default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name="auteur"
    )
    action = models.CharField("action", max_length=100, choices=AuditAction)
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, verbose_name="type d'objet")
    target_id = models.CharField("identifiant de l'objet", max_length=64)
    target_repr = models.CharField("objet", max_length=255)
    before = models.JSONField("avant", null=True, blank=True)
    after = models.JSONField("après", null=True, blank=True)

    class Meta:
        verbose_name = "trace d'audit"
        verbose_name_plural = "traces d'audit"
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]
        triggers = [write_once_trigger(change=AUDIT_CHANGE_REFUSED, delete=AUDIT_DELETE_REFUSED)]

    def __str__(self):
        return f"{timezone.localtime(self.occurred_at):%d/%m/%Y %H:%M} {self.get_action_display()} — {self.target_repr}"


# — Access pathways and the jury composition rule: fiche data (tables named when they lived in candidates and juries) —


class AccessPathway(InputRulesMixin, models.Model):
    """A voie d'accès of the fiche's table "Conditions d'inscription à la certification" (OUI / NON)."""

    certification = models.ForeignKey(Certification, on_delete=models.CASCADE, related_name="pathways")
    code = models.SlugField("code", max_length=40)
    label = models.CharField("libellé", max_length=255)
    is_open = models.BooleanField("ouverte", default=False)
    position = models.PositiveSmallIntegerField("rang", default=0)

    class Meta:
        db_table = "candidates_accesspathway"
        verbose_name = "voie d'accès"
        verbose_name_plural = "voies d'accès"
        ordering = ["certification", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["certification", "code"],
                name="unique_pathway_code",
                violation_error_message="Une voie d'accès porte déjà ce code.",
            )
        ]

    def __str__(self):
        return self.label

    @property
    def closed_reason(self) -> str:
        return (
            f"La fiche RNCP {self.certification.rncp_code} n'ouvre pas la certification "
            f"à cette voie d'accès (« {self.label} » : NON)."
        )


@receiver(pre_delete, sender=AccessPathway, dispatch_uid="access_pathway_delete_guard")
def _refuse_deleting_a_pathway_in_use(sender, instance, **kwargs):
    """Instance and queryset deletes alike send pre_delete for each row; the jury rule's link would otherwise
    vanish silently with the pathway."""
    if instance.cohorts.exists() or instance.jury_rules.exists():
        raise ValidationError(
            f"La voie d'accès « {instance.label} » ne peut pas être supprimée : des promotions ou la règle de "
            "composition des jurys y renvoient. Les voies d'accès sont celles de la fiche."
        )


class JuryCompositionRule(InputRulesMixin, models.Model):
    """The fiche's jury composition, the same for every open pathway of RNCP 16204:
    « 50% professionnels, 50% formateurs — Président : un professionnel — Les professionnels composant
    ce jury seront des salariés et des employeurs, à parts égales »."""

    certification = models.OneToOneField(Certification, on_delete=models.CASCADE, related_name="jury_rule")
    pathways = models.ManyToManyField(
        AccessPathway, related_name="jury_rules", blank=True, db_table="juries_jurycompositionrule_pathways"
    )
    professionals_percent = models.PositiveSmallIntegerField("part de professionnels (%)", default=50)
    trainers_percent = models.PositiveSmallIntegerField("part de formateurs (%)", default=50)
    president_is_professional = models.BooleanField("le président est un professionnel", default=True)
    professionals_split_equally = models.BooleanField(
        "professionnels salariés et employeurs à parts égales", default=True
    )
    text = models.TextField("composition telle que la fiche l'écrit")

    class Meta:
        db_table = "juries_jurycompositionrule"
        verbose_name = "règle de composition des jurys"
        verbose_name_plural = "règles de composition des jurys"

    def __str__(self):
        return f"Composition des jurys — RNCP {self.certification.rncp_code}"

    @property
    def minimum_members(self) -> int:
        """50/50 with professionals split in two equal halves: 2 professionals (1 + 1) and 2 trainers."""
        return 4 if self.professionals_split_equally else 2


@receiver(pre_delete, sender=JuryCompositionRule, dispatch_uid="jury_rule_delete_guard")
def _refuse_deleting_a_jury_rule_in_use(sender, instance, **kwargs):
    if instance.certification.jury_sessions.exists():
        raise ValidationError(
            "La règle de composition des jurys ne peut pas être supprimée : des sessions de jury de la "
            "certification ont été composées selon elle."
        )


# — Work done in the background (django.tasks, run by `manage.py db_worker`) —

JOB_FINISHED_MESSAGE = "Ce travail en arrière-plan est terminé : il ne peut plus être modifié ni supprimé."


class JobStatus(models.TextChoices):
    PENDING = "pending", "En attente"
    RUNNING = "running", "En cours"
    DONE = "done", "Terminé"
    FAILED = "failed", "Échec"


class JobKind(models.TextChoices):
    """What a job does; each kind's code registers itself in certif.jobs (the rooms above declare their own)."""

    RESULTS_XLSX = "results_xlsx", "Export des résultats (XLSX)"
    HOLDER_DECLARATION = "holder_declaration", "Déclaration des titulaires à la Caisse des Dépôts"


class BackgroundJob(FrozenRowsModel):
    """Long work taken out of the request (a large export): who asked, its progress, and the file it produced, kept
    in the database (no web or worker process keeps anything on its disk). Only the person who asked sees it.

    A finished job (done or failed) is frozen: its file is what was produced, for as long as it is kept."""

    frozen_when = models.Q(status__in=["done", "failed"])
    change_refused = delete_refused = JOB_FINISHED_MESSAGE

    kind = models.CharField("travail", max_length=40, choices=JobKind.choices)
    title = models.CharField("intitulé", max_length=255)
    parameters = models.JSONField("paramètres", default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="demandé par"
    )
    requested_at = models.DateTimeField("demandé le", default=timezone.now)
    status = models.CharField("statut", max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING)
    total = models.PositiveIntegerField("à traiter", default=0)
    done = models.PositiveIntegerField("traités", default=0)
    task_id = models.CharField("tâche", max_length=64, blank=True)
    started_at = models.DateTimeField("commencé le", null=True, blank=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)
    # Who runs it now ("host pid token") and when it last said so: a job whose process died is put back in the
    # queue, or failed after a few tries (certif.jobs.jobs_recover).
    runner = models.CharField("processus", max_length=255, blank=True)
    heartbeat_at = models.DateTimeField("dernier signe de vie", null=True, blank=True)
    interruptions = models.PositiveSmallIntegerField("interruptions", default=0)
    error = models.TextField("erreur", blank=True)
    file_name = models.CharField("nom du fichier", max_length=255, blank=True)
    content_type = models.CharField("type du fichier", max_length=255, blank=True)
    file = models.BinaryField("fichier produit", null=True, blank=True)
    # What the work recorded besides its file (a declaration), to be opened from the job's page.
    result_url = models.CharField("page du résultat", max_length=255, blank=True)
    result_label = models.CharField("lien vers le résultat", max_length=100, blank=True)

    class Meta:
        verbose_name = "travail en arrière-plan"
        verbose_name_plural = "travaux en arrière-plan"
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["status"], name="background_job_status")]
        triggers = [
            frozen_rows_trigger(
                condition="OLD.status IN ('done', 'failed')", change=JOB_FINISHED_MESSAGE, delete=JOB_FINISHED_MESSAGE
            )
        ]

    def __str__(self):
        return f"{self.title} ({self.get_status_display().lower()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        return 0 if self.total == 0 else min(100, round(100 * self.done / self.total))


class RateLimitCounter(models.Model):
    """The hits of one client address on one limited door (the public verification, password-reset requests) in
    the current fixed window, counted by `certif.ratelimit` in one upsert that every web worker shares.

    Not history: a counter overwritten at each window, purged by the worker once its window is over."""

    key = models.CharField("porte et adresse", max_length=200, primary_key=True)
    window_start = models.BigIntegerField("début de la fenêtre (secondes Unix)")
    window_end = models.BigIntegerField("fin de la fenêtre (secondes Unix)")
    hits = models.PositiveIntegerField("requêtes dans la fenêtre")

    class Meta:
        verbose_name = "compteur de requêtes limitées"
        verbose_name_plural = "compteurs de requêtes limitées"
        indexes = [models.Index(fields=["window_end"], name="rate_limit_window_end")]

    def __str__(self):
        return f"{self.key} : {self.hits}"
