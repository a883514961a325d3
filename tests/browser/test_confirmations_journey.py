"""Staff remove a presented candidate after a confirmation dialog (Escape cancels, nothing removed), then restore
them with their decisions and links; the president reads what the signature would record, or why it cannot happen
yet — in real headless Chromium, at 1280 px and 390 px, with the keyboard."""

import re

import pytest

from juries import services
from juries.models import Decision, Presentation, Recusal
from tests.browser.conftest import log_in
from tests.factories import evaluated_cohort, make_jury, present_all

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [1280, 390]


@pytest.fixture
def session(staff_user, trainer_user, president_user):
    _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=2, name="MPES confirmations")
    session = make_jury(staff_user, president_user)
    present_all(session, enrolments, staff_user)
    first = Presentation.objects.get(session=session, enrolment=enrolments[0])
    member = session.members.get(name="Marc Dumas")
    services.recusal_declare(member=member, presentation=first, reason="ancien collègue", actor=staff_user)
    return session, first


def stored(presentation):
    return (
        list(
            Decision.all_objects.filter(presentation=presentation).order_by("pk").values_list("pk", "proposal_outcome")
        ),
        list(Recusal.all_objects.filter(presentation=presentation).values_list("member__name", "reason")),
    )


def active_element_text(page) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.textContent.trim()")


@pytest.mark.parametrize("width", WIDTHS)
def test_remove_asks_escape_cancels_confirm_removes_restore_brings_back(page, live_server, staff_user, session, width):
    session, first = session
    name = first.enrolment.candidate.full_name
    before = stored(first)
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, staff_user.username)
    page.goto(f"{live_server.url}/jurys/{session.pk}/")

    remove = page.locator("#presented").get_by_role("button", name=f"Retirer {name}")
    remove.click()
    dialog = page.get_by_role("dialog", name=f"Retirer {name} de la session ?")
    dialog.wait_for()
    assert dialog.get_attribute("aria-modal") == "true"
    assert "vous pourrez le rétablir tant que la délibération n'a pas commencé" in dialog.inner_text()
    # The focus is in the dialog, on the safe answer.
    assert active_element_text(page) == "Annuler"
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width

    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert page.evaluate("() => document.activeElement.closest('form') !== null")
    assert "Retirer" in active_element_text(page)
    assert not Presentation.all_objects.get(pk=first.pk).is_removed

    remove.click()
    dialog.get_by_role("button", name="Retirer de la session").click()
    page.get_by_text(f"{name} n'est plus présenté à cette session.").wait_for()
    assert Presentation.all_objects.get(pk=first.pk).is_removed
    assert stored(first) == before
    removed = page.locator("#removed-presentations")
    assert name in removed.inner_text()
    assert name not in page.locator("#presented").inner_text()

    removed.get_by_role("button", name=f"Rétablir {name}").click()
    page.get_by_text(f"{name} est de nouveau présenté à cette session").wait_for()
    assert name in page.locator("#presented").inner_text()
    assert "Marc Dumas — ancien collègue" in page.locator("#presented").inner_text()
    assert not Presentation.all_objects.get(pk=first.pk).is_removed and stored(first) == before
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width


def test_keyboard_only_on_a_phone(page, live_server, staff_user, session):
    session, first = session
    name = first.enrolment.candidate.full_name
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server, staff_user.username)
    page.goto(f"{live_server.url}/jurys/{session.pk}/candidats/")
    trigger = page.locator("#presented").get_by_role("button", name=f"Retirer {name}")
    trigger.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name=f"Retirer {name} de la session ?")
    dialog.wait_for()
    assert active_element_text(page) == "Annuler"
    page.keyboard.press("Tab")
    assert active_element_text(page) == "Retirer de la session"
    page.keyboard.press("Enter")
    page.get_by_text(f"{name} n'est plus présenté à cette session.").wait_for()
    # Back on the candidates page, where the removed candidate is offered back.
    assert page.url.endswith(f"/jurys/{session.pk}/candidats/")
    restore = page.locator("#removed-presentations").get_by_role("button", name=f"Rétablir {name}")
    restore.focus()
    page.keyboard.press("Enter")
    page.get_by_text(f"{name} est de nouveau présenté à cette session").wait_for()
    assert not Presentation.all_objects.get(pk=first.pk).is_removed


@pytest.mark.parametrize("width", WIDTHS)
def test_signature_recap_and_disabled_form(page, live_server, president_user, session, width):
    session, first = session
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, president_user.username)
    page.goto(f"{live_server.url}/jurys/{session.pk}/signature/")
    recap = page.locator("#sign-off-recap")
    assert "2 candidats ; 0 bloc validé ; 0 certificat à délivrer ; 0 attestation de blocs." in recap.inner_text()
    assert first.enrolment.candidate.full_name in recap.inner_text()
    problems = page.locator("#sign-off-problems")
    assert re.search(r"À faire par le président du jury\s*: enregistrer ces décisions", problems.inner_text())
    assert page.get_by_label("Votre mot de passe").is_disabled()
    assert page.get_by_role("button", name="Signer la session").is_disabled()
    assert "Enregistrez un renouvellement" not in page.content()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
