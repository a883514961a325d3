"""Sign-off under concurrency, on PostgreSQL (two real connections, row locks)."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from candidates import services as candidate_services
from candidates.models import AcquiredBlock, CertificationAward
from certif.models import AuditEvent, Block
from juries import services
from juries.models import JurySession, JurySessionStatus
from tests.factories import decide_all, evaluated_cohort, make_jury, present_all

PASSWORD = "mot-de-passe-de-test"

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="Row locks (SELECT … FOR UPDATE) are tested on PostgreSQL (CI)."
)
pytestmark = [pytest.mark.django_db(transaction=True), postgresql_only]


def run_concurrently(*calls):
    """Run each call in its own thread (its own database connection), released together; return results."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # noqa: BLE001 — the test inspects what each thread got
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def ready_session(staff_user, trainer_user, president_user, *, count=2, name=None):
    """A session ready to sign whose candidates already hold blocks 3 and 4: signing awards the certification."""
    _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=count, name=name)
    for enrolment in enrolments:
        for number in (3, 4):
            candidate_services.acquired_block_import(
                candidate=enrolment.candidate,
                block=Block.objects.get(certification__rncp_code="16204", number=number),
                acquired_on=datetime.date(2021, 6, 17),
                import_source="PV du jury du 17 juin 2021",
                actor=staff_user,
            )
    session = make_jury(staff_user, president_user)
    present_all(session, enrolments, staff_user)
    decide_all(session, president_user)
    return session


def test_signing_the_same_session_twice_at_once_records_one_sign_off(staff_user, trainer_user, president_user):
    session = ready_session(staff_user, trainer_user, president_user)

    def sign():
        return services.jury_session_sign_off(session=session, signed_by=president_user)

    results = run_concurrently(sign, sign)
    successes = [r for r in results if isinstance(r, services.SignOffResult)]
    refusals = [r for r in results if isinstance(r, ValidationError)]
    assert len(successes) == 1 and len(refusals) == 1, results
    assert "déjà été signée" in refusals[0].messages[0]
    assert JurySession.objects.get(pk=session.pk).status == JurySessionStatus.SIGNED
    assert AuditEvent.objects.filter(action="jury.signed_off").count() == 1
    assert AcquiredBlock.objects.filter(source="jury").count() == 4
    assert sorted(CertificationAward.objects.values_list("number", flat=True)) == ["MPES-2022-0001", "MPES-2022-0002"]


def test_two_sessions_signed_at_once_get_distinct_sequential_numbers(staff_user, trainer_user, president_user):
    first = ready_session(staff_user, trainer_user, president_user, count=3, name="Concurrence A")
    second = ready_session(staff_user, trainer_user, president_user, count=3, name="Concurrence B")

    def sign(session):
        return lambda: services.jury_session_sign_off(session=session, signed_by=president_user)

    results = run_concurrently(sign(first), sign(second))
    assert all(isinstance(r, services.SignOffResult) for r in results), results
    numbers = sorted(CertificationAward.objects.values_list("number", flat=True))
    assert numbers == [f"MPES-2022-{n:04d}" for n in range(1, 7)]


def test_presenting_one_candidate_to_two_juries_at_once_presents_them_once(staff_user, trainer_user, president_user):
    """Both sessions lock their own row; the candidate's row lock serialises them, and the second sees the first."""
    _, (enrolment,), _ = evaluated_cohort(staff_user, trainer_user, count=1)
    first = make_jury(staff_user, president_user)
    second = make_jury(staff_user, president_user, day=datetime.date(2022, 6, 21), place="IRUP, salle 2")

    def present(session):
        return lambda: services.presentation_add(session=session, enrolment=enrolment, actor=staff_user)

    results = run_concurrently(present(first), present(second))
    refusals = [r for r in results if isinstance(r, ValidationError)]
    assert len(refusals) == 1, results
    assert "déjà présenté au jury du" in refusals[0].messages[0]
    from juries.models import Decision

    assert Decision.objects.filter(candidate=enrolment.candidate, is_open=True).count() == 2  # blocks 1 and 2, once
    assert len(set(Decision.objects.values_list("presentation__session", flat=True))) == 1
