"""`manage.py db_worker`: django-tasks-db's worker, plus what it lacks for our document batches.

django-tasks-db never looks again at a task whose worker died: its batch would stay « en cours » for ever. This
worker, when it starts and then every minute while it runs, puts back in the queue the batches whose process is
gone (documents.services.batches_recover); they resume where they stopped. Background jobs (certif.jobs: large
exports) whose process died are put back in the queue the same way (certif.jobs.jobs_recover), and the rate-limit
counters whose window is over are deleted (certif.ratelimit.purge_finished_windows). It overrides the library's
command of the same name (juries comes before django_tasks_db in INSTALLED_APPS), so that every way of starting
the worker — `make run`, a systemd unit, the README's commands — does it.
"""

import logging
import os
import threading

from django.db import DatabaseError, close_old_connections, connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

logger = logging.getLogger(__name__)

RECOVER_EVERY = 60  # seconds


def _recover() -> None:
    from certif.jobs import jobs_recover
    from certif.ratelimit import purge_finished_windows
    from documents.services import batches_recover

    for recover, what in ((batches_recover, "lots de documents"), (jobs_recover, "travaux en arrière-plan")):
        try:
            recovered = recover()
        except DatabaseError:
            logger.warning("Reprise des %s interrompus impossible pour l'instant", what, exc_info=True)
        else:
            if recovered:
                logger.warning("%s interrompus remis en file : %s", what.capitalize(), recovered)
    try:
        purge_finished_windows()
    except DatabaseError:
        logger.warning("Purge des compteurs de requêtes limitées impossible pour l'instant", exc_info=True)


class Command(db_worker.Command):
    help = (
        "Produit les documents en arrière-plan (file de tâches en base) et reprend les lots dont le processus "
        "s'est arrêté."
    )

    def handle(self, *args, **options):
        if options["reload"] and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true":
            return super().handle(*args, **options)  # the reloader's parent only restarts its child, which recovers
        _recover()
        if options["batch"]:  # one pass (tests, cron): recovered once, then the queue is emptied
            return super().handle(*args, **options)
        stop = threading.Event()

        def watch():
            try:
                while not stop.wait(RECOVER_EVERY):
                    close_old_connections()  # this thread's connection may have been dropped in a minute
                    _recover()
            finally:
                connections.close_all()

        watcher = threading.Thread(target=watch, name="document-batch-recovery", daemon=True)
        watcher.start()
        try:
            return super().handle(*args, **options)
        finally:
            stop.set()
            watcher.join()
