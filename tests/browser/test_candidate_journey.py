"""Staff record a candidate, meet the duplicate warning, enrol them and read their file, in real Chromium."""

import pytest

from candidates.models import Candidate
from tests.browser.conftest import log_in
from tests.factories import make_candidate, make_cohort

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_identity(page, birth_name):
    page.get_by_label("Nom de naissance").fill(birth_name)
    page.get_by_label("Prénom*", exact=True).fill("Inès")
    page.get_by_label("Sexe").select_option("F")
    page.get_by_label("Date de naissance").fill("1990-03-14")
    page.get_by_label("Commune de naissance", exact=True).fill("Ajaccio")
    page.get_by_label("Code INSEE de la commune de naissance").fill("2A004")
    page.get_by_label("Courriel").fill("ines.test@example.org")


def test_staff_create_enrol_and_read_a_candidate_file(page, live_server, staff_user):
    make_candidate(staff_user, birth_name="Rossi", first_name="Inès", birth_date="1990-03-14")
    cohort = make_cohort(staff_user, pathway_code="apprentissage", name="MPES apprentissage 2026")
    log_in(page, live_server, staff_user.username)
    page.get_by_role("link", name="Candidats", exact=True).click()
    page.get_by_role("link", name="Nouveau candidat").click()

    fill_identity(page, "Rossi")
    page.get_by_label("Téléphone").fill("123")
    page.get_by_role("button", name="Enregistrer").click()
    assert page.locator(".invalid-feedback").get_by_text("Numéro de téléphone invalide").is_visible()
    assert page.get_by_text("Doublon probable", exact=True).is_visible()
    assert Candidate.objects.count() == 1

    page.get_by_label("Téléphone").fill("06 11 22 33 44")
    page.get_by_label("Je confirme qu'il s'agit d'une autre personne").check()
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("créé.").wait_for()
    assert Candidate.objects.count() == 2

    page.get_by_role("link", name="Inscrire dans une promotion").click()
    page.get_by_label("Promotion").select_option(label=f"{cohort.name} — En contrat d'apprentissage (RNCP16204)")
    page.get_by_role("button", name="Inscrire").click()
    page.get_by_text("Inscription dans la promotion").wait_for()
    assert page.get_by_role("cell", name="MPES apprentissage 2026").is_visible()
    assert page.locator("text=En cours").count() >= 4


def test_birth_commune_and_country_are_chosen_from_the_lists_with_the_keyboard(page, live_server, staff_user):
    log_in(page, live_server, staff_user.username)
    page.goto(f"{live_server.url}/candidats/nouveau/")
    search = page.get_by_role("combobox", name="Rechercher la commune de naissance")
    code = page.get_by_label("Code INSEE de la commune de naissance")
    search.press_sequentially("saint etienne")
    listbox = page.get_by_role("listbox")
    listbox.get_by_role("option", name="Saint-Étienne (42218)").wait_for()  # the answer to the whole query
    assert search.get_attribute("aria-expanded") == "true"
    assert listbox.get_by_role("option").first.inner_text() == "Saint-Étienne (42218)"
    search.press("ArrowDown")
    assert search.get_attribute("aria-activedescendant") == listbox.get_by_role("option").first.get_attribute("id")
    search.press("Enter")
    assert code.input_value() == "42218"
    assert page.get_by_label("Commune de naissance", exact=True).input_value() == "Saint-Étienne"
    assert search.get_attribute("aria-expanded") == "false"

    page.get_by_role("combobox", name="Rechercher le pays de naissance").press_sequentially("allem")
    page.get_by_role("option", name="ALLEMAGNE (99109)").click()
    assert page.get_by_label("Pays de naissance (code INSEE)").input_value() == "99109"
