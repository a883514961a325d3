"""Staff narrow the candidate list as they type and sort it by column, in real Chromium, on a desktop and a phone."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from candidates import services
from tests.browser.conftest import log_in
from tests.factories import make_candidate, make_cohort

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAMES = {"FABRE": 1990, "ÉLOI": 1975, "CHAMBON": 1982, "CÉLESTIN": 1988, "CHARPIN": 1970}


@pytest.fixture
def cohort(staff_user):
    cohort = make_cohort(staff_user, name="Promotion des Alpes")
    for name, year in NAMES.items():
        candidate = make_candidate(staff_user, birth_name=name, birth_date=datetime.date(year, 6, 1))
        services.enrolment_create(candidate=candidate, cohort=cohort, actor=staff_user)
    make_candidate(staff_user, birth_name="CHAUVET")  # in no cohort: filtered out
    return cohort


def listed_names(page) -> list[str]:
    cells = page.locator("#candidate-results tbody tr td:first-child").all_inner_texts()
    return [cell.split(" ")[0] for cell in cells]


@pytest.mark.parametrize("width", [1280, 390])
def test_typing_narrows_the_list_and_sorting_keeps_the_search(page, live_server, staff_user, cohort, width):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, staff_user.username)
    page.goto(f"{live_server.url}/candidats/?cohort={cohort.pk}")
    assert listed_names(page) == ["CÉLESTIN", "CHAMBON", "CHARPIN", "ÉLOI", "FABRE"]  # French order
    name_header = page.locator("th", has=page.get_by_role("link", name="Nom, trier par ordre décroissant"))
    assert name_header.get_attribute("aria-sort") == "ascending"

    search = page.get_by_label("Rechercher (nom, nom de naissance, prénom, courriel)")
    search.press_sequentially("cha", delay=40)  # no click, no Enter
    expect(page.locator("#candidate-results tbody tr")).to_have_count(2)
    assert listed_names(page) == ["CHAMBON", "CHARPIN"]
    page.get_by_role("status").filter(has_text="2 candidats.").wait_for()
    assert page.locator("#candidate-count").inner_text() == "(2)"
    assert search.input_value() == "cha" and search.evaluate("node => node === document.activeElement")
    # The address keeps the filter, never the names searched (they stay in the session).
    assert f"cohort={cohort.pk}" in page.url and "cha" not in page.url.lower()

    search.press_sequentially("r", delay=40)
    page.get_by_role("status").filter(has_text="1 candidat.").wait_for()
    assert listed_names(page) == ["CHARPIN"]
    search.press("Backspace")
    page.get_by_role("status").filter(has_text="2 candidats.").wait_for()

    page.get_by_role("link", name="Né(e) le, trier par ordre croissant").click()
    page.wait_for_url(re.compile(r"tri=naissance"))
    assert f"cohort={cohort.pk}" in page.url
    assert listed_names(page) == ["CHAMBON", "CHARPIN"][::-1]  # 1970, then 1982: the search is kept
    assert page.get_by_label("Rechercher (nom, nom de naissance, prénom, courriel)").input_value() == "cha"
    birth_header = page.locator("th", has=page.get_by_role("link", name="Né(e) le, trier par ordre décroissant"))
    assert birth_header.get_attribute("aria-sort") == "ascending"
    assert "▲" in birth_header.inner_text()

    page.get_by_role("link", name="Né(e) le, trier par ordre décroissant").click()
    page.wait_for_url(re.compile(r"tri=-naissance"))
    assert listed_names(page) == ["CHAMBON", "CHARPIN"]
    # Typing again searches within the sorted list, which stays sorted.
    page.get_by_label("Rechercher (nom, nom de naissance, prénom, courriel)").fill("")
    page.get_by_role("status").filter(has_text="5 candidats.").wait_for()
    assert listed_names(page) == ["FABRE", "CÉLESTIN", "CHAMBON", "ÉLOI", "CHARPIN"]
    assert "tri=-naissance" in page.url


def test_without_javascript_the_search_button_still_searches(browser, live_server, staff_user, cohort):
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server, staff_user.username)
        page.goto(f"{live_server.url}/candidats/?cohort={cohort.pk}&tri=-nom")
        page.get_by_label("Rechercher (nom, nom de naissance, prénom, courriel)").fill("cha")
        page.get_by_role("button", name="Rechercher", exact=True).click()
        page.wait_for_load_state()
        assert listed_names(page) == ["CHARPIN", "CHAMBON"]
        assert "tri=-nom" in page.url and f"cohort={cohort.pk}" in page.url
    finally:
        context.close()
