"""A declared certificate rectified or withdrawn is flagged « à corriger » and the next flux carries its corrected
data; what was declared for each holder, flux by flux, is kept and shown on the holder's file."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from lxml import etree

from candidates.services_withdrawals import withdrawal_record
from certif.guards import FrozenRowError
from certif.models import AuditEvent
from declarations import services as declarations
from declarations import services_receipts as receipts
from declarations.models import CorrectionKind, HolderDeclaration, HolderDeclarationCorrection
from juries import services as juries
from juries.models import Decision
from tests.declarations.test_declarations import (  # noqa: F401
    NS,
    XSD,
    award_for,
    declare_url,
    holder,
    passage_of,
    post_declaration,
    text,
)
from tests.factories import decide_all, evaluated_cohort, make_jury, present_all


@pytest.fixture
def schema():
    return etree.XMLSchema(etree.parse(str(XSD)))


def accept_all(declaration, actor):
    numbers = list(declaration.lines.values_list("award__number", flat=True))
    return receipts.receipt_record(
        declaration=declaration,
        report=receipts.report_build(flux_id=declaration.flux_id, accepted=numbers),
        actor=actor,
    )


def withdraw(award, actor, *, on=datetime.date(2026, 9, 15)):
    return withdrawal_record(
        candidate=award.candidate,
        certification=award.certification,
        withdraw_award=True,
        acquired_block_ids=[],
        reference="Décision DG 2026-17",
        decided_on=on,
        reason="Fraude établie à l'examen du dossier.",
        actor=actor,
    )


def test_a_withdrawn_certificate_is_flagged_and_declared_again_ended(
    staff_client,
    staff_user,
    certification,
    declarant,  # noqa: F811
    schema,
):
    award = holder(staff_user, certification, birth_name="Retiré")
    never = holder(staff_user, certification, birth_name="Jamais")
    first = declarations.holder_declaration_create(certification=certification, award_ids=[award.pk], actor=staff_user)
    accept_all(first, staff_user)

    withdraw(award, staff_user)
    withdraw(never, staff_user)  # never declared: nothing to correct, never declared as valid
    correction = HolderDeclarationCorrection.objects.get()
    assert (correction.award, correction.kind, correction.after_line) == (
        award,
        CorrectionKind.WITHDRAWN,
        first.lines.get(),
    )
    assert "Décision DG 2026-17" in correction.description
    assert AuditEvent.objects.get(action="cdc.correction_flagged").after["certificate"] == award.number

    page = staff_client.get(declare_url(certification))
    assert [row.award for row in page.context["again_rows"]] == [award]
    assert [row.award for row in page.context["withdrawn_rows"]] == [never]
    content = page.content.decode()
    assert "À corriger" in content and "Fraude établie" in content
    assert f'name="awards" value="{award.pk}" id="award-{award.pk}" checked' in content

    assert post_declaration(staff_client, certification, awards=[award.pk]).status_code == 302
    second = HolderDeclaration.objects.latest("pk")
    document = etree.fromstring(bytes(second.xml))
    schema.assertValid(document)
    passage = passage_of(document, award.number)
    assert text(passage, "cpf:dateFinValidite") == "2026-09-15"
    assert second.lines.get().sent["dateFinValidite"] == "2026-09-15"

    # carried: no longer to correct, listed as withdrawn with its withdrawal declared
    page = staff_client.get(declare_url(certification))
    assert page.context["again_rows"] == []
    assert {row.award for row in page.context["withdrawn_rows"]} == {award, never}
    assert "retrait déclaré (fin de validité 15/09/2026)" in page.content.decode()
    with pytest.raises(declarations.ValidationError, match="Certificat\\(s\\) retiré\\(s\\)"):
        declarations.holder_declaration_create(
            certification=certification, award_ids=[], resend_ids=[award.pk], actor=staff_user
        )


@pytest.fixture
def rectifiable(staff_user, trainer_user, president_user, certification, declarant):  # noqa: F811
    """A signed session whose second candidate failed block 1; that candidate holds a declared certificate."""
    _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=2, codes={1: ["A", "D"], 2: "A"})
    session = make_jury(staff_user, president_user)
    presentations = present_all(session, enrolments, staff_user)
    decide_all(session, president_user)
    juries.jury_session_sign_off(session=session, signed_by=president_user)
    candidate = enrolments[1].candidate
    award = award_for(candidate, certification, number="MPES-2026-R001")
    declaration = declarations.holder_declaration_create(
        certification=certification, award_ids=[award.pk], actor=staff_user
    )
    decision = Decision.objects.get(presentation=presentations[1], block__number=1)
    return award, declaration, decision


def test_a_rectified_certificate_is_flagged_and_carried_by_the_next_flux(
    staff_client, staff_user, president_user, certification, rectifiable, schema
):
    award, declaration, decision = rectifiable
    accept_all(declaration, staff_user)
    juries.decision_rectify(
        decision=decision, outcome="validated", reason="Erreur de report d'un niveau.", signed_by=president_user
    )
    correction = HolderDeclarationCorrection.objects.get()
    assert correction.kind == CorrectionKind.RECTIFIED
    assert "bloc 1" in correction.description and "Erreur de report" in correction.description

    page = staff_client.get(declare_url(certification))
    assert [row.award for row in page.context["again_rows"]] == [award]
    candidate_page = staff_client.get(reverse("candidates:detail", kwargs={"pk": award.candidate.pk}))
    assert "à corriger" in candidate_page.content.decode()

    assert post_declaration(staff_client, certification, awards=[award.pk]).status_code == 302
    second = HolderDeclaration.objects.latest("pk")
    schema.assertValid(etree.fromstring(bytes(second.xml)))
    assert second.lines.get().is_resend
    assert staff_client.get(declare_url(certification)).context["again_rows"] == []
    assert (
        "à corriger"
        not in staff_client.get(reverse("candidates:detail", kwargs={"pk": award.candidate.pk})).content.decode()
    )


# — The history on the holder's file —


def _history_world(staff_user, certification, award, fluxes):
    for index in range(fluxes):
        declaration = declarations.holder_declaration_create(
            certification=certification,
            award_ids=[award.pk] if index == 0 else [],
            resend_ids=[award.pk] if index else [],
            actor=staff_user,
        )
        receipts.receipt_record(
            declaration=declaration,
            report=receipts.report_build(
                flux_id=declaration.flux_id, rejected={award.number: f"Motif du rejet n° {index + 1}"}
            ),
            actor=staff_user,
        )


def _candidate_page(client, award):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("candidates:detail", kwargs={"pk": award.candidate.pk}))
    assert response.status_code == 200
    return response, len(queries)


def test_the_history_is_shown_on_the_candidate_page_in_a_bounded_number_of_queries(
    staff_client,
    staff_user,
    certification,
    declarant,  # noqa: F811
):
    award = holder(staff_user, certification, birth_name="Historique", first_name="Inès")
    _history_world(staff_user, certification, award, 1)
    withdraw(award, staff_user)
    response, small = _candidate_page(staff_client, award)
    content = response.content.decode()
    declaration = HolderDeclaration.objects.get()
    assert "Déclarations à la Caisse des Dépôts" in content
    assert declaration.flux_id in content and "Motif du rejet n° 1" in content
    assert "Historique Inès" in content and "valide du 30/06/2026" in content  # the data sent
    assert "à corriger" in content

    other = holder(staff_user, certification, birth_name="Longue", first_name="Histoire")
    _history_world(staff_user, certification, other, 5)
    withdraw(other, staff_user)
    response, large = _candidate_page(staff_client, other)
    content = response.content.decode()
    assert all(line.declaration.flux_id in content for line in other.declaration_lines.select_related("declaration"))
    assert other.declaration_lines.count() == 5
    assert "Motif du rejet n° 5" in content and "à corriger" in content
    assert large == small


@pytest.mark.parametrize("role_client", ["trainer_client", "president_client"])
def test_the_history_is_for_staff_only(
    request,
    role_client,
    staff_user,
    certification,
    declarant,  # noqa: F811
):
    award = holder(staff_user, certification)
    _history_world(staff_user, certification, award, 1)
    client = request.getfixturevalue(role_client)
    response = client.get(reverse("candidates:detail", kwargs={"pk": award.candidate.pk}))
    assert "Déclarations à la Caisse des Dépôts" not in response.content.decode()


# — Database guards —


def test_a_correction_is_written_once(
    staff_user,
    certification,
    declarant,  # noqa: F811
):
    from tests.test_database_guards import REFUSED, attempt, orm_guard_alone

    award = holder(staff_user, certification)
    declarations.holder_declaration_create(certification=certification, award_ids=[award.pk], actor=staff_user)
    withdraw(award, staff_user)
    correction = HolderDeclarationCorrection.objects.get()
    with orm_guard_alone():
        doors = {
            "update": lambda: HolderDeclarationCorrection.objects.filter(pk=correction.pk).update(description="x"),
            "save": lambda: HolderDeclarationCorrection.objects.get(pk=correction.pk).save(),
            "delete": lambda: HolderDeclarationCorrection.objects.get(pk=correction.pk).delete(),
        }
        assert {name: attempt(door) for name, door in doors.items()} == dict.fromkeys(doors, REFUSED)
    with orm_guard_alone(), pytest.raises(FrozenRowError, match="signalement de correction"):
        HolderDeclarationCorrection.objects.filter(pk=correction.pk).delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Triggers exist on PostgreSQL only.")
@pytest.mark.django_db(transaction=True)
def test_raw_sql_cannot_touch_a_correction(staff_user, certification):
    from tests.test_database_guards import REFUSED, run_sql, second_connection

    declarations.declarant_settings_save(
        certification=certification,
        sender_id_client="IRUP0042",
        certifier_id_client="IRUP0042",
        contract_id="MCFCER000123",
        actor=staff_user,
    )
    award = holder(staff_user, certification)
    declarations.holder_declaration_create(certification=certification, award_ids=[award.pk], actor=staff_user)
    withdraw(award, staff_user)
    correction = HolderDeclarationCorrection.objects.get()
    statements = [
        ("UPDATE declarations_holderdeclarationcorrection SET description = 'x' WHERE id = %s", (correction.pk,)),
        ("DELETE FROM declarations_holderdeclarationcorrection WHERE id = %s", (correction.pk,)),
    ]
    with second_connection() as psql, psql.cursor() as cursor:
        results = [run_sql(cursor, sql, params) for sql, params in statements]
    assert [result[0] for result in results] == [REFUSED, REFUSED]
    assert results[0][1].startswith("Un signalement de correction à déclarer est conservé")
