"""A staff member completes a block's grid in real headless Chromium, with the keyboard."""

import pytest

from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_completes_the_grid_of_block_3(page, live_server, staff_user):
    log_in(page, live_server, staff_user.username)
    page.get_by_role("link", name="Fiches RNCP", exact=True).click()
    page.get_by_role("link", name="RNCP16204 — Manager de proximité dans l'économie sociale et solidaire").click()
    assert page.get_by_text("Enregistrement au RNCP échu depuis le 17 avril 2023").is_visible()
    bloc3 = page.get_by_role("article", name="Bloc 3 · RNCP16204BC03")
    assert bloc3.get_by_text("3 compétences définies sur 7 — grille à compléter").is_visible()
    bloc3.get_by_role("link", name="Modifier la grille du bloc 3").click()

    field = page.get_by_label("Intitulé de la nouvelle compétence")
    field.press("Enter")  # empty submit: refused, message next to the field
    assert (
        page.locator(".invalid-feedback").get_by_text("L'intitulé de la compétence ne peut pas être vide.").is_visible()
    )

    for index in range(1, 5):
        field = page.get_by_label("Intitulé de la nouvelle compétence")
        field.fill(f"[Démo] Critère complémentaire {index}")
        field.press("Enter")
        page.get_by_text("Compétence ajoutée à la grille.").wait_for()

    assert page.get_by_text("7 compétences définies sur 7").is_visible()
    page.get_by_role("link", name="Fiche RNCP 16204").click()
    bloc3 = page.get_by_role("article", name="Bloc 3 · RNCP16204BC03")
    assert bloc3.get_by_text("Grille complète").is_visible()
    assert bloc3.get_by_text("[Démo] Critère complémentaire 4").is_visible()


def test_trainer_gets_a_french_403_on_a_staff_page(page, live_server, trainer_user):
    log_in(page, live_server, trainer_user.username)
    page.goto(f"{live_server.url}/referentiel/16204/blocs/2/")
    assert page.get_by_role("heading", name="Accès refusé").is_visible()
