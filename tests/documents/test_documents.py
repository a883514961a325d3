"""Documents (minutes, results statements, attestations, certificates) as PDF/A, verifiable by anyone.

Every PDF is read back with pypdf: its text, page count, metadata, PDF/A claims and embedded fonts.
"""

import datetime
import hashlib
import io
import re
import signal
import socket
import subprocess
import zipfile
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pypdf import PdfReader

from candidates.models import CertificationAward
from candidates.services import acquired_block_import
from certif import worker
from certif.models import AuditEvent, Certification
from certif.roles import Role
from documents import services as documents
from documents.content import (
    CODE_LENGTH,
    CROCKFORD,
    SessionData,
    find_slot,
    french_date,
    group_code,
    new_verification_code,
    normalize_code,
    prepare,
    session_slots,
)
from documents.models import BatchStatus, DocumentBatch, DocumentKind, DocumentStatus, IssuedDocument
from documents.pdf import PDFA_CONFORMANCE, PDFA_PART
from juries import services
from juries.models import Decision, JuryMember
from tests.conftest import make_user
from tests.factories import decide_all, evaluated_cohort, make_jury, present_all

pytestmark = pytest.mark.django_db

PASSWORD = "mot-de-passe-de-test"
OVERRIDE_REASON = "Plan de financement présenté et argumenté devant le jury."
RECUSAL_REASON = "ancien collègue du candidat"
SUBSTITUTE = "Claire Vidal"  # a salaried professional, who sits for Marc Dumas on the candidate he stands aside from
A4 = (595, 842)


def signed_session(staff, trainer, president, *, count=3, name=None, numbers=(1, 2)):
    """A signed session of `count` candidates on blocks 1 and 2.

    First: validates both and holds blocks 3 and 4 from history → certificate. Second: fails block 1 on the grid,
    the jury validates it with a reason → attestation (blocks 1 and 2). Others: fail both → results only.
    """
    codes = {1: ["A", "D"] + ["D"] * (count - 2), 2: ["A", "A"] + ["D"] * (count - 2)}
    _, enrolments, _ = evaluated_cohort(staff, trainer, count=count, codes=codes, name=name)
    first, second = enrolments[0].candidate, enrolments[1].candidate
    from certif.models import Block

    for number in (3, 4):
        acquired_block_import(
            candidate=first,
            block=Block.objects.get(certification__rncp_code="16204", number=number),
            acquired_on=datetime.date(2021, 6, 17),
            import_source="Procès-verbal du jury du 17 juin 2021",
            actor=staff,
        )
    session = make_jury(staff, president, numbers=numbers, place=f"IRUP, Saint-Étienne — {name or 'salle 1'}")
    services.jury_member_save(
        member=JuryMember(
            session=session,
            name=SUBSTITUTE,
            organisation="Union régionale des Scop",
            category="employee_professional",
            is_substitute=True,
        ),
        actor=staff,
    )
    presentations = present_all(session, enrolments, staff)
    services.recusal_declare(
        member=JuryMember.objects.get(session=session, name="Marc Dumas"),
        presentation=presentations[-1],
        reason=RECUSAL_REASON,
        actor=staff,
    )
    override = Decision.objects.get(
        presentation__session=session, presentation__enrolment=enrolments[1], block__number=1
    )
    decide_all(session, president, overrides={override.pk: ("validated", OVERRIDE_REASON)})
    services.jury_session_sign_off(session=session, signed_by=president)
    session.refresh_from_db()
    return SimpleNamespace(
        session=session,
        enrolments=enrolments,
        first=first,
        second=second,
        third=enrolments[2].candidate if count > 2 else None,
        award=CertificationAward.objects.get(candidate=first),
    )


@pytest.fixture
def signed(staff_user, trainer_user, president_user):
    return signed_session(staff_user, trainer_user, president_user, name="MPES documents")


def issue(signed, kind, candidate=None, actor=None):
    return documents.document_issue(
        session=signed.session, kind=kind, candidate=candidate, actor=actor or signed.session.created_by
    )


def read(content: bytes):
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, text


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def xmp(reader) -> str:
    return reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()


def fonts_of(reader) -> list[tuple[str, bool]]:
    """(font name, embedded?) of every font of every page."""
    found = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptors = [d.get_object()["/FontDescriptor"].get_object() for d in font.get("/DescendantFonts", [])]
            if "/FontDescriptor" in font:
                descriptors.append(font["/FontDescriptor"].get_object())
            embedded = bool(descriptors) and all(
                any(key in d for key in ("/FontFile", "/FontFile2", "/FontFile3")) for d in descriptors
            )
            found.append((str(font["/BaseFont"]), embedded))
    return found


def assert_archival(document: IssuedDocument, *, pages=(1, 4)):
    reader, text = read(bytes(document.pdf))
    assert pages[0] <= len(reader.pages) <= pages[1]
    assert reader.metadata.title == document.title
    assert "IRUP" in reader.metadata.author
    metadata = xmp(reader)
    assert f'pdfaid:part="{PDFA_PART}"' in metadata and f'pdfaid:conformance="{PDFA_CONFORMANCE}"' in metadata
    assert document.title in metadata  # dc:title
    assert reader.trailer["/Root"]["/Lang"] == "fr"
    assert "/OutputIntents" in reader.trailer["/Root"]
    fonts = fonts_of(reader)
    assert fonts and all(embedded for _, embedded in fonts), fonts
    assert all("MPES-" in name for name, _ in fonts), "only the vendored DejaVu fonts, never a system font"
    box = reader.pages[0].mediabox
    assert sorted((round(box.width), round(box.height))) == sorted(A4)
    assert group_code(document.verification_code) in text
    assert f"/v/{group_code(document.verification_code)}/" in flat(text).replace(" ", "")
    assert hashlib.sha256(bytes(document.pdf)).hexdigest() == document.sha256
    return flat(text)


# — Verification codes —


class TestCodes:
    def test_codes_are_100_random_bits_in_crockford_base32(self):
        codes = {new_verification_code() for _ in range(200)}
        assert len(codes) == 200
        assert all(len(code) == CODE_LENGTH == 20 and set(code) <= set(CROCKFORD) for code in codes)
        assert len(CROCKFORD) ** CODE_LENGTH >= 2**100

    @pytest.mark.parametrize(
        ("typed", "expected"),
        [
            ("ABCDE-FGHJK-MNPQR-STVWX", "ABCDEFGHJKMNPQRSTVWX"),
            ("abcde fghjk mnpqr stvwx", "ABCDEFGHJKMNPQRSTVWX"),
            ("0O1IL-00000-11111-22222", "00111000001111122222"),
            ("ABCDE-FGHJK-MNPQR-STVWU", None),  # U is not in the alphabet
            ("ABCDE", None),
            ("", None),
            ("A" * 200, None),
            ("ABCDE-FGHJK-MNPQR-STVW!", None),
        ],
    )
    def test_typed_codes_are_read_leniently(self, typed, expected):
        assert normalize_code(typed) == expected


# — Each document, read back —


class TestDocumentsReadBack:
    def test_minutes(self, signed):
        document = issue(signed, DocumentKind.MINUTES)
        text = assert_archival(document)
        session = signed.session
        for expected in (
            "Procès-verbal de délibération du jury du 14 juin 2022",
            "Manager de proximité dans l'économie sociale et solidaire",
            "RNCP 16204",
            "Niveau 6 (nomenclature européenne",
            "par arrêté du 9 avril 2018 (Journal Officiel du 17 avril 2018)",
            session.place,
            "Hélène Garnier Fondation Les Hauts du Pilat Professionnel employeur Président du jury",
            "Marc Dumas Association Loire Insertion Professionnel salarié Membre",
            "Anne Roche IRUP Formateur Membre titulaire",
            f"{SUBSTITUTE} Union régionale des Scop Professionnel salarié Membre suppléant",
            f"Marc Dumas {signed.third.full_name} {RECUSAL_REASON} (déclaré par le membre) {SUBSTITUTE} (suppléant)",
            "Date du jury 14 juin 2022",
            f"Signature le {french_date(timezone.localdate(session.signed_at))} à "
            f"{timezone.localtime(session.signed_at):%H:%M}, par le président du jury",
            OVERRIDE_REASON,
            "3 candidats présentés ; 6 décisions, dont 4 blocs validés et 1 écart",
            f"{signed.first.first_name} {signed.first.birth_name.upper()} — certificat n° {signed.award.number}",
            "Délibération signée par le président du jury, Hélène Garnier, le",
        ):
            assert expected in text, expected
        for enrolment in signed.enrolments:
            assert enrolment.candidate.birth_name.upper() in text
        assert session.decisions_fingerprint in text.replace(" ", "")
        assert document.holder_name == "" and document.candidate is None and document.reference == ""

    def test_results_statement(self, signed):
        document = issue(signed, DocumentKind.RESULTS, signed.second)
        text = assert_archival(document)
        for expected in (
            "Relevé de résultats",
            f"{signed.second.first_name} {signed.second.birth_name.upper()}, née le 17 mai 1988 à Saint-Étienne",
            "RNCP16204BC01 — bloc 1",
            "RNCP16204BC02 — bloc 2",
            f"Décision du jury : Validé. Proposition de la grille : non validé. Motif de l'écart : {OVERRIDE_REASON}",
            "Règle du bloc : valider 75 % des compétences qui le constituent, soit 3 sur 4, au moins au niveau C",
            "un projet formalisé D",  # each competence with the level that led to the decision
            "0 compétence sur 4 au niveau requis ou mieux",
            "Blocs acquis à l'issue du jury",
        ):
            assert expected in text, expected
        assert document.holder_name.startswith(signed.second.first_name) and document.candidate == signed.second

    def test_attestation_of_acquired_blocks(self, signed):
        document = issue(signed, DocumentKind.ATTESTATION, signed.second)
        text = assert_archival(document, pages=(1, 1))
        for expected in (
            "Attestation de validation de blocs de compétences",
            "a validé les blocs de compétences suivants",
            "RNCP16204BC01 — bloc 1 : Organiser les moyens techniques",
            "RNCP16204BC02 — bloc 2",
            "14 juin 2022",
            f"jury du 14 juin 2022 ({signed.session.place})",
            "Les blocs de compétences acquis sont valables sans limite de durée",
            "RNCP16204BC03 (bloc 3), RNCP16204BC04 (bloc 4)",
            "présidé par Hélène Garnier",
        ):
            assert expected in text, expected

    def test_certificate(self, signed, settings):
        settings.SIGNATORY_NAME = "Jeanne Directrice"
        document = issue(signed, DocumentKind.CERTIFICATE, signed.first)
        text = assert_archival(document, pages=(1, 1))
        reader, _ = read(bytes(document.pdf))
        assert reader.pages[0].mediabox.width > reader.pages[0].mediabox.height  # a landscape parchment
        for expected in (
            "CERTIFICAT",
            f"{signed.first.first_name} {signed.first.birth_name.upper()}",
            "née le 17 mai 1988 à Saint-Étienne",
            "Manager de proximité dans l'économie sociale et solidaire",
            "enregistrée au RNCP sous le code RNCP16204 (MPES) — niveau 6",
            f"Certificat n° {signed.award.number}",
            "Fait à Saint-Étienne, le 14 juin 2022",
            "Le directeur général",
            "Jeanne Directrice",
            "Le président du jury",
            "Hélène Garnier",
            "par arrêté du 9 avril 2018",
        ):
            assert expected in text, expected
        assert document.reference == signed.award.number and document.award == signed.award

    def test_certificate_prints_its_verification_address_on_one_line(self, signed, settings):
        settings.PUBLIC_BASE_URL = "https://certification.irup-formation.fr"
        document = issue(signed, DocumentKind.CERTIFICATE, signed.first)
        reader, _ = read(bytes(document.pdf))
        lines = reader.pages[0].extract_text().splitlines()
        address = f"https://certification.irup-formation.fr/v/{document.grouped_code}/"
        assert address in lines, [line for line in lines if "irup-formation" in line]

    def test_only_the_documents_the_session_gives(self, signed):
        slots = session_slots(signed.session)
        assert [(slot.kind, slot.candidate) for slot in slots] == [
            (DocumentKind.MINUTES, None),
            *[
                pair
                for enrolment in signed.enrolments
                for pair in [(DocumentKind.RESULTS, enrolment.candidate)]
                + (
                    [(DocumentKind.CERTIFICATE, enrolment.candidate)]
                    if enrolment.candidate == signed.first
                    else [(DocumentKind.ATTESTATION, enrolment.candidate)]
                    if enrolment.candidate == signed.second
                    else []
                )
            ],
        ]
        with pytest.raises(ValidationError, match="Cette session ne donne pas ce document"):
            issue(signed, DocumentKind.CERTIFICATE, signed.second)
        with pytest.raises(ValidationError, match="ne donne pas ce document"):
            issue(signed, DocumentKind.ATTESTATION, signed.third)  # holds no block


# — Integrity —


class TestIntegrity:
    def test_stored_document_is_returned_unchanged(self, signed, staff_client):
        document = issue(signed, DocumentKind.CERTIFICATE, signed.first)
        url = reverse("documents:download", args=[document.pk])
        first, second = staff_client.get(url), staff_client.get(url)
        assert first.status_code == second.status_code == 200
        assert first["Content-Type"] == "application/pdf"
        assert first.content == second.content == bytes(document.pdf)
        assert hashlib.sha256(first.content).hexdigest() == document.sha256 == first["X-Document-SHA256"]
        assert first["Content-Disposition"].startswith('attachment; filename="certificat-')
        assert "no-store" in first["Cache-Control"]
        # Issuing again returns the same document: same bytes, same code, no second audit trace.
        again = issue(signed, DocumentKind.CERTIFICATE, signed.first)
        assert (again.pk, again.sha256, again.verification_code) == (
            document.pk,
            document.sha256,
            document.verification_code,
        )
        assert AuditEvent.objects.filter(action="document.issued").count() == 1

    def test_an_issued_document_cannot_be_changed_nor_deleted(self, signed):
        document = issue(signed, DocumentKind.RESULTS, signed.third)
        document.pdf = b"%PDF-forged"
        with pytest.raises(ValidationError, match="ne peut pas être modifié"):
            document.save()
        with pytest.raises(ValidationError, match="ne peut pas être supprimé"):
            document.delete()
        assert bytes(IssuedDocument.objects.get(pk=document.pk).pdf).startswith(b"%PDF-1.7")

    def test_issue_is_audited(self, signed, staff_user):
        document = issue(signed, DocumentKind.MINUTES, actor=staff_user)
        event = AuditEvent.objects.get(action="document.issued")
        assert event.actor == staff_user and event.target_id == str(document.pk)
        assert event.after["sha256"] == document.sha256 and event.after["kind"] == "minutes"

    def test_no_document_before_sign_off(self, staff_user, trainer_user, president_user, staff_client):
        _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=2, name="Non signée")
        session = make_jury(staff_user, president_user)
        present_all(session, enrolments, staff_user)
        with pytest.raises(ValidationError, match="n'est pas signée"):
            documents.document_issue(session=session, kind=DocumentKind.MINUTES, actor=staff_user)
        with pytest.raises(ValidationError, match="n'est pas signée"):
            documents.batch_request(session=session, actor=staff_user)
        html = staff_client.get(reverse("documents:session", args=[session.pk])).content.decode()
        assert "ne peuvent être émis qu&#x27;après la signature du président" in html
        assert "Produire tous les documents" not in html
        assert (
            "Documents de la session"
            not in staff_client.get(reverse("juries:detail", args=[session.pk])).content.decode()
        )
        assert not IssuedDocument.objects.exists()


# — Revocation and rectification —


class TestRevocationAndRectification:
    def test_staff_revoke_with_a_reason(self, signed, staff_client, staff_user):
        document = issue(signed, DocumentKind.CERTIFICATE, signed.first)
        url = reverse("documents:revoke", args=[document.pk])
        assert staff_client.post(url, {"reason": ""}).status_code == 400
        response = staff_client.post(url, {"reason": "Certificat émis par erreur (homonyme)."})
        assert response.status_code == 302
        document = IssuedDocument.objects.get(pk=document.pk)
        assert document.status == DocumentStatus.REVOKED and document.status_changed_by == staff_user
        event = AuditEvent.objects.get(action="document.revoked")
        assert event.after == {"status": "revoked", "reason": "Certificat émis par erreur (homonyme)."}
        with pytest.raises(ValidationError, match="n'est plus valide"):
            documents.document_revoke(document=document, reason="encore", actor=staff_user)
        # A new certificate can be issued; the revoked one keeps its bytes and stays downloadable by staff.
        new = issue(signed, DocumentKind.CERTIFICATE, signed.first)
        assert new.pk != document.pk and new.verification_code != document.verification_code
        assert staff_client.get(reverse("documents:download", args=[document.pk])).content == bytes(document.pdf)

    def test_only_staff_revoke(self, signed, president_user):
        document = issue(signed, DocumentKind.MINUTES)
        with pytest.raises(PermissionDenied):
            documents.document_revoke(document=document, reason="non", actor=president_user)

    def test_a_rectified_decision_marks_the_candidates_documents_rectified(self, signed, president_user, client):
        results = issue(signed, DocumentKind.RESULTS, signed.third)
        minutes = issue(signed, DocumentKind.MINUTES)
        decision = Decision.objects.get(
            presentation__session=signed.session, presentation__enrolment__candidate=signed.third, block__number=1
        )
        services.decision_rectify(
            decision=decision,
            outcome="validated",
            reason="Erreur de report de la grille : compétence C3 acquise.",
            signed_by=president_user,
        )
        results.refresh_from_db()
        minutes.refresh_from_db()
        assert results.status == DocumentStatus.RECTIFIED and "Erreur de report" in results.status_reason
        assert minutes.status == DocumentStatus.VALID  # the minutes record the deliberation as it was held
        assert AuditEvent.objects.filter(action="document.rectified", target_id=str(results.pk)).exists()

        page = client.get(reverse("verification:check", args=[group_code(results.verification_code)]))
        assert (
            "Document rectifié" in page.content.decode() and "une version corrigée sera émise" in page.content.decode()
        )

        corrected = issue(signed, DocumentKind.RESULTS, signed.third)
        results.refresh_from_db()
        assert results.superseded_by == corrected and corrected.status == DocumentStatus.VALID
        _, text = read(bytes(corrected.pdf))
        assert "Rectification signée le" in text and "Erreur de report de la grille" in flat(text)
        html = client.get(reverse("verification:check", args=[group_code(results.verification_code)])).content.decode()
        assert "une version corrigée a été émise" in html
        # The rectification gave block 1: the candidate now holds a block and is given an attestation.
        assert issue(signed, DocumentKind.ATTESTATION, signed.third).status == DocumentStatus.VALID

    def test_a_document_rendered_before_a_rectification_is_not_kept(self, signed, president_user, staff_user):
        slot = find_slot(signed.session, DocumentKind.RESULTS, signed.third.pk)
        prepared = prepare(SessionData(signed.session), slot)
        content = b"%PDF-1.7 rendered before the rectification"
        decision = Decision.objects.get(
            presentation__session=signed.session, presentation__enrolment__candidate=signed.third, block__number=2
        )
        services.decision_rectify(
            decision=decision,
            outcome="validated",
            reason="Erreur de saisie.",
            signed_by=president_user,
        )
        with pytest.raises(ValidationError, match="Une rectification vient d'être signée"):
            documents._store(prepared, content, actor=staff_user)
        assert not IssuedDocument.objects.exists()

    def test_two_requests_for_the_same_document_keep_one(self, signed, staff_user):
        """The second of two concurrent issues fails on the unique constraint and returns the first document."""
        slot = find_slot(signed.session, DocumentKind.MINUTES, None)
        data = SessionData(signed.session)
        first, second = prepare(data, slot), prepare(data, slot)
        kept, created = documents._store(first, b"%PDF-1.7 first", actor=staff_user)
        again, created_again = documents._store(second, b"%PDF-1.7 second", actor=staff_user)
        assert created and not created_again and again.pk == kept.pk
        assert IssuedDocument.objects.count() == 1 and bytes(IssuedDocument.objects.get().pdf) == b"%PDF-1.7 first"


# — The public verification page —


class TestVerificationPage:
    def test_valid_document(self, signed, client):
        document = issue(signed, DocumentKind.CERTIFICATE, signed.first)
        response = client.get(reverse("verification:check", args=[group_code(document.verification_code)]))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Document valide" in html
        for expected in (
            document.holder_name,
            "Manager de proximité dans l&#x27;économie sociale et solidaire (MPES) — RNCP 16204, niveau 6",
            "14 juin 2022",
            signed.award.number,
            "Certificat",
        ):
            assert expected in html, expected
        # Nothing beyond what the document states: no birth date nor place, no contact, no employer, no decisions.
        candidate = signed.first
        for absent in ("17 mai 1988", "1988", candidate.email, candidate.phone, candidate.employer_name, "42218"):
            assert absent not in html, absent
        assert response["Cache-Control"] == "no-store" and "noindex" in response["X-Robots-Tag"]
        assert response["Referrer-Policy"] == "no-referrer"

    def test_a_code_typed_by_hand(self, signed, client):
        document = issue(signed, DocumentKind.MINUTES)
        typed = document.verification_code.lower().replace("0", "o").replace("1", "i")
        response = client.get(reverse("verification:form"), {"code": typed})
        assert response.status_code == 200 and "Document valide" in response.content.decode()
        assert "Procès-verbal de délibération" in response.content.decode()
        assert "Numéro de certificat" not in response.content.decode()
        assert client.get(reverse("verification:check", args=[document.verification_code])).status_code == 200

    @pytest.mark.parametrize(
        "code", ["ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ", "abc", "ABCDE-FGHJK-MNPQR-STVWU", "%3Cscript%3E", "-" * 60]
    )
    def test_unknown_and_malformed_codes_answer_the_same_way(self, signed, client, code):
        issue(signed, DocumentKind.MINUTES)
        unknown = client.get(reverse("verification:check", args=["ZZZZZ-ZZZZZ-ZZZZZ-ZZZZY"]))
        response = client.get(f"/v/{code}/")
        assert response.status_code == unknown.status_code == 404
        result = re.search(
            r'<div class="alert[^"]*" role="alert" id="result">.*?</div>', response.content.decode(), re.S
        )
        expected = re.search(
            r'<div class="alert[^"]*" role="alert" id="result">.*?</div>', unknown.content.decode(), re.S
        )
        assert result.group(0) == expected.group(0)
        assert "Aucun document ne correspond à ce code." in result.group(0)

    def test_public_check_reads_one_row_by_its_code_and_only_what_it_shows(
        self, signed, client, staff_user, django_assert_num_queries
    ):
        document = issue(signed, DocumentKind.CERTIFICATE, signed.first)
        documents.document_revoke(document=document, reason="Fraude à l'identité constatée", actor=staff_user)
        with CaptureQueriesContext(connection) as queries:
            html = client.get(reverse("verification:check", args=[document.grouped_code])).content.decode()
        assert "Document révoqué" in html and signed.first.birth_name.upper() in html
        table = f'FROM "{IssuedDocument._meta.db_table}"'
        lookups = [query["sql"] for query in queries if table in query["sql"]]
        assert len(lookups) == 1, lookups
        sql = lookups[0]
        assert "ORDER BY" not in sql  # the unique index alone, no sort
        assert '"pdf"' not in sql and '"status_reason"' not in sql  # never the file, never why it was revoked
        fiche_texts = [field.column for field in Certification._meta.fields if field.get_internal_type() == "TextField"]
        assert fiche_texts and not [column for column in fiche_texts if f'"{column}"' in sql]
        with django_assert_num_queries(len(queries)):  # no deferred column read later by the template
            client.get(reverse("verification:check", args=[document.grouped_code]))

    def test_revoked_document(self, signed, client, staff_user):
        document = issue(signed, DocumentKind.CERTIFICATE, signed.first)
        documents.document_revoke(document=document, reason="Fraude à l'identité constatée", actor=staff_user)
        html = client.get(reverse("verification:check", args=[group_code(document.verification_code)])).content.decode()
        assert "Document révoqué" in html and "il ne fait plus foi" in html
        assert "Document valide" not in html
        assert "Fraude" not in html  # the reason stays in the audit trail

    def test_the_form_needs_no_login(self, client):
        response = client.get(reverse("verification:form"))
        assert response.status_code == 200
        assert "Code de vérification" in response.content.decode()

    def test_look_ups_are_rate_limited_per_client(self, signed, client, settings):
        settings.VERIFICATION_RATE_LIMIT = (3, 600)
        document = issue(signed, DocumentKind.MINUTES)
        url = reverse("verification:check", args=[group_code(document.verification_code)])
        client.get(reverse("verification:form"))  # the empty form is not a look-up
        assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
        blocked = client.get(url)
        assert blocked.status_code == 429
        assert "Trop de vérifications depuis votre adresse" in blocked.content.decode()
        assert blocked["Retry-After"] == "600"
        assert client.get("/v/ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ/").status_code == 429  # unknown codes count too
        assert client.get(url, REMOTE_ADDR="192.0.2.7").status_code == 200  # another client
        settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
        assert client.get(url, HTTP_X_REAL_IP="198.51.100.4").status_code == 200
        assert [client.get(url, HTTP_X_REAL_IP="198.51.100.4").status_code for _ in range(3)] == [200, 200, 429]


# — Permissions —


class TestPermissions:
    @pytest.fixture
    def document(self, signed):
        return issue(signed, DocumentKind.RESULTS, signed.second)

    def test_staff_download_and_manage(self, document, staff_client):
        assert staff_client.get(reverse("documents:download", args=[document.pk])).status_code == 200
        page = staff_client.get(reverse("documents:session", args=[document.session_id]))
        assert page.status_code == 200 and "Émettre" in page.content.decode()

    def test_president_of_the_session_downloads_but_does_not_issue(self, document, president_client, signed):
        assert president_client.get(reverse("documents:download", args=[document.pk])).status_code == 200
        page = president_client.get(reverse("documents:session", args=[document.session_id]))
        html = page.content.decode()
        assert page.status_code == 200 and "Télécharger" in html and "Révoquer" not in html
        assert "Pas encore émis par l'IRUP" in html
        post = {"kind": DocumentKind.MINUTES}
        assert president_client.post(reverse("documents:issue", args=[document.session_id]), post).status_code == 403
        assert president_client.get(reverse("documents:revoke", args=[document.pk])).status_code == 403
        assert president_client.post(reverse("documents:batch_start", args=[document.session_id])).status_code == 403

    def test_president_of_another_session(self, document, client):
        other = make_user("autrepresident", Role.PRESIDENT)
        client.force_login(other)
        assert client.get(reverse("documents:download", args=[document.pk])).status_code == 403
        assert client.get(reverse("documents:session", args=[document.session_id])).status_code == 404

    def test_trainer_none_unless_granted(self, document, client, trainer_user):
        client.force_login(trainer_user)
        url = reverse("documents:download", args=[document.pk])
        assert client.get(url).status_code == 403
        assert client.get(reverse("documents:session", args=[document.session_id])).status_code == 403
        assert (
            "Documents émis"
            not in client.get(reverse("candidates:detail", args=[document.candidate_id])).content.decode()
        )

        permission = Permission.objects.get(content_type__app_label="documents", codename="view_issueddocument")
        trainer_user.user_permissions.add(permission)
        client.force_login(trainer_user)
        assert client.get(url).status_code == 200
        assert (
            "Documents émis" in client.get(reverse("candidates:detail", args=[document.candidate_id])).content.decode()
        )

    def test_trainer_granted_through_a_group(self, document, client):
        archivist = make_user("archiviste", Role.TRAINER)
        group = Group.objects.create(name="archives des documents")
        group.permissions.add(
            Permission.objects.get(content_type__app_label="documents", codename="view_issueddocument")
        )
        archivist.groups.add(group)
        client.force_login(archivist)
        response = client.get(reverse("documents:download", args=[document.pk]))
        assert response.status_code == 200 and response.content == bytes(document.pdf)
        assert (
            client.post(reverse("documents:issue", args=[document.session_id]), {"kind": "minutes"}).status_code == 403
        )

    def test_anonymous_is_sent_to_the_login_page(self, document, client):
        for url in (
            reverse("documents:download", args=[document.pk]),
            reverse("documents:session", args=[document.session_id]),
        ):
            response = client.get(url)
            assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        assert client.get(reverse("verification:check", args=[document.verification_code])).status_code == 200

    def test_visible_to_scopes_querysets(self, signed, staff_user, president_user, trainer_user):
        issue(signed, DocumentKind.MINUTES)
        assert IssuedDocument.objects.visible_to(staff_user).count() == 1
        assert IssuedDocument.objects.visible_to(president_user).count() == 1
        assert IssuedDocument.objects.visible_to(trainer_user).count() == 0
        assert IssuedDocument.objects.visible_to(make_user("autrepresident", Role.PRESIDENT)).count() == 0

    def test_candidate_page_lists_the_documents_for_staff(self, signed, staff_client):
        document = issue(signed, DocumentKind.CERTIFICATE, signed.first)
        html = staff_client.get(reverse("candidates:detail", args=[signed.first.pk])).content.decode()
        assert "Documents émis" in html and document.grouped_code in html
        assert reverse("documents:download", args=[document.pk]) in html


# — Pages —


class TestPages:
    def test_issue_from_the_session_page(self, signed, staff_client):
        response = staff_client.post(
            reverse("documents:issue", args=[signed.session.pk]),
            {"kind": DocumentKind.CERTIFICATE, "candidate": signed.first.pk},
            follow=True,
        )
        document = IssuedDocument.objects.get(kind=DocumentKind.CERTIFICATE)
        html = response.content.decode()
        assert f"Document émis : Certificat — code de vérification {document.grouped_code}." in html
        assert reverse("documents:download", args=[document.pk]) in html
        detail = staff_client.get(reverse("juries:detail", args=[signed.session.pk])).content.decode()
        assert "Documents de la session" in detail and "1 document émis" in detail

    def test_a_forged_issue_request_is_refused(self, signed, staff_client):
        url = reverse("documents:issue", args=[signed.session.pk])
        assert staff_client.post(url, {"kind": "certificate", "candidate": "x"}).status_code == 400
        html = staff_client.post(url, {"kind": "diplome"}, follow=True).content.decode()
        assert "Cette session ne donne pas ce document" in html or "Type de document inconnu" in html
        html = staff_client.post(
            url, {"kind": "certificate", "candidate": signed.third.pk}, follow=True
        ).content.decode()
        assert "Cette session ne donne pas ce document (certificat) à ce candidat." in html
        assert not IssuedDocument.objects.exists()

    def test_documents_page_queries_do_not_grow_with_candidates(
        self, staff_user, trainer_user, president_user, client, django_assert_num_queries
    ):
        small = signed_session(staff_user, trainer_user, president_user, count=2, name="Petite")
        documents.documents_issue_missing(session=small.session, actor=staff_user, parallel=False)
        large = signed_session(staff_user, trainer_user, president_user, count=6, name="Grande", numbers=(1, 2))
        documents.documents_issue_missing(session=large.session, actor=staff_user, parallel=False)
        documents.document_revoke(
            document=IssuedDocument.objects.filter(session=large.session).first(), reason="essai", actor=staff_user
        )
        client.force_login(staff_user)
        with CaptureQueriesContext(connection) as small_queries:
            assert client.get(reverse("documents:session", args=[small.session.pk])).status_code == 200
        client.force_login(staff_user)
        with django_assert_num_queries(len(small_queries)):
            response = client.get(reverse("documents:session", args=[large.session.pk]))
        assert response.status_code == 200
        assert (
            response.content.decode().count("Télécharger<span")
            == IssuedDocument.objects.filter(session=large.session).count()
        )


# — Batches through the real task queue —


def _exited_pid() -> int:
    """The pid of a process that has come and gone (as a killed worker's)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def run_worker():
    """One pass of the database worker (`manage.py db_worker --batch`), as a deployment runs it.

    The worker closes connections it finds inside a transaction, so its tests commit for real (transaction=True)."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


@pytest.mark.django_db(transaction=True)
class TestBatch:
    def test_a_session_at_once_in_the_background(self, signed, staff_client, staff_user):
        issue(signed, DocumentKind.MINUTES, actor=staff_user)  # one already issued: kept as it is
        response = staff_client.post(reverse("documents:batch_start", args=[signed.session.pk]), follow=True)
        batch = DocumentBatch.objects.get()
        assert batch.status == BatchStatus.PENDING and (batch.done, batch.total) == (1, 6)
        task = DBTaskResult.objects.get()
        assert task.task_path == "documents.tasks.generate_session_documents" and str(task.id) == batch.task_id
        html = response.content.decode()
        assert 'aria-live="polite"' in html and "La production des documents va commencer (1 sur 6 déjà prêts)" in html
        assert "db_worker" not in html  # staff read plain words; the technical side is on the admin's page
        assert "progress-poll.js" in html
        status = staff_client.get(reverse("documents:batch_status", args=[batch.pk])).json()
        assert status["status"] == "pending" and status["percent"] == 17 and not status["finished"]
        # Asking again while it waits reuses the same batch.
        staff_client.post(reverse("documents:batch_start", args=[signed.session.pk]))
        assert DocumentBatch.objects.count() == 1

        run_worker()

        batch.refresh_from_db()
        task.refresh_from_db()
        assert task.status == "SUCCESSFUL", task.traceback
        assert batch.status == BatchStatus.DONE and (batch.done, batch.total) == (6, 6) and batch.finished_at
        status = staff_client.get(reverse("documents:batch_status", args=[batch.pk])).json()
        assert status["finished"] and status["percent"] == 100 and status["zip_url"] and status["pdf_url"]
        issued = {doc.sha256: doc for doc in IssuedDocument.objects.filter(session=signed.session)}
        assert len(issued) == 6
        assert AuditEvent.objects.filter(action="document.issued").count() == 6

        archive = zipfile.ZipFile(io.BytesIO(staff_client.get(status["zip_url"]).content))
        names = archive.namelist()
        assert len(names) == 6 and names[0].startswith("001-proces-verbal")
        assert any(name.startswith("00") and "certificat" in name for name in names)
        for name in names:
            assert hashlib.sha256(archive.read(name)).hexdigest() in issued  # the stored bytes, unchanged

        merged = staff_client.get(status["pdf_url"])
        assert merged["Content-Type"] == "application/pdf"
        reader, text = read(merged.content)
        portrait = [doc for doc in issued.values() if doc.kind != DocumentKind.CERTIFICATE]
        printed = [page for page in reader.pages if page.extract_text().strip()]  # blank backs left out
        assert len(printed) == sum(len(read(bytes(doc.pdf))[0].pages) for doc in portrait)
        assert "Certificat n°" not in text and "Procès-verbal de délibération" in text
        certificates, text = read(staff_client.get(status["certificates_url"]).content)
        assert len(certificates.pages) == 1 and "CERTIFICAT" in text

        page = staff_client.get(reverse("documents:session", args=[signed.session.pk])).content.decode()
        assert "Terminé : 6 documents" in page and "Télécharger l'archive ZIP" in page

    def test_a_batch_whose_worker_died_is_resumed_where_it_stopped(self, signed, staff_user, staff_client):
        minutes = issue(signed, DocumentKind.MINUTES, actor=staff_user)
        batch = documents.batch_request(session=signed.session, actor=staff_user)
        first_task = DBTaskResult.objects.get(pk=batch.task_id)
        # A worker of this machine claimed the task, stored one document, then was killed (its pid is gone).
        dead_pid = _exited_pid()
        DBTaskResult.objects.filter(pk=first_task.pk).update(status="RUNNING", started_at=timezone.now())
        DocumentBatch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.RUNNING,
            started_at=timezone.now(),
            heartbeat_at=timezone.now(),
            runner=f"{socket.gethostname()} {dead_pid} 0123456789abcdef",
        )
        status = staff_client.get(reverse("documents:batch_status", args=[batch.pk])).json()
        assert status["stalled"] and status["status_label"] == "Interrompu" and not status["finished"]
        assert status["message"] == (
            "Production interrompue : le service qui produit les documents s'est arrêté. Elle reprendra d'elle-même "
            "à son redémarrage ; s'il tarde, prévenez l'administrateur. Documents déjà prêts, conservés : 1 sur 6."
        )
        page = staff_client.get(reverse("documents:session", args=[signed.session.pk])).content.decode()
        assert "Production interrompue" in page and "Production en cours" not in page

        run_worker()  # a worker starts again: it finds the orphan, puts it back in the queue, and runs it

        batch.refresh_from_db()
        first_task.refresh_from_db()
        assert batch.status == BatchStatus.DONE and (batch.done, batch.total) == (6, 6) and batch.interruptions == 1
        assert first_task.status == "FAILED" and "s'est arrêté pendant cette tâche" in first_task.traceback
        assert DBTaskResult.objects.get(pk=batch.task_id).status == "SUCCESSFUL"
        assert DocumentBatch.objects.count() == 1
        valid = IssuedDocument.objects.filter(session=signed.session, status=DocumentStatus.VALID)
        assert valid.count() == 6 and valid.filter(pk=minutes.pk).exists()  # kept, not issued again
        assert AuditEvent.objects.filter(action="document.issued").count() == 6

    def test_a_silent_batch_is_taken_for_dead_after_a_minute(self, signed, staff_user):
        batch = documents.batch_request(session=signed.session, actor=staff_user)
        rows = DocumentBatch.objects.filter(pk=batch.pk)
        # Run by a worker on another machine: its pid cannot be checked from here, only its heartbeat.
        rows.update(status=BatchStatus.RUNNING, started_at=timezone.now(), runner="autre-serveur 4242 feedface")
        DBTaskResult.objects.filter(pk=batch.task_id).update(status="RUNNING", started_at=timezone.now())
        rows.update(heartbeat_at=timezone.now() - datetime.timedelta(seconds=30))
        assert documents.batches_recover() == 0
        assert documents.batch_request(session=signed.session, actor=staff_user).status == BatchStatus.RUNNING
        rows.update(heartbeat_at=timezone.now() - worker.STALE_AFTER - datetime.timedelta(seconds=1))
        resumed = documents.batch_request(session=signed.session, actor=staff_user)  # asking again resumes it
        assert resumed.pk == batch.pk and resumed.status == BatchStatus.PENDING and resumed.interruptions == 1
        assert resumed.task_id != batch.task_id and DBTaskResult.objects.get(pk=resumed.task_id).status == "READY"
        assert documents.batches_recover() == 0  # waiting for a worker is not being lost

    def test_a_batch_interrupted_again_and_again_is_failed(self, signed, staff_user, staff_client):
        batch = documents.batch_request(session=signed.session, actor=staff_user)
        rows = DocumentBatch.objects.filter(pk=batch.pk)
        for _ in range(documents.MAX_INTERRUPTIONS):
            task_id = rows.get().task_id
            DBTaskResult.objects.filter(pk=task_id).update(status="RUNNING", started_at=timezone.now())
            rows.update(
                status=BatchStatus.RUNNING,
                started_at=timezone.now(),
                heartbeat_at=timezone.now() - datetime.timedelta(hours=1),
                runner="autre-serveur 4242 feedface",
            )
            assert documents.batches_recover() == 1
        batch.refresh_from_db()
        assert batch.status == BatchStatus.FAILED and batch.interruptions == documents.MAX_INTERRUPTIONS
        status = staff_client.get(reverse("documents:batch_status", args=[batch.pk])).json()
        assert status["finished"] and status["message"] == (
            "La production a été interrompue 3 fois (le service de production des documents s'est arrêté pendant "
            "le lot) : relancez-la. Documents déjà prêts, conservés : 0 sur 6."
        )
        again = documents.batch_request(session=signed.session, actor=staff_user)
        assert again.pk != batch.pk and again.status == BatchStatus.PENDING

    def test_a_pending_batch_whose_task_was_claimed_by_a_dying_worker(self, signed, staff_user):
        batch = documents.batch_request(session=signed.session, actor=staff_user)
        task = DBTaskResult.objects.filter(pk=batch.task_id)
        task.update(status="RUNNING", started_at=timezone.now())  # claimed; the batch never started
        assert documents.batches_recover() == 0  # a worker may be starting it
        task.update(started_at=timezone.now() - worker.STALE_AFTER - datetime.timedelta(seconds=1))
        assert documents.batches_recover() == 1
        batch.refresh_from_db()
        assert batch.status == BatchStatus.PENDING and DBTaskResult.objects.get(pk=batch.task_id).status == "READY"
        run_worker()
        batch.refresh_from_db()
        assert batch.status == BatchStatus.DONE and IssuedDocument.objects.count() == 6

    def test_only_staff_download_a_batch(self, signed, staff_user, president_client):
        batch = documents.batch_request(session=signed.session, actor=staff_user)
        assert president_client.get(reverse("documents:batch_status", args=[batch.pk])).status_code == 403
        assert president_client.get(reverse("documents:batch_zip", args=[batch.pk])).status_code == 403


# — Demo data —


@pytest.mark.django_db(transaction=True)
def test_demo_gives_every_kind_of_document():
    call_command("seed_demo", stdout=io.StringIO())
    # One batch per signed session: three juries of RNCP 16204 and one of its successor.
    assert DocumentBatch.objects.filter(status=BatchStatus.PENDING).count() == 4
    run_worker()
    assert set(DocumentBatch.objects.values_list("status", flat=True)) == {BatchStatus.DONE}
    kinds = set(IssuedDocument.objects.values_list("kind", flat=True))
    assert kinds == set(DocumentKind.values)
    certificates = IssuedDocument.objects.filter(
        kind=DocumentKind.CERTIFICATE, session__date=datetime.date(2023, 3, 21)
    ).order_by("reference")
    assert [c.reference for c in certificates] == ["MPES-2023-0001", "MPES-2023-0002", "MPES-2023-0003"]
    assert_archival(certificates[0], pages=(1, 1))
    # Under the successor, the certificate names its fiche and where the blocks carried over come from.
    nguyen = IssuedDocument.objects.get(
        kind=DocumentKind.CERTIFICATE, session__certification__rncp_code="99901", candidate__birth_name="Nguyen"
    )
    text = assert_archival(nguyen)
    assert "RNCP99901" in text and "acquis par correspondance avec RNCP16204BC04" in text
    # The minutes say when each jury sat and when it was signed: that evening, not the day the demo was seeded.
    first, second = (
        assert_archival(IssuedDocument.objects.get(kind=DocumentKind.MINUTES, session__date=day))
        for day in (datetime.date(2022, 6, 14), datetime.date(2023, 3, 21))
    )
    assert "Date du jury 14 juin 2022" in first and "Signature le 14 juin 2022 à 17:40" in first
    assert "Date du jury 21 mars 2023" in second and "Signature le 21 mars 2023 à 17:25" in second
    today = french_date(timezone.localdate())
    assert f"le {today} à" not in first and f"le {today} à" not in second
    assert "Nadine Peyrard (suppléant)" in first  # sits for Sylvie Rochette on Thomas Giraud
    count = IssuedDocument.objects.count()
    call_command("seed_demo", stdout=io.StringIO())  # `make run` twice: nothing asked again, nothing duplicated
    assert DocumentBatch.objects.count() == 4 and IssuedDocument.objects.count() == count
