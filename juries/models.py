"""Jury sessions: composition, presented candidates, block-by-block decisions and the president's sign-off.

From the sign-off on, a session and everything it decided are immutable: the models refuse to save or delete them
(`SignedSessionGuard`), the services refuse, the views refuse and the admin is read-only. A correction is a new
act, a `Rectification`, that keeps the original decision visible.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from certif.models import Block, Certification, WriteOnceModel
from certif.rules import Outcome

SIGNED_MESSAGE = "Cette session de jury est signée : ses décisions sont définitives et ne peuvent plus être modifiées."


class JuryCompositionRule(models.Model):
    """The fiche's jury composition, the same for every open pathway of RNCP 16204:
    « 50% professionnels, 50% formateurs — Président : un professionnel — Les professionnels composant
    ce jury seront des salariés et des employeurs, à parts égales »."""

    certification = models.OneToOneField(Certification, on_delete=models.CASCADE, related_name="jury_rule")
    pathways = models.ManyToManyField("candidates.AccessPathway", related_name="jury_rules", blank=True)
    professionals_percent = models.PositiveSmallIntegerField("part de professionnels (%)", default=50)
    trainers_percent = models.PositiveSmallIntegerField("part de formateurs (%)", default=50)
    president_is_professional = models.BooleanField("le président est un professionnel", default=True)
    professionals_split_equally = models.BooleanField(
        "professionnels salariés et employeurs à parts égales", default=True
    )
    text = models.TextField("composition telle que la fiche l'écrit")

    class Meta:
        verbose_name = "règle de composition des jurys"
        verbose_name_plural = "règles de composition des jurys"

    def __str__(self):
        return f"Composition des jurys — RNCP {self.certification.rncp_code}"

    @property
    def minimum_members(self) -> int:
        """50/50 with professionals split in two equal halves: 2 professionals (1 + 1) and 2 trainers."""
        return 4 if self.professionals_split_equally else 2


class JurySessionStatus(models.TextChoices):
    PREPARED = "prepared", "En préparation"
    SIGNED = "signed", "Signée"


class JurySessionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Staff see every session; a president the sessions they preside (their account is the president's)."""
        from certif.roles import Role, roles_of

        roles = roles_of(user)
        if Role.STAFF in roles:
            return self
        if Role.PRESIDENT in roles:
            return self.filter(members__user=user, members__is_president=True).distinct()
        return self.none()


def _session_is_signed(session_id) -> bool:
    return bool(session_id) and JurySession.objects.filter(pk=session_id, status=JurySessionStatus.SIGNED).exists()


class SignedSessionGuard(models.Model):
    """Refuse any save or delete of a row that belongs to a signed session (read from the database, not memory)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if _session_is_signed(self.guarded_session_id()):
            raise ValidationError(SIGNED_MESSAGE)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if _session_is_signed(self.guarded_session_id()):
            raise ValidationError(SIGNED_MESSAGE)
        return super().delete(*args, **kwargs)

    def guarded_session_id(self):
        raise NotImplementedError


class JurySession(SignedSessionGuard):
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

    def __str__(self):
        return f"Jury du {self.date:%d/%m/%Y} — {self.place}"

    def guarded_session_id(self):
        return self.pk

    @property
    def is_signed(self) -> bool:
        return self.status == JurySessionStatus.SIGNED


class MemberCategory(models.TextChoices):
    EMPLOYEE = "employee_professional", "Professionnel salarié"
    EMPLOYER = "employer_professional", "Professionnel employeur"
    TRAINER = "trainer", "Formateur"


PROFESSIONAL_CATEGORIES = (MemberCategory.EMPLOYEE, MemberCategory.EMPLOYER)


class JuryMember(SignedSessionGuard):
    session = models.ForeignKey(JurySession, on_delete=models.CASCADE, related_name="members", verbose_name="session")
    name = models.CharField("nom", max_length=150)
    organisation = models.CharField("organisme", max_length=255)
    category = models.CharField("catégorie", max_length=30, choices=MemberCategory.choices)
    is_president = models.BooleanField("président du jury", default=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="jury_memberships",
        verbose_name="compte utilisateur",
        help_text="Obligatoire pour le président : il signe avec ce compte.",
    )

    class Meta:
        verbose_name = "membre du jury"
        verbose_name_plural = "membres du jury"
        ordering = ["session", "-is_president", "category", "name", "pk"]

    def __str__(self):
        return f"{self.name} ({self.get_category_display()}, {self.organisation})"

    def guarded_session_id(self):
        return self.session_id

    @property
    def is_professional(self) -> bool:
        return self.category in PROFESSIONAL_CATEGORIES


class Presentation(SignedSessionGuard):
    """A candidate (through one enrolment) presented to a jury session."""

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

    class Meta:
        verbose_name = "candidat présenté"
        verbose_name_plural = "candidats présentés"
        ordering = ["session", "enrolment__candidate__birth_name", "enrolment__candidate__first_name", "pk"]
        constraints = [models.UniqueConstraint(fields=["session", "enrolment"], name="unique_presentation")]

    def __str__(self):
        return f"{self.enrolment.candidate} — {self.session}"

    def guarded_session_id(self):
        return self.session_id


class DecisionOutcome(models.TextChoices):
    VALIDATED = Outcome.VALIDATED.value, "Validé"
    NOT_VALIDATED = Outcome.NOT_VALIDATED.value, "Non validé"


class Decision(SignedSessionGuard):
    """The jury's decision on one block of one presented candidate, with the proposal it departs from (or not).

    Created with the presentation (proposal snapshot, empty outcome: « décision manquante »); the president
    records the outcome on the deliberation page. A departure from the proposal needs a written reason.
    """

    presentation = models.ForeignKey(
        Presentation, on_delete=models.CASCADE, related_name="decisions", verbose_name="candidat présenté"
    )
    block = models.ForeignKey(Block, on_delete=models.PROTECT, related_name="jury_decisions", verbose_name="bloc")
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

    class Meta:
        verbose_name = "décision du jury"
        verbose_name_plural = "décisions du jury"
        ordering = ["presentation", "block__number"]
        constraints = [models.UniqueConstraint(fields=["presentation", "block"], name="unique_decision")]

    def __str__(self):
        return f"Bloc {self.block.number} — {self.presentation.enrolment.candidate}"

    def guarded_session_id(self):
        return Presentation.objects.filter(pk=self.presentation_id).values_list("session_id", flat=True).first()

    @property
    def is_decided(self) -> bool:
        return bool(self.outcome)

    @property
    def departs_from_proposal(self) -> bool:
        return self.is_decided and self.outcome != self.proposal_outcome

    @property
    def current_outcome(self) -> str:
        """The latest rectification's outcome, or the decision's own (uses prefetched `rectifications`)."""
        rectifications = sorted(self.rectifications.all(), key=lambda r: (r.signed_at, r.pk))
        return rectifications[-1].outcome if rectifications else self.outcome


class RecusalSource(models.TextChoices):
    FILE = "file", "Dossier du candidat"
    DECLARED = "declared", "Déclaré par le membre"


class Recusal(SignedSessionGuard):
    """A member linked to a candidate does not deliberate on that candidate; the page and the minutes say so."""

    member = models.ForeignKey(JuryMember, on_delete=models.CASCADE, related_name="recusals", verbose_name="membre")
    presentation = models.ForeignKey(
        Presentation, on_delete=models.CASCADE, related_name="recusals", verbose_name="candidat présenté"
    )
    source = models.CharField("origine", max_length=10, choices=RecusalSource.choices)
    reason = models.CharField("lien avec le candidat", max_length=255)

    class Meta:
        verbose_name = "membre qui ne délibère pas"
        verbose_name_plural = "membres qui ne délibèrent pas"
        ordering = ["presentation", "member__name", "source"]
        constraints = [
            models.UniqueConstraint(fields=["member", "presentation", "source"], name="unique_recusal_per_source")
        ]

    def __str__(self):
        return f"{self.member.name} ne délibère pas sur {self.presentation.enrolment.candidate} ({self.reason})"

    def guarded_session_id(self):
        return self.presentation.session_id if self.presentation_id else None


class Rectification(WriteOnceModel):
    """A correction of a signed decision: a new act signed by the president; the original decision stays as it was."""

    change_refused = "Une rectification signée ne peut pas être modifiée."
    delete_refused = "Une rectification signée ne peut pas être supprimée."

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
        ordering = ["decision", "signed_at", "pk"]

    def __str__(self):
        return f"Rectification du {self.signed_at:%d/%m/%Y} — {self.decision}"


class CertificateSequence(models.Model):
    """The last certificate number given each year; its row is locked while a number is drawn (never reused)."""

    year = models.PositiveSmallIntegerField("année", unique=True)
    last_number = models.PositiveIntegerField("dernier numéro", default=0)

    class Meta:
        verbose_name = "séquence des numéros de certificat"
        verbose_name_plural = "séquences des numéros de certificat"

    def __str__(self):
        return f"{self.year} : {self.last_number}"


# — Documents (issue 6) —


class DocumentKind(models.TextChoices):
    MINUTES = "minutes", "Procès-verbal de délibération"
    RESULTS = "results", "Relevé de résultats"
    ATTESTATION = "attestation", "Attestation de validation de blocs de compétences"
    CERTIFICATE = "certificate", "Certificat"


class DocumentStatus(models.TextChoices):
    VALID = "valid", "Valide"
    REVOKED = "revoked", "Révoqué"
    RECTIFIED = "rectified", "Rectifié"


class IssuedDocumentQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Staff, and anyone granted « juries.view_issueddocument », see every document; a president the
        documents of the sessions they preside; anyone else none."""
        from certif.roles import Role, roles_of

        roles = roles_of(user)
        if Role.STAFF in roles or (user.is_authenticated and user.has_perm("juries.view_issueddocument")):
            return self
        if Role.PRESIDENT in roles:
            return self.filter(
                session__in=JurySession.objects.filter(members__user=user, members__is_president=True).values("pk")
            )
        return self.none()


class IssuedDocument(WriteOnceModel):
    """A PDF issued by IRUP, kept byte for byte with its SHA-256: downloading it again returns the same bytes.

    Immutable once created; only its status changes (revoked, or rectified when a decision it reports is
    rectified), through juries.services_documents. `holder_name`, `document_date` and `reference` are what the
    document prints, as the public verification page shows them.
    """

    change_refused = "Un document émis ne peut pas être modifié : seul son statut change (révocation)."
    delete_refused = "Un document émis ne peut pas être supprimé : révoquez-le."

    kind = models.CharField("type de document", max_length=20, choices=DocumentKind.choices)
    session = models.ForeignKey(
        JurySession, on_delete=models.PROTECT, related_name="documents", verbose_name="session de jury"
    )
    candidate = models.ForeignKey(
        "candidates.Candidate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="issued_documents",
        verbose_name="candidat",
    )
    award = models.ForeignKey(
        "candidates.CertificationAward",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name="certification délivrée",
    )
    verification_code = models.CharField("code de vérification", max_length=20, unique=True)
    title = models.CharField("titre", max_length=255)
    holder_name = models.CharField("titulaire", max_length=255, blank=True)
    document_date = models.DateField("date du document")
    reference = models.CharField("numéro de certificat", max_length=30, blank=True)
    pdf = models.BinaryField("fichier PDF")
    sha256 = models.CharField("empreinte SHA-256", max_length=64)
    created_at = models.DateTimeField("émis le", default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="émis par"
    )
    status = models.CharField("statut", max_length=20, choices=DocumentStatus.choices, default=DocumentStatus.VALID)
    status_changed_at = models.DateTimeField("statut changé le", null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="statut changé par",
    )
    status_reason = models.TextField("motif de la révocation ou de la rectification", blank=True)
    superseded_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supersedes",
        verbose_name="remplacé par",
    )

    objects = IssuedDocumentQuerySet.as_manager()

    class Meta:
        verbose_name = "document émis"
        verbose_name_plural = "documents émis"
        ordering = ["session", "candidate", "kind", "-created_at", "-pk"]
        constraints = [
            # At most one valid document of a kind for a candidate of a session (and one valid minutes a session).
            models.UniqueConstraint(
                fields=["session", "kind", "candidate"],
                condition=models.Q(status="valid", candidate__isnull=False),
                name="unique_valid_candidate_document",
            ),
            models.UniqueConstraint(
                fields=["session", "kind"],
                condition=models.Q(status="valid", candidate__isnull=True),
                name="unique_valid_session_document",
            ),
        ]

    def __str__(self):
        holder = f" — {self.holder_name}" if self.holder_name else ""
        return f"{self.get_kind_display()}{holder} ({self.document_date:%d/%m/%Y})"

    @property
    def is_valid(self) -> bool:
        return self.status == DocumentStatus.VALID

    @property
    def grouped_code(self) -> str:
        code = self.verification_code
        return "-".join(code[i : i + 5] for i in range(0, len(code), 5))


class BatchStatus(models.TextChoices):
    PENDING = "pending", "En attente"
    RUNNING = "running", "En cours"
    DONE = "done", "Terminé"
    FAILED = "failed", "Échec"


class DocumentBatch(models.Model):
    """Every document of a signed session produced in the background (django.tasks), then one ZIP and one merged
    PDF for printing, both made of the stored documents' bytes."""

    session = models.ForeignKey(
        JurySession, on_delete=models.PROTECT, related_name="document_batches", verbose_name="session de jury"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="demandé par"
    )
    requested_at = models.DateTimeField("demandé le", default=timezone.now)
    status = models.CharField("statut", max_length=20, choices=BatchStatus.choices, default=BatchStatus.PENDING)
    total = models.PositiveIntegerField("documents", default=0)
    done = models.PositiveIntegerField("documents prêts", default=0)
    task_id = models.CharField("tâche", max_length=64, blank=True)
    started_at = models.DateTimeField("commencé le", null=True, blank=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)
    # Who runs it now ("host pid token") and when it last said so: a batch whose process died is found and
    # put back in the queue (juries.services_documents.batches_recover).
    runner = models.CharField("processus de production", max_length=255, blank=True)
    heartbeat_at = models.DateTimeField("dernier signe de vie", null=True, blank=True)
    interruptions = models.PositiveSmallIntegerField("interruptions", default=0)
    error = models.TextField("erreur", blank=True)
    zip_file = models.BinaryField("archive ZIP", null=True, blank=True)
    merged_pdf = models.BinaryField("PDF à imprimer", null=True, blank=True)

    class Meta:
        verbose_name = "lot de documents"
        verbose_name_plural = "lots de documents"
        ordering = ["-requested_at", "-pk"]

    def __str__(self):
        return f"Documents du {self.session} ({self.get_status_display().lower()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (BatchStatus.DONE, BatchStatus.FAILED)

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else min(100, round(100 * self.done / self.total))
