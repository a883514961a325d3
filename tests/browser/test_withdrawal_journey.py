"""Staff withdraw a certificate obtained by fraud from the candidate's file, and anyone sees « retiré » on /v/ — in
real headless Chromium, on a desktop and on a phone."""

import pytest

from candidates.models import Withdrawal
from documents import services as documents
from documents.models import DocumentKind, IssuedDocument
from tests.browser.conftest import log_in
from tests.documents.test_documents import signed_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REFERENCE = "Décision du directeur général n° 2026-14 du 20 novembre 2026"


@pytest.mark.parametrize("width", [1280, 390])
def test_staff_withdraw_a_certificate_and_the_verification_page_says_withdrawn(
    page, browser, live_server, staff_user, trainer_user, president_user, width
):
    page.set_viewport_size({"width": width, "height": 900})
    signed = signed_session(staff_user, trainer_user, president_user, name=f"Retrait {width}")
    holder = signed.first
    documents.documents_issue_missing(session=signed.session, actor=staff_user, parallel=False)
    certificate = IssuedDocument.objects.get(kind=DocumentKind.CERTIFICATE, candidate=holder)

    log_in(page, live_server, staff_user.username)
    page.goto(f"{live_server.url}/candidats/{holder.pk}/")
    page.get_by_role("link", name="Retirer un certificat ou des blocs (fraude)").click()
    page.get_by_role("heading", name="Ce que fait un retrait").wait_for()

    # Submitted without the reference nor the confirmation: French messages next to the fields, nothing written.
    page.get_by_label(f"Certificat n° {signed.award.number}, délivré le 14 juin 2022").check()
    page.get_by_role("button", name="Retirer").click()
    page.locator(".invalid-feedback").get_by_text("Indiquez la référence de la décision de retrait.").wait_for()
    assert page.locator(".invalid-feedback").get_by_text("Cochez la case pour confirmer le retrait.").is_visible()
    assert Withdrawal.objects.count() == 0

    page.get_by_label(f"Certificat n° {signed.award.number}, délivré le 14 juin 2022").check()
    page.get_by_label("Bloc 2 — acquis le 14 juin 2022 (jury du 14 juin 2022)").check()
    page.get_by_label("Référence de la décision").fill(REFERENCE)
    page.get_by_label("Date de la décision").fill("2026-11-20")
    page.get_by_label("Motif du retrait").fill("Attestation d'employeur falsifiée.")
    page.get_by_label("Votre mot de passe").fill("mot-de-passe-de-test")
    page.get_by_label("Je confirme le retrait").check()
    page.get_by_role("button", name="Retirer").click()
    page.get_by_text(f"Retrait enregistré ({REFERENCE}). 2 documents révoqués").wait_for()
    section = page.locator("#retraits")
    assert REFERENCE in section.inner_text() and "Attestation d'employeur falsifiée." in section.inner_text()
    assert page.locator(f"#withdrawn-award-{signed.award.pk}").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling

    context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": 900})
    visitor = context.new_page()
    visitor.goto(f"{live_server.url}/v/{certificate.grouped_code}/")
    visitor.get_by_role("heading", name="Document retiré").wait_for()
    result = visitor.locator("#result").inner_text()
    assert f"Ce document a été retiré le 20 novembre 2026 ({REFERENCE})" in result
    assert "falsifiée" not in visitor.content()
    context.close()
