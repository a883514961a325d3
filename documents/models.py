"""Documents: what a signed jury session gives (minutes, results statements, attestations, certificates), kept byte
for byte; the batches that produce them; the withdrawals' revocations.

Tables keep the names they had when these models lived in juries and candidates (`db_table`).
"""

import pgtrigger
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.utils import timezone

from candidates.models import (
    WITHDRAWAL_CHANGE_REFUSED,
    WITHDRAWAL_DELETE_REFUSED,
    Candidate,
    CertificationAward,
    Withdrawal,
)
from certif.guards import FrozenRowError, FrozenRowsQuerySet, WriteOnceModel, raise_sql, write_once_trigger
from certif.validation import InputRulesMixin
from juries.models import JurySession

DOCUMENT_CHANGE_REFUSED = "Un document émis ne peut pas être modifié : seul son statut change (révocation)."
DOCUMENT_DELETE_REFUSED = "Un document émis ne peut pas être supprimé : révoquez-le."
DOCUMENT_STATUS_REFUSED = (
    "Un document valide peut seulement devenir révoqué ou rectifié ; un document révoqué ou rectifié le reste."
)


class DocumentKind(models.TextChoices):
    MINUTES = "minutes", "Procès-verbal de délibération"
    RESULTS = "results", "Relevé de résultats"
    ATTESTATION = "attestation", "Attestation de validation de blocs de compétences"
    CERTIFICATE = "certificate", "Certificat"


class DocumentStatus(models.TextChoices):
    VALID = "valid", "Valide"
    REVOKED = "revoked", "Révoqué"
    RECTIFIED = "rectified", "Rectifié"


STATUS_FIELDS = ("status", "status_changed_at", "status_changed_by", "status_reason")


def _document_trigger() -> pgtrigger.Trigger:
    """A document is never deleted; an UPDATE may only move a valid document to revoked or rectified (with who,
    when and why) and point a rectified one, once, to its replacement. Every other column, present or to come,
    stays as issued: the PDF bytes and their SHA-256 above all."""
    frozen_columns = "ARRAY['status', 'status_changed_at', 'status_changed_by_id', 'status_reason', 'superseded_by_id']"
    return pgtrigger.Trigger(
        name="issued_document",
        when=pgtrigger.Before,
        operation=pgtrigger.Update | pgtrigger.Delete,
        func=(
            f"IF TG_OP = 'DELETE' THEN {raise_sql(DOCUMENT_DELETE_REFUSED)} END IF; "
            f"IF to_jsonb(OLD) - {frozen_columns} IS DISTINCT FROM to_jsonb(NEW) - {frozen_columns} THEN "
            f"{raise_sql(DOCUMENT_CHANGE_REFUSED)} END IF; "
            "IF NEW.status IS DISTINCT FROM OLD.status THEN "
            "IF NOT (OLD.status = 'valid' AND NEW.status IN ('revoked', 'rectified')) THEN "
            f"{raise_sql(DOCUMENT_STATUS_REFUSED)} END IF; "
            "ELSIF ROW(OLD.status_changed_at, OLD.status_changed_by_id, OLD.status_reason) "
            "IS DISTINCT FROM ROW(NEW.status_changed_at, NEW.status_changed_by_id, NEW.status_reason) THEN "
            f"{raise_sql(DOCUMENT_CHANGE_REFUSED)} END IF; "
            "IF OLD.superseded_by_id IS NOT NULL AND NEW.superseded_by_id IS DISTINCT FROM OLD.superseded_by_id THEN "
            f"{raise_sql(DOCUMENT_CHANGE_REFUSED)} END IF; "
            "RETURN NEW;"
        ),
    )


class IssuedDocumentQuerySet(FrozenRowsQuerySet):
    def visible_to(self, user):
        """Staff, and anyone granted « documents.view_issueddocument », see every document; a president the
        documents of the sessions they preside; anyone else none."""
        from certif.permissions import is_president, reads_all_documents
        from juries.selectors import sessions_presided_by

        if reads_all_documents(user):
            return self
        if is_president(user):
            return self.filter(session__in=sessions_presided_by(user).values("pk"))
        return self.none()


class IssuedDocument(InputRulesMixin, WriteOnceModel):
    """A PDF issued by IRUP, kept byte for byte with its SHA-256: downloading it again returns the same bytes.

    Immutable once created; only its status changes (revoked, or rectified when a decision it reports is
    rectified), through documents.services. `holder_name`, `document_date` and `reference` are what the
    document prints, as the public verification page shows them.
    """

    change_refused = DOCUMENT_CHANGE_REFUSED
    delete_refused = DOCUMENT_DELETE_REFUSED
    mutable_fields = frozenset(STATUS_FIELDS + ("superseded_by",))

    kind = models.CharField("type de document", max_length=20, choices=DocumentKind.choices)
    session = models.ForeignKey(
        JurySession, on_delete=models.PROTECT, related_name="documents", verbose_name="session de jury"
    )
    candidate = models.ForeignKey(
        Candidate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="issued_documents",
        verbose_name="candidat",
    )
    award = models.ForeignKey(
        CertificationAward,
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
        db_table = "juries_issueddocument"
        verbose_name = "document émis"
        verbose_name_plural = "documents émis"
        ordering = ["session", "candidate", "kind", "-created_at", "-pk"]
        constraints = [
            # At most one valid document of a kind for a candidate of a session (and one valid minutes a session).
            models.UniqueConstraint(
                fields=["session", "kind", "candidate"],
                condition=models.Q(status="valid", candidate__isnull=False),
                name="unique_valid_candidate_document",
                violation_error_message="Un document valide de ce type existe déjà pour ce candidat et cette session.",
            ),
            models.UniqueConstraint(
                fields=["session", "kind"],
                condition=models.Q(status="valid", candidate__isnull=True),
                name="unique_valid_session_document",
                violation_error_message="Un document valide de ce type existe déjà pour cette session.",
            ),
        ]
        triggers = [_document_trigger()]

    @classmethod
    def check_frozen_update(cls, queryset, values: dict) -> None:
        """What the trigger says, for every database: valid → revoked or rectified, with who, when and why; the
        replacement of a rectified document, once."""
        if "status" in values:
            if values["status"] not in (DocumentStatus.REVOKED, DocumentStatus.RECTIFIED) or (
                queryset.exclude(status=DocumentStatus.VALID).exists()
            ):
                raise FrozenRowError(DOCUMENT_STATUS_REFUSED)
        elif set(values) & set(STATUS_FIELDS):
            raise FrozenRowError(DOCUMENT_CHANGE_REFUSED)
        if "superseded_by" in values and queryset.filter(superseded_by__isnull=False).exists():
            raise FrozenRowError(DOCUMENT_CHANGE_REFUSED)

    def __str__(self):
        holder = f" — {self.holder_name}" if self.holder_name else ""
        return f"{self.get_kind_display()}{holder} ({self.document_date:%d/%m/%Y})"

    @property
    def is_valid(self) -> bool:
        return self.status == DocumentStatus.VALID

    @property
    def withdrawal_act(self):
        """The withdrawal (retrait) that revoked this document, or None (reads `withdrawn__withdrawal` when selected)."""
        try:
            return self.withdrawn.withdrawal
        except ObjectDoesNotExist:
            return None

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
    """Every document of a signed session produced in the background (django.tasks), then one ZIP and two PDFs for
    printing (the portrait documents, the certificates), all made of the stored documents' bytes."""

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
    # put back in the queue (documents.services.batches_recover).
    runner = models.CharField("processus de production", max_length=255, blank=True)
    heartbeat_at = models.DateTimeField("dernier signe de vie", null=True, blank=True)
    interruptions = models.PositiveSmallIntegerField("interruptions", default=0)
    error = models.TextField("erreur", blank=True)
    zip_file = models.BinaryField("archive ZIP", null=True, blank=True)
    # For a duplex printer: every candidate's documents together, each candidate starting on a front page. The
    # certificates (landscape, on their own paper) are in a file of their own, in the same order.
    merged_pdf = models.BinaryField("PDF à imprimer", null=True, blank=True)
    certificates_pdf = models.BinaryField("certificats à imprimer", null=True, blank=True)

    class Meta:
        db_table = "juries_documentbatch"
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


class WithdrawnDocument(WriteOnceModel):
    """One issued document a withdrawal revoked: the public verification page says « retiré », not « révoqué »."""

    change_refused = WITHDRAWAL_CHANGE_REFUSED
    delete_refused = WITHDRAWAL_DELETE_REFUSED

    withdrawal = models.ForeignKey(
        Withdrawal, on_delete=models.PROTECT, related_name="documents", verbose_name="retrait"
    )
    document = models.OneToOneField(
        IssuedDocument, on_delete=models.PROTECT, related_name="withdrawn", verbose_name="document retiré"
    )

    class Meta:
        db_table = "candidates_withdrawndocument"
        verbose_name = "document retiré"
        # On PostgreSQL, raw SQL too: UPDATE and DELETE are refused by the database.
        triggers = [write_once_trigger(change=WITHDRAWAL_CHANGE_REFUSED, delete=WITHDRAWAL_DELETE_REFUSED)]
        verbose_name_plural = "documents retirés"
        ordering = ["pk"]

    def __str__(self):
        return f"{self.document} (retiré)"


LOGO_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/svg+xml": "SVG"}
LOGO_MAX_BYTES = 1024 * 1024


class CertifierIdentity(models.Model):
    """What every new document prints of the certifier beyond the fiche: the logo staff upload and the director
    general's name, under their signature. One row (`current()`); a document already issued keeps what it printed.

    The logo is kept in the database, as the documents are: a document is rendered from the database alone, by any
    worker process, without a shared media directory."""

    director_general_name = models.CharField(
        "nom du directeur général",
        max_length=150,
        blank=True,
        help_text="Prénom et nom, tels qu'ils sont imprimés sous la signature du directeur général.",
    )
    logo = models.BinaryField("logo", null=True, blank=True, editable=False)
    logo_type = models.CharField("format du logo", max_length=20, blank=True, choices=list(LOGO_TYPES.items()))
    logo_name = models.CharField("fichier du logo", max_length=255, blank=True)
    updated_at = models.DateTimeField("modifié le", null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="modifié par",
    )

    class Meta:
        verbose_name = "identité du certificateur sur les documents"
        verbose_name_plural = "identité du certificateur sur les documents"

    def __str__(self):
        return "Identité du certificateur sur les documents"

    @classmethod
    def current(cls) -> "CertifierIdentity":
        """The one row, or an empty one (not saved) until staff record it."""
        return cls.objects.defer("logo").filter(pk=1).first() or cls(pk=1)

    @property
    def has_logo(self) -> bool:
        return bool(self.logo_type)
