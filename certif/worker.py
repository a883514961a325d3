"""The process that runs background work (`manage.py db_worker`: document batches, background jobs): who it is,
whether it is still alive, and whether it was asked to stop.

django-tasks-db marks a task « running » when a worker claims it and never looks at it again: a worker killed
(SIGKILL, out of memory, machine restarted) leaves its task running for ever. Each batch or job therefore records the
process that runs it and a heartbeat, so that another process can tell work in progress from an orphan.
"""

import contextlib
import datetime
import logging
import os
import secrets
import signal
import socket
import threading
from collections.abc import Callable, Iterator

from django.db import DatabaseError, connections
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

# Tells this process from an earlier one that had the same pid (a container restarted, pids reused).
_PROCESS_TOKEN = secrets.token_hex(8)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

# The process running a batch or a job writes a heartbeat every HEARTBEAT_EVERY seconds: silent for STALE_AFTER, it
# is taken for dead (a process of this machine is checked at once). A session of 100 candidates takes about 15 s on
# 2 cores.
HEARTBEAT_EVERY = 10
STALE_AFTER = datetime.timedelta(seconds=6 * HEARTBEAT_EVERY)


def this_runner() -> str:
    return f"{socket.gethostname()} {os.getpid()} {_PROCESS_TOKEN}"


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def runner_is_gone(runner: str) -> bool:
    """True when the process `runner` (this_runner() of some process) certainly no longer exists.

    Only a process of this machine can be checked; for another machine's, the caller relies on its heartbeat."""
    try:
        host, pid_text, token = runner.rsplit(" ", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname():
        return False
    if pid == os.getpid():
        return token != _PROCESS_TOKEN
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # a process of another user: alive
        return False
    return _is_zombie(pid)


def is_stalled(*, runner: str, last_sign: datetime.datetime | None) -> bool:
    """Work marked running whose process is gone: certainly (a process of this machine), or silent too long."""
    if runner and runner_is_gone(runner):
        return True
    return last_sign is None or last_sign < timezone.now() - STALE_AFTER


def task_is_lost(task_id: str) -> bool:
    """A queued task that will never run: gone, finished, or claimed by a worker that died at once."""
    task = DBTaskResult.objects.filter(pk=task_id).only("status", "started_at").first() if task_id else None
    if task is None:
        return True
    if task.status == TaskResultStatus.READY:
        return False
    if task.status == TaskResultStatus.RUNNING:
        return task.started_at is None or task.started_at < timezone.now() - STALE_AFTER
    return True


def fail_lost_task(task_id: str, *, message: str) -> None:
    """The queue's own row of a task whose worker died, marked failed (it would stay « running » for ever)."""
    DBTaskResult.objects.filter(pk=task_id, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path="certif.worker.WorkerLost",
        traceback=message,
    )


@contextlib.contextmanager
def heartbeat(beat: Callable[[], object], *, every: float) -> Iterator[None]:
    """Call `beat` every `every` seconds from a thread while the block runs (a long rendering or merge included)."""
    stop = threading.Event()

    def run():
        try:
            while not stop.wait(every):
                try:
                    beat()
                except DatabaseError:
                    logger.warning("Signe de vie du travail en arrière-plan non enregistré", exc_info=True)
        finally:
            connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=run, name="background-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


class StopRequest:
    """Hears SIGTERM and SIGINT while a batch runs, then hands them on to the handler in place.

    Under db_worker that handler is the worker's: the first signal lets the current task end, the second exits at
    once (SystemExit). The batch, told by `requested`, stops taking new documents and finishes those in hand.
    Outside the main thread, or where no Python handler is in place (SIGTERM kills a shell), nothing changes.
    """

    def __init__(self):
        self.requested = False
        self._previous = {}

    def __enter__(self) -> "StopRequest":
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                previous = signal.getsignal(signum)
                if callable(previous):
                    self._previous[signum] = previous
                    signal.signal(signum, self._hear)
        return self

    def _hear(self, signum, frame) -> None:
        if not self.requested:
            logger.warning(
                "Arrêt demandé (%s) : les documents en cours sont terminés, le lot reprendra ensuite.",
                signal.strsignal(signum),
            )
        self.requested = True
        self._previous[signum](signum, frame)

    def __exit__(self, *exc_info) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)

    def is_requested(self) -> bool:
        return self.requested
