"""Reads of the documents' state (batches, valid documents) for the pages and the services, never a write."""

import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from candidates.models import AcquiredBlock, Candidate, CertificationAward
from documents.models import BatchStatus, DocumentBatch, DocumentKind, DocumentStatus, IssuedDocument
from documents.worker import runner_is_gone

# A batch's process writes a heartbeat every HEARTBEAT_EVERY seconds: silent for STALE_AFTER, it is taken for dead
# (a process of this machine is checked at once). A session of 100 candidates takes about 15 s on 2 cores.
HEARTBEAT_EVERY = 10
STALE_AFTER = datetime.timedelta(seconds=6 * HEARTBEAT_EVERY)


def batch_is_stalled(batch: DocumentBatch) -> bool:
    """A batch marked running whose process is gone: certainly (a process of this machine), or silent too long."""
    if batch.status != BatchStatus.RUNNING:
        return False
    if batch.runner and runner_is_gone(batch.runner):
        return True
    last_sign = batch.heartbeat_at or batch.started_at
    return last_sign is None or last_sign < timezone.now() - STALE_AFTER


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
