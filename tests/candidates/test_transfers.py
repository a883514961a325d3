"""Transferring the candidates of a cohort of RNCP 16204 to a cohort of its successor (RNCP99901, illustrative)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from candidates.models import Enrolment
from candidates.services_transfers import enrolments_transfer
from certif.audit_display import describe_event
from certif.models import AuditAction, AuditEvent, Certification
from tests.factories import enrol_many, make_cohort
from tests.renewal import install_successor, successor_cohort


@pytest.fixture
def old_cohort(certification, staff_user):
    cohort = make_cohort(staff_user, name="Promotion 2022")
    enrol_many(cohort, staff_user, 3)
    return cohort


@pytest.fixture
def target(old_cohort, staff_user):
    return successor_cohort(install_successor(), staff_user)


def url(cohort):
    return reverse("candidates:cohort_transfer", args=[cohort.pk])


@pytest.mark.django_db
class TestService:
    def test_each_candidate_is_enrolled_in_the_new_cohort_and_keeps_the_old_enrolment(
        self, old_cohort, target, staff_user
    ):
        old = list(old_cohort.enrolments.order_by("pk"))
        created = enrolments_transfer(enrolments=old, cohort=target, actor=staff_user)
        assert len(created) == 3
        assert {e.candidate_id for e in target.enrolments.all()} == {e.candidate_id for e in old}
        assert old_cohort.enrolments.count() == 3  # untouched
        events = AuditEvent.objects.filter(action=AuditAction.ENROLMENT_TRANSFERRED)
        assert events.count() == 3
        assert describe_event(events[0]).summary == (
            "promotion : Promotion 2022 → Promotion renouvelée ; fiche : RNCP16204 → RNCP99901"
        )
        assert describe_event(events[0]).label == "Transfert vers la nouvelle fiche"

    def test_a_candidate_already_there_is_refused_by_name(self, old_cohort, target, staff_user):
        first = old_cohort.enrolments.order_by("pk").first()
        enrolments_transfer(enrolments=[first], cohort=target, actor=staff_user)
        with pytest.raises(ValidationError) as refused:
            enrolments_transfer(enrolments=list(old_cohort.enrolments.all()), cohort=target, actor=staff_user)
        assert refused.value.messages == [
            f"{first.candidate.full_name} est déjà inscrit(e) dans la promotion « Promotion renouvelée »."
        ]
        assert target.enrolments.count() == 1  # all or nothing

    def test_a_cohort_of_a_fiche_that_does_not_succeed_is_refused(self, old_cohort, staff_user):
        other = make_cohort(staff_user, name="Autre promotion 16204")
        with pytest.raises(ValidationError, match="ne succède pas à RNCP16204"):
            enrolments_transfer(enrolments=list(old_cohort.enrolments.all()), cohort=other, actor=staff_user)
        assert not other.enrolments.exists()

    def test_a_pathway_closed_on_the_new_fiche_is_refused_by_name(self, old_cohort, target, staff_user):
        successor = target.certification
        successor.pathways.filter(code="formation-continue").update(is_open=False)
        first = old_cohort.enrolments.select_related("candidate").order_by("candidate__birth_name").first()
        with pytest.raises(ValidationError) as refused:
            enrolments_transfer(enrolments=list(old_cohort.enrolments.all()), cohort=target, actor=staff_user)
        assert refused.value.messages == [
            f"{first.candidate.full_name} : la voie d'accès « Après un parcours de formation continue » n'est pas ouverte sur RNCP99901."
        ]

    def test_another_pathway_is_refused(self, old_cohort, target, staff_user):
        vae = successor_cohort(target.certification, staff_user, name="VAE renouvelée", pathway_code="vae")
        with pytest.raises(ValidationError, match="prépare par la voie « Par expérience"):
            enrolments_transfer(enrolments=list(old_cohort.enrolments.all()), cohort=vae, actor=staff_user)


@pytest.mark.django_db
class TestPage:
    def test_all_ticked_by_default_and_transferred_in_one_post(self, old_cohort, target, staff_client):
        cohorts = staff_client.get(reverse("candidates:cohort_list")).content.decode()
        assert cohorts.count("transférer vers la nouvelle fiche") == 1  # the cohort of 16204, not the new one
        html = staff_client.get(url(old_cohort)).content.decode()
        assert html.count('name="enrolments"') == 3 and html.count(" checked") == 3
        assert "Promotion renouvelée — RNCP99901, Après un parcours de formation continue" in html
        keep = list(old_cohort.enrolments.order_by("pk"))[:2]
        response = staff_client.post(url(old_cohort), {"enrolments": [e.pk for e in keep], "cohort": target.pk})
        assert response.status_code == 302
        page = staff_client.get(response.url).content.decode()
        assert "2 candidats transférés vers la promotion « Promotion renouvelée » (RNCP99901)" in page
        assert {e.candidate_id for e in Enrolment.objects.filter(cohort=target)} == {e.candidate_id for e in keep}

    def test_a_refusal_is_shown_on_the_page(self, old_cohort, target, staff_client):
        response = staff_client.post(url(old_cohort), {"enrolments": [], "cohort": target.pk})
        assert response.status_code == 400
        assert "Choisissez au moins un candidat à transférer." in response.content.decode()
        response = staff_client.post(url(old_cohort), {"enrolments": [old_cohort.enrolments.first().pk]})
        assert "Choisissez la promotion de la nouvelle fiche" in response.content.decode()

    def test_only_staff(self, old_cohort, target, client, trainer_user, president_user):
        assert client.get(url(old_cohort)).status_code in (302, 403)
        for user in (trainer_user, president_user):
            client.force_login(user)
            assert client.get(url(old_cohort)).status_code == 403
            assert client.post(url(old_cohort), {"cohort": target.pk}).status_code == 403
        assert not target.enrolments.exists()

    def test_the_page_costs_the_same_queries_with_more_candidates(
        self, old_cohort, target, staff_client, staff_user, django_assert_num_queries
    ):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as first:
            staff_client.get(url(old_cohort))
        enrol_many(old_cohort, staff_user, 10)
        with django_assert_num_queries(len(first.captured_queries)):
            staff_client.get(url(old_cohort))
        assert Certification.objects.count() == 2
