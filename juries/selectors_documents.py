"""Reads of the documents' state (batches) for the pages and the services, never a write."""

import datetime

from django.utils import timezone

from juries.models import (
    BatchStatus,
    DocumentBatch,
)
from juries.worker import runner_is_gone

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
