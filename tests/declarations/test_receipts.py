"""The processing report (« accusé de traitement ») the Caisse des Dépôts returns for a flux: each holder accepted
or rejected with the CDC's reason; rejected holders proposed again; bad or foreign reports change nothing."""

import shutil

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from lxml import etree

from certif.guards import FrozenRowError
from certif.models import AuditEvent
from declarations import services as declarations
from declarations import services_receipts as receipts
from declarations.models import (
    HolderDeclaration,
    HolderDeclarationLine,
    HolderDeclarationOutcome,
    HolderDeclarationReceipt,
)
from tests.declarations.test_declarations import XSD, declare_url, holder, post_declaration
from tests.factories import make_cohort

NO_MATCH = "Aucun titulaire ne correspond aux critères obligatoires"


@pytest.fixture
def flux(staff_user, certification, declarant):  # noqa: F811
    cohort = make_cohort(staff_user)
    awards = [holder(staff_user, certification, cohort=cohort, birth_name=name) for name in ("Abel", "Brun", "Colin")]
    declaration = declarations.holder_declaration_create(
        certification=certification, award_ids=[a.pk for a in awards], actor=staff_user
    )
    return declaration, awards


def upload(client, declaration, content: bytes, name="accuse.xml"):
    return client.post(
        reverse("declarations:receipt", kwargs={"pk": declaration.pk}),
        {"report": SimpleUploadedFile(name, content, content_type="application/xml")},
    )


def state():
    return (
        HolderDeclarationReceipt.objects.count(),
        HolderDeclarationOutcome.objects.count(),
        AuditEvent.objects.filter(action="cdc.receipt_recorded").count(),
    )


def test_a_report_accepts_some_and_rejects_one_which_is_proposed_again(staff_client, staff_user, certification, flux):
    declaration, (abel, brun, colin) = flux
    report = receipts.report_build(
        flux_id=declaration.flux_id, accepted=[abel.number, colin.number], rejected={brun.number: NO_MATCH}
    )
    response = upload(staff_client, declaration, report)
    assert response.status_code == 302
    receipt = HolderDeclarationReceipt.objects.get(declaration=declaration)
    assert bytes(receipt.report) == report
    outcomes = {o.line.award.number: (o.accepted, o.reason) for o in receipt.outcomes.select_related("line__award")}
    assert outcomes == {abel.number: (True, ""), colin.number: (True, ""), brun.number: (False, NO_MATCH)}
    event = AuditEvent.objects.get(action="cdc.receipt_recorded")
    assert event.after["accepted"] == sorted([abel.number, colin.number])
    assert event.after["rejected"] == [f"{brun.number} : {NO_MATCH}"]

    detail = staff_client.get(reverse("declarations:detail", kwargs={"pk": declaration.pk}))
    content = detail.content.decode()
    assert "2 acceptés, 1 rejeté" in content
    assert NO_MATCH in content
    assert reverse("candidates:edit", kwargs={"pk": brun.candidate.pk}) in content
    assert "Enregistrer l&#x27;accusé" not in content  # one report per flux

    page = staff_client.get(declare_url(certification))
    assert [row.award for row in page.context["again_rows"]] == [brun]
    assert {row.award for row in page.context["declared_rows"]} == {abel, colin}
    content = page.content.decode()
    assert "Rejeté par la Caisse des Dépôts" in content and NO_MATCH in content
    assert f'name="awards" value="{brun.pk}" id="award-{brun.pk}" checked' in content
    assert reverse("candidates:edit", kwargs={"pk": brun.candidate.pk}) in content

    # the next flux carries the rejected holder again, by default
    response = post_declaration(staff_client, certification, awards=[brun.pk])
    assert response.status_code == 302
    again = HolderDeclaration.objects.latest("pk")
    line = again.lines.get()
    assert (line.award, line.is_resend) == (brun, True)
    assert line.sent["idTechnique"] == brun.number and line.sent["nomNaissance"] == "Brun"
    page = staff_client.get(declare_url(certification))
    assert page.context["again_rows"] == []
    assert brun in {row.award for row in page.context["declared_rows"]}

    history = staff_client.get(declare_url(certification, "declarations:history"))
    assert "1 rejeté" in history.content.decode()


def test_a_report_without_idflux_is_matched_by_its_holders(staff_user, flux):
    declaration, (abel, brun, colin) = flux
    report = receipts.report_build(
        flux_id=None, file_name="autre-nom.xml", accepted=[abel.number, brun.number, colin.number]
    )
    receipt = receipts.receipt_record(declaration=declaration, report=report, actor=staff_user)
    assert receipt.outcomes.filter(accepted=True).count() == 3


def test_already_held_counts_as_accepted_and_the_whole_file_refused_rejects_every_line(staff_user, flux):
    declaration, (abel, brun, colin) = flux
    held = "Le passage certification avec le bcr émetteur 03VML243 et l'id technique partenaire 1 existe déjà en base"
    report = receipts.report_build(
        flux_id=declaration.flux_id, accepted=[abel.number, colin.number], rejected={brun.number: held}
    )
    receipt = receipts.receipt_record(declaration=declaration, report=report, actor=staff_user)
    assert receipt.outcomes.get(line__award=brun).accepted is True

    second = declarations.holder_declaration_create(
        certification=declaration.certification, award_ids=[], resend_ids=[abel.pk], actor=staff_user
    )
    refused = (
        f'<?xml version="1.0" encoding="UTF-8"?><rapport xmlns:ns2="urn:cdc:cpf:pc5:rapport:schema">'
        f"<nomFichier>{second.flux_id}.xml</nomFichier><idTraitement>68548</idTraitement><erreurs><erreur>"
        "<type>XSD</type><message>Contenu invalide</message><ligne>1</ligne><colonne>18</colonne></erreur></erreurs>"
        "</rapport>"
    ).encode()
    receipt = receipts.receipt_record(declaration=second, report=refused, actor=staff_user)
    outcome = receipt.outcomes.get()
    assert outcome.accepted is False
    assert outcome.reason == "Fichier refusé par la Caisse des Dépôts (XSD), ligne 1, colonne 18 : Contenu invalide"


BAD_REPORTS = {
    "pas du XML": (lambda d, a: b"%PDF-1.7 pas un accuse", "n'est pas un accusé de traitement"),
    "mauvaise racine": (lambda d, a: b"<flux><idFlux>x</idFlux></flux>", "n'est pas un accusé de traitement"),
    "idFlux inconnu": (
        lambda d, a: receipts.report_build(flux_id="PIX-2023-0001", accepted=[a[0].number]),
        "concerne un flux inconnu",
    ),
    "titulaire inconnu": (
        lambda d, a: receipts.report_build(flux_id=None, accepted=[a[0].number, "PIX-1979262"]),
        "titulaires inconnus de cette certification : PIX-1979262",
    ),
    "titulaire inconnu avec idFlux": (
        lambda d, a: receipts.report_build(flux_id=d.flux_id, rejected={"PIX-1979262": NO_MATCH}),
        "titulaires inconnus",
    ),
    "contradictoire": (
        lambda d, a: receipts.report_build(flux_id=d.flux_id, accepted=[a[0].number], rejected={a[0].number: "x"}),
        "à la fois accepté et rejeté",
    ),
    "vide": (lambda d, a: receipts.report_build(flux_id=d.flux_id), "ne nomme aucun titulaire"),
    "entités": (
        lambda d, a: (
            b'<?xml version="1.0"?><!DOCTYPE rapport [<!ENTITY e "MPES">]><rapport><PassagesOK>'
            b"<idTechnique>&e;</idTechnique></PassagesOK></rapport>"
        ),
        "DOCTYPE",
    ),
    "trop gros": (lambda d, a: b"<rapport>" + b" " * receipts.MAX_REPORT_BYTES + b"</rapport>", "trop volumineux"),
}


@pytest.mark.parametrize("case", BAD_REPORTS)
def test_a_bad_or_foreign_report_is_refused_and_changes_nothing(case, staff_client, flux):
    declaration, awards = flux
    build, message = BAD_REPORTS[case]
    before = state()
    response = upload(staff_client, declaration, build(declaration, awards))
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert state() == before == (0, 0, 0)


def test_a_report_of_another_flux_and_a_second_report_are_refused(staff_client, staff_user, certification, flux):
    declaration, (abel, brun, colin) = flux
    other = declarations.holder_declaration_create(
        certification=certification, award_ids=[], resend_ids=[abel.pk], actor=staff_user
    )
    response = upload(staff_client, declaration, receipts.report_build(flux_id=other.flux_id, accepted=[abel.number]))
    assert response.status_code == 400
    assert f"concerne le flux {other.flux_id}, pas le flux {declaration.flux_id}" in response.content.decode()
    assert state() == (0, 0, 0)

    report = receipts.report_build(flux_id=declaration.flux_id, accepted=[abel.number, brun.number, colin.number])
    assert upload(staff_client, declaration, report).status_code == 302
    before = state()
    response = staff_client.post(
        reverse("declarations:receipt", kwargs={"pk": declaration.pk}),
        {"report": SimpleUploadedFile("accuse.xml", report)},
    )
    assert response.status_code == 400
    assert "est déjà enregistré" in response.content.decode()
    assert state() == before == (1, 3, 1)


def test_the_report_of_a_holder_only_in_another_flux_is_refused(staff_user, certification, flux):
    declaration, (abel, _brun, _colin) = flux
    late = holder(staff_user, certification, birth_name="Dupré")
    other = declarations.holder_declaration_create(certification=certification, award_ids=[late.pk], actor=staff_user)
    with pytest.raises(receipts.ValidationError, match=f"ne figurent pas dans le flux {declaration.flux_id}"):
        receipts.receipt_record(
            declaration=declaration,
            report=receipts.report_build(flux_id=None, accepted=[abel.number, late.number]),
            actor=staff_user,
        )
    assert not HolderDeclarationReceipt.objects.exists() and other.pk


# — Access —


@pytest.mark.parametrize("role_client", ["trainer_client", "president_client"])
def test_trainers_and_presidents_cannot_record_a_report(request, role_client, flux):
    declaration, awards = flux
    client = request.getfixturevalue(role_client)
    report = receipts.report_build(flux_id=declaration.flux_id, accepted=[a.number for a in awards])
    assert upload(client, declaration, report).status_code == 403
    assert state() == (0, 0, 0)


def test_anonymous_is_sent_to_login(client, flux):
    declaration, awards = flux
    response = upload(
        client, declaration, receipts.report_build(flux_id=declaration.flux_id, accepted=[awards[0].number])
    )
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert state() == (0, 0, 0)


# — Schema versions as data —


def test_each_flux_records_and_shows_the_schema_that_validated_it(staff_client, staff_user, certification, flux):
    declaration, _ = flux
    schema = declarations.schema_in_use()
    assert (declaration.schema_name, declaration.schema_version) == ("cpf-1.1.2.xsd", "1.1.2")
    assert declaration.schema_sha256 == schema.sha256
    content = staff_client.get(reverse("declarations:detail", kwargs={"pk": declaration.pk})).content.decode()
    assert "cpf-1.1.2.xsd (version 1.1.2)" in content and schema.sha256 in content


def test_a_replaced_xsd_is_used_and_a_flux_it_refuses_is_not_written(
    staff_client,
    staff_user,
    certification,
    declarant,  # noqa: F811
    settings,
    tmp_path,
):
    award = holder(staff_user, certification)
    tighter = tmp_path / "cpf-9.9.9.xsd"
    text = XSD.read_text()
    id_flux_rule = '<xsd:element name="idFlux"><xsd:simpleType><xsd:restriction base="xsd:string"><xsd:minLength value="1"/><xsd:maxLength value="50"/>'  # noqa: E501
    assert text.count(id_flux_rule) == 1
    text = text.replace(id_flux_rule, id_flux_rule.replace('maxLength value="50"', 'maxLength value="10"'))
    tighter.write_text(text.replace('version="1.1.2"', 'version="9.9.9"', 1))
    settings.CDC_XSD_PATH = str(tighter)
    response = post_declaration(staff_client, certification, awards=[award.pk])
    assert response.status_code == 500
    assert any("idFlux" in error and "length" in error for error in response.context["errors"])
    assert not HolderDeclaration.objects.exists() and not HolderDeclarationLine.objects.exists()
    assert not AuditEvent.objects.filter(action="cdc.holders_declared").exists()

    relaxed = tmp_path / "cpf-kit.xsd"
    shutil.copy(XSD, relaxed)
    relaxed.write_text(XSD.read_text().replace('version="1.1.2"', 'version="1.2.0"', 1))
    settings.CDC_XSD_PATH = str(relaxed)
    assert post_declaration(staff_client, certification, awards=[award.pk]).status_code == 302
    declaration = HolderDeclaration.objects.get()
    assert (declaration.schema_name, declaration.schema_version) == ("cpf-kit.xsd", "1.2.0")
    etree.XMLSchema(etree.parse(str(relaxed))).assertValid(etree.fromstring(bytes(declaration.xml)))
    history = staff_client.get(declare_url(certification, "declarations:history")).content.decode()
    assert "cpf-kit.xsd (1.2.0)" in history


# — Database guards: a report and its answers are written once —


def test_a_recorded_report_is_refused_through_the_orm(staff_user, flux):
    from tests.test_database_guards import REFUSED, attempt, orm_guard_alone

    declaration, awards = flux
    receipt = receipts.receipt_record(
        declaration=declaration,
        report=receipts.report_build(flux_id=declaration.flux_id, accepted=[a.number for a in awards]),
        actor=staff_user,
    )
    outcome = receipt.outcomes.first()
    with orm_guard_alone():
        doors = {
            "receipt update": lambda: HolderDeclarationReceipt.objects.filter(pk=receipt.pk).update(report=b"<x/>"),
            "receipt save": lambda: HolderDeclarationReceipt.objects.get(pk=receipt.pk).save(),
            "receipt delete": lambda: HolderDeclarationReceipt.objects.get(pk=receipt.pk).delete(),
            "outcome update": lambda: HolderDeclarationOutcome.objects.filter(pk=outcome.pk).update(accepted=False),
            "outcome delete": lambda: HolderDeclarationOutcome.objects.filter(pk=outcome.pk).delete(),
        }
        assert {name: attempt(door) for name, door in doors.items()} == dict.fromkeys(doors, REFUSED)
    with orm_guard_alone(), pytest.raises(FrozenRowError, match="accusé de traitement"):
        HolderDeclarationOutcome.objects.filter(pk=outcome.pk).update(reason="x")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Triggers exist on PostgreSQL only.")
@pytest.mark.django_db(transaction=True)
def test_raw_sql_cannot_touch_a_recorded_report(staff_user, certification):
    from tests.test_database_guards import REFUSED, run_sql, second_connection

    declarations.declarant_settings_save(
        certification=certification,
        sender_id_client="IRUP0042",
        certifier_id_client="IRUP0042",
        contract_id="MCFCER000123",
        actor=staff_user,
    )
    award = holder(staff_user, certification)
    declaration = declarations.holder_declaration_create(
        certification=certification, award_ids=[award.pk], actor=staff_user
    )
    receipt = receipts.receipt_record(
        declaration=declaration,
        report=receipts.report_build(flux_id=declaration.flux_id, rejected={award.number: NO_MATCH}),
        actor=staff_user,
    )
    outcome = receipt.outcomes.get()
    statements = [
        ("UPDATE declarations_holderdeclarationreceipt SET report = 'x' WHERE id = %s", (receipt.pk,)),
        ("DELETE FROM declarations_holderdeclarationreceipt WHERE id = %s", (receipt.pk,)),
        ("UPDATE declarations_holderdeclarationoutcome SET accepted = true WHERE id = %s", (outcome.pk,)),
        ("DELETE FROM declarations_holderdeclarationoutcome WHERE id = %s", (outcome.pk,)),
    ]
    with second_connection() as psql, psql.cursor() as cursor:
        results = [run_sql(cursor, sql, params) for sql, params in statements]
    assert [result[0] for result in results] == [REFUSED] * len(statements)
    assert results[0][1].startswith("Un accusé de traitement de la Caisse des Dépôts est conservé")


def test_the_flux_page_query_count_does_not_grow_with_its_holders(staff_client, staff_user, certification, declarant):  # noqa: F811
    from django.test.utils import CaptureQueriesContext

    def flux_page_queries(count):
        cohort = make_cohort(staff_user)
        awards = [holder(staff_user, certification, cohort=cohort) for _ in range(count)]
        declaration = declarations.holder_declaration_create(
            certification=certification, award_ids=[a.pk for a in awards], actor=staff_user
        )
        receipts.receipt_record(
            declaration=declaration,
            report=receipts.report_build(
                flux_id=declaration.flux_id,
                accepted=[a.number for a in awards[1:]],
                rejected={awards[0].number: NO_MATCH},
            ),
            actor=staff_user,
        )
        with CaptureQueriesContext(connection) as queries:
            response = staff_client.get(reverse("declarations:detail", kwargs={"pk": declaration.pk}))
        assert response.status_code == 200 and NO_MATCH in response.content.decode()
        return len(queries)

    assert flux_page_queries(2) == flux_page_queries(9)
