"""A 9-competence grid (block 2 of RNCP 16204) keeps the candidate's name and the proposal in view, scrolls by
keyboard when read-only, and never widens the page — in real headless Chromium, at 1280 px and 390 px."""

import pytest
from django.urls import reverse

from tests.browser.conftest import log_in
from tests.factories import evaluated_cohort

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def box(locator):
    return locator.bounding_box()


@pytest.mark.parametrize("width", [1280, 390])
def test_nine_competences_keep_name_and_proposal_in_view(page, live_server, staff_user, trainer_user, width):
    _, _, session = evaluated_cohort(staff_user, trainer_user, numbers=(2,), count=3, submit=False)
    url = f"{live_server.url}{reverse('evaluation:grid', args=[session.pk, 2])}"
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, trainer_user.username)
    page.goto(url)
    region = page.get_by_role("region", name="Niveaux du bloc 2")
    assert page.locator("select.level").count() == 27
    # The hidden labels stay inside the scrolling region: the page itself never scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    frame = box(region)
    proposal = page.get_by_role("columnheader", name="Proposition")
    name = page.get_by_role("rowheader").first
    if width == 1280:
        # Every column is visible, the proposal's included, inside the region and the window.
        assert box(proposal)["x"] + box(proposal)["width"] <= min(frame["x"] + frame["width"], width) + 1
        last = page.locator("tr[data-row]").first.locator("select.level").last
        page.locator("select.level").first.focus()
        page.keyboard.press("End")
        assert page.evaluate("document.activeElement.id") == last.get_attribute("id")
        assert box(last)["x"] + box(last)["width"] <= box(proposal)["x"] + 1
    # Scrolled to the far right, the name column is still in view.
    region.evaluate("region => { region.scrollLeft = region.scrollWidth; }")
    assert box(name)["x"] >= frame["x"] - 1
    region.evaluate("region => { region.scrollLeft = 0; }")
    # The editable grid is one Tab stop: its first cell; the region itself leaves the Tab order.
    assert region.get_attribute("tabindex") is None


def test_a_read_only_grid_scrolls_by_keyboard(page, live_server, staff_user, trainer_user):
    _, _, session = evaluated_cohort(staff_user, trainer_user, numbers=(2,), count=3)
    page.set_viewport_size({"width": 390, "height": 900})
    log_in(page, live_server, trainer_user.username)
    page.goto(f"{live_server.url}{reverse('evaluation:grid', args=[session.pk, 2])}")
    page.get_by_text("Grille soumise : lecture seule.").wait_for()
    assert page.get_by_role("region", name="Niveaux du bloc 2").get_attribute("tabindex") == "0"
    page.get_by_label("Afficher les commentaires et l'historique des cellules").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('role')") == "region"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    # A function, not an expression: Playwright polls an expression with eval, which the page's CSP refuses.
    page.wait_for_function("() => document.activeElement.scrollLeft > 0")


def test_leaving_a_grid_with_unsaved_cells_asks_first(page, live_server, staff_user, trainer_user):
    _, _, session = evaluated_cohort(staff_user, trainer_user, numbers=(2,), count=2, submit=False)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, trainer_user.username)
    page.goto(f"{live_server.url}{reverse('evaluation:grid', args=[session.pk, 2])}")
    dialogs = []

    def stay(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    # Nothing typed: leaving asks nothing.
    page.get_by_role("link", name="Évaluations", exact=True).first.click()
    page.wait_for_url(f"{live_server.url}{reverse('evaluation:session_list')}")
    assert dialogs == []
    page.go_back()
    first = page.locator("select.level").first
    first.select_option(index=0 if first.input_value() else 1)
    page.get_by_role("link", name="Évaluations", exact=True).first.click(no_wait_after=True)
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    assert "/evaluation/" in page.url and reverse("evaluation:session_list") != page.url.removeprefix(live_server.url)
