"""One jury at a time: a candidate is presented for a block to at most one unsigned jury — through the service, the
page, the ORM and raw SQL (a partial unique constraint on the open decisions)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from candidates import services as candidate_services
from certif.models import Block
from evaluation import services as evaluation
from evaluation.models import BlockEvaluation
from juries import selectors, services
from juries.models import Decision, Presentation
from tests.factories import decide_all, evaluated_cohort, fill_and_submit, make_cohort, make_jury

pytestmark = pytest.mark.django_db

PASSWORD = "mot-de-passe-de-test"
LATER = datetime.date(2022, 6, 21)
REASONS = (
    "déjà présenté au jury du 14 juin 2022 pour le bloc 1, non encore signé ; "
    "déjà présenté au jury du 14 juin 2022 pour le bloc 2, non encore signé"
)


@pytest.fixture
def setting(staff_user, trainer_user, president_user):
    """One candidate presented to a first unsigned jury; a second jury on the same blocks, a week later."""
    _, (enrolment, other), _ = evaluated_cohort(staff_user, trainer_user, count=2)
    first = make_jury(staff_user, president_user)
    second = make_jury(staff_user, president_user, day=LATER, place="IRUP, salle 2")
    presentation = services.presentation_add(session=first, enrolment=enrolment, actor=staff_user)
    return first, second, enrolment, other, presentation


def _open_decision(presentation, number, **extra):
    be = BlockEvaluation.objects.filter(session__cohort=presentation.enrolment.cohort, block__number=number).get()
    return Decision.objects.create(
        presentation=presentation,
        block=be.block,
        block_evaluation=be,
        proposal_outcome="validated",
        proposal_explanation="—",
        **extra,
    )


def test_the_service_refuses_and_says_where(setting, staff_user):
    first, second, enrolment, other, _ = setting
    by_enrolment = {item.enrolment.pk: item for item in selectors.eligibilities(second)}
    assert not by_enrolment[enrolment.pk].eligible
    assert " ; ".join(by_enrolment[enrolment.pk].reasons) == REASONS
    assert by_enrolment[other.pk].eligible
    with pytest.raises(ValidationError) as error:
        services.presentation_add(session=second, enrolment=enrolment, actor=staff_user)
    assert error.value.messages == [f"{enrolment.candidate.full_name} ne peut pas être présenté : {REASONS}."]
    assert not Presentation.objects.filter(session=second).exists()


def test_the_page_lists_the_candidate_as_not_presentable_and_refuses_the_post(setting, staff_client):
    _, second, enrolment, _, _ = setting
    url = reverse("juries:presentations", args=[second.pk])
    html = staff_client.get(url).content.decode()
    ineligible = html.split('id="ineligible"')[1].split("</ul>")[0]
    assert f"{enrolment.candidate.full_name} ({enrolment.cohort.name}) : {REASONS}" in ineligible
    response = staff_client.post(url, {"enrolment": enrolment.pk}, follow=True)
    assert "déjà présenté au jury du 14 juin 2022 pour le bloc 1" in response.content.decode()
    assert not Presentation.objects.filter(session=second).exists()


def test_through_another_enrolment_of_the_same_candidate(setting, staff_user, trainer_user):
    """A candidate enrolled twice is still one person: their second enrolment cannot take them before a jury again."""
    first, _, enrolment, _, _ = setting
    cohort = make_cohort(staff_user, trainers=[trainer_user])
    again = candidate_services.enrolment_create(candidate=enrolment.candidate, cohort=cohort, actor=staff_user)
    session = evaluation.evaluation_session_open(
        cohort=cohort,
        blocks=Block.objects.filter(certification__rncp_code="16204", number__in=(1, 2)),
        evaluators=[trainer_user],
        starts_on=datetime.date(2022, 3, 1),
        ends_on=datetime.date(2022, 5, 31),
        actor=staff_user,
    )
    for be in BlockEvaluation.objects.filter(session=session).select_related("grid"):
        fill_and_submit(be, [again], trainer_user, "A")
    (item,) = selectors.eligibilities(first, [again])
    assert " ; ".join(item.reasons) == REASONS
    with pytest.raises(ValidationError, match="déjà présenté au jury du 14 juin 2022"):
        services.presentation_add(session=first, enrolment=again, actor=staff_user)


def test_the_orm_cannot_create_the_second_open_decision(setting, staff_user):
    _, second, enrolment, other, _ = setting
    presentation = Presentation.objects.create(session=second, enrolment=enrolment, presented_by=staff_user)
    with pytest.raises(IntegrityError), transaction.atomic():
        _open_decision(presentation, 1)
    # Whatever the caller writes in the rule's columns, they are the presentation's.
    with pytest.raises(IntegrityError), transaction.atomic():
        _open_decision(presentation, 1, candidate=other.candidate, is_open=False)
    assert not Decision.objects.filter(presentation__session=second).exists()


def test_raw_sql_cannot_either(setting, staff_user):
    _, second, enrolment, _, first_presentation = setting
    presentation = Presentation.objects.create(session=second, enrolment=enrolment, presented_by=staff_user)
    decision = first_presentation.decisions.get(block__number=1)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO juries_decision (presentation_id, block_id, block_evaluation_id, proposal_outcome, "
            "proposal_explanation, outcome, departure_reason, candidate_id, is_open) "
            "VALUES (%s, %s, %s, 'validated', '', '', '', %s, %s)",
            [presentation.pk, decision.block_id, decision.block_evaluation_id, enrolment.candidate_id, True],
        )
    assert not Decision.objects.filter(presentation__session=second).exists()


def test_withdrawn_from_the_first_the_candidate_can_go_to_the_second(setting, staff_user):
    first, second, enrolment, _, presentation = setting
    services.presentation_remove(presentation=presentation, actor=staff_user)
    services.presentation_add(session=second, enrolment=enrolment, actor=staff_user)
    assert Decision.objects.filter(candidate=enrolment.candidate, is_open=True).count() == 2
    assert set(Decision.objects.values_list("presentation__session", flat=True)) == {second.pk}


def test_the_sign_off_closes_the_decisions_before_the_session_is_signed(setting, staff_user, president_user):
    first, second, enrolment, _, _ = setting
    decide_all(first, president_user)
    services.jury_session_sign_off(session=first, signed_by=president_user)
    assert not Decision.objects.filter(presentation__session=first, is_open=True).exists()
    # Signed, the first jury no longer holds the candidate: what stops them now is that the blocks are acquired.
    (item,) = selectors.eligibilities(second, [enrolment])
    assert item.reasons == ["tous les blocs de la session sont déjà acquis"]
    presentation = Presentation.objects.create(session=second, enrolment=enrolment, presented_by=staff_user)
    assert _open_decision(presentation, 1).is_open  # the constraint no longer stands in the way
