"""The web server and the document worker as real processes on one database, as `make run` (SQLite) and a
deployment (PostgreSQL) start them: people sign, deliberate and submit grids while the worker produces documents,
and the worker is killed in the middle of a batch.

Slow (each scenario starts its own processes): about a minute each.
"""

import json
import queue
import signal
import threading
import time

import pytest
from django.db import connection

from tests.processes import (
    PASSWORD,
    Browser,
    Server,
    postgresql_test_database,
    sqlite_database,
    sqlite_template,
    start_worker,
    step,
    wait_until,
)

# Transactional: on PostgreSQL the processes share the test database, and see only what is committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def migrated_sqlite_file(tmp_path_factory):
    return sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """A database file shared by the processes (SQLite, whatever the suite runs on), or the test database of a
    transactional test (PostgreSQL, when the suite runs there)."""
    if request.param == "sqlite":
        return sqlite_database(request.getfixturevalue("migrated_sqlite_file"), tmp_path)
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL: run the suite with DATABASE_URL=postgres://…")
    return postgresql_test_database(tmp_path)


def logs_of(*processes) -> str:
    return "\n".join(f"— {process.name} —\n{process.output[-6000:]}" for process in processes)


# — Signing while the worker runs —


def test_people_sign_deliberate_and_submit_while_the_worker_produces_documents(database):
    data = step(database, "ready_sessions", sessions=12, grids=3)
    # The worker polls ten times a second (make run: once a second) and renders each signed session's documents.
    worker = start_worker(database, "--interval", "0.1")
    server = Server.start(database)
    failures, signed = [], queue.Queue()
    try:
        president, staff, trainer = Browser(server), Browser(server), Browser(server)
        president.log_in("presidente")
        staff.log_in("gestion")
        trainer.log_in("formatrice")

        def expect(who, response, status, *texts):
            if response.status != status or any(text not in response.text for text in texts):
                failures.append((who, response.status, status, response.text[:3000]))

        def president_journey():
            for index, session in enumerate(data["sessions"]):
                fields = {}
                for decision, outcome in session["decisions"]:
                    fields[f"d-{decision}-outcome"] = outcome
                    fields[f"d-{decision}-reason"] = ""
                expect("deliberation", president.post(f"/jurys/{session['id']}/deliberation/", fields), 302)
                url = f"/jurys/{session['id']}/signature/"
                if index < 2:  # a typo, then an empty field: French messages under the field, nothing signed
                    expect(
                        "wrong password", president.post(url, {"password": "pas-le-bon"}), 400, "Mot de passe incorrect"
                    )
                    expect("empty password", president.post(url, {"password": ""}), 400, "Ce champ est obligatoire")
                response = president.post(url, {"password": PASSWORD})
                expect("sign-off", response, 302)
                signed.put(session["id"])
            signed.put(None)

        def staff_journey():
            while (session := signed.get()) is not None:
                expect("batch", staff.post(f"/jurys/documents/sessions/{session}/lot/", {}), 302)

        def trainer_journey():
            for grid in data["grids"]:
                fields = {"action": "submit"}
                state = {}
                for enrolment, competence in grid["cells"]:
                    fields[f"c-{enrolment}-{competence}-level"] = "A"
                    fields[f"c-{enrolment}-{competence}-comment"] = ""
                    state[f"{enrolment}-{competence}"] = [0, "", ""]
                fields["grid-state"] = json.dumps(state)
                expect("grid", trainer.post(f"/evaluation/{grid['session']}/{grid['number']}/", fields), 302)

        journeys = [threading.Thread(target=journey) for journey in (president_journey, staff_journey, trainer_journey)]
        for journey in journeys:
            journey.start()
        for journey in journeys:
            journey.join(600)
        assert not failures, [failure[:3] for failure in failures] + [failures[0][3], logs_of(server.process, worker)]
        session_ids = [session["id"] for session in data["sessions"]]
        # Every signed session's documents, produced by the worker meanwhile.
        documents = wait_until(
            lambda: (state := step(database, "signed_sessions", sessions=session_ids))["batches_done"] == 12 and state,
            timeout=300,
            interval=1,
            message="every batch done",
        )
    finally:
        server.stop()
        worker.stop()
    logs = logs_of(server.process, worker)
    assert "database is locked" not in logs and "Traceback" not in logs, logs
    assert documents["signed"] == 12 and documents["sign_off_events"] == 12
    assert documents["documents"] == documents["slots"] == 12 * 5  # minutes, 2 results, 2 attestations
    assert step(database, "submitted_grids", sessions=[grid["session"] for grid in data["grids"]])["submitted"] == 3


# — A worker killed in the middle of a batch —

INTERRUPTIONS = {
    # kill -9 of the worker alone (out of memory, a crash): its renderers must not linger.
    "sigkill": lambda worker: worker.kill(signal.SIGKILL),
    # systemctl stop, Ctrl+C: the whole process group, renderers included.
    "sigterm_to_the_group": lambda worker: worker.kill_group(signal.SIGTERM),
    # Ctrl+C twice: « press Ctrl+C again to force ».
    "ctrl_c_twice": lambda worker: (
        worker.kill_group(signal.SIGINT),
        time.sleep(0.3),
        worker.kill_group(signal.SIGINT),
    ),
}


@pytest.mark.parametrize("interruption", INTERRUPTIONS)
def test_a_batch_interrupted_mid_way_is_finished_by_the_next_worker(database, interruption):
    data = step(database, "signed_session_with_batch", candidates=16)
    slots = data["slots"]
    assert slots == 1 + 16 * 2  # minutes, then a results statement and an attestation or a certificate each
    server = Server.start(database)
    first = second = None
    try:
        staff = Browser(server)
        staff.log_in("gestion")

        def state():
            return json.loads(staff.get(f"/jurys/documents/lots/{data['batch']}/etat/").text)

        first = start_worker(database)
        wait_until(lambda: state()["done"] >= 3, timeout=180, message="a few documents produced")
        INTERRUPTIONS[interruption](first)
        exit_code = first.wait(timeout=60)
        # Nothing of the first worker is left behind: no renderer keeps working (or waiting) for a dead parent.
        wait_until(lambda: not first.group_alive(), timeout=30, message="the renderers leave with their worker")
        stopped = state()
        assert 3 <= stopped["done"] < slots, stopped
        assert not stopped["finished"] and "Production interrompue" in stopped["message"], stopped
        assert "en cours" not in stopped["message"]
        if interruption == "sigterm_to_the_group":
            # A graceful stop: the documents in hand are finished and stored, the batch waits for the next worker.
            assert exit_code == 0, first.output
            assert stopped["status"] == "pending", stopped
            assert "terminated abruptly" not in first.output and "Traceback" not in first.output, first.output
        middle = step(database, "session_documents", session=data["session"], batch=data["batch"])
        # Never a half-written document: each stored one is whole (read back), one per slot at most.
        assert all(middle["readable"]) and middle["valid"] == middle["slots_with_a_valid_document"]
        assert middle["issued_audit_events"] == middle["valid"]
        if interruption == "sigkill":  # killed between storing a document and counting it: one behind, at most
            assert middle["valid"] - stopped["done"] in (0, 1), (middle["valid"], stopped)
        else:  # counted again from the stored documents when it went back in the queue
            assert middle["valid"] == stopped["done"], (middle["valid"], stopped)

        second = start_worker(database)
        finished = wait_until(lambda: (current := state())["finished"] and current, timeout=300, message="done")
        assert finished["status"] == "done" and finished["done"] == finished["total"] == slots, finished
    finally:
        server.stop()
        for worker in (first, second):
            if worker is not None:
                worker.stop()
    final = step(database, "session_documents", session=data["session"], batch=data["batch"])
    # One valid document a slot, none twice; those stored before the interruption kept as they were.
    assert final["valid"] == final["slots_with_a_valid_document"] == slots == len(final["documents"])
    assert {tuple(d) for d in middle["documents"]} <= {tuple(d) for d in final["documents"]}
    assert all(final["readable"]) and final["issued_audit_events"] == slots
    assert final["zip"] == final["valid_sha256"] and final["merged_pages"] == final["document_pages"]
    # The first task's end is told as it happened; the resumed one succeeded.
    statuses = [task[1] for task in final["tasks"]]
    assert statuses[-1] == "SUCCESSFUL" and len(statuses) == 2, final["tasks"]
    if interruption == "sigkill":
        assert final["tasks"][0][1] == "FAILED" and "s'est arrêté pendant cette tâche" in final["tasks"][0][3]
        assert final["batch"]["interruptions"] == 1
    elif interruption == "sigterm_to_the_group":
        assert final["tasks"][0][1] == "SUCCESSFUL" and final["batch"]["interruptions"] == 0
    else:
        # The second Ctrl+C forces the worker out of its task, unless the first already let the task hand its batch
        # back (a few documents in hand can take less than the pause between the two on a quiet machine): both are
        # a user's Ctrl+C twice, and either way the batch is whole and not counted as a crash.
        assert final["tasks"][0][1] in ("FAILED", "SUCCESSFUL") and final["batch"]["interruptions"] == 0
    logs = logs_of(first, second)
    assert "database is locked" not in logs


def test_two_workers_running_the_same_batch_at_once_issue_each_document_once(database):
    """Taking a live worker for dead (a heartbeat lost on a loaded machine) runs its batch twice at once: the partial
    unique constraints (one valid document a slot) keep each document once, and its audit trace once."""
    data = step(database, "signed_session_with_batch", candidates=10)
    step(database, "enqueue_again", batch=data["batch"])
    workers = [start_worker(database, "--interval", "0.1") for _ in range(2)]

    def finished():
        state = step(database, "session_documents", session=data["session"], batch=data["batch"])
        tasks_over = all(task[1] in ("SUCCESSFUL", "FAILED") for task in state["tasks"])
        return state["batch"]["status"] == "done" and tasks_over and state

    try:
        report = wait_until(finished, timeout=300, interval=1, message="the batch done by both workers")
    finally:
        for worker in workers:
            worker.stop()
    # Both ran it at once: each task started before the batch was done.
    assert all(task[4] < report["batch"]["finished_at"] for task in report["tasks"]), report
    assert [task[1] for task in report["tasks"]] == ["SUCCESSFUL", "SUCCESSFUL"], report["tasks"]
    assert report["valid"] == report["slots"] == len(report["documents"]) == 1 + 10 * 2, report
    assert report["issued_audit_events"] == report["slots"] and all(report["readable"])
    assert "database is locked" not in logs_of(*workers)
