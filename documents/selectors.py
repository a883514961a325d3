"""Reads of the documents' state (batches, valid documents) for the pages and the services, never a write."""

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from candidates.models import AcquiredBlock, Candidate, CertificationAward
from certif.worker import HEARTBEAT_EVERY, STALE_AFTER, is_stalled
from documents.models import BatchStatus, DocumentBatch, DocumentKind, DocumentStatus, IssuedDocument
from juries.models import JurySession, JurySessionStatus, Presentation

__all__ = ["HEARTBEAT_EVERY", "STALE_AFTER"]  # the worker's, read here by the services and the pages


def batch_is_stalled(batch: DocumentBatch) -> bool:
    """A batch marked running whose process is gone: certainly (a process of this machine), or silent too long."""
    if batch.status != BatchStatus.RUNNING:
        return False
    return is_stalled(runner=batch.runner, last_sign=batch.heartbeat_at or batch.started_at)


def documents_stating(
    *, candidate: Candidate, award: CertificationAward | None, blocks: list[AcquiredBlock]
) -> QuerySet[IssuedDocument]:
    """The valid documents of the candidate that state a result about to be withdrawn: the certificate of `award`,
    and every results statement or attestation of a session held on or after the day a block of `blocks` was
    acquired (such a document lists that block among the blocks held, or reports the decision that gave it)."""
    condition = Q(pk__in=[])
    if award is not None:
        condition |= Q(kind=DocumentKind.CERTIFICATE, award=award)
    if blocks:
        first_day = min(item.acquired_on for item in blocks)
        condition |= Q(kind__in=[DocumentKind.RESULTS, DocumentKind.ATTESTATION], session__date__gte=first_day)
    return (
        IssuedDocument.objects.filter(condition, candidate=candidate, status=DocumentStatus.VALID)
        .defer("pdf")
        .order_by("session__date", "kind", "pk")
    )


def _count_per_session(queryset, column: str = "pk") -> Coalesce:
    rows = queryset.filter(session=OuterRef("pk")).order_by().values("session")
    return Coalesce(
        Subquery(rows.annotate(n=Count(column, distinct=True)).values("n")[:1], output_field=IntegerField()), Value(0)
    )


def sessions_with_documents_to_issue() -> QuerySet[JurySession]:
    """Signed sessions whose minutes has no valid copy, or one of whose presented candidates has no valid results
    statement (one revoked by the candidate's withdrawal counts as served: it is not issued again): staff issue
    their documents. Annotated `has_minutes`, `candidate_count`, `results_count` (candidates served) and
    `batch_under_way` (a batch asked for and not finished). One query."""
    return (
        JurySession.objects.filter(status=JurySessionStatus.SIGNED)
        .select_related("certification")
        .annotate(
            has_minutes=Exists(
                IssuedDocument.objects.filter(
                    session=OuterRef("pk"), kind=DocumentKind.MINUTES, status=DocumentStatus.VALID
                )
            ),
            candidate_count=_count_per_session(Presentation.objects.all()),
            results_count=_count_per_session(
                IssuedDocument.objects.filter(kind=DocumentKind.RESULTS, candidate__isnull=False).filter(
                    Q(status=DocumentStatus.VALID) | Q(withdrawn__isnull=False)
                ),
                "candidate",
            ),
            batch_under_way=Exists(
                DocumentBatch.objects.filter(
                    session=OuterRef("pk"), status__in=[BatchStatus.PENDING, BatchStatus.RUNNING]
                )
            ),
        )
        .filter(Q(has_minutes=False) | Q(results_count__lt=F("candidate_count")))
        .order_by("date", "pk")
    )


# The public page reads one row by the unique code's index, and only the columns it shows: the fiche's long texts
# and the PDF stay on disk.
VERIFICATION_COLUMNS = (
    "kind", "status", "document_date", "holder_name", "reference", "status_changed_at", "superseded_by_id",
    "verification_code", "session__certification__title", "session__certification__acronym",
    "session__certification__rncp_code", "session__certification__level_eqf", "session__certification__is_example",
    "withdrawn__withdrawal__decided_on", "withdrawn__withdrawal__reference",
)  # fmt: skip


def verified_document(code: str) -> IssuedDocument | None:
    """The document a public verification code names, or None: one row by the code's unique index."""
    try:
        return (
            IssuedDocument.objects.select_related("session__certification", "withdrawn__withdrawal")
            .only(*VERIFICATION_COLUMNS)
            .get(verification_code=code)
        )
    except IssuedDocument.DoesNotExist:
        return None
