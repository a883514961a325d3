"""Staff issue a certificate, download it, and anyone opens the verification URL printed on it — in real headless
Chromium."""

import re

import pytest
from pypdf import PdfReader

from documents.models import DocumentKind, IssuedDocument
from tests.browser.conftest import log_in
from tests.documents.test_documents import signed_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_download_a_certificate_and_anyone_verifies_it(
    page, browser, live_server, settings, tmp_path, staff_user, trainer_user, president_user
):
    settings.PUBLIC_BASE_URL = live_server.url  # the address printed under the QR code
    signed = signed_session(staff_user, trainer_user, president_user, name="Navigateur")
    holder = signed.first

    log_in(page, live_server, staff_user.username)
    page.get_by_role("link", name="Jurys").first.click()
    page.get_by_role("link", name="14/06/2022", exact=True).click()
    page.get_by_role("link", name="Documents de la session").click()
    page.get_by_role("button", name=f"Émettre certificat de {holder.full_name}").click()
    page.get_by_text("Document émis : Certificat — code de vérification").wait_for()

    with page.expect_download() as info:
        page.get_by_role("link", name=f"Télécharger certificat de {holder.full_name} (PDF)").click()
    download = info.value
    assert download.suggested_filename.startswith("certificat-") and download.suggested_filename.endswith(".pdf")
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    document = IssuedDocument.objects.get(kind=DocumentKind.CERTIFICATE)
    assert path.read_bytes() == bytes(document.pdf)
    text = "\n".join(p.extract_text() for p in PdfReader(path).pages)
    assert f"Certificat n° {signed.award.number}" in text
    url = re.search(r"(http://\S+/v/[0-9A-Z-]{23}/)", text).group(1)
    assert url == f"{live_server.url}/v/{document.grouped_code}/"

    # Anyone, without an account: a fresh browser context with no session cookie.
    context = browser.new_context(locale="fr-FR")
    visitor = context.new_page()
    visitor.goto(url)
    result = visitor.locator("#result")
    assert "valide" in result.inner_text()
    assert visitor.get_by_role("heading", name="Document valide").is_visible()
    assert signed.award.number in result.inner_text()
    assert "1988" not in visitor.content()  # no birth date on the public page

    # Typed by hand, in lower case and without dashes.
    visitor.goto(f"{live_server.url}/v/")
    visitor.get_by_label("Code de vérification").fill(document.verification_code.lower())
    visitor.get_by_role("button", name="Vérifier").click()
    visitor.get_by_role("heading", name="Document valide").wait_for()
    context.close()


def test_batch_progress_is_shown_while_the_worker_produces_the_documents(
    page, live_server, staff_user, trainer_user, president_user
):
    from tests.documents.test_documents import run_worker

    signed = signed_session(staff_user, trainer_user, president_user, name="Lot navigateur")
    log_in(page, live_server, staff_user.username)
    page.goto(f"{live_server.url}/jurys/documents/sessions/{signed.session.pk}/")
    page.get_by_role("button", name="Produire tous les documents (ZIP et PDF à imprimer)").click()
    status = page.locator("#batch-message")
    assert "La production des documents va commencer" in status.inner_text()
    assert status.get_attribute("aria-live") == "polite"

    run_worker()  # the background worker, as `make run` starts it next to the web server

    # The page polls the batch's state and offers the archive without a manual reload.
    page.get_by_text("Terminé : 6 documents").wait_for()
    with page.expect_download() as info:
        page.get_by_role("link", name="Télécharger l'archive ZIP").click()
    assert info.value.suggested_filename.endswith(".zip")
    assert page.get_by_role("progressbar", name="Production des documents").get_attribute("aria-valuenow") == "100"
