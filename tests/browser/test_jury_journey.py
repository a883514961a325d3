"""Staff compose a jury, the president deliberates, overrides one proposal with a reason and signs off — in real
headless Chromium."""

import re

import pytest

from candidates.models import AcquiredBlock
from juries.models import Decision, JurySession, JurySessionStatus
from tests.browser.conftest import log_in
from tests.factories import evaluated_cohort

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def add_member(page, name, organisation, category, president_label=None):
    page.get_by_role("link", name="Ajouter un membre").click()
    page.locator("#id_name").fill(name)
    page.locator("#id_organisation").fill(organisation)
    page.locator("#id_category").select_option(label=category)
    if president_label:
        page.locator("#id_is_president").check()
        page.locator("#id_user").select_option(label=president_label)
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_role("heading", name=re.compile("Jury du")).wait_for()


def test_staff_compose_president_deliberates_and_signs(page, live_server, staff_user, trainer_user, president_user):
    # Two candidates evaluated on blocks 1 and 2; the second fails block 1 on the grid.
    _, enrolments, _ = evaluated_cohort(
        staff_user, trainer_user, count=2, codes={1: ["A", "D"], 2: "A"}, name="MPES navigateur"
    )
    second = enrolments[1].candidate

    log_in(page, live_server, staff_user.username)
    page.get_by_role("link", name="Jurys").first.click()
    page.get_by_role("link", name="Préparer une session").click()
    page.get_by_label("Date du jury").fill("2022-06-14")
    page.get_by_label("Lieu").fill("IRUP, Saint-Étienne")
    page.get_by_label(re.compile(r"Bloc 1 —")).check()
    page.get_by_label(re.compile(r"Bloc 2 —")).check()
    page.get_by_role("button", name="Créer la session").click()
    assert page.locator("#violations").get_by_text("Le jury n'a pas de président.").is_visible()

    add_member(page, "Hélène Garnier", "Fondation Les Hauts du Pilat", "Professionnel employeur", "Presidente")
    assert (
        page.locator("#violations")
        .get_by_text("Il faut autant de professionnels que de formateurs (1 professionnel, 0 formateur).")
        .is_visible()
    )
    add_member(page, "Marc Dumas", "Association Loire Insertion", "Professionnel salarié")
    add_member(page, "Anne Roche", "IRUP", "Formateur")
    add_member(page, "Paul Vernet", "IRUP", "Formateur")
    assert page.get_by_text("La composition du jury respecte la fiche.").is_visible()

    page.get_by_role("link", name="Présenter des candidats").click()
    for enrolment in enrolments:
        page.get_by_role("button", name=f"Présenter {enrolment.candidate.full_name}").click()
        page.get_by_text(f"{enrolment.candidate.full_name} est présenté au jury.").wait_for()
    page.get_by_role("button", name="Se déconnecter").click()

    # The president deliberates from their home page.
    log_in(page, live_server, president_user.username)
    page.get_by_role("link", name="Jury du 14/06/2022 — IRUP, Saint-Étienne").click()
    session = JurySession.objects.get()
    decision = Decision.objects.get(presentation__enrolment__candidate=second, block__number=1)
    select = page.get_by_label(f"Décision du jury — {second.full_name}, bloc 1")
    assert select.input_value() == "not_validated"  # the proposal, by default
    select.select_option("validated")
    page.get_by_role("button", name="Enregistrer les décisions").click()
    assert page.locator("#errors").get_by_text("exige un motif écrit").is_visible()
    page.get_by_label(f"Décision du jury — {second.full_name}, bloc 1").select_option("validated")
    page.locator(f"#d-{decision.pk}-reason").fill("Compétence C4 démontrée à l'oral devant le jury.")
    page.get_by_role("button", name="Enregistrer les décisions").click()
    page.get_by_text("Décisions enregistrées").wait_for()

    page.get_by_role("link", name="Passer à la signature").click()
    # A typo first: a French message under the field, tied to it for screen readers; nothing is signed.
    page.get_by_label("Votre mot de passe").fill("mot-de-pase-de-test")
    page.get_by_role("button", name="Signer la session").click()
    field = page.get_by_label("Votre mot de passe")
    assert field.get_attribute("aria-invalid") == "true"
    assert "id_password_error" in field.get_attribute("aria-describedby")
    assert page.locator("#id_password_error").inner_text() == (
        "Mot de passe incorrect : la signature n'est pas enregistrée."
    )
    assert JurySession.objects.get().status == JurySessionStatus.PREPARED
    page.get_by_label("Votre mot de passe").fill("mot-de-passe-de-test")
    page.get_by_role("button", name="Signer la session").click()
    page.get_by_text("Session signée : les décisions sont définitives. Blocs acquis ajoutés : 4.").wait_for()

    session.refresh_from_db()
    assert session.status == JurySessionStatus.SIGNED
    decision.refresh_from_db()
    assert decision.outcome == "validated" and decision.proposal_outcome == "not_validated"
    assert AcquiredBlock.objects.filter(candidate=second, jury_decision__isnull=False).count() == 2
    page.get_by_role("button", name="Se déconnecter").click()

    log_in(page, live_server, staff_user.username)
    page.goto(f"{live_server.url}/candidats/{second.pk}/")
    assert page.get_by_text("Décision du jury du 14 juin 2022").first.is_visible()
