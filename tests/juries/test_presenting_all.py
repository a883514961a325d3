"""« Présenter tous les éligibles »: every presentable candidate in one POST, at a fixed number of queries, and a
candidates page that reads only the cohorts being evaluated."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates import services as candidate_services
from certif.audit import AuditEvent
from juries import services
from juries.models import Presentation
from tests.factories import decide_all, enrol_many, evaluated_cohort, make_cohort, make_jury, present_all

pytestmark = pytest.mark.django_db


def _url(session):
    return reverse("juries:presentations", args=[session.pk])


def _present_all(client, session):
    return client.post(_url(session), {"all": "1"}, follow=True)


def _presented(session):
    return set(Presentation.objects.filter(session=session).values_list("enrolment_id", flat=True))


def test_one_post_presents_every_eligible_candidate_and_no_other(
    staff_user, trainer_user, president_user, staff_client
):
    _, ready, _ = evaluated_cohort(staff_user, trainer_user, count=15)
    _, (draft,), _ = evaluated_cohort(staff_user, trainer_user, count=1, submit=False)
    _, (only_one,), _ = evaluated_cohort(staff_user, trainer_user, numbers=(1,), count=1)
    candidate_services.enrolment_update(enrolment=ready[0], actor=staff_user, status="abandon")
    session = make_jury(staff_user, president_user)
    html = staff_client.get(_url(session)).content.decode()
    assert "Présenter tous les éligibles" in html

    response = _present_all(staff_client, session)

    html = response.content.decode()
    assert "14 candidats présentés." in html
    assert _presented(session) == {enrolment.pk for enrolment in ready[1:]}
    presented = html.split('id="presented"')[1].split("</ul>")[0]
    assert all(enrolment.candidate.full_name in presented for enrolment in ready[1:])
    ineligible = html.split('id="ineligible"')[1].split("</ul>")[0]
    for enrolment in (ready[0], draft, only_one):
        assert enrolment.candidate.full_name not in presented and enrolment.candidate.full_name in ineligible
    # Each presented as one by one: a decision per examined block with its proposal, and a trace each.
    for presentation in Presentation.objects.filter(session=session).prefetch_related("decisions__block"):
        assert [(d.block.number, d.proposal_outcome, d.is_open) for d in presentation.decisions.all()] == [
            (1, "validated", True),
            (2, "validated", True),
        ]
        assert all(d.candidate_id == presentation.enrolment.candidate_id for d in presentation.decisions.all())
    events = AuditEvent.objects.filter(action="jury.candidate_presented")
    assert events.count() == 14 and {event.after["blocks"] == [1, 2] for event in events} == {True}
    assert "Aucun autre candidat n'est présentable." in html


def test_the_count_reads_in_the_singular_and_nothing_to_present_says_so(
    staff_user, trainer_user, president_user, staff_client
):
    _, (alone,), _ = evaluated_cohort(staff_user, trainer_user, count=1)
    session = make_jury(staff_user, president_user)
    assert "1 candidat présenté." in _present_all(staff_client, session).content.decode()
    html = _present_all(staff_client, session).content.decode()
    assert "Aucun candidat n&#x27;était présentable : personne n&#x27;a été présenté." in html
    assert "Présenter tous les éligibles" not in html
    assert _presented(session) == {alone.pk}


def test_candidates_before_another_unsigned_jury_or_set_aside_here_stay_out(
    staff_user, trainer_user, president_user, staff_client
):
    _, (first, second, third), _ = evaluated_cohort(staff_user, trainer_user, count=3)
    other = make_jury(staff_user, president_user, day=datetime.date(2022, 6, 7), place="IRUP, salle 2")
    present_all(other, [first], staff_user)
    session = make_jury(staff_user, president_user)
    (set_aside,) = present_all(session, [second], staff_user)
    services.presentation_remove(presentation=set_aside, actor=staff_user)

    html = _present_all(staff_client, session).content.decode()

    assert "1 candidat présenté." in html
    assert _presented(session) == {third.pk}
    assert _presented(other) == {first.pk}


def test_a_candidate_enrolled_twice_is_presented_once(staff_user, trainer_user, president_user, staff_client):
    _, (enrolment,), _ = evaluated_cohort(staff_user, trainer_user, count=1)
    _, (again,), _ = evaluated_cohort(staff_user, trainer_user, count=1)
    # The second cohort's candidate becomes the first's: one person, two enrolments, both graded.
    again.candidate = enrolment.candidate
    again.save(update_fields=["candidate"])
    session = make_jury(staff_user, president_user)
    assert "1 candidat présenté." in _present_all(staff_client, session).content.decode()
    assert len(_presented(session) & {enrolment.pk, again.pk}) == 1


def test_a_cohort_with_no_evaluation_in_progress_is_not_weighed(staff_user, trainer_user, president_user, staff_client):
    cohort = make_cohort(staff_user, trainers=[trainer_user])
    (waiting,) = enrol_many(cohort, staff_user, 1)
    _, judged, _ = evaluated_cohort(staff_user, trainer_user, count=2)
    done = make_jury(staff_user, president_user, day=datetime.date(2022, 6, 7), place="IRUP, salle 2")
    present_all(done, judged, staff_user)
    decide_all(done, president_user)
    services.jury_session_sign_off(session=done, signed_by=president_user)
    _, (ready,), _ = evaluated_cohort(staff_user, trainer_user, count=1)
    session = make_jury(staff_user, president_user)

    html = staff_client.get(_url(session)).content.decode()

    assert ready.candidate.full_name in html.split('id="eligible"')[1].split("</ul>")[0]
    for enrolment in (waiting, *judged):
        assert enrolment.candidate.full_name not in html


def test_only_staff_present_and_never_to_a_signed_session(staff_user, trainer_user, president_user, staff_client):
    _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=2)
    session = make_jury(staff_user, president_user)
    for user in (trainer_user, president_user):
        client = Client()
        client.force_login(user)
        assert client.post(_url(session), {"all": "1"}).status_code == 403
    assert not Presentation.objects.exists()

    present_all(session, enrolments[:1], staff_user)
    decide_all(session, president_user)
    services.jury_session_sign_off(session=session, signed_by=president_user)
    response = _present_all(staff_client, session)
    assert "signé" in response.content.decode()
    assert _presented(session) == {enrolments[0].pk}


def _presentable_session(staff_user, trainer_user, president_user, count, day):
    _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=count)
    return make_jury(staff_user, president_user, day=day), enrolments


def test_presenting_all_does_not_grow_with_the_candidates(staff_user, trainer_user, president_user, staff_client):
    """The same number of queries for 3 and for 15 candidates: presentations, decisions and audit rows are each
    written in one INSERT, the proposals computed from one read of the levels."""
    counts = []
    for count, day in ((3, datetime.date(2022, 6, 14)), (15, datetime.date(2022, 6, 21))):
        session, enrolments = _presentable_session(staff_user, trainer_user, president_user, count, day)
        ContentType.objects.clear_cache()  # both runs look up the session's type once
        reset_queries()  # the request clears the log of queries: a capture must start from an empty one
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.post(_url(session), {"all": "1"}).status_code == 302
        counts.append(len(queries))
        # The first cohort, before the first jury, is not presented to the second one.
        assert _presented(session) == {enrolment.pk for enrolment in enrolments}
    assert counts[0] == counts[1] > 0, counts


def test_the_candidates_page_does_not_grow_with_the_candidates(
    staff_user, trainer_user, president_user, staff_client, django_assert_num_queries
):
    small, _ = _presentable_session(staff_user, trainer_user, president_user, 3, datetime.date(2022, 6, 14))
    reset_queries()  # the request clears the log of queries: a capture must start from an empty one
    with CaptureQueriesContext(connection) as queries:
        assert staff_client.get(_url(small)).status_code == 200
    small_count = len(queries)  # read now: the log of queries is cleared by the next request
    # Twelve more presentable, and the three of the first cohort now presented: both lists longer.
    staff_client.post(_url(small), {"all": "1"})
    large, _ = _presentable_session(staff_user, trainer_user, president_user, 12, datetime.date(2022, 6, 21))
    assert small_count > 0
    reset_queries()
    with django_assert_num_queries(small_count):
        html = staff_client.get(_url(large)).content.decode()
    assert html.split('id="eligible"')[1].split("</ul>")[0].count("<li>") == 12
    assert html.split('id="ineligible"')[1].split("</ul>")[0].count("<li>") == 3
