"""A trainer fills an evaluation grid with the keyboard only, in real headless Chromium, and reads the proposals."""

import datetime

import pytest

from candidates import services as candidate_services
from evaluation import services
from evaluation.models import LevelEntry
from tests.browser.conftest import log_in
from tests.factories import make_candidate, make_cohort

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def proposal(page, full_name):
    row = page.locator("tr[data-row]").filter(has=page.get_by_role("rowheader", name=full_name, exact=True))
    return row.locator("[data-outcome]").inner_text(), row.locator("[data-explanation]").inner_text()


def test_trainer_fills_a_grid_with_the_keyboard(page, live_server, staff_user, trainer_user, blocks):
    cohort = make_cohort(staff_user, trainers=[trainer_user], name="MPES clavier")
    names = []
    for birth_name in ("Arnaud", "Bernard", "Charpin"):
        candidate = make_candidate(staff_user, birth_name=birth_name, first_name="Lou")
        candidate_services.enrolment_create(candidate=candidate, cohort=cohort, actor=staff_user)
        names.append(candidate.full_name)
    services.evaluation_session_open(
        cohort=cohort,
        blocks=[blocks[1]],
        evaluators=[trainer_user],
        starts_on=datetime.date(2026, 5, 4),
        ends_on=datetime.date(2026, 6, 12),
        actor=staff_user,
    )

    log_in(page, live_server, trainer_user.username)
    assert page.get_by_text("Vos grilles d'évaluation").is_visible()
    page.locator("#trainer-grids").get_by_role("link", name="MPES clavier — bloc 1").click()
    page.get_by_role("heading", name="Grille du bloc 1").wait_for()
    assert proposal(page, names[0]) == (
        "Incomplet",
        "4 compétences sans niveau sur 4 ; toutes les compétences doivent être évaluées",
    )

    counter = page.locator("#grid-counter")
    assert counter.inner_text() == "0 cellule renseignée sur 12"
    # One Tab stop into the grid: the first cell.
    page.get_by_role("checkbox", name="Afficher les commentaires").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == page.locator("select.level").first.get_attribute("id")
    # One letter picks the level, the arrows move between cells; "-" leaves a cell empty.
    for codes in ("ABCD", "CDDA", "AB--"):
        for code in codes:
            if code != "-":
                page.keyboard.press(code)
            page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Home")
    # Before saving: the counter and the proposals already follow, each unsaved cell marked.
    assert counter.inner_text() == "10 cellules renseignées sur 12, dont 10 non enregistrées"
    assert page.locator("td.table-info .unsaved-mark:visible").count() == 10
    # One polite message once typing pauses, for the last proposal that changed; not one per keystroke.
    page.locator("#grid-announcer").get_by_text(f"Proposition pour {names[1]} : Non validé.").wait_for(state="attached")
    # Delete empties a cell, a letter fills it again.
    page.keyboard.press("ArrowUp")
    page.keyboard.press("End")
    page.keyboard.press("Delete")
    assert proposal(page, names[1])[0] == "Incomplet"
    page.keyboard.press("A")
    assert proposal(page, names[0]) == ("Validé", "3 compétences au niveau C ou mieux sur 4 ; 3 requises")
    assert proposal(page, names[1]) == ("Non validé", "2 compétences au niveau C ou mieux sur 4 ; 3 requises")
    assert proposal(page, names[2]) == (
        "Incomplet",
        "2 compétences sans niveau sur 4 ; toutes les compétences doivent être évaluées",
    )

    # Tab leaves the grid for the save button: Enter saves the whole grid.
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Enregistrer la grille"
    page.keyboard.press("Enter")
    page.get_by_text("Grille enregistrée : 10 cellules modifiées.").wait_for()

    assert LevelEntry.objects.exclude(level="").count() == 10
    assert page.locator("#grid-counter").inner_text() == "10 cellules renseignées sur 12"
    assert proposal(page, names[0]) == ("Validé", "3 compétences au niveau C ou mieux sur 4 ; 3 requises")
    assert proposal(page, names[1]) == ("Non validé", "2 compétences au niveau C ou mieux sur 4 ; 3 requises")
    assert proposal(page, names[2])[0] == "Incomplet"
    assert page.get_by_label(f"Niveau de {names[1]} pour C2", exact=False).input_value() == "D"
