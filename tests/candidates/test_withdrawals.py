"""Withdrawal (retrait) of a certificate or of blocks obtained by fraud: a new, reasoned staff act; nothing deleted.

The data: one signed session (tests.documents.test_documents.signed_session) where `first` is certified (blocks 1 and 2 by
the jury, 3 and 4 from history) and `second` holds blocks 1 and 2 (attestation).
"""

import datetime
import html
import io
import threading

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import ProtectedError
from django.urls import reverse
from pypdf import PdfReader

from candidates.models import AcquiredBlock, CertificationAward, Withdrawal, WithdrawnBlock
from candidates.services import acquired_block_import
from candidates.services_withdrawals import withdrawal_record
from certif.guards import FrozenRowError
from certif.models import AuditEvent, Block, Certification
from declarations import services as declarations
from documents import services as documents
from documents.content import session_slots
from documents.models import DocumentKind, DocumentStatus, IssuedDocument, WithdrawnDocument
from evaluation import services as evaluation
from evaluation.models import BlockEvaluation
from juries import selectors, services
from juries.models import Decision
from reporting import statistics
from tests.documents.test_documents import PASSWORD, signed_session
from tests.factories import decide_all, fill_and_submit, make_jury, present_all

pytestmark = pytest.mark.django_db

REFERENCE = "Décision du directeur général n° 2026-14 du 20 novembre 2026"
DECIDED_ON = datetime.date(2026, 11, 20)
REASON = "Attestation d'employeur falsifiée produite pour la VAE du bloc 2 (constat du 3 novembre 2026)."
SECOND_JURY_DAY = datetime.date(2022, 12, 6)  # inside the 2018–2023 registration, after the first jury


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def data(staff_user, trainer_user, president_user):
    return signed_session(staff_user, trainer_user, president_user)


def _issue_all(data, staff):
    documents.documents_issue_missing(session=data.session, actor=staff, parallel=False)
    return {
        (document.kind, document.candidate_id): document
        for document in IssuedDocument.objects.filter(session=data.session).defer("pdf")
    }


def _acquisition(candidate, number):
    return AcquiredBlock.objects.held().get(candidate=candidate, block__number=number)


def _withdraw(candidate, staff, *, award=False, numbers=(), **overrides):
    fields = {
        "candidate": candidate,
        "certification": Certification.objects.get(rncp_code="16204"),
        "withdraw_award": award,
        "acquired_block_ids": [_acquisition(candidate, number).pk for number in numbers],
        "reference": REFERENCE,
        "decided_on": DECIDED_ON,
        "reason": REASON,
        "actor": staff,
    }
    fields.update(overrides)
    return withdrawal_record(**fields)


def _counts():
    return {
        model.__name__: model.objects.count()
        for model in (AcquiredBlock, CertificationAward, IssuedDocument, Decision, BlockEvaluation)
    }


# — The act —


def test_withdrawing_the_certificate_and_a_block_revokes_what_states_them_and_deletes_nothing(data, staff_user):
    issued = _issue_all(data, staff_user)
    award = data.award
    block_2 = _acquisition(data.first, 2)
    before, audit_before = _counts(), AuditEvent.objects.count()

    withdrawal = _withdraw(data.first, staff_user, award=True, numbers=(2,))

    assert _counts() == before  # nothing deleted, nothing added to the ledger
    assert AuditEvent.objects.count() > audit_before
    # The originals are kept as they were, read as withdrawn from the act.
    award.refresh_from_db()
    assert (award.number, award.awarded_on) == (data.award.number, data.award.awarded_on)
    assert AcquiredBlock.objects.get(pk=block_2.pk).acquired_on == block_2.acquired_on
    assert CertificationAward.objects.get(pk=award.pk).is_withdrawn
    assert AcquiredBlock.objects.get(pk=block_2.pk).is_withdrawn
    assert sorted(
        AcquiredBlock.objects.held().filter(candidate=data.first).values_list("block__number", flat=True)
    ) == [
        1,
        3,
        4,
    ]
    assert not CertificationAward.objects.in_force().filter(candidate=data.first).exists()
    assert (withdrawal.reference, withdrawal.decided_on, withdrawal.reason, withdrawal.recorded_by) == (
        REFERENCE,
        DECIDED_ON,
        REASON,
        staff_user,
    )

    # The certificate and the results statement (its decision validated block 2) are revoked; the other candidates'
    # documents and the minutes (the deliberation as held) stay valid.
    statuses = {key: IssuedDocument.objects.get(pk=doc.pk).status for key, doc in issued.items()}
    assert statuses[(DocumentKind.CERTIFICATE, data.first.pk)] == DocumentStatus.REVOKED
    assert statuses[(DocumentKind.RESULTS, data.first.pk)] == DocumentStatus.REVOKED
    assert statuses[(DocumentKind.MINUTES, None)] == DocumentStatus.VALID
    assert statuses[(DocumentKind.RESULTS, data.second.pk)] == DocumentStatus.VALID
    assert statuses[(DocumentKind.ATTESTATION, data.second.pk)] == DocumentStatus.VALID
    assert {line.document_id for line in withdrawal.documents.all()} == {
        issued[(DocumentKind.CERTIFICATE, data.first.pk)].pk,
        issued[(DocumentKind.RESULTS, data.first.pk)].pk,
    }
    certificate = IssuedDocument.objects.get(pk=issued[(DocumentKind.CERTIFICATE, data.first.pk)].pk)
    assert REFERENCE in certificate.status_reason and certificate.status_changed_by == staff_user

    # One trace a person can read, on the candidate's file; the ordinary revocation traced each document.
    event = AuditEvent.objects.get(action="candidate.results_withdrawn")
    assert event.target_id == str(data.first.pk) and event.actor == staff_user
    assert event.after["summary"] == (
        f"Retrait du certificat n° {award.number} et du bloc 2, {REFERENCE}, décidé le 20 novembre 2026 : {REASON}"
    )
    assert event.after["blocks"] == [2] and event.after["certificate"] == award.number
    assert AuditEvent.objects.filter(action="document.revoked").count() == 2


def test_withdrawing_the_certificate_alone_keeps_the_blocks(data, staff_user):
    issued = _issue_all(data, staff_user)
    _withdraw(data.first, staff_user, award=True)
    assert AcquiredBlock.objects.held().filter(candidate=data.first).count() == 4
    assert IssuedDocument.objects.get(pk=issued[(DocumentKind.CERTIFICATE, data.first.pk)].pk).status == "revoked"
    # The results statement reports no withdrawn block: it stays valid.
    assert IssuedDocument.objects.get(pk=issued[(DocumentKind.RESULTS, data.first.pk)].pk).status == "valid"


def test_a_block_of_a_certified_candidate_cannot_be_withdrawn_without_the_certificate(data, staff_user):
    before = _counts()
    with pytest.raises(ValidationError) as error:
        _withdraw(data.first, staff_user, numbers=(3,))
    assert "repose sur tous les blocs" in error.value.message_dict["award"][0]
    assert Withdrawal.objects.count() == 0 and _counts() == before


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"reference": "  "}, "reference", "Indiquez la référence de la décision de retrait"),
        ({"reason": ""}, "reason", "Indiquez le motif du retrait."),
        ({"reason": "x" * 2001}, "reason", "Le motif compte 2001 caractères ; 2000 au plus."),
        ({"decided_on": None}, "decided_on", "Indiquez la date de la décision de retrait."),
        ({"decided_on": datetime.date(2099, 1, 1)}, "decided_on", "ne peut pas être datée dans le futur"),
        ({"decided_on": datetime.date(2020, 1, 1)}, "decided_on", "ne peut pas précéder le résultat"),
    ],
)
def test_bad_input_is_refused_with_a_french_message_and_writes_nothing(data, staff_user, overrides, field, message):
    with pytest.raises(ValidationError) as error:
        _withdraw(data.second, staff_user, numbers=(2,), **overrides)
    assert message in error.value.message_dict[field][0]
    assert Withdrawal.objects.count() == 0 and WithdrawnBlock.objects.count() == 0


def test_nothing_chosen_or_a_block_already_withdrawn_is_refused(data, staff_user):
    with pytest.raises(ValidationError) as error:
        _withdraw(data.second, staff_user)
    assert "Choisissez ce qui est retiré" in error.value.message_dict["blocks"][0]
    block = _acquisition(data.second, 2)
    _withdraw(data.second, staff_user, numbers=(2,))
    with pytest.raises(ValidationError) as error:
        _withdraw(data.second, staff_user, acquired_block_ids=[block.pk])
    assert "n'est plus détenu" in error.value.message_dict["blocks"][0]
    assert Withdrawal.objects.count() == 1


def test_only_staff_withdraw(data, president_user, trainer_user):
    for user in (president_user, trainer_user):
        with pytest.raises(PermissionDenied):
            _withdraw(data.second, user, numbers=(2,))
    assert Withdrawal.objects.count() == 0


# — The act is write-once, through every ORM door —


def test_a_withdrawal_cannot_be_changed_nor_deleted_through_the_orm(data, staff_user):
    issued = _issue_all(data, staff_user)
    withdrawal = _withdraw(data.first, staff_user, award=True, numbers=(2,))
    line = WithdrawnBlock.objects.get(withdrawal=withdrawal)
    document_line = WithdrawnDocument.objects.filter(withdrawal=withdrawal).first()

    withdrawal.reason = "autre motif"
    attempts = [
        withdrawal.save,
        withdrawal.delete,
        lambda: Withdrawal.objects.filter(pk=withdrawal.pk).update(reference="n° 1"),
        lambda: Withdrawal.objects.bulk_update([withdrawal], ["reason"]),
        lambda: Withdrawal.objects.all().delete(),
        line.delete,
        lambda: WithdrawnBlock.objects.all().delete(),
        lambda: WithdrawnBlock.objects.filter(pk=line.pk).update(acquired_block=_acquisition(data.first, 1)),
        document_line.delete,
        lambda: WithdrawnDocument.objects.all().delete(),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError), transaction.atomic():  # bulk_update breaks the enclosing transaction
            attempt()
    # What a withdrawal points at cannot be deleted from under it either.
    with pytest.raises((ProtectedError, ValidationError)), transaction.atomic():
        AcquiredBlock.objects.filter(pk=line.acquired_block_id).delete()
    with pytest.raises((ProtectedError, ValidationError)), transaction.atomic():
        CertificationAward.objects.filter(pk=data.award.pk).delete()
    fresh = Withdrawal.objects.get(pk=withdrawal.pk)
    assert (fresh.reference, fresh.reason) == (REFERENCE, REASON)
    assert WithdrawnBlock.objects.count() == 1 and WithdrawnDocument.objects.count() == 2
    assert IssuedDocument.objects.count() == len(issued)


# — Public verification —


def test_the_verification_page_answers_withdrawn_and_tells_nothing_more(client, data, staff_user):
    issued = _issue_all(data, staff_user)
    ordinary = issued[(DocumentKind.ATTESTATION, data.second.pk)]
    documents.document_revoke(document=ordinary, reason="Erreur de saisie de l'état civil", actor=staff_user)
    _withdraw(data.first, staff_user, award=True, numbers=(2,))

    certificate = issued[(DocumentKind.CERTIFICATE, data.first.pk)]
    response = client.get(reverse("verification:check", args=[certificate.grouped_code]))
    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "Document retiré" in page
    assert f"Ce document a été retiré le 20 novembre 2026 ({REFERENCE}) : il ne fait plus foi." in page
    assert "révoqué" not in page.split('id="result"')[1].split("</section>")[0]
    assert REASON not in page and "falsifiée" not in page  # the reason stays private
    assert "17 mai 1988" not in page  # nor the birth date, as before
    assert data.award.number in page

    results = issued[(DocumentKind.RESULTS, data.first.pk)]
    page = client.get(reverse("verification:check", args=[results.grouped_code])).content.decode()
    assert "Document retiré" in page and REFERENCE in page

    page = client.get(reverse("verification:check", args=[ordinary.grouped_code])).content.decode()
    assert "Document révoqué" in page and "retiré" not in page.split('id="result"')[1].split("</section>")[0]

    minutes = issued[(DocumentKind.MINUTES, None)]
    page = client.get(reverse("verification:check", args=[minutes.grouped_code])).content.decode()
    assert "Document valide" in page


# — Documents after a withdrawal —


def test_a_withdrawn_result_is_never_issued_again_and_new_documents_leave_it_out(data, staff_user):
    issued = _issue_all(data, staff_user)
    _withdraw(data.second, staff_user, numbers=(2,))
    attestation = IssuedDocument.objects.get(pk=issued[(DocumentKind.ATTESTATION, data.second.pk)].pk)
    assert attestation.status == DocumentStatus.REVOKED  # it listed block 2 among the blocks held

    slots = {slot.key: slot for slot in session_slots(data.session)}
    assert slots[(DocumentKind.RESULTS, data.second.pk)].withdrawn  # its decision gave block 2
    with pytest.raises(ValidationError, match="rapporte un résultat retiré"):
        documents.document_issue(
            session=data.session, kind=DocumentKind.RESULTS, candidate=data.second, actor=staff_user
        )
    # The attestation can be issued again: it now states block 1 only.
    new = documents.document_issue(
        session=data.session, kind=DocumentKind.ATTESTATION, candidate=data.second, actor=staff_user
    )
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(bytes(new.pdf))).pages)
    text = " ".join(text.split())
    validated, remaining = text.split("restant à valider")
    assert "RNCP16204BC01" in validated and "RNCP16204BC02" not in validated
    assert "RNCP16204BC02 (bloc 2)" in remaining
    assert new.status == DocumentStatus.VALID

    # A batch issues nothing for the withdrawn slot and finishes.
    documents.documents_issue_missing(session=data.session, actor=staff_user, parallel=False)
    assert not IssuedDocument.objects.filter(
        session=data.session, candidate=data.second, kind=DocumentKind.RESULTS, status=DocumentStatus.VALID
    ).exists()


def test_the_certificate_of_a_withdrawn_award_cannot_be_issued(data, staff_user):
    _withdraw(data.first, staff_user, award=True)
    with pytest.raises(ValidationError, match="rapporte un résultat retiré"):
        documents.document_issue(
            session=data.session, kind=DocumentKind.CERTIFICATE, candidate=data.first, actor=staff_user
        )
    assert not IssuedDocument.objects.filter(kind=DocumentKind.CERTIFICATE).exists()


# — A withdrawn block is no longer held: eligibility, award, rectification, history —


def _evaluate_again(data, staff, trainer, numbers, enrolments):
    session = evaluation.evaluation_session_open(
        cohort=enrolments[0].cohort,
        blocks=list(Block.objects.filter(certification__rncp_code="16204", number__in=numbers)),
        evaluators=[trainer],
        starts_on=datetime.date(2022, 9, 1),
        ends_on=datetime.date(2022, 11, 30),
        actor=staff,
    )
    for block_evaluation in BlockEvaluation.objects.filter(session=session).select_related("grid", "block"):
        fill_and_submit(block_evaluation, data.enrolments, trainer, "A")
    return session


def test_a_withdrawn_block_can_be_earned_again_and_the_certificate_with_a_new_number(
    data, staff_user, trainer_user, president_user
):
    old_award = data.award
    old_block = _acquisition(data.first, 2)
    _withdraw(data.first, staff_user, award=True, numbers=(2,))
    _evaluate_again(data, staff_user, trainer_user, (2,), data.enrolments)
    jury = make_jury(staff_user, president_user, numbers=(2,), day=SECOND_JURY_DAY, place="IRUP, salle 2")
    eligibility = {item.enrolment.candidate_id: item for item in selectors.eligibilities(jury)}
    # The withdrawn block is examined again; the second candidate still holds block 2.
    assert [block.number for block, _ in eligibility[data.first.pk].examined] == [2]
    assert not eligibility[data.second.pk].eligible
    assert "tous les blocs de la session sont déjà acquis" in eligibility[data.second.pk].reasons

    present_all(jury, [data.enrolments[0]], staff_user)
    decide_all(jury, president_user)
    result = services.jury_session_sign_off(session=jury, signed_by=president_user)

    new_block = AcquiredBlock.objects.held().get(candidate=data.first, block__number=2)
    assert new_block.pk != old_block.pk and new_block.replaces_id == old_block.pk
    assert new_block.acquired_on == SECOND_JURY_DAY
    assert AcquiredBlock.objects.filter(candidate=data.first, block__number=2).count() == 2  # the original stays
    [new_award] = result.awards
    assert new_award.replaces_id == old_award.pk and new_award.number != old_award.number
    assert CertificationAward.objects.in_force().get(candidate=data.first) == new_award
    assert CertificationAward.objects.get(pk=old_award.pk).is_withdrawn


def test_a_withdrawn_block_is_not_counted_for_the_award(data, staff_user, trainer_user, president_user):
    """The second candidate's block 2 is withdrawn; validating blocks 3 and 4 no longer certifies them."""
    _withdraw(data.second, staff_user, numbers=(2,))
    _evaluate_again(data, staff_user, trainer_user, (3, 4), data.enrolments)
    jury = make_jury(staff_user, president_user, numbers=(3, 4), day=SECOND_JURY_DAY, place="IRUP, salle 2")
    present_all(jury, [data.enrolments[1]], staff_user)
    decide_all(jury, president_user)
    result = services.jury_session_sign_off(session=jury, signed_by=president_user)
    assert result.awards == []
    assert sorted(
        AcquiredBlock.objects.held().filter(candidate=data.second).values_list("block__number", flat=True)
    ) == [
        1,
        3,
        4,
    ]


def test_the_decision_of_a_withdrawn_block_is_not_rectified_nor_the_block_imported_again(
    data, staff_user, president_user
):
    _withdraw(data.second, staff_user, numbers=(2,))
    decision = Decision.objects.get(
        presentation__session=data.session, presentation__enrolment=data.enrolments[1], block__number=2
    )
    with pytest.raises(ValidationError) as error:
        services.decision_rectify(decision=decision, outcome="not_validated", reason="Fraude", signed_by=president_user)
    assert "a été retiré au candidat" in error.value.message_dict["outcome"][0]
    with pytest.raises(ValidationError) as error:
        acquired_block_import(
            candidate=data.second,
            block=Block.objects.get(certification__rncp_code="16204", number=2),
            acquired_on=datetime.date(2021, 6, 17),
            import_source="Procès-verbal du jury du 17 juin 2021",
            actor=staff_user,
        )
    assert "a été retiré à ce candidat" in error.value.message_dict["block"][0]
    assert AcquiredBlock.objects.filter(candidate=data.second, block__number=2).count() == 1


# — Statistics and the CDC declaration —


def test_statistics_no_longer_count_withdrawn_results(data, staff_user):
    certification = Certification.objects.get(rncp_code="16204")
    before = statistics.compute(certification, statistics.Filters())
    assert (before.total_certified, before.total_pending) == (1, 1)  # first certified; second holds 2 of 4
    _withdraw(data.first, staff_user, award=True, numbers=(2,))
    _withdraw(data.second, staff_user, numbers=(2,))
    after = statistics.compute(certification, statistics.Filters())
    assert after.total_certified == 0
    assert after.table("certified").rows == [["2022", 0, 15]]
    # first now holds 3 of 4, second 1 of 4; the jury's decisions themselves still count as taken.
    assert after.table("pending").rows == [["1 bloc sur 4", 1], ["2 blocs sur 4", 0], ["3 blocs sur 4", 1]]
    assert (after.total_taken, after.total_validated) == (before.total_taken, before.total_validated)
    rows = statistics.result_rows(certification, statistics.Filters())
    assert all(row[-1] in ("", None) for row in rows)  # no certificate number in force any more


def test_a_withdrawn_certificate_is_never_declared_valid_and_its_declaration_is_corrected(
    staff_client, data, staff_user
):
    certification = Certification.objects.get(rncp_code="16204")
    declarations.declarant_settings_save(
        certification=certification,
        sender_id_client="ABCDEFGH",
        certifier_id_client="IJKLMNOP",
        contract_id="MCFCER000123",
        actor=staff_user,
    )
    declarations.holder_declaration_create(certification=certification, award_ids=[data.award.pk], actor=staff_user)
    _withdraw(data.first, staff_user, award=True)

    # declared before: « à corriger », proposed once to declare its validity ended on the day of the withdrawal
    response = staff_client.get(reverse("declarations:declare", args=["16204"]))
    page = response.content.decode()
    assert response.context["new_rows"] == [] and response.context["declared_rows"] == []
    assert [row.award for row in response.context["again_rows"]] == [data.award]
    assert "À corriger" in page and REFERENCE in page
    correction = declarations.holder_declaration_create(
        certification=certification, award_ids=[data.award.pk], actor=staff_user
    )
    assert correction.lines.get().sent["dateFinValidite"] == DECIDED_ON.isoformat()

    response = staff_client.get(reverse("declarations:declare", args=["16204"]))
    assert [row.award for row in response.context["withdrawn_rows"]] == [data.award]
    assert "Certificats retirés" in response.content.decode()
    with pytest.raises(ValidationError, match="Certificat\\(s\\) retiré\\(s\\)"):
        declarations.holder_declaration_create(
            certification=certification, award_ids=[], resend_ids=[data.award.pk], actor=staff_user
        )


# — The page, from the candidate's file —


def _post(data, *, award=True, numbers=(2,), password=PASSWORD, confirm=True, **overrides):
    fields = {
        "blocks": [_acquisition(data.first, number).pk for number in numbers],
        "reference": REFERENCE,
        "decided_on": DECIDED_ON.isoformat(),
        "reason": REASON,
        "password": password,
    }
    if award:
        fields["award"] = "on"
    if confirm:
        fields["confirm"] = "on"
    fields.update(overrides)
    return fields


def test_staff_withdraw_from_the_candidate_file_and_the_file_shows_it(staff_client, data, staff_user):
    issued = _issue_all(data, staff_user)
    detail = reverse("candidates:detail", args=[data.first.pk])
    url = reverse("candidates:withdrawal_create", args=[data.first.pk])
    assert url in staff_client.get(detail).content.decode()

    page = html.unescape(staff_client.get(url).content.decode())
    assert "Ce que fait un retrait" in page
    assert "retirer un bloc d'un candidat certifié retire aussi son certificat" in page
    assert f"Certificat n° {data.award.number}, délivré le 14 juin 2022" in page
    assert "Bloc 2 — acquis le 14 juin 2022 (jury du 14 juin 2022)" in page
    assert "Bloc 3 — acquis le 17 juin 2021 (reprise d'historique : Procès-verbal du jury du 17 juin 2021)" in page
    assert issued[(DocumentKind.CERTIFICATE, data.first.pk)].grouped_code in page  # documents at stake

    response = staff_client.post(url, _post(data))
    assert response.status_code == 302 and response["Location"] == detail + "#retraits"
    page = html.unescape(staff_client.get(detail).content.decode())
    assert "Retrait enregistré (" + REFERENCE + "). 2 documents révoqués" in page
    section = page.split('id="retraits"')[1].split("</section>")[0]
    assert REFERENCE in section and REASON in section and "par Gestion" in section
    assert f"certificat n° {data.award.number} ; bloc 2 (acquis le 14 juin 2022)" in section
    # The original award and block stay in view, marked « retiré ».
    assert (
        f"<strong>Certificat n° {data.award.number}</strong>, délivré le 14 juin 2022, retiré le 20 novembre 2026"
        in page
    )
    assert page.count('<span class="badge text-bg-danger">Retiré</span>') == 4  # award, block 2, two documents
    assert "Certification délivrée" not in page
    assert "n'est plus détenu, peut être de nouveau évalué et présenté à un jury" in page
    assert "candidate.results_withdrawn" in page  # the audit trace, on the file's history


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"password": "pas-le-bon"}, "password", "Mot de passe incorrect"),
        ({"password": ""}, "password", "Saisissez votre mot de passe pour signer le retrait."),
        ({"confirm": False}, "confirm", "Cochez la case pour confirmer le retrait."),
        ({"reference": ""}, "reference", "Indiquez la référence de la décision de retrait."),
        ({"reason": " "}, "reason", "Indiquez le motif du retrait."),
        ({"decided_on": "2099-01-01"}, "decided_on", "La décision de retrait ne peut pas être datée dans le futur."),
        ({"award": False}, "award", "retirer un bloc retire aussi le certificat. Cochez-le."),
        ({"award": False, "numbers": ()}, "blocks", "Choisissez ce qui est retiré"),
    ],
)
def test_the_page_refuses_bad_input_next_to_the_field_and_writes_nothing(staff_client, data, overrides, field, message):
    before = _counts()
    fields = _post(data, **{key: overrides.pop(key) for key in ("award", "numbers", "confirm") if key in overrides})
    fields.update(overrides)
    response = staff_client.post(reverse("candidates:withdrawal_create", args=[data.first.pk]), fields)
    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors[field])
    page = response.content.decode()
    assert f'id="error_1_id_{field}"' in page  # crispy puts it under the field, tied to it
    assert Withdrawal.objects.count() == 0 and _counts() == before
    assert not AuditEvent.objects.filter(action="candidate.results_withdrawn").exists()


@pytest.mark.parametrize("role_client", ["president_client", "trainer_client"])
def test_presidents_and_trainers_cannot_reach_the_page(request, role_client, data):
    client = request.getfixturevalue(role_client)
    url = reverse("candidates:withdrawal_create", args=[data.first.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, _post(data)).status_code == 403
    assert Withdrawal.objects.count() == 0


def test_anonymous_is_sent_to_login(client, data):
    url = reverse("candidates:withdrawal_create", args=[data.first.pk])
    response = client.post(url, _post(data))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert Withdrawal.objects.count() == 0


def test_the_candidate_file_does_a_bounded_number_of_queries(staff_client, data, staff_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _withdraw(data.first, staff_user, award=True, numbers=(2,))
    _withdraw(data.second, staff_user, numbers=(1,))
    _withdraw(data.second, staff_user, numbers=(2,))
    counts = []
    for candidate in (data.first, data.second):
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(reverse("candidates:detail", args=[candidate.pk])).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_admin_shows_withdrawals_read_only(staff_client, data, staff_user):
    withdrawal = _withdraw(data.first, staff_user, award=True, numbers=(2,))
    assert staff_client.get(reverse("admin:candidates_withdrawal_changelist")).status_code == 200
    change = reverse("admin:candidates_withdrawal_change", args=[withdrawal.pk])
    page = html.unescape(staff_client.get(change).content.decode())
    assert REFERENCE in page and 'name="_save"' not in page
    assert staff_client.post(change, {"reference": "n° 1"}).status_code == 403
    assert staff_client.get(reverse("admin:candidates_withdrawal_add")).status_code == 403
    assert staff_client.post(reverse("admin:candidates_withdrawal_delete", args=[withdrawal.pk])).status_code == 403
    assert Withdrawal.objects.get(pk=withdrawal.pk).reference == REFERENCE


# — On PostgreSQL, the database itself refuses (raw SQL, another connection) —


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Database triggers are tested on PostgreSQL (CI).")
@pytest.mark.django_db(transaction=True)
def test_postgresql_refuses_raw_sql_on_a_withdrawal_from_another_connection(staff_user, trainer_user, president_user):
    data = signed_session(staff_user, trainer_user, president_user)
    _issue_all(data, staff_user)
    withdrawal = _withdraw(data.first, staff_user, award=True, numbers=(2,))
    statements = [
        "UPDATE candidates_withdrawal SET reason = 'autre motif' WHERE id = %s",
        "UPDATE candidates_withdrawal SET award_id = NULL WHERE id = %s",
        "DELETE FROM candidates_withdrawal WHERE id = %s",
        "UPDATE candidates_withdrawnblock SET acquired_block_id = acquired_block_id WHERE withdrawal_id = %s",
        "DELETE FROM candidates_withdrawnblock WHERE withdrawal_id = %s",
        "UPDATE candidates_withdrawndocument SET document_id = document_id WHERE withdrawal_id = %s",
        "DELETE FROM candidates_withdrawndocument WHERE withdrawal_id = %s",
    ]
    outcomes = []

    def other_connection():
        try:
            with connections["default"].cursor() as cursor:
                for sql in statements:
                    try:
                        with transaction.atomic():
                            cursor.execute(sql, [withdrawal.pk])
                        outcomes.append(f"accepted: {sql}")
                    except (DatabaseError, FrozenRowError) as error:
                        outcomes.append(" ".join(getattr(error, "messages", [str(error)])))
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_connection)
    thread.start()
    thread.join(60)
    assert len(outcomes) == len(statements)
    assert not [outcome for outcome in outcomes if outcome.startswith("accepted")], outcomes
    # The database's own refusal, in the same French words as the ORM's.
    assert all(outcome.startswith("Un retrait enregistré ne peut pas être") for outcome in outcomes), outcomes
    assert Withdrawal.objects.get(pk=withdrawal.pk).reason == REASON
    assert (WithdrawnBlock.objects.count(), WithdrawnDocument.objects.count()) == (1, 2)


def test_the_candidate_list_and_the_personal_data_export_tell_the_withdrawal(staff_client, data, staff_user):
    _withdraw(data.first, staff_user, award=True, numbers=(2,))
    staff_client.post(reverse("candidates:list"), {"q": data.first.birth_name})
    response = staff_client.get(reverse("candidates:list"))
    assert [row.pk for row in response.context["rows"]] == [data.first.pk]
    page = response.content.decode()
    assert "3 / 4" in page and ">Certifié</span>" not in page

    exported = staff_client.get(reverse("candidates:personal_data", args=[data.first.pk])).json()
    by_block = {item["bloc"]: item for item in exported["blocs_acquis"]}
    assert by_block["RNCP16204BC02"]["retire"] == {
        "decision": REFERENCE,
        "date_decision": "2026-11-20",
        "motif": REASON,
    }
    assert by_block["RNCP16204BC01"]["retire"] is None
    assert exported["certifications"][0]["retire"]["decision"] == REFERENCE
