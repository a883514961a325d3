"""Each role's home, in real headless Chromium at 1280 px and 390 px: its work fits the screen (nothing scrolls
sideways), headings follow one another without a gap, and a task's link is reached by the keyboard and opens the
page that does it."""

import datetime

import pytest

from candidates.models import Candidate
from tests.browser.conftest import log_in, watch_content_security_policy
from tests.declarations.duty_world import award
from tests.factories import VALID_MEMBERS, evaluated_cohort, make_jury, present_all

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_PLACE = "Institut régional universitaire polytechnique, Campus Industriel de Saint-Étienne — amphithéâtre Copernic"
HEADINGS = "[...document.querySelectorAll('main h1, main h2, main h3, main h4')].map(h => Number(h.tagName[1]))"


def _busy_world(staff, trainer, president, certification):
    evaluated_cohort(staff, trainer, count=1, name="Promotion au nom très long, Saint-Étienne, formation continue")
    evaluated_cohort(staff, trainer, count=2, submit=False, name="Promotion en cours de saisie, apprentissage")
    _, enrolments, _ = evaluated_cohort(staff, trainer, count=2, name="Promotion présentée au jury")
    present_all(make_jury(staff, president, place=LONG_PLACE), enrolments, staff)
    make_jury(staff, president, members=VALID_MEMBERS[:1], place=LONG_PLACE)
    holder = award(staff, certification, datetime.date(2022, 6, 14), birth_name="Désiré-Lagrange-Montbrison")
    Candidate.objects.filter(pk=holder.candidate_id).update(birth_country_code="")


def _check_home(page, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    levels = page.evaluate(HEADINGS)
    assert levels[0] == 1
    assert all(later - earlier <= 1 for earlier, later in zip(levels, levels[1:], strict=False)), levels


@pytest.mark.parametrize("width", [1280, 390])
def test_each_home_fits_the_screen_and_its_tasks_open_by_keyboard(
    browser, page, live_server, staff_user, trainer_user, president_user, certification, width
):
    _busy_world(staff_user, trainer_user, president_user, certification)

    log_in(page, live_server, staff_user.username)
    _check_home(page, width)
    task = page.locator("#task-jurys-du-jour")
    assert task.get_by_role(
        "heading", name="1 jury dont le jour est venu, à délibérer ou à signer En retard"
    ).is_visible()
    link = task.get_by_role("link", name=f"Jury du 14 juin 2022 — {LONG_PLACE}")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/jurys/*/")

    for user, key, count in ((trainer_user, "grilles-a-remplir", "2"), (president_user, "a-deliberer", "1")):
        context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
        other = context.new_page()
        violations = watch_content_security_policy(other)
        log_in(other, live_server, user.username)
        _check_home(other, width)
        assert other.locator(f"#task-{key} .home-task-count").inner_text() == count
        other.locator(f"#task-{key} a").first.focus()
        with other.expect_navigation():
            other.keyboard.press("Enter")
        assert other.url != f"{live_server.url}/"
        context.close()
        assert not violations, violations
