"""The admin of candidates' files writes through the services (audited) and never edits the ledgers."""

import datetime
import html
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from candidates import services
from candidates.models import (
    AcquiredBlock,
    AcquiredBlockSource,
    Candidate,
    CertificationAward,
    Cohort,
    Enrolment,
    EnrolmentStatus,
)
from certif.models import AccessPathway, AuditEvent, PreparationPlace
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def form_data(response) -> dict:
    """The POST data of an admin form page as the browser would send it unchanged (main form and inlines)."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms.append(inline.formset.management_form)
        forms.extend(inline.formset.forms)
    data = {}
    for form in forms:
        for bound in form:
            value = bound.value()
            if value is None:
                continue
            if isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
            elif isinstance(value, list | tuple):
                data[bound.html_name] = [str(item) for item in value]
            elif isinstance(value, datetime.date):
                data[bound.html_name] = value.isoformat()
            else:
                data[bound.html_name] = value
    return data


@pytest.fixture
def candidate(staff_user):
    return services.candidate_create(
        actor=staff_user,
        birth_name="Testard",
        first_name="Agathe",
        sex="F",
        birth_date=datetime.date(1985, 4, 12),
        birth_commune="Saint-Étienne",
        birth_insee_code="42218",
        email="agathe.testard@example.org",
        phone="06 11 22 33 44",
        employer_name="Association Essai Solidaire",
        employer_kind="association",
        job_title="Chef de service",
    )


@pytest.fixture
def cohort(certification, staff_user, trainer_user):
    return services.cohort_save(
        cohort=Cohort(
            certification=certification,
            name="Promotion d'essai",
            pathway=AccessPathway.objects.get(certification=certification, code="formation-continue"),
            preparation_place=PreparationPlace.objects.get(certification=certification, name="IRUP"),
            start_date=datetime.date(2025, 9, 15),
            end_date=datetime.date(2026, 6, 26),
        ),
        trainers=[trainer_user],
        actor=staff_user,
    )


@pytest.fixture
def acquired(candidate, blocks, staff_user):
    return services.acquired_block_import(
        candidate=candidate,
        block=blocks[1],
        acquired_on=datetime.date(2022, 6, 14),
        import_source="Procès-verbal du jury du 14 juin 2022",
        actor=staff_user,
    )


@pytest.fixture
def award(candidate, certification):
    return CertificationAward.objects.create(
        candidate=candidate, certification=certification, number="MPES-2026-0001", awarded_on=datetime.date(2026, 6, 30)
    )


def test_email_change_through_admin_is_audited(staff_client, staff_user, candidate):
    url = admin_url(Candidate, "change", candidate.pk)
    data = form_data(staff_client.get(url))
    data["email"] = "agathe.nouvelle@example.org"
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    candidate.refresh_from_db()
    assert candidate.email == "agathe.nouvelle@example.org"
    event = AuditEvent.objects.filter(action="candidate.updated").get()
    assert event.actor == staff_user
    assert event.target_id == str(candidate.pk)
    assert event.before == {"email": "agathe.testard@example.org"}
    assert event.after == {"email": "agathe.nouvelle@example.org"}


def test_saving_unchanged_candidate_records_nothing(staff_client, candidate):
    url = admin_url(Candidate, "change", candidate.pk)
    response = staff_client.post(url, form_data(staff_client.get(url)))
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="candidate.updated").exists()


def test_demo_gestionnaire_can_use_the_admin(client, candidate):
    call_command("seed_demo", stdout=StringIO())
    client.force_login(get_user_model().objects.get(username="gestionnaire"))
    assert client.get(admin_url(Candidate, "change", candidate.pk)).status_code == 200
    assert client.get(admin_url(Candidate, "changelist") + "?q=Testard").status_code == 200


def test_candidate_created_through_admin_is_audited(staff_client, staff_user):
    url = admin_url(Candidate, "add")
    data = form_data(staff_client.get(url))
    data.update(
        birth_name="Nouveau",
        first_name="Paul",
        sex="M",
        birth_date="1990-01-02",
        birth_commune="Lyon",
        birth_insee_code="69123",
        email="paul.nouveau@example.org",
    )
    response = staff_client.post(url, data)
    assert response.status_code == 302
    created = Candidate.objects.get(birth_name="Nouveau")
    event = AuditEvent.objects.get(action="candidate.created", target_id=str(created.pk))
    assert event.actor == staff_user
    assert event.after["email"] == "paul.nouveau@example.org"


def test_admin_refuses_a_likely_duplicate_unless_confirmed(staff_client, candidate):
    url = admin_url(Candidate, "add")
    data = form_data(staff_client.get(url))
    data.update(
        birth_name="TESTARD", first_name="Agathe", sex="F", birth_date="1985-04-12", birth_commune="Saint-Étienne"
    )
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "confirm_not_duplicate" in response.context["adminform"].form.errors
    assert Candidate.objects.count() == 1


def test_candidate_change_page_shows_the_audit_trail_and_readonly_enrolments(
    staff_client, staff_user, candidate, cohort
):
    services.enrolment_create(candidate=candidate, cohort=cohort, actor=staff_user)
    services.candidate_update(candidate=candidate, actor=staff_user, job_title="Responsable de secteur")
    response = staff_client.get(admin_url(Candidate, "change", candidate.pk))
    assert response.status_code == 200
    content = html.unescape(response.content.decode())
    assert "Traces d'audit" in content
    assert "Création de la fiche" in content
    assert "Modification de la fiche" in content
    assert "emploi occupé : Chef de service" in content
    assert "date de naissance : 12/04/1985" in content
    assert "nom d'usage : (vide)" not in content  # blank fields are left out of a creation
    assert "emploi occupé : Responsable de secteur" in content
    assert "Promotion d'essai" in content
    # The enrolment inline is read-only: no form field for its status.
    assert 'name="enrolments-0-status"' not in content


def test_candidate_cannot_be_deleted_through_admin(staff_client, candidate):
    assert staff_client.post(admin_url(Candidate, "delete", candidate.pk), {"post": "yes"}).status_code == 403
    assert Candidate.objects.filter(pk=candidate.pk).exists()


def test_cohort_trainers_change_is_audited(staff_client, staff_user, trainer_user, cohort):
    other = make_user("formateur2", "formateur")
    url = admin_url(Cohort, "change", cohort.pk)
    data = form_data(staff_client.get(url))
    data["trainers"] = [str(trainer_user.pk), str(other.pk)]
    response = staff_client.post(url, data)
    assert response.status_code == 302
    assert set(cohort.trainers.all()) == {trainer_user, other}
    event = AuditEvent.objects.filter(action="cohort.updated").get()
    assert event.actor == staff_user
    assert event.before["trainers"] == ["formatrice"]
    assert event.after["trainers"] == ["formateur2", "formatrice"]


def test_enrolment_change_through_admin_is_audited(staff_client, staff_user, candidate, cohort):
    enrolment = services.enrolment_create(candidate=candidate, cohort=cohort, actor=staff_user)
    url = admin_url(Enrolment, "change", enrolment.pk)
    data = form_data(staff_client.get(url))
    data["status"] = EnrolmentStatus.WITHDRAWN
    response = staff_client.post(url, data)
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.WITHDRAWN
    event = AuditEvent.objects.filter(action="enrolment.updated").get()
    assert event.before["status"] == EnrolmentStatus.IN_PROGRESS
    assert event.after["status"] == EnrolmentStatus.WITHDRAWN


def test_acquired_block_is_read_only_once_created(staff_client, acquired):
    change_url = admin_url(AcquiredBlock, "change", acquired.pk)
    response = staff_client.get(change_url)
    assert response.status_code == 200  # viewable
    assert admin_url(AcquiredBlock, "delete", acquired.pk) not in response.content.decode()
    assert staff_client.post(change_url, {"import_source": "autre"}).status_code == 403
    assert staff_client.get(admin_url(AcquiredBlock, "delete", acquired.pk)).status_code == 403
    assert staff_client.post(admin_url(AcquiredBlock, "delete", acquired.pk), {"post": "yes"}).status_code == 403
    acquired.refresh_from_db()
    assert acquired.import_source == "Procès-verbal du jury du 14 juin 2022"


def test_acquired_block_added_through_admin_is_an_audited_import(staff_client, staff_user, candidate, blocks):
    url = admin_url(AcquiredBlock, "add")
    data = form_data(staff_client.get(url))
    data.update(
        candidate=str(candidate.pk),
        block=str(blocks[2].pk),
        acquired_on="2021-06-17",
        import_source="Procès-verbal du jury du 17 juin 2021",
    )
    response = staff_client.post(url, data)
    assert response.status_code == 302
    acquired = AcquiredBlock.objects.get(candidate=candidate, block=blocks[2])
    assert acquired.source == AcquiredBlockSource.IMPORT
    assert acquired.recorded_by == staff_user
    assert AuditEvent.objects.filter(action="acquired_block.imported", target_id=str(acquired.pk)).exists()


def test_certification_award_is_read_only(staff_client, award):
    assert staff_client.get(admin_url(CertificationAward, "add")).status_code == 403
    change_url = admin_url(CertificationAward, "change", award.pk)
    assert staff_client.get(change_url).status_code == 200
    assert staff_client.post(change_url, {"number": "AUTRE"}).status_code == 403
    assert staff_client.post(admin_url(CertificationAward, "delete", award.pk), {"post": "yes"}).status_code == 403
    award.refresh_from_db()
    assert award.number == "MPES-2026-0001"


@pytest.mark.parametrize("model", [Candidate, Cohort, Enrolment, AcquiredBlock])
def test_trainer_cannot_reach_admin(trainer_client, model):
    for url in ("/admin/", admin_url(model, "changelist")):
        response = trainer_client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))
