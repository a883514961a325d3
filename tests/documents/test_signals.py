"""The two needs from below: a rectification marks documents, a withdrawal revokes them. Both reach the documents
room as signals sent inside the service's transaction; its receivers write in that same transaction."""

import datetime

import pytest
from django.core.cache import cache

from candidates.models import AcquiredBlock
from candidates.services_withdrawals import withdrawal_record
from candidates.signals import results_withdrawn
from certif.models import Certification
from documents import services as documents
from documents.models import DocumentKind, DocumentStatus, IssuedDocument, WithdrawnDocument
from juries import services
from juries.models import Decision
from juries.signals import decision_rectified
from tests.documents.test_documents import signed_session

pytestmark = pytest.mark.django_db


class Refused(Exception):
    pass


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def signed(staff_user, trainer_user, president_user):
    return signed_session(staff_user, trainer_user, president_user, name="MPES signaux")


def _results_of(signed, candidate):
    return documents.document_issue(
        session=signed.session, kind=DocumentKind.RESULTS, candidate=candidate, actor=signed.session.created_by
    )


def _rectify(signed, president):
    decision = Decision.objects.get(
        presentation__session=signed.session, presentation__enrolment__candidate=signed.third, block__number=1
    )
    services.decision_rectify(
        decision=decision, outcome="validated", reason="Erreur de report : C3 acquise.", signed_by=president
    )


def test_a_rectification_sends_its_signal_and_the_documents_are_marked(signed, president_user):
    results = _results_of(signed, signed.third)
    heard = []

    def listener(sender, *, rectification, actor, **kwargs):
        heard.append((rectification.decision.block.number, actor))

    decision_rectified.connect(listener, dispatch_uid="test_listener")
    try:
        _rectify(signed, president_user)
    finally:
        decision_rectified.disconnect(dispatch_uid="test_listener")
    results.refresh_from_db()
    assert heard == [(1, president_user)]
    assert results.status == DocumentStatus.RECTIFIED


def test_the_documents_are_marked_in_the_rectifications_transaction(signed, president_user):
    results = _results_of(signed, signed.third)

    def refuse(sender, **kwargs):
        raise Refused

    decision_rectified.connect(refuse, dispatch_uid="test_refuse")  # after the documents' receiver
    try:
        with pytest.raises(Refused):
            _rectify(signed, president_user)
    finally:
        decision_rectified.disconnect(dispatch_uid="test_refuse")
    results.refresh_from_db()
    assert results.status == DocumentStatus.VALID


def _withdraw_block_2(signed, staff):
    acquired = AcquiredBlock.objects.held().get(candidate=signed.first, block__number=2)
    return withdrawal_record(
        candidate=signed.first,
        certification=Certification.objects.get(rncp_code="16204"),
        withdraw_award=True,
        acquired_block_ids=[acquired.pk],
        reference="Décision n° 2026-14",
        decided_on=datetime.date(2026, 11, 20),
        reason="Attestation d'employeur falsifiée.",
        actor=staff,
    )


def test_a_withdrawal_sends_its_signal_and_the_documents_are_revoked(signed, staff_user):
    results = _results_of(signed, signed.first)
    heard = []

    def listener(sender, *, withdrawal, blocks, **kwargs):
        heard.append([item.block.number for item in blocks])
        return []

    results_withdrawn.connect(listener, dispatch_uid="test_listener")
    try:
        withdrawal = _withdraw_block_2(signed, staff_user)
    finally:
        results_withdrawn.disconnect(dispatch_uid="test_listener")
    results.refresh_from_db()
    assert heard == [[2]]
    assert results.status == DocumentStatus.REVOKED
    assert list(withdrawal.documents.values_list("document_id", flat=True)) == [results.pk]


def test_the_documents_are_revoked_in_the_withdrawals_transaction(signed, staff_user):
    results = _results_of(signed, signed.first)

    def refuse(sender, **kwargs):
        raise Refused

    results_withdrawn.connect(refuse, dispatch_uid="test_refuse")
    try:
        with pytest.raises(Refused):
            _withdraw_block_2(signed, staff_user)
    finally:
        results_withdrawn.disconnect(dispatch_uid="test_refuse")
    results.refresh_from_db()
    assert results.status == DocumentStatus.VALID
    assert not WithdrawnDocument.objects.exists()
    assert IssuedDocument.objects.filter(status=DocumentStatus.REVOKED).count() == 0
