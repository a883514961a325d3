"""The president deliberates by keyboard: what is saved, still to decide or changed is marked; leaving with a
change not saved asks first; « Passer à la signature » saves the change or keeps it on the page — in real headless
Chromium, at 1280 px and 390 px."""

import re

import pytest
from django.urls import reverse

from juries import services
from juries.models import Decision
from tests.browser.conftest import log_in
from tests.factories import evaluated_cohort, make_jury, present_all

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def state(page, decision):
    return page.locator(f"#d-{decision.pk}-state").inner_text()


@pytest.mark.parametrize("width", [1280, 390])
def test_president_sees_what_is_saved_and_never_loses_a_change(
    page, live_server, staff_user, trainer_user, president_user, width
):
    # Three candidates on blocks 1 and 2; the second fails block 1 on the grid.
    _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=3, codes={1: ["A", "D", "A"], 2: "A"})
    session = make_jury(staff_user, president_user)
    present_all(session, enrolments, staff_user)
    decisions = {
        (d.presentation.enrolment_id, d.block.number): d
        for d in Decision.objects.filter(presentation__session=session).select_related("presentation", "block")
    }
    first, second = enrolments[0], enrolments[1]
    # The first candidate's decisions are already recorded; the others are not.
    services.decisions_record(
        session=session,
        entries=[
            services.DecisionInput(decision_id=decisions[first.pk, n].pk, outcome="validated", reason="")
            for n in (1, 2)
        ],
        actor=president_user,
    )
    overridden = decisions[second.pk, 1]

    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, president_user.username)
    page.goto(f"{live_server.url}{reverse('juries:deliberation', args=[session.pk])}")
    summary = page.locator("#deliberation-summary")
    assert summary.inner_text() == "2 décisions enregistrées sur 6, 4 à décider."
    assert state(page, decisions[first.pk, 1]) == "Enregistré"
    assert state(page, overridden) == "À décider — non enregistré"
    # The proposal is a suggestion: the select shows it, its accessible name says whose decision it is.
    select = page.get_by_label(f"Décision du jury — {second.candidate.full_name}, bloc 1")
    assert select.input_value() == "not_validated"
    assert page.get_by_text("Décision du jury —").first.bounding_box()["width"] <= 1  # screen readers only
    # No reason box while the decision follows the proposal.
    assert not page.locator(f"#d-{overridden.pk}-reason").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    # One Tab stop into the table, arrows between decisions, a letter chooses.
    page.get_by_label("Afficher un motif pour chaque décision").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == f"d-{decisions[first.pk, 1].pk}-outcome"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.id") == f"d-{overridden.pk}-outcome"
    page.keyboard.press("v")
    assert select.input_value() == "validated"
    assert state(page, overridden) == "Modifié — non enregistré"
    assert summary.inner_text() == "2 décisions enregistrées sur 6, 3 à décider, 1 modifiée non enregistrée."
    reason = page.locator(f"#d-{overridden.pk}-reason")
    assert reason.is_visible()
    assert page.locator("#deliberation-announcer").inner_text().startswith("Écart à la proposition")

    # Leaving asks first; staying keeps the change.
    dialogs = []

    def stay(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    page.get_by_role("link", name="Jurys", exact=True).first.click(no_wait_after=True)
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    assert "/deliberation/" in page.url and select.input_value() == "validated"

    # « Passer à la signature » without the reason: refused, nothing saved, the change still there, said so.
    page.get_by_role("button", name="Passer à la signature").click()
    assert (
        page.locator("#errors")
        .get_by_text("Rien n'a été enregistré et la session n'est pas passée à la signature", exact=False)
        .is_visible()
    )
    assert page.locator("#errors").get_by_text("exige un motif écrit", exact=False).is_visible()
    assert select.input_value() == "validated"
    assert state(page, overridden) == "Modifié — non enregistré"
    overridden.refresh_from_db()
    assert not overridden.outcome

    # With the reason, it saves then goes to the signature page; saving never triggers the guard.
    reason.fill("Compétence C4 démontrée à l'oral devant le jury.")
    page.get_by_role("button", name="Passer à la signature").click()
    page.wait_for_url(re.compile(r"/signature/$"))
    assert dialogs == ["beforeunload"]
    overridden.refresh_from_db()
    assert overridden.outcome == "validated" and overridden.departure_reason.startswith("Compétence C4")

    page.goto(f"{live_server.url}{reverse('juries:deliberation', args=[session.pk])}")
    assert summary.inner_text() == "6 décisions enregistrées sur 6."
    assert state(page, overridden) == "Enregistré"
    assert page.locator(f"#d-{overridden.pk}-reason").input_value().startswith("Compétence C4")
