"""Two `db_worker` processes on one queue, as on two machines of a deployment: each task is run exactly once."""

from collections import Counter

import pytest
from django.db import connection

from tests.processes import postgresql_test_database, start_worker, step, wait_until

# Transactional: the processes share the test database, and see only what is committed.
pytestmark = pytest.mark.django_db(transaction=True)

TASKS = 12


def test_two_workers_on_one_queue_run_each_task_once(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("Several workers claim tasks with row locks (SKIP LOCKED): PostgreSQL, the production database.")
    database = postgresql_test_database(tmp_path)
    notes = tmp_path / "runs.txt"
    workers = [start_worker(database, "--interval", "0.1") for _ in range(2)]
    try:
        tasks = step(database, "enqueue_notes", path=str(notes), count=TASKS)["tasks"]

        def all_done():
            statuses = step(database, "task_results", tasks=tasks)["statuses"]
            return set(statuses.values()) == {"SUCCESSFUL"} and len(statuses) == TASKS

        wait_until(all_done, timeout=120, interval=1, message="the tasks did not all succeed")
    finally:
        for worker in workers:
            worker.stop()
    runs = [line.split() for line in notes.read_text().splitlines()]
    assert Counter(marker for marker, _pid in runs) == {str(marker): 1 for marker in range(TASKS)}
    worker_pids = {str(worker.popen.pid) for worker in workers}
    assert {pid for _marker, pid in runs} <= worker_pids
