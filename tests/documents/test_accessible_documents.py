"""Documents readable by everyone and printable as IRUP prints them.

- Tagged PDF: every document is PDF/A-2u and tagged (PDF/UA-1): the structure tree (headings, paragraphs, tables
  with header cells, figures with a text alternative), the language, the title; read back with pypdf.
- The certificate: IRUP's logo (uploaded by staff on their page, validated, audited) or an honest placeholder,
  the director general's name, 45 mm to sign, a place for the seal — checked on WeasyPrint's layout.
- French forms: dates without a leading zero (« 9 avril 2018 », « 1er juin 2026 »), « d'Hélène » / « de Paul ».
- The print batch: each candidate's documents together, each starting on a front page, certificates apart.
"""

import datetime
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject
from weasyprint import HTML

from certif.models import AuditEvent
from certif.text import de_name, elides, french_date, french_dates_in, lower_first
from documents import pdf
from documents import services as documents
from documents.content import QR_ALT, SessionData, certificates_pdf, find_slot, group_code, prepare
from documents.models import CertifierIdentity, DocumentBatch, DocumentKind, IssuedDocument
from tests.documents.test_documents import flat, issue, read, run_worker, signed_session, xmp

pytestmark = pytest.mark.django_db

MM = 96 / 25.4  # CSS pixels in a millimetre (WeasyPrint's layout unit)
DIRECTOR = "Martine Vernet-Aubry"


@pytest.fixture
def signed(staff_user, trainer_user, president_user):
    return signed_session(staff_user, trainer_user, president_user, name="MPES accessibles")


def png_logo(size=(400, 160)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (0, 70, 140)).save(buffer, format="PNG")
    return buffer.getvalue()


SVG_LOGO = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 40"><title>IRUP</title>'
    b'<rect width="100" height="40" fill="#00468c"/></svg>'
)


# — The structure tree —


def resolved(node):
    return node.get_object() if isinstance(node, IndirectObject) else node


def structure(reader) -> list[dict]:
    """Every structure element of the tree, depth first: {"type", "alt", "id", "headers"} (a data cell names its
    header cells by their ids)."""
    found = []

    def walk(node):
        node = resolved(node)
        if isinstance(node, ArrayObject):
            for child in node:
                walk(child)
        elif isinstance(node, DictionaryObject) and "/S" in node:
            attributes = resolved(node.get("/A")) or {}
            found.append(
                {
                    "type": str(node["/S"])[1:],
                    "alt": str(node.get("/Alt", "")),
                    "id": str(node.get("/ID", "")),
                    "headers": [str(header) for header in resolved(attributes).get("/Headers", [])],
                }
            )
            if "/K" in node:
                walk(node["/K"])

    walk(resolved(reader.trailer["/Root"]["/StructTreeRoot"])["/K"])
    return found


def assert_tagged(document) -> list[dict]:
    reader = PdfReader(io.BytesIO(bytes(document.pdf)))
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"].value is True
    assert root["/Lang"] == "fr"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"].value is True  # the title, not the file name
    assert reader.metadata.title == document.title
    metadata = xmp(reader)
    assert 'pdfaid:part="2"' in metadata and 'pdfaid:conformance="U"' in metadata  # still PDF/A-2u
    assert 'pdfuaid:part="1"' in metadata
    elements = structure(reader)
    types = [element["type"] for element in elements]
    assert types.count("H1") == 1, types  # one title, the first heading
    headings = [int(kind[1]) for kind in types if re.fullmatch(r"H[1-6]", kind)]
    assert headings[0] == 1 and all(b - a <= 1 for a, b in zip(headings, headings[1:], strict=False)), headings
    figures = [element for element in elements if element["type"] == "Figure"]
    assert figures and all(figure["alt"] for figure in figures), figures  # the QR code (and the logo) described
    assert QR_ALT in [figure["alt"] for figure in figures]
    return elements


class TestTaggedPdf:
    def test_every_kind_of_document_has_a_structure_tree(self, signed):
        for kind, candidate, tables in (
            (DocumentKind.MINUTES, None, True),
            (DocumentKind.RESULTS, signed.second, True),
            (DocumentKind.ATTESTATION, signed.second, True),
            (DocumentKind.CERTIFICATE, signed.first, False),
        ):
            elements = assert_tagged(issue(signed, kind, candidate))
            types = {element["type"] for element in elements}
            assert {"H1", "P"} <= types, (kind, types)
            if tables:
                assert {"Table", "TR", "TH", "TD"} <= types, (kind, types)
                header_ids = {element["id"] for element in elements if element["type"] == "TH"}
                linked = [element["headers"] for element in elements if element["type"] == "TD" and element["headers"]]
                assert linked and all(set(headers) <= header_ids for headers in linked), kind

    def test_the_logo_is_a_described_figure(self, signed, staff_user):
        documents.certifier_identity_save(
            director_general_name=DIRECTOR, logo=png_logo(), logo_name="irup.png", actor=staff_user
        )
        elements = assert_tagged(issue(signed, DocumentKind.CERTIFICATE, signed.first))
        assert "Logo de l'IRUP" in [element["alt"] for element in elements if element["type"] == "Figure"]


# — The certificate —


def certificate_boxes(session, candidate):
    """The certificate laid out by WeasyPrint: its pages and every box with a class, by class (in mm)."""
    slot = find_slot(session, DocumentKind.CERTIFICATE, candidate.pk)
    html = prepare(SessionData(session), slot).html
    font_config, css, fetcher = pdf.renderer_state()
    rendered = HTML(string=html, base_url=pdf.FONTS_DIR.as_uri() + "/", url_fetcher=fetcher).render(
        stylesheets=[css], font_config=font_config
    )
    boxes: dict[str, list] = {}

    def walk(box):
        element = getattr(box, "element", None)
        if element is not None and getattr(box, "element_tag", None) and box.style["display"] != "none":
            for name in (element.get("class") or "").split():
                boxes.setdefault(name, []).append(
                    {
                        "top": box.position_y / MM,
                        "left": box.position_x / MM,
                        "width": box.margin_width() / MM,
                        "height": box.margin_height() / MM,
                    }
                )
        for child in getattr(box, "children", []):
            walk(child)

    for page in rendered.pages:
        walk(page._page_box)
    return rendered.pages, {name: found[0] for name, found in boxes.items()}


class TestCertificate:
    def test_room_for_the_logo_the_signatures_and_the_seal(self, signed):
        pages, boxes = certificate_boxes(signed.session, signed.first)
        assert len(pages) == 1
        assert boxes["logo-placeholder"]["width"] == pytest.approx(50, abs=0.5)
        assert boxes["logo-placeholder"]["height"] == pytest.approx(22, abs=0.5)
        assert boxes["signature-space"]["height"] == pytest.approx(45, abs=0.5)  # 4.5 cm to sign
        assert boxes["seal-space"]["width"] >= 40 and boxes["seal-space"]["height"] >= 40
        frame = boxes["frame"]
        assert frame["top"] + frame["height"] <= 210 - 12 + 0.5  # the frame fits the landscape page's margins
        foot = boxes["certificate-foot"]
        assert boxes["number"]["top"] + boxes["number"]["height"] <= foot["top"]  # the text stays above the foot
        assert foot["top"] + foot["height"] <= frame["top"] + frame["height"]

    def test_logo_director_general_dates_and_elision(self, signed, staff_user):
        documents.certifier_identity_save(director_general_name=DIRECTOR, logo=SVG_LOGO, actor=staff_user)
        document = issue(signed, DocumentKind.CERTIFICATE, signed.first)
        _, text = read(bytes(document.pdf))
        text = flat(text)
        assert "Logo de l'IRUP" not in text  # the image, not the placeholder
        for expected in (
            "par arrêté du 9 avril 2018 (Journal Officiel du 17 avril 2018)",
            "sous la présidence d'Hélène Garnier",
            "Fait à Saint-Étienne, le 14 juin 2022",
            f"Le directeur général {DIRECTOR}",
            "Le président du jury Hélène Garnier",
        ):
            assert expected in text.replace("  ", " "), expected

    def test_without_a_logo_an_honest_placeholder(self, signed):
        document = issue(signed, DocumentKind.CERTIFICATE, signed.first)
        _, text = read(bytes(document.pdf))
        assert "Logo de l'IRUP" in flat(text)

    def test_the_attestation_closes_each_bracket_once(self, signed):
        _, text = read(bytes(issue(signed, DocumentKind.ATTESTATION, signed.second).pdf))
        text = flat(text)
        assert "))" not in text
        assert "(RNCP16204, niveau 6 de la nomenclature européenne, niveau II de la nomenclature de 1969)" in text
        assert "9 avril 2018" in text and "09 avril" not in text


# — French forms —


class TestFrenchForms:
    @pytest.mark.parametrize(
        ("day", "expected"),
        [
            (datetime.date(2018, 4, 9), "9 avril 2018"),
            (datetime.date(2026, 6, 1), "1er juin 2026"),
            (datetime.date(2022, 6, 14), "14 juin 2022"),
            (datetime.date(2023, 8, 31), "31 août 2023"),
        ],
    )
    def test_dates(self, day, expected):
        assert french_date(day) == expected

    def test_dates_inside_a_recorded_text(self):
        assert french_dates_in("Arrêté du 09 avril 2018") == "Arrêté du 9 avril 2018"
        assert french_dates_in("Décision du 01 juin 2026, JO du 1 juillet 2026") == (
            "Décision du 1er juin 2026, JO du 1er juillet 2026"
        )
        assert french_dates_in("Arrêté du 17 avril 2018 (10 pages)") == "Arrêté du 17 avril 2018 (10 pages)"

    def test_an_act_inside_a_sentence_keeps_its_proper_names(self):
        # « … enregistrée au RNCP par décision de France compétences du 20 décembre 2024 », never « france ».
        assert lower_first("Décision de France compétences du 20 décembre 2024") == (
            "décision de France compétences du 20 décembre 2024"
        )
        assert lower_first("Arrêté du 9 avril 2018") == "arrêté du 9 avril 2018"
        assert lower_first("") == ""

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("Hélène Garnier", "d'Hélène Garnier"),
            ("Paul Martin", "de Paul Martin"),
            ("Anne Roche", "d'Anne Roche"),
            ("Émile Faure", "d'Émile Faure"),
            ("Œdipe Roi", "d'Œdipe Roi"),
            ("Ulysse Bard", "d'Ulysse Bard"),
            ("Henri Blanc", "d'Henri Blanc"),
            ("Yves Collin", "d'Yves Collin"),
            ("Yann Le Goff", "de Yann Le Goff"),  # y before a vowel is a consonant
            ("Harry Stone", "de Harry Stone"),  # h pronounced
            ("Marc Dumas", "de Marc Dumas"),
        ],
    )
    def test_elision_before_a_name(self, name, expected):
        assert de_name(name) == expected
        assert elides(name) == expected.startswith("d'")


# — The staff page for the logo and the director general —


class TestIdentityPage:
    def test_staff_record_the_name_and_the_logo_audited(self, staff_client, staff_user):
        url = reverse("documents:identity")
        page = staff_client.get(url).content.decode()
        assert "Logo et signataire des documents" in page and 'enctype="multipart/form-data"' in page
        response = staff_client.post(
            url,
            {"director_general_name": DIRECTOR, "logo": SimpleUploadedFile("irup.png", png_logo(), "image/png")},
            follow=True,
        )
        assert "Logo et signataire enregistrés" in response.content.decode()
        identity = CertifierIdentity.objects.get()
        assert identity.director_general_name == DIRECTOR and identity.logo_type == "image/png"
        assert bytes(identity.logo).startswith(b"\x89PNG") and identity.updated_by == staff_user
        event = AuditEvent.objects.get(action="documents.identity_changed")
        assert event.after["director_general_name"] == DIRECTOR and event.after["logo"] == "irup.png"
        # Removing the logo is audited too; the name stays.
        staff_client.post(url, {"director_general_name": DIRECTOR, "remove_logo": "on"})
        identity.refresh_from_db()
        assert not identity.has_logo and identity.director_general_name == DIRECTOR
        assert AuditEvent.objects.filter(action="documents.identity_changed").count() == 2

    @pytest.mark.parametrize(
        ("name", "content", "message"),
        [
            ("logo.gif", b"GIF89a" + b"\0" * 40, "PNG, JPEG ou SVG"),
            ("logo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "illisible"),
            ("logo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (1024 * 1024 + 1), "1 Mo au plus"),
            ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "script"),
            (
                "logo.svg",
                b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
                b'<image xlink:href="https://example.org/x.png"/></svg>',
                "ressource extérieure",
            ),
            ("logo.svg", b'<!DOCTYPE svg [<!ENTITY a "b">]><svg xmlns="http://www.w3.org/2000/svg"/>', "DOCTYPE"),
        ],
    )
    def test_an_unsuitable_file_is_refused(self, staff_client, name, content, message):
        response = staff_client.post(
            reverse("documents:identity"),
            {"director_general_name": DIRECTOR, "logo": SimpleUploadedFile(name, content)},
        )
        assert response.status_code == 400 and message in response.content.decode()
        assert not CertifierIdentity.objects.exists() and not AuditEvent.objects.exists()

    def test_the_name_is_required(self, staff_client):
        response = staff_client.post(reverse("documents:identity"), {"director_general_name": " "})
        assert response.status_code == 400 and not CertifierIdentity.objects.exists()

    def test_the_demo_names_a_fictitious_director_general_once(self, staff_user):
        from documents.demo import DEMO_DIRECTOR_GENERAL, create_demo_documents

        create_demo_documents(sessions=[], staff=staff_user)
        create_demo_documents(sessions=[], staff=staff_user)
        identity = CertifierIdentity.objects.get()
        assert identity.director_general_name == DEMO_DIRECTOR_GENERAL and not identity.has_logo
        assert AuditEvent.objects.filter(action="documents.identity_changed").count() == 1

    def test_only_staff(self, president_client, trainer_client):
        for client in (president_client, trainer_client):
            assert client.get(reverse("documents:identity")).status_code == 403
            response = client.post(reverse("documents:identity"), {"director_general_name": "Quelqu'un"})
            assert response.status_code == 403
        assert not CertifierIdentity.objects.exists()

    def test_the_documents_page_says_what_is_missing(self, signed, staff_client, staff_user):
        url = reverse("documents:session", args=[signed.session.pk])
        page = staff_client.get(url).content.decode()
        assert "Le nom du directeur général n'est pas renseigné" in page and "Aucun logo de l'IRUP" in page
        documents.certifier_identity_save(director_general_name=DIRECTOR, logo=png_logo(), actor=staff_user)
        page = staff_client.get(url).content.decode()
        assert 'id="identity-missing"' not in page and reverse("documents:identity") in page


# — The print batch —


def page_texts(content: bytes) -> tuple[PdfReader, list[str]]:
    reader = PdfReader(io.BytesIO(content))
    return reader, [flat(page.extract_text() or "") for page in reader.pages]


def landscape(page) -> bool:
    box = page.mediabox
    return float(box.width) > float(box.height)


@pytest.mark.django_db(transaction=True)
class TestPrintBatch:
    def test_each_candidate_starts_on_a_front_page_and_certificates_apart(self, signed, staff_client, staff_user):
        staff_client.post(reverse("documents:batch_start", args=[signed.session.pk]))
        run_worker()
        batch = DocumentBatch.objects.get()
        status = staff_client.get(reverse("documents:batch_status", args=[batch.pk])).json()
        assert status["finished"] and status["pdf_url"] and status["certificates_url"]

        response = staff_client.get(status["pdf_url"])
        assert "a-imprimer-recto-verso.pdf" in response["Content-Disposition"]
        reader, texts = page_texts(response.content)
        issued = list(IssuedDocument.objects.filter(session=signed.session).exclude(kind=DocumentKind.CERTIFICATE))
        assert not any(landscape(page) for page in reader.pages)  # the portrait stack only
        assert not any("CERTIFICAT" in text and "Certificat n°" in text for text in texts)
        # One bookmark a holder: the minutes first, then the candidates in the slots' order, each on an odd page
        # (a front), each part of an even number of pages.
        starts = [(item.title, reader.get_destination_page_number(item)) for item in reader.outline]
        candidates = [enrolment.candidate for enrolment in signed.enrolments]
        by_name = sorted(candidates, key=lambda c: (c.birth_name, c.first_name))
        assert [title for title, _ in starts][0] == "Procès-verbal du jury"
        assert [title.split(" ")[-1] for title, _ in starts[1:]] == [c.birth_name.upper() for c in by_name]
        bounds = [start for _, start in starts] + [len(reader.pages)]
        for (title, start), end in zip(starts, bounds[1:], strict=True):
            assert start % 2 == 0 and (end - start) % 2 == 0, (title, start, end)
            part = texts[start:end]
            # Every printed page of the part belongs to a document of this holder (its verification code is in the
            # page's foot); a blank back closes an odd part.
            codes = [
                group_code(doc.verification_code)
                for doc in issued
                if (doc.holder_name or "Procès-verbal du jury") == title
            ]
            assert codes and all(
                any(code in text.replace(" ", "") for code in codes) for text in part if text.strip()
            ), (
                title,
                part,
            )
            blanks = [index for index, text in enumerate(part) if not text.strip()]
            assert blanks in ([], [len(part) - 1]), (title, blanks)
        assert any(not text.strip() for text in texts)  # the 1-page attestation or results needed one

        certificates = staff_client.get(status["certificates_url"])
        assert "certificats.pdf" in certificates["Content-Disposition"]
        reader, texts = page_texts(certificates.content)
        assert len(reader.pages) == 1 and all(landscape(page) for page in reader.pages)
        assert signed.first.birth_name.upper() in texts[0] and "Certificat n°" in texts[0]

        page = staff_client.get(reverse("documents:session", args=[signed.session.pk])).content.decode()
        assert "Télécharger les certificats à imprimer (paysage)" in page
        assert "Télécharger le PDF à imprimer en recto verso" in page

    def test_a_batch_without_certificate_offers_no_certificates_file(self, signed, staff_user, staff_client):
        batch = DocumentBatch.objects.create(
            session=signed.session, requested_by=staff_user, status="done", zip_file=b"PK", merged_pdf=b"%PDF"
        )
        status = staff_client.get(reverse("documents:batch_status", args=[batch.pk])).json()
        assert status["pdf_url"] and "certificates_url" not in status
        assert staff_client.get(reverse("documents:batch_certificates", args=[batch.pk])).status_code == 404
        assert certificates_pdf([], "Certificats") is None
