"""The results exports: the CSV streamed from plain rows, the large XLSX built in the background (certif.jobs)
through the real task queue, its page with progress, and nobody but the person who asked reaching it."""

import pytest
from django.db import connection
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from certif.guards import FrozenRowError
from certif.models import AuditAction, AuditEvent, BackgroundJob, JobKind, JobStatus
from certif.roles import Role
from reporting import statistics
from tests.conftest import make_user
from tests.documents.test_documents import run_worker
from tests.reporting.test_statistics import EXPORT_URLS, build_dataset, read_csv, read_xlsx

QUERIES = 8  # the session, the user, the filter (certifications, years), the rectifications, then the rows in one query


@pytest.fixture
def data(staff_user, trainer_user, president_user):
    return build_dataset(staff_user, trainer_user, president_user)


def test_the_csv_is_streamed_with_french_headers_and_values(staff_client, data):
    response = staff_client.get(EXPORT_URLS["results_csv"])
    assert response.streaming and response["Cache-Control"] == "no-store"
    rows = read_csv(response)
    assert rows[0] == statistics.RESULT_HEADERS
    assert len(rows) == 1 + 22
    by_key = {(row[0], row[8]): row for row in rows[1:]}
    a3 = by_key[(data.a3.candidate.birth_name, "RNCP16204BC01")]
    assert a3[6] == "15/06/2021"
    assert a3[9:13] == ["Non validé", "Non validé", "Validé", "Validé"]
    assert a3[2] == data.a3.candidate.first_names


def test_the_csv_reads_a_fixed_number_of_queries_whatever_its_size(staff_client, data, django_assert_num_queries):
    url = EXPORT_URLS["results_csv"]
    staff_client.get(url)  # the session's first read of the user
    # 12 rows, then 22: the same queries (the rows come from one query, never one per decision).
    for query, expected_rows in (({"year": "2021"}, 12), ({}, 22)):
        with django_assert_num_queries(QUERIES):
            rows = read_csv(staff_client.get(url, query))
        assert len(rows) == 1 + expected_rows


def test_a_small_xlsx_is_given_at_once(staff_client, data, settings):
    settings.BACKGROUND_EXPORT_ABOVE = 22
    response = staff_client.get(EXPORT_URLS["results_xlsx"])
    assert response["Content-Disposition"].startswith('attachment; filename="resultats-RNCP16204-')
    assert len(list(read_xlsx(response).active.iter_rows(values_only=True))) == 1 + 22
    assert not BackgroundJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_large_xlsx_is_built_in_the_background_for_the_person_who_asked_only(
    client, staff_user, trainer_user, president_user, settings
):
    build_dataset(staff_user, trainer_user, president_user)
    settings.BACKGROUND_EXPORT_ABOVE = 5
    client.force_login(staff_user)
    url = EXPORT_URLS["results_xlsx"]
    offer = client.get(url, {"year": "2021"})
    html = offer.content.decode()
    assert offer.status_code == 200 and "Le fichier compte 12 décisions" in html and "Préparer le fichier" in html
    assert not BackgroundJob.objects.exists()

    response = client.post(f"{url}?year=2021", follow=True)
    job = BackgroundJob.objects.get()
    assert (job.kind, job.status, job.requested_by, job.total) == (
        JobKind.RESULTS_XLSX,
        JobStatus.PENDING,
        staff_user,
        12,
    )
    assert response.redirect_chain[-1][0] == reverse("jobs:detail", args=[job.pk])
    html = response.content.decode()
    assert 'aria-live="polite"' in html and "Le travail va commencer." in html and "progress-poll.js" in html
    assert 'http-equiv="refresh"' in html  # without JavaScript, the page refreshes itself
    assert str(DBTaskResult.objects.get().id) == job.task_id
    assert AuditEvent.objects.filter(action=AuditAction.BACKGROUND_JOB_REQUESTED, actor=staff_user).count() == 1
    state = client.get(reverse("jobs:status", args=[job.pk])).json()
    assert state["status"] == "pending" and not state["finished"] and "download_url" not in state
    assert client.get(reverse("jobs:download", args=[job.pk])).status_code == 302  # not ready yet

    run_worker()

    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert (job.done, job.total, job.percent) == (12, 12, 100)
    assert job.file_name.startswith("resultats-RNCP16204-") and job.file_name.endswith("-2021.xlsx")
    state = client.get(reverse("jobs:status", args=[job.pk])).json()
    assert state["finished"] and state["download_url"] == reverse("jobs:download", args=[job.pk])
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "Le fichier est prêt." in page and "Télécharger le fichier" in page and "progress-poll.js" not in page
    download = client.get(reverse("jobs:download", args=[job.pk]))
    assert download["Cache-Control"] == "private, no-store"
    rows = list(read_xlsx(download).active.iter_rows(values_only=True))
    assert rows[0] == tuple(statistics.RESULT_HEADERS) and len(rows) == 1 + 12

    # Nobody else reaches the job, its state or its file: another staff member, a trainer, a president.
    other_staff = make_user("gestion2", Role.STAFF, is_staff=True)
    for user in (other_staff, trainer_user, president_user):
        client.force_login(user)
        for name in ("detail", "status", "download"):
            assert client.get(reverse(f"jobs:{name}", args=[job.pk])).status_code == 404, (user, name)
    client.logout()
    assert client.get(reverse("jobs:download", args=[job.pk])).status_code == 302  # to the login page

    # A finished job is kept as it was produced.
    with pytest.raises(FrozenRowError):
        BackgroundJob.objects.filter(pk=job.pk).update(file=b"autre")
    with pytest.raises(FrozenRowError):
        BackgroundJob.objects.filter(pk=job.pk).delete()
    if connection.vendor == "postgresql":  # raw SQL meets the trigger, with the same French refusal
        with pytest.raises(FrozenRowError, match="terminé"), connection.cursor() as cursor:
            cursor.execute("UPDATE certif_backgroundjob SET file_name = 'autre.xlsx' WHERE id = %s", [job.pk])


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_worker_died_goes_back_in_the_queue_and_runs(client, staff_user, trainer_user, president_user):
    from certif.jobs import MAX_INTERRUPTIONS, jobs_recover
    from tests.documents.test_documents import _exited_pid

    build_dataset(staff_user, trainer_user, president_user)
    from certif.jobs import job_request
    from certif.models import Certification
    from reporting.jobs import export_parameters

    certification = Certification.objects.get(rncp_code="16204")
    job = job_request(
        kind=JobKind.RESULTS_XLSX,
        title="Résultats",
        parameters=export_parameters(certification, statistics.Filters()),
        total=22,
        actor=staff_user,
    )
    # As if a worker had claimed it and been killed (SIGKILL): its process no longer exists.
    import socket

    from django.utils import timezone

    BackgroundJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, runner=f"{socket.gethostname()} {_exited_pid()} x", heartbeat_at=timezone.now()
    )
    DBTaskResult.objects.filter(pk=job.task_id).update(status="RUNNING", started_at=timezone.now())
    assert jobs_recover() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING and job.interruptions == 1 and MAX_INTERRUPTIONS > 1
    assert DBTaskResult.objects.filter(status="FAILED").count() == 1  # the dead worker's task, not left running

    run_worker()

    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.done == 22
