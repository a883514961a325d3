"""Jury sessions: composition, presented candidates, block-by-block decisions and the president's sign-off.

From the sign-off on, a session and everything it decided are immutable: the models and their querysets refuse to
write them (`SignedSessionGuard`, certif.guards), PostgreSQL triggers refuse raw SQL, the services refuse, the views
refuse and the admin is read-only. A correction is a new act, a `Rectification`, that keeps the original decision
visible.
"""

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from candidates.models import ACQUIRED_BLOCK_REFUSED, AWARD_REFUSED, AcquiredBlock, CertificationAward
from certif.collation import french, person_order
from certif.guards import (
    FrozenRowError,
    FrozenRowsModel,
    FrozenRowsQuerySet,
    WriteOnceModel,
    frozen_parent_trigger,
    frozen_rows_trigger,
    write_once_trigger,
)
from certif.models import Block, Certification
from certif.permissions import is_president, is_staff
from certif.rules import Outcome
from certif.validation import InputRulesMixin

SIGNED_MESSAGE = "Cette session de jury est signée : ses décisions sont définitives et ne peuvent plus être modifiées."
RECTIFICATION_CHANGE_REFUSED = "Une rectification signée ne peut pas être modifiée."
RECTIFICATION_DELETE_REFUSED = "Une rectification signée ne peut pas être supprimée."
# Rows of a signed session's children, and the session row that says so (locked while read by the triggers).
SESSION_SIGNED_SQL = "session.status = 'signed'"
DATE_LOCKED_MESSAGE = (
    "Des candidats sont présentés à ce jury : sa date ne se déplace que par un gestionnaire, motif à l'appui "
    "(modification de la session)."
)
ALREADY_PRESENTED_MESSAGE = "Ce candidat est déjà présenté pour ce bloc à un autre jury non signé."
REMOVED_BY_WITHOUT_DATE = "Un retrait indique qui l'a fait et quand, ou ni l'un ni l'autre."


class WithoutRemovedManager(models.Manager.from_queryset(FrozenRowsQuerySet)):
    """The default manager of the rows a session may set aside (a member, a presented candidate, and what hangs from
    them): a removed row stays stored, to be restored with its decisions and links, but is out of every read —
    composition, eligibility, deliberation, sign-off, documents, statistics, declarations. `all_objects` reads it.

    Reverse relations (`session.members`, `session.presentations`, `presentation.decisions`) and their prefetches
    are built on this manager too; lookups across relations (`presentations__…`) are not, and filter by hand."""

    removed_lookups: tuple[str, ...] = ("removed_at__isnull",)

    def get_queryset(self):
        return super().get_queryset().filter(**dict.fromkeys(self.removed_lookups, True))


class WithoutRemovedPresentationsManager(WithoutRemovedManager):
    removed_lookups = ("presentation__removed_at__isnull",)


class WithoutRemovedLinksManager(WithoutRemovedManager):
    removed_lookups = ("presentation__removed_at__isnull", "member__removed_at__isnull")


def _removed_by_iff_removed_at(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(removed_at__isnull=True, removed_by__isnull=True)
        | models.Q(removed_at__isnull=False, removed_by__isnull=False),
        name=name,
        violation_error_message=REMOVED_BY_WITHOUT_DATE,
    )


class RemovableMixin(models.Model):
    """Set aside by staff, restorable until the deliberation starts (juries.services)."""

    removed_at = models.DateTimeField("retiré le", null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="retiré par",
    )

    class Meta:
        abstract = True

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None


class JurySessionStatus(models.TextChoices):
    PREPARED = "prepared", "En préparation"
    SIGNED = "signed", "Signée"


class JurySessionQuerySet(FrozenRowsQuerySet):
    def update(self, **kwargs):
        # The date of a jury with candidates presented moves only through `jury_session_update` (a reason, an audit
        # trace), never by a bulk update (`bulk_update` goes through here too).
        if "date" in kwargs and self._any_frozen():
            raise FrozenRowError(self.model.change_refused)  # signed: the guard's own refusal, never moved at all
        if (
            "date" in kwargs
            and self.filter(presentations__isnull=False, presentations__removed_at__isnull=True).exists()
        ):
            raise ValidationError({"date": DATE_LOCKED_MESSAGE})
        return super().update(**kwargs)

    def visible_to(self, user):
        """Staff see every session; a president the sessions they preside (their account is the president's)."""
        from juries.selectors import sessions_presided_by

        if is_staff(user):
            return self
        if is_president(user):
            return self.filter(pk__in=sessions_presided_by(user).values("pk"))
        return self.none()


class SignedSessionGuard(FrozenRowsModel):
    """A session, or a row of one, that the sign-off freezes: nothing of a signed session is written again."""

    change_refused = delete_refused = SIGNED_MESSAGE

    class Meta:
        abstract = True


def _signed_session_child_trigger() -> pgtrigger.Trigger:
    return frozen_parent_trigger(
        column="session_id",
        parent_frozen=SESSION_SIGNED_SQL,
        parent_rows="juries_jurysession session WHERE session.id = {id}",
        lock="session",
        message=SIGNED_MESSAGE,
    )


def _signed_presentation_child_trigger() -> pgtrigger.Trigger:
    return frozen_parent_trigger(
        column="presentation_id",
        parent_frozen=SESSION_SIGNED_SQL,
        parent_rows=(
            "juries_presentation presentation JOIN juries_jurysession session ON session.id = presentation.session_id "
            "WHERE presentation.id = {id}"
        ),
        lock="session",
        message=SIGNED_MESSAGE,
    )


class JurySession(InputRulesMixin, SignedSessionGuard):
    frozen_when = models.Q(status=JurySessionStatus.SIGNED)
    # Set by the service that moves a presented jury's date with a reason (and its audit trace), for this save only.
    _date_move_recorded = False

    certification = models.ForeignKey(
        Certification, on_delete=models.PROTECT, related_name="jury_sessions", verbose_name="certification"
    )
    date = models.DateField("date du jury")
    place = models.CharField("lieu", max_length=255)
    blocks = models.ManyToManyField(Block, related_name="jury_sessions", verbose_name="blocs examinés")
    status = models.CharField(
        "statut", max_length=20, choices=JurySessionStatus.choices, default=JurySessionStatus.PREPARED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="créée par"
    )
    created_at = models.DateTimeField("créée le", default=timezone.now)
    signed_at = models.DateTimeField("signée le", null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="signée par",
    )
    decisions_fingerprint = models.CharField(
        "empreinte des décisions (SHA-256)", max_length=64, blank=True, help_text="Calculée à la signature."
    )

    objects = JurySessionQuerySet.as_manager()

    class Meta:
        verbose_name = "session de jury"
        verbose_name_plural = "sessions de jury"
        ordering = ["-date", "-pk"]
        triggers = [
            frozen_rows_trigger(condition="OLD.status = 'signed'", change=SIGNED_MESSAGE, delete=SIGNED_MESSAGE)
        ]

    def __str__(self):
        return f"Jury du {self.date:%d/%m/%Y} — {self.place}"

    def save(self, *args, **kwargs):
        # Once a candidate is presented the date moves only through `jury_session_update` (staff, a reason, an
        # audit trace), which sets `_date_move_recorded`; any other save that moves it is refused.
        if self.pk is not None and not self._state.adding and not self._date_move_recorded:
            stored = JurySession.objects.filter(pk=self.pk).values_list("date", flat=True).first()
            moved = stored is not None and stored != self.date
            if moved and not self._stored_row_is_frozen() and Presentation.objects.filter(session_id=self.pk).exists():
                raise ValidationError({"date": DATE_LOCKED_MESSAGE})
        super().save(*args, **kwargs)

    @property
    def is_signed(self) -> bool:
        return self.status == JurySessionStatus.SIGNED


def refuse_blocks_change_of_signed_session(sender, instance, action, reverse, pk_set, **kwargs):
    """`m2m_changed` receiver (juries.apps): the examined blocks of a signed session never change."""
    if action not in ("pre_add", "pre_remove", "pre_clear"):
        return
    if not reverse:
        sessions = JurySession._base_manager.filter(pk=instance.pk)
    elif pk_set is None:
        sessions = JurySession._base_manager.filter(blocks=instance)
    else:
        sessions = JurySession._base_manager.filter(pk__in=pk_set)
    if sessions.filter(JurySession.frozen_rows_q()).exists():
        raise FrozenRowError(SIGNED_MESSAGE)


def signed_sessions_between(*, certification_id, first_day, last_day):
    """The certification's signed sessions held between the two days (inclusive), oldest first."""
    return JurySession.objects.filter(
        certification_id=certification_id,
        status=JurySessionStatus.SIGNED,
        date__gte=first_day,
        date__lte=last_day,
    ).order_by("date", "pk")


class MemberCategory(models.TextChoices):
    EMPLOYEE = "employee_professional", "Professionnel salarié"
    EMPLOYER = "employer_professional", "Professionnel employeur"
    TRAINER = "trainer", "Formateur"


PROFESSIONAL_CATEGORIES = (MemberCategory.EMPLOYEE, MemberCategory.EMPLOYER)


class JuryMember(InputRulesMixin, RemovableMixin, SignedSessionGuard):
    frozen_with = "session"

    session = models.ForeignKey(JurySession, on_delete=models.CASCADE, related_name="members", verbose_name="session")
    name = models.CharField("nom", max_length=150)
    organisation = models.CharField("organisme", max_length=255)
    category = models.CharField("catégorie", max_length=30, choices=MemberCategory.choices)
    is_president = models.BooleanField("président du jury", default=False)
    is_substitute = models.BooleanField(
        "suppléant",
        default=False,
        help_text="Un suppléant ne délibère que pour remplacer, sur un candidat, un membre titulaire de sa catégorie "
        "qui ne délibère pas sur ce candidat (le premier suppléant désigné d'abord).",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="jury_memberships",
        verbose_name="compte utilisateur",
        help_text="Obligatoire pour le président : il signe avec ce compte.",
    )

    objects = WithoutRemovedManager()
    all_objects = FrozenRowsQuerySet.as_manager()

    class Meta:
        verbose_name = "membre du jury"
        # Django writes and follows foreign keys through the base manager: the guarded one, removed rows included.
        base_manager_name = "all_objects"
        verbose_name_plural = "membres du jury"
        ordering = ["session", "-is_president", "is_substitute", "category", french("name"), "pk"]
        constraints = [_removed_by_iff_removed_at("jury_member_removed_by_iff_removed_at")]
        triggers = [_signed_session_child_trigger()]

    def __str__(self):
        return f"{self.name} ({self.get_category_display()}, {self.organisation})"

    @property
    def role_label(self) -> str:
        if self.is_president:
            return "Président du jury"
        return "Suppléant" if self.is_substitute else "Titulaire"


class Presentation(InputRulesMixin, RemovableMixin, SignedSessionGuard):
    """A candidate (through one enrolment) presented to a jury session."""

    frozen_with = "session"

    session = models.ForeignKey(
        JurySession, on_delete=models.CASCADE, related_name="presentations", verbose_name="session"
    )
    enrolment = models.ForeignKey(
        "candidates.Enrolment", on_delete=models.PROTECT, related_name="jury_presentations", verbose_name="inscription"
    )
    presented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="présenté par"
    )
    presented_at = models.DateTimeField("présenté le", default=timezone.now)

    objects = WithoutRemovedManager()
    all_objects = FrozenRowsQuerySet.as_manager()

    class Meta:
        verbose_name = "candidat présenté"
        # Django writes and follows foreign keys through the base manager: the guarded one, removed rows included.
        base_manager_name = "all_objects"
        verbose_name_plural = "candidats présentés"
        ordering = ["session", *person_order("enrolment__candidate__"), "pk"]
        constraints = [
            # A removed presentation stays stored; once it can no longer be restored the candidate may be presented
            # to the session again, as a new presentation.
            models.UniqueConstraint(
                fields=["session", "enrolment"],
                condition=models.Q(removed_at__isnull=True),
                name="unique_presentation",
                violation_error_message="Ce candidat est déjà présenté à cette session.",
            ),
            _removed_by_iff_removed_at("presentation_removed_by_iff_removed_at"),
        ]
        triggers = [_signed_session_child_trigger()]

    def __str__(self):
        return f"{self.enrolment.candidate} — {self.session}"


class DecisionOutcome(models.TextChoices):
    VALIDATED = Outcome.VALIDATED.value, "Validé"
    NOT_VALIDATED = Outcome.NOT_VALIDATED.value, "Non validé"


class Decision(InputRulesMixin, SignedSessionGuard):
    """The jury's decision on one block of one presented candidate, with the proposal it departs from (or not).

    Created with the presentation (proposal snapshot, empty outcome: « décision manquante »); the president
    records the outcome on the deliberation page. A departure from the proposal needs a written reason.
    """

    frozen_with = "presentation"

    presentation = models.ForeignKey(
        Presentation, on_delete=models.CASCADE, related_name="decisions", verbose_name="candidat présenté"
    )
    block = models.ForeignKey(Block, on_delete=models.PROTECT, related_name="jury_decisions", verbose_name="bloc")
    # The rule « a candidate is before one unsigned jury at a time for a block » held by the database: the
    # presentation's candidate, copied on every save, and `is_open`, cleared by the sign-off (before the session
    # becomes signed, in the same transaction) and while the presentation is removed; a partial unique constraint
    # does the rest.
    candidate = models.ForeignKey(
        "candidates.Candidate",
        on_delete=models.PROTECT,
        related_name="jury_decisions",
        verbose_name="candidat",
        editable=False,
    )
    is_open = models.BooleanField("jury non signé", default=True, editable=False)
    block_evaluation = models.ForeignKey(
        "evaluation.BlockEvaluation", on_delete=models.PROTECT, related_name="jury_decisions", verbose_name="grille"
    )
    proposal_outcome = models.CharField("proposition", max_length=20, choices=Outcome.choices)
    proposal_explanation = models.TextField("explication de la proposition")
    outcome = models.CharField("décision du jury", max_length=20, choices=DecisionOutcome.choices, blank=True)
    departure_reason = models.TextField("motif de l'écart à la proposition", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="décidée par",
    )
    decided_at = models.DateTimeField("décidée le", null=True, blank=True)

    objects = WithoutRemovedPresentationsManager()
    all_objects = FrozenRowsQuerySet.as_manager()

    class Meta:
        verbose_name = "décision du jury"
        # Django writes and follows foreign keys through the base manager: the guarded one, removed rows included.
        base_manager_name = "all_objects"
        verbose_name_plural = "décisions du jury"
        ordering = ["presentation", "block__number"]
        constraints = [
            models.UniqueConstraint(
                fields=["presentation", "block"],
                name="unique_decision",
                violation_error_message="Ce bloc a déjà une décision pour ce candidat.",
            ),
            models.UniqueConstraint(
                fields=["candidate", "block"],
                condition=models.Q(is_open=True),
                name="one_unsigned_jury_per_candidate_block",
                violation_error_message=ALREADY_PRESENTED_MESSAGE,
            ),
        ]
        triggers = [_signed_presentation_child_trigger()]

    def __str__(self):
        return f"Bloc {self.block.number} — {self.presentation.enrolment.candidate}"

    def save(self, *args, **kwargs):
        # Never what the caller says: the candidate of the presentation, and open (a signed session's decisions are
        # refused by the guard before anything is written).
        self.candidate_id = self.presentation.enrolment.candidate_id
        self.is_open = True
        super().save(*args, **kwargs)

    @property
    def is_decided(self) -> bool:
        return bool(self.outcome)

    @property
    def departs_from_proposal(self) -> bool:
        return self.is_decided and self.outcome != self.proposal_outcome

    @property
    def current_outcome(self) -> str:
        """The latest rectification's outcome, or the decision's own (uses prefetched `rectifications`).

        The Python twin of `juries.selectors.latest_rectified_outcomes`: both read the rectifications in
        RECTIFICATION_ORDER.
        """
        rectifications = list(self.rectifications.all())
        return rectifications[-1].outcome if rectifications else self.outcome


class RecusalSource(models.TextChoices):
    FILE = "file", "Dossier du candidat"
    DECLARED = "declared", "Déclaré par le membre"


class Recusal(InputRulesMixin, SignedSessionGuard):
    """A member linked to a candidate does not deliberate on that candidate; the page and the minutes say so."""

    frozen_with = "presentation"

    member = models.ForeignKey(JuryMember, on_delete=models.CASCADE, related_name="recusals", verbose_name="membre")
    presentation = models.ForeignKey(
        Presentation, on_delete=models.CASCADE, related_name="recusals", verbose_name="candidat présenté"
    )
    source = models.CharField("origine", max_length=10, choices=RecusalSource.choices)
    reason = models.CharField("lien avec le candidat", max_length=255)

    objects = WithoutRemovedLinksManager()
    all_objects = FrozenRowsQuerySet.as_manager()

    class Meta:
        verbose_name = "membre qui ne délibère pas"
        # Django writes and follows foreign keys through the base manager: the guarded one, removed rows included.
        base_manager_name = "all_objects"
        verbose_name_plural = "membres qui ne délibèrent pas"
        ordering = ["presentation", french("member__name"), "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "presentation", "source"],
                name="unique_recusal_per_source",
                violation_error_message="Ce lien entre ce membre et ce candidat est déjà déclaré.",
            )
        ]
        triggers = [_signed_presentation_child_trigger()]

    def __str__(self):
        return f"{self.member.name} ne délibère pas sur {self.presentation.enrolment.candidate} ({self.reason})"


# The order in which a decision's rectifications are read everywhere, by signature, the latest last: in Python
# (`Decision.current_outcome`, the documents) and in SQL (`juries.selectors.latest_rectified_outcomes`, the statistics).
RECTIFICATION_ORDER = ("signed_at", "pk")


class Rectification(InputRulesMixin, WriteOnceModel):
    """A correction of a signed decision: a new act signed by the president; the original decision stays as it was."""

    change_refused = RECTIFICATION_CHANGE_REFUSED
    delete_refused = RECTIFICATION_DELETE_REFUSED

    decision = models.ForeignKey(
        Decision, on_delete=models.PROTECT, related_name="rectifications", verbose_name="décision rectifiée"
    )
    outcome = models.CharField("nouvelle décision", max_length=20, choices=DecisionOutcome.choices)
    reason = models.TextField("motif de la rectification")
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="signée par"
    )
    signed_at = models.DateTimeField("signée le", default=timezone.now)

    class Meta:
        verbose_name = "rectification"
        ordering = ["decision", *RECTIFICATION_ORDER]
        triggers = [write_once_trigger(change=RECTIFICATION_CHANGE_REFUSED, delete=RECTIFICATION_DELETE_REFUSED)]

    def __str__(self):
        return f"Rectification du {self.signed_at:%d/%m/%Y} — {self.decision}"


# — Provenance: the jury side knows what it produced —
# Written once, beside the acquired block or the award they explain (a rectification adds a block after the
# signature, when the session's own rows are frozen: a link row, not a column of the decision or the session).


class DecisionAcquiredBlock(WriteOnceModel):
    """The acquired block a signed decision (or its rectification) added to the candidate's ledger."""

    change_refused = delete_refused = ACQUIRED_BLOCK_REFUSED

    decision = models.ForeignKey(
        Decision, on_delete=models.PROTECT, related_name="acquired_block_links", verbose_name="décision du jury"
    )
    acquired_block = models.OneToOneField(
        AcquiredBlock, on_delete=models.PROTECT, related_name="jury_decision_link", verbose_name="bloc acquis"
    )

    class Meta:
        verbose_name = "bloc acquis par décision du jury"
        verbose_name_plural = "blocs acquis par décision du jury"
        ordering = ["pk"]
        # On PostgreSQL, raw SQL too: UPDATE and DELETE are refused by the database.
        triggers = [write_once_trigger(change=ACQUIRED_BLOCK_REFUSED, delete=ACQUIRED_BLOCK_REFUSED)]

    def __str__(self):
        return f"{self.acquired_block} — {self.decision}"


class SessionAward(WriteOnceModel):
    """The certification a signed session (or a rectification of one of its decisions) awarded."""

    change_refused = delete_refused = AWARD_REFUSED

    session = models.ForeignKey(
        JurySession, on_delete=models.PROTECT, related_name="award_links", verbose_name="session de jury"
    )
    award = models.OneToOneField(
        CertificationAward, on_delete=models.PROTECT, related_name="jury_session_link", verbose_name="certification"
    )

    class Meta:
        verbose_name = "certification délivrée par une session de jury"
        verbose_name_plural = "certifications délivrées par une session de jury"
        ordering = ["pk"]
        # On PostgreSQL, raw SQL too: UPDATE and DELETE are refused by the database.
        triggers = [write_once_trigger(change=AWARD_REFUSED, delete=AWARD_REFUSED)]

    def __str__(self):
        return f"{self.award} — {self.session}"


class CertificateSequence(models.Model):
    """The last certificate number given each year; its row is locked while a number is drawn (never reused)."""

    year = models.PositiveSmallIntegerField("année", unique=True)
    last_number = models.PositiveIntegerField("dernier numéro", default=0)

    class Meta:
        verbose_name = "séquence des numéros de certificat"
        verbose_name_plural = "séquences des numéros de certificat"

    def __str__(self):
        return f"{self.year} : {self.last_number}"
