"""A large holder declaration leaves the request: the POST queues a background job, the worker (`db_worker`, through
the real task queue) builds, validates and records the flux, and the job's page offers the file and the declaration.
A job run again after its worker died finds its flux instead of declaring twice; one the rules refuse says why."""

import html

import pytest
from django.db import connection
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from lxml import etree

from certif import jobs
from certif.models import AuditAction, AuditEvent, BackgroundJob, JobKind, JobStatus
from certif.roles import Role
from declarations import services as declarations
from declarations.models import HolderDeclaration, HolderDeclarationLine
from tests.conftest import make_user
from tests.declarations.test_declarations import NS, holder, post_declaration
from tests.documents.test_documents import run_worker


def holders(staff_user, certification, count):
    return [holder(staff_user, certification) for _ in range(count)]


def test_up_to_the_threshold_the_flux_is_declared_in_the_request(
    staff_client, staff_user, certification, declarant, settings
):
    settings.BACKGROUND_DECLARATION_ABOVE = 3
    awards = holders(staff_user, certification, 3)
    response = post_declaration(staff_client, certification, awards=[award.pk for award in awards])
    declaration = HolderDeclaration.objects.get()
    assert response["Location"] == reverse("declarations:detail", kwargs={"pk": declaration.pk})
    assert declaration.background_job is None and not BackgroundJob.objects.exists()


def test_thousands_of_ticked_holders_reach_the_form_and_get_its_french_answer(
    staff_client, staff_user, certification, declarant, settings
):
    """Every holder of a large certification ticked at once is one field each: the POST is read (not refused by
    Django's cap on the number of fields) and a holder that cannot be declared is named in French."""
    settings.BACKGROUND_DECLARATION_ABOVE = 10**5  # the form's own answer, in the request
    award = holder(staff_user, certification)
    response = staff_client.post(
        reverse("declarations:declare", kwargs={"rncp_code": certification.rncp_code}),
        {"awards": [award.pk, *range(10**6, 10**6 + 6000)]},
    )
    assert response.status_code == 400
    assert (
        "Un titulaire coché ne peut pas être déclaré (déjà déclaré ou dossier incomplet)" in response.content.decode()
    )
    assert not HolderDeclaration.objects.exists()


def _queue_declaration(client, certification, award_ids) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            reverse("declarations:declare", kwargs={"rncp_code": certification.rncp_code}), {"awards": award_ids}
        )
    assert response.status_code == 302 and "/travaux/" in response["Location"]
    return len(queries)


def test_a_large_declaration_is_queued_without_sorting_the_holders_in_the_request(
    staff_client, staff_user, certification, declarant, settings
):
    """Above the threshold the request only queues the job: the same queries for 3 holders as for 6 (the holders'
    tables of the page are not built; the worker's service checks each holder)."""
    settings.BACKGROUND_DECLARATION_ABOVE = 2
    _queue_declaration(staff_client, certification, [award.pk for award in holders(staff_user, certification, 3)])
    few = _queue_declaration(staff_client, certification, [award.pk for award in holders(staff_user, certification, 3)])
    more = _queue_declaration(
        staff_client, certification, [award.pk for award in holders(staff_user, certification, 6)]
    )
    assert few == more
    assert BackgroundJob.objects.filter(kind=JobKind.HOLDER_DECLARATION).count() == 3
    assert not HolderDeclaration.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_queued_declaration_of_unknown_holders_fails_with_the_reason(
    client, staff_user, certification, declarant, settings
):
    settings.BACKGROUND_DECLARATION_ABOVE = 2
    client.force_login(staff_user)
    award = holder(staff_user, certification)
    _queue_declaration(client, certification, [award.pk, 10**6, 10**6 + 1])
    run_worker()
    job = BackgroundJob.objects.get()
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("Déclaration refusée, rien n'a été enregistré")
    assert not HolderDeclaration.objects.exists()
    page = html.unescape(client.get(reverse("jobs:detail", args=[job.pk])).content.decode())
    assert "Déclaration refusée, rien n'a été enregistré" in page


@pytest.mark.django_db(transaction=True)
def test_a_large_declaration_is_built_by_the_worker_for_the_person_who_asked_only(
    client, staff_user, trainer_user, president_user, certification, declarant, settings
):
    settings.BACKGROUND_DECLARATION_ABOVE = 3
    awards = holders(staff_user, certification, 4)
    client.force_login(staff_user)
    response = client.post(
        reverse("declarations:declare", kwargs={"rncp_code": certification.rncp_code}),
        {"awards": [award.pk for award in awards]},
        follow=True,
    )
    job = BackgroundJob.objects.get()
    assert (job.kind, job.status, job.requested_by, job.total) == (
        JobKind.HOLDER_DECLARATION,
        JobStatus.PENDING,
        staff_user,
        4,
    )
    assert job.title == "Déclaration à la Caisse des Dépôts — RNCP16204, 4 titulaires"
    assert response.redirect_chain[-1][0] == reverse("jobs:detail", args=[job.pk])
    html = response.content.decode()
    assert "Le flux est en préparation" in html and "Le travail va commencer." in html
    assert not HolderDeclaration.objects.exists()  # nothing declared by the request itself
    assert str(DBTaskResult.objects.get().id) == job.task_id
    assert AuditEvent.objects.filter(action=AuditAction.BACKGROUND_JOB_REQUESTED, actor=staff_user).count() == 1

    run_worker()

    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    declaration = HolderDeclaration.objects.get()
    assert declaration.background_job == job and declaration.created_by == staff_user
    assert set(HolderDeclarationLine.objects.values_list("award_id", flat=True)) == {award.pk for award in awards}
    assert AuditEvent.objects.filter(action=AuditAction.CDC_HOLDERS_DECLARED, actor=staff_user).count() == 1
    assert job.file_name == f"{declaration.flux_id}.xml" and (job.done, job.total) == (4, 4)
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    detail_url = reverse("declarations:detail", args=[declaration.pk])
    assert "Le fichier est prêt." in page and f'href="{detail_url}"' in page and "Voir la déclaration" in page
    state = client.get(reverse("jobs:status", args=[job.pk])).json()
    assert state["result_url"] == detail_url
    download = client.get(reverse("jobs:download", args=[job.pk]))
    assert download.content == bytes(declaration.xml)
    flux = etree.fromstring(download.content)
    numbers = {element.text for element in flux.iterfind(".//cpf:passageCertification/cpf:idTechnique", NS)}
    assert numbers == {award.number for award in awards}

    for user in (make_user("gestion2", Role.STAFF, is_staff=True), trainer_user, president_user):
        client.force_login(user)
        assert client.get(reverse("jobs:detail", args=[job.pk])).status_code == 404, user

    if connection.vendor == "postgresql":  # the link to the job is written once, like the flux
        with pytest.raises(Exception, match="déclar|modifi"), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE certif_holderdeclaration SET background_job_id = NULL WHERE id = %s", [declaration.pk]
            )


@pytest.mark.django_db(transaction=True)
def test_a_job_run_again_after_its_flux_was_recorded_declares_nobody_twice(
    staff_user, certification, declarant, settings
):
    awards = holders(staff_user, certification, 2)
    job = jobs.job_request(
        kind=JobKind.HOLDER_DECLARATION,
        title="Déclaration",
        parameters={"certification": certification.pk, "awards": [award.pk for award in awards], "resend": []},
        total=2,
        actor=staff_user,
    )
    # The worker recorded the flux, then died before marking the job done: the job is run again.
    declarations.holder_declaration_create(
        certification=certification, award_ids=[award.pk for award in awards], actor=staff_user, background_job=job
    )
    jobs.job_run(job_id=job.pk)
    job.refresh_from_db()
    declaration = HolderDeclaration.objects.get()
    assert job.status == JobStatus.DONE and bytes(job.file) == bytes(declaration.xml)
    assert HolderDeclarationLine.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_declaration_refused_by_the_rules_fails_the_job_with_the_reason(staff_user, certification, declarant):
    awards = holders(staff_user, certification, 2)
    ids = [award.pk for award in awards]
    job = jobs.job_request(
        kind=JobKind.HOLDER_DECLARATION,
        title="Déclaration",
        parameters={"certification": certification.pk, "awards": ids, "resend": []},
        total=2,
        actor=staff_user,
    )
    # Meanwhile, someone declared the same holders from another page.
    declarations.holder_declaration_create(certification=certification, award_ids=ids, actor=staff_user)
    jobs.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("Déclaration refusée, rien n'a été enregistré : Déjà déclaré(s)")
    assert awards[0].number in job.error
    assert HolderDeclaration.objects.count() == 1
