"""`manage.py verify_integrity` and the jury session page tell whether what is stored still says what was signed.

The data is corrupted the way only someone going around every guard could: raw SQL, with the PostgreSQL triggers
disabled for that statement (`pgtrigger.ignore`) — on SQLite, raw SQL is enough.
"""

import contextlib
import hashlib
import io

import pgtrigger
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from config.integrity import integrity_report
from documents import services as documents
from documents.models import DocumentKind
from juries.models import Decision
from juries.selectors import decisions_fingerprint
from tests.signed_world import signed_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(staff_user, trainer_user, president_user):
    return signed_world(staff_user, trainer_user, president_user)


def tamper(sql, params, *triggers):
    """Write around the guards: raw SQL, and on PostgreSQL the named triggers switched off for it."""
    ignoring = pgtrigger.ignore(*triggers) if connection.vendor == "postgresql" else contextlib.nullcontext()
    with ignoring, connection.cursor() as cursor:
        cursor.execute(sql, params)


def verify() -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("verify_integrity", stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def session_page(client, world) -> str:
    response = client.get(reverse("juries:detail", args=[world.session.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_an_intact_database_is_reported_intact(world, staff_client):
    output, error = verify()
    assert error is None, output
    assert "Vérification de l'intégrité : 1 session de jury signée, 2 documents émis, 1 déclaration" in output
    assert "OK  Jury du 14 juin 2022 (IRUP, Saint-Étienne — salle signée) : empreinte des décisions vérifiée" in output
    assert "Aucune anomalie" in output

    html = session_page(staff_client, world)
    assert "Empreinte des décisions vérifiée" in html
    assert "à celle imprimée sur le procès-verbal" in html
    assert "la rectification est conforme à sa trace d&#x27;audit" in html
    assert "<strong>Documents vérifiés</strong> : les 2 documents conservés sont identiques" in html
    assert "ne correspond plus" not in html


def test_a_decision_changed_after_the_signature_is_reported_by_the_command_and_the_page(world, president_client):
    tamper(
        "UPDATE juries_decision SET outcome = 'not_validated' WHERE id = %s",
        [world.decision.pk],
        "juries.Decision:frozen_parent",
    )
    output, error = verify()
    assert error is not None and error.returncode == 1
    assert "1 anomalie trouvée" in str(error)
    assert (
        "ÉCART  Jury du 14 juin 2022 (IRUP, Saint-Étienne — salle signée) : l'empreinte des décisions recalculée"
        in output
    )
    assert "ne correspond pas à celle enregistrée à la signature" in output

    html = session_page(president_client, world)
    assert "Empreinte des décisions non vérifiée" in html
    assert "L&#x27;empreinte des décisions recalculée" in html
    assert "Ce qui est conservé ne correspond plus à ce qui a été signé" in html
    assert "Documents vérifiés" in html  # the documents themselves are intact


def test_a_rewritten_fingerprint_is_caught_by_the_audit_trace_and_the_minutes(world, staff_client):
    """Someone changes a decision and stores the matching fingerprint: the sign-off's audit trace and the minutes
    still say what was signed."""
    tamper(
        "UPDATE juries_decision SET outcome = 'not_validated' WHERE id = %s",
        [world.decision.pk],
        "juries.Decision:frozen_parent",
    )
    session = type(world.session).objects.select_related("certification").get(pk=world.session.pk)
    decisions = list(
        Decision.objects.filter(presentation__session=session).select_related(
            "block", "block_evaluation__grid", "block_evaluation__scale", "presentation__enrolment"
        )
    )
    tamper(
        "UPDATE juries_jurysession SET decisions_fingerprint = %s WHERE id = %s",
        [decisions_fingerprint(session, decisions), session.pk],
        "juries.JurySession:frozen_rows",
    )
    report = integrity_report()
    (item,) = report.sessions
    assert len(item.fingerprint_problems) == 2, item.fingerprint_problems
    assert "la trace d'audit de la signature" in item.fingerprint_problems[0]
    assert "n'imprime pas l'empreinte enregistrée à la signature" in item.fingerprint_problems[1]
    output, error = verify()
    assert error is not None and "2 anomalies trouvées" in str(error)
    assert "Empreinte des décisions non vérifiée" in session_page(staff_client, world)


def test_a_stored_pdf_whose_bytes_changed_is_reported(world, staff_client):
    tamper(
        "UPDATE juries_issueddocument SET pdf = %s WHERE id = %s",
        [b"%PDF-1.7 faux", world.results.pk],
        "documents.IssuedDocument:issued_document",
    )
    output, error = verify()
    assert error is not None
    assert f"le document « {world.results.title} » (code {world.results.grouped_code}) ne correspond plus" in output
    assert f"recalculée {hashlib.sha256(b'%PDF-1.7 faux').hexdigest()[:12]}…" in output

    html = session_page(staff_client, world)
    assert "Documents non vérifiés" in html
    assert world.results.grouped_code in html
    assert "Empreinte des décisions vérifiée" in html


def test_a_rectification_rewritten_after_its_signature_is_reported(world):
    tamper(
        "UPDATE juries_rectification SET reason = 'Autre motif' WHERE id = %s",
        [world.rectification.pk],
        "juries.Rectification:write_once",
    )
    output, error = verify()
    assert error is not None
    assert "la rectification du bloc 2 de " in output
    assert "ne dit plus ce qui a été signé" in output


def test_a_holder_declaration_whose_flux_changed_is_reported(world):
    tamper(
        "UPDATE certif_holderdeclaration SET xml = %s WHERE id = %s",
        [b"<flux/>", world.declaration.pk],
        "declarations.HolderDeclaration:write_once",
    )
    output, error = verify()
    assert error is not None
    assert (
        f"Déclaration à la Caisse des Dépôts « {world.declaration.flux_id} » : le fichier XML ne correspond plus"
        in output
    )


def test_the_check_does_not_grow_with_the_documents(world, staff_user, django_assert_num_queries):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert integrity_report().documents_checked == 2
    for enrolment in world.enrolments[1:]:
        documents.document_issue(
            session=world.session, kind=DocumentKind.RESULTS, candidate=enrolment.candidate, actor=staff_user
        )
    with django_assert_num_queries(len(queries)):
        report = integrity_report()
    assert report.ok and report.documents_checked == 4 and report.declarations_checked == 1
