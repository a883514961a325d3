"""Staff compose a jury (a substitute sits for the member linked to a candidate), the president deliberates,
overrides one proposal with a reason and signs off; staff plan juries and read what their dates allow — in real
headless Chromium, at 1280 px and 390 px."""

import datetime
import re

import pytest

from candidates import services as candidate_services
from candidates.models import AcquiredBlock
from juries import selectors, services
from juries.models import Decision, JurySession, JurySessionStatus
from tests.browser.conftest import log_in
from tests.factories import evaluated_cohort

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def add_member(page, name, organisation, category, president_label=None, substitute=False):
    page.get_by_role("link", name="Ajouter un membre").click()
    page.locator("#id_name").fill(name)
    page.locator("#id_organisation").fill(organisation)
    page.locator("#id_category").select_option(label=category)
    if substitute:
        page.get_by_label("Suppléant").check()
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
    candidate_services.enrolment_update(
        enrolment=enrolments[1], actor=staff_user, status=enrolments[1].status, tutor_name="M. Marc Dumas"
    )

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

    # Marc Dumas is the second candidate's tutor: without him the panel on that candidate breaks the rule.
    page.get_by_role("link", name="Jury du 14/06/2022 — IRUP, Saint-Étienne").first.click()
    problem = page.locator("#presented .panel-problem")
    assert problem.get_by_text(re.compile(f"^{re.escape(second.full_name)} : le jury qui délibère")).is_visible()
    add_member(page, "Claire Vidal", "Union régionale des Scop", "Professionnel salarié", substitute=True)
    assert page.get_by_text("La composition du jury respecte la fiche.").first.is_visible()
    assert page.locator("#presented").get_by_text("Claire Vidal — suppléant, remplace Marc Dumas").is_visible()
    assert page.locator("#presented .panel-problem").count() == 0
    page.get_by_role("button", name="Se déconnecter").click()

    # The president deliberates from their home page.
    log_in(page, live_server, president_user.username)
    page.get_by_role("link", name="Jury du 14 juin 2022 — IRUP, Saint-Étienne").first.click()
    session = JurySession.objects.get()
    assert page.locator(".panel").get_by_text("Claire Vidal — suppléant, remplace Marc Dumas").is_visible()
    decision = Decision.objects.get(presentation__enrolment__candidate=second, block__number=1)
    select = page.get_by_label(f"Décision du jury — {second.full_name}, bloc 1")
    assert select.input_value() == "not_validated"  # the proposal, by default
    select.select_option("validated")
    page.get_by_role("button", name="Enregistrer les décisions").click()
    assert page.locator("#errors").get_by_text("exige un motif écrit").is_visible()
    page.get_by_label(f"Décision du jury — {second.full_name}, bloc 1").select_option("validated")
    page.locator(f"#d-{decision.pk}-reason").fill("Compétence C4 démontrée à l'oral devant le jury.")
    page.get_by_role("button", name="Enregistrer les décisions").click()
    page.get_by_text(re.compile("^Décisions enregistrées")).wait_for()

    page.get_by_role("button", name="Passer à la signature").click()
    dates = page.locator("#session-dates")
    assert dates.get_by_text("Mardi 14 juin 2022").is_visible()
    assert dates.get_by_text(re.compile(r"^Arrêté du 9 avril 2018 .*au 17 avril 2023$")).is_visible()
    # A typo first: a French message under the field, tied to it for screen readers; nothing is signed.
    page.get_by_label("Votre mot de passe").fill("mot-de-pase-de-test")
    page.get_by_role("button", name="Signer la session").click()
    field = page.get_by_label("Votre mot de passe")
    assert field.get_attribute("aria-invalid") == "true"
    assert "id_password_error" in field.get_attribute("aria-describedby")
    assert page.locator("#id_password_error").inner_text() == ("Mot de passe incorrect : rien n'a été signé.")
    assert JurySession.objects.get().status == JurySessionStatus.PREPARED
    page.get_by_label("Votre mot de passe").fill("mot-de-passe-de-test")
    page.get_by_role("button", name="Signer la session").click()
    page.get_by_text("Session signée : les décisions sont définitives. Blocs acquis ajoutés : 4.").wait_for()

    session.refresh_from_db()
    assert session.status == JurySessionStatus.SIGNED
    decision.refresh_from_db()
    assert decision.outcome == "validated" and decision.proposal_outcome == "not_validated"
    assert AcquiredBlock.objects.filter(candidate=second, jury_decision_link__isnull=False).count() == 2
    page.get_by_role("button", name="Se déconnecter").click()

    log_in(page, live_server, staff_user.username)
    page.goto(f"{live_server.url}/candidats/{second.pk}/")
    assert page.get_by_text("Décision du jury du 14 juin 2022").first.is_visible()


@pytest.mark.parametrize("width", [1280, 390])
def test_staff_plan_a_jury_and_read_what_its_date_allows(page, live_server, staff_user, width):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, staff_user.username)
    page.goto(f"{live_server.url}/jurys/nouvelle/")
    too_far = selectors.latest_plannable_date() + datetime.timedelta(days=1)
    page.get_by_label("Date du jury").fill(too_far.isoformat())
    page.get_by_label("Lieu").fill("IRUP, Saint-Étienne")
    page.get_by_label(re.compile(r"Bloc 1 —")).check()
    page.get_by_role("button", name="Créer la session").click()
    error = page.locator("#error_1_id_date")
    assert error.get_by_text(re.compile("^Un jury ne se prévoit pas plus de deux ans à l'avance")).is_visible()
    assert not JurySession.objects.exists()

    page.get_by_label("Date du jury").fill("2026-06-15")
    page.get_by_role("button", name="Créer la session").click()
    page.get_by_role("heading", name=re.compile("Jury du 15 juin 2026")).wait_for()
    assert page.get_by_text(
        re.compile("^Attention : La date du jury .15/06/2026. est hors de toute période")
    ).is_visible()
    warning = page.locator("#registration-warning")
    assert (
        warning.is_visible()
        and "l'enregistrement de la fiche RNCP16204 a pris fin le 17 avril 2023" in warning.inner_text()
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing overflows the screen


def test_the_session_page_reads_on_a_phone(page, live_server, staff_user, trainer_user, president_user):
    """390 px: the members, the candidates and who deliberates on whom scroll inside their tables, never the page."""
    from juries.models import JuryMember
    from tests.factories import make_jury, present_all

    _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=3, name="MPES téléphone")
    candidate_services.enrolment_update(
        enrolment=enrolments[0], actor=staff_user, status=enrolments[0].status, tutor_name="M. Marc Dumas"
    )
    session = make_jury(staff_user, president_user)
    services.jury_member_save(
        member=JuryMember(
            session=session, name="Claire Vidal", organisation="URSCOP", category="employee_professional",
            is_substitute=True,
        ),
        actor=staff_user,
    )  # fmt: skip
    present_all(session, enrolments, staff_user)
    page.set_viewport_size({"width": 390, "height": 900})
    log_in(page, live_server, staff_user.username)
    page.goto(f"{live_server.url}/jurys/{session.pk}/")
    assert page.locator("#presented").get_by_text("Claire Vidal — suppléant, remplace Marc Dumas").count() == 1
    assert page.get_by_text("Signature possible à partir du").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
