"""Background jobs: long work (a large export) taken out of the request, run by `manage.py db_worker` from the
database task queue (django-tasks-db), with progress, and the file it produces stored in the job's row.

A room above certif registers what each kind of job does (`register`, from its AppConfig.ready): certif runs the job
without importing the rooms above it. A job's work reads the database and builds a file: run twice (a worker killed
and the job put back in the queue), it gives the same file, so a job interrupted is simply run again.
"""

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from certif.audit import record_audit
from certif.models import AuditAction, BackgroundJob, JobKind, JobStatus
from certif.worker import HEARTBEAT_EVERY, fail_lost_task, heartbeat, is_stalled, task_is_lost, this_runner

logger = logging.getLogger(__name__)

JOB_BYTES = ("file",)  # read only to be downloaded
# A job whose process died this many times is failed rather than retried (work that kills its worker).
MAX_INTERRUPTIONS = 3
WORKER_LOST = "Le service des travaux en arrière-plan s'est arrêté pendant ce travail (processus interrompu)."


@dataclasses.dataclass(frozen=True)
class JobFile:
    name: str
    content_type: str
    content: bytes
    # A page of what the work recorded (a declaration), offered beside the file.
    result_url: str = ""
    result_label: str = ""


class JobRefused(Exception):
    """The work found the request no longer possible (what it would do was done meanwhile, or refused by a rule):
    the job fails with this message, written for the person who asked, and is not retried."""


# What a job of each kind does: work(job, progress) -> JobFile, where progress(done, total) reports how far it is.
Progress = Callable[[int, int], None]
Work = Callable[[BackgroundJob, Progress], JobFile]
_WORK: dict[str, Work] = {}


def register(kind: JobKind, work: Work) -> None:
    _WORK[kind] = work


def _rows(job_id: int):
    return BackgroundJob.objects.filter(pk=job_id)


@transaction.atomic(durable=True)
def job_request(*, kind: JobKind, title: str, parameters: dict[str, Any], total: int, actor: User) -> BackgroundJob:
    """Queue a job for `actor` (who alone will see it and its file); its task is written in the same transaction."""
    if kind not in _WORK:
        raise ValueError(f"Aucun travail en arrière-plan de ce type : {kind}.")
    job = BackgroundJob.objects.create(kind=kind, title=title, parameters=parameters, total=total, requested_by=actor)
    _enqueue(job)
    record_audit(
        actor=actor,
        action=AuditAction.BACKGROUND_JOB_REQUESTED,
        target=job,
        after={"job": job.pk, "kind": kind, "title": title, "parameters": parameters, "total": total},
    )
    return BackgroundJob.objects.defer(*JOB_BYTES).get(pk=job.pk)


def _enqueue(job: BackgroundJob) -> str:
    from certif.tasks import run_background_job

    task_id = str(run_background_job.enqueue(job_id=job.pk).id)
    _rows(job.pk).update(task_id=task_id)
    return task_id


def job_is_stalled(job: BackgroundJob) -> bool:
    """A job marked running whose process is gone."""
    if job.status != JobStatus.RUNNING:
        return False
    return is_stalled(runner=job.runner, last_sign=job.heartbeat_at or job.started_at)


def _recover(job: BackgroundJob) -> bool:
    """Put an unfinished job whose process died back in the queue, or fail it after MAX_INTERRUPTIONS."""
    if job.status == JobStatus.RUNNING and not job_is_stalled(job):
        return False
    if job.status == JobStatus.PENDING and not task_is_lost(job.task_id):
        return False
    with transaction.atomic():
        current = BackgroundJob.objects.select_for_update(of=("self",)).defer(*JOB_BYTES).get(pk=job.pk)
        if (current.status, current.runner, current.task_id, current.heartbeat_at) != (
            job.status,
            job.runner,
            job.task_id,
            job.heartbeat_at,
        ):
            return False  # another process moved it meanwhile
        fail_lost_task(current.task_id, message=WORKER_LOST)
        if current.interruptions + 1 >= MAX_INTERRUPTIONS:
            _rows(current.pk).update(
                status=JobStatus.FAILED,
                interruptions=F("interruptions") + 1,
                runner="",
                finished_at=timezone.now(),
                error=(
                    f"Le travail a été interrompu {current.interruptions + 1} fois (le service des travaux en "
                    "arrière-plan s'est arrêté pendant qu'il le faisait) : demandez-le de nouveau."
                ),
            )
            logger.error("Travail en arrière-plan %s abandonné après %s interruptions", current.pk, MAX_INTERRUPTIONS)
        else:
            _requeue(current, crashed=True)
            logger.warning("Travail en arrière-plan %s interrompu : remis en file", current.pk)
    return True


def _requeue(job: BackgroundJob, *, crashed: bool) -> None:
    with transaction.atomic():
        _enqueue(job)
        _rows(job.pk).update(
            status=JobStatus.PENDING,
            runner="",
            heartbeat_at=None,
            done=0,
            interruptions=F("interruptions") + (1 if crashed else 0),
        )


def jobs_recover() -> int:
    """Every unfinished job whose process died goes back in the queue (or fails): run by db_worker when it starts,
    then every minute, with the document batches. Returns how many were recovered."""
    unfinished = BackgroundJob.objects.filter(status__in=[JobStatus.PENDING, JobStatus.RUNNING]).defer(*JOB_BYTES)
    return sum(_recover(job) for job in unfinished)


def job_run(*, job_id: int) -> dict:
    """The task's body (certif.tasks): the registered work of the job's kind, with progress, then its file."""
    job = BackgroundJob.objects.select_related("requested_by").defer(*JOB_BYTES).get(pk=job_id)
    if job.is_finished:
        return {"job": job_id, "status": job.status}
    runner, now = this_runner(), timezone.now()
    _rows(job_id).update(
        status=JobStatus.RUNNING, started_at=Coalesce(F("started_at"), now), runner=runner, heartbeat_at=now, done=0
    )
    mine = _rows(job_id).filter(runner=runner)

    def progress(done: int, total: int) -> None:
        mine.update(done=done, total=total, heartbeat_at=timezone.now())

    try:
        with heartbeat(lambda: mine.update(heartbeat_at=timezone.now()), every=HEARTBEAT_EVERY):
            produced = _WORK[job.kind](job, progress)
    except JobRefused as refusal:
        logger.info("Travail en arrière-plan %s refusé : %s", job_id, refusal)
        mine.update(status=JobStatus.FAILED, error=str(refusal)[:2000], runner="", finished_at=timezone.now())
        return {"job": job_id, "status": JobStatus.FAILED}
    except Exception as error:
        logger.exception("Travail en arrière-plan %s en échec", job_id)
        mine.update(
            status=JobStatus.FAILED,
            error=f"Le travail a échoué : {error}"[:2000],
            runner="",
            finished_at=timezone.now(),
        )
        raise
    except BaseException:
        # Stopped at once (SystemExit, a second Ctrl+C): back in the queue now, or recovered when a worker starts.
        try:
            _requeue(job, crashed=False)
        except Exception:
            logger.exception("Travail en arrière-plan %s : remise en file impossible, reprise au démarrage", job_id)
        raise
    mine.update(
        status=JobStatus.DONE,
        done=F("total"),
        file=produced.content,
        file_name=produced.name,
        content_type=produced.content_type,
        result_url=produced.result_url,
        result_label=produced.result_label,
        runner="",
        finished_at=timezone.now(),
    )
    return {"job": job_id, "status": JobStatus.DONE, "bytes": len(produced.content)}
