"""The three-month duty (article L.6113-8 du Code du travail): each holder's deadline, their standing against it, and
the counts the declaration pages show."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.declaration_duty import DutyStatus, declaration_deadline, duty_status
from declarations import deadlines
from tests.declarations.duty_world import TODAY, build_world, declarant_for, on_a_fixed_day

D = datetime.date


# — The deadline: the same day three calendar months later, or the month's last day —


@pytest.mark.parametrize(
    ("awarded_on", "deadline"),
    [
        (D(2023, 3, 21), D(2023, 6, 21)),
        (D(2025, 11, 15), D(2026, 2, 15)),  # across the year boundary
        (D(2025, 10, 31), D(2026, 1, 31)),
        (D(2025, 12, 31), D(2026, 3, 31)),
        (D(2025, 11, 30), D(2026, 2, 28)),  # no 30 February: the month's last day
        (D(2027, 11, 30), D(2028, 2, 29)),  # a leap year
        (D(2023, 11, 29), D(2024, 2, 29)),
        (D(2024, 2, 29), D(2024, 5, 29)),
        (D(2025, 3, 31), D(2025, 6, 30)),
        (D(2025, 5, 31), D(2025, 8, 31)),
        (D(2025, 8, 31), D(2025, 11, 30)),
        (D(2025, 1, 1), D(2025, 4, 1)),
    ],
)
def test_the_deadline_is_three_calendar_months_after_the_award(awarded_on, deadline):
    assert declaration_deadline(awarded_on) == deadline
    assert deadlines.declaration_deadline is declaration_deadline  # one rule for every room


def test_the_standing_against_the_deadline_at_its_boundaries():
    awarded_on = D(2023, 3, 21)  # deadline 21 June 2023

    def status(today, declared_on=None):
        return duty_status(awarded_on=awarded_on, declared_on=declared_on, today=today)

    assert status(D(2023, 6, 5)) == DutyStatus.TO_DECLARE  # 16 days left
    assert status(D(2023, 6, 6)) == DutyStatus.DUE_SOON  # 15 days left
    assert status(D(2023, 6, 21)) == DutyStatus.DUE_SOON  # the deadline itself is still on time
    assert status(D(2023, 6, 22)) == DutyStatus.OVERDUE
    assert status(D(2023, 9, 1), declared_on=D(2023, 6, 21)) == DutyStatus.DECLARED_ON_TIME
    assert status(D(2023, 9, 1), declared_on=D(2023, 6, 22)) == DutyStatus.DECLARED_LATE
    # across the year boundary: awarded 15 November, due 15 February
    assert duty_status(awarded_on=D(2025, 11, 15), declared_on=None, today=D(2026, 2, 1)) == DutyStatus.DUE_SOON
    assert duty_status(awarded_on=D(2025, 11, 15), declared_on=None, today=D(2026, 2, 16)) == DutyStatus.OVERDUE


# — Every holder of a certification, classified —


@pytest.fixture
def world(staff_user, certification, monkeypatch):
    on_a_fixed_day(monkeypatch)
    declarant_for(certification, staff_user)
    return build_world(staff_user, certification)


def test_each_holder_is_classified_and_a_withdrawn_certificate_is_not_a_holder(world, certification):
    duties = deadlines.holder_duties(certification, TODAY)
    assert {award_id: duty.status for award_id, duty in duties.items()} == {
        world.overdue.pk: DutyStatus.OVERDUE,
        world.due_soon.pk: DutyStatus.DUE_SOON,
        world.later.pk: DutyStatus.TO_DECLARE,
        world.declared_late.pk: DutyStatus.DECLARED_LATE,
        world.declared_on_time.pk: DutyStatus.DECLARED_ON_TIME,
        world.across_year.pk: DutyStatus.DECLARED_ON_TIME,
    }
    assert duties[world.declared_late.pk].declared_on == D(2023, 5, 2)
    counts = deadlines.counts_for(certification, TODAY)
    assert (counts.to_declare, counts.due_soon, counts.overdue) == (3, 1, 1)
    assert (counts.declared_on_time, counts.declared_late) == (2, 1)
    assert counts.text == "3 titulaires à déclarer, dont 1 à déclarer sous 15 jours et 1 en retard"
    assert [duty.award_id for duty in counts.urgent] == [world.overdue.pk, world.due_soon.pk]


def test_counts_read_in_french():
    counts = deadlines.DutyCounts()
    assert counts.text == "Aucun titulaire à déclarer"
    counts.add(deadlines.HolderDuty(award_id=1, awarded_on=D(2023, 1, 2), declared_on=None, today=TODAY))
    assert counts.text == "1 titulaire à déclarer, dont 1 en retard"
    counts.add(deadlines.HolderDuty(award_id=2, awarded_on=D(2023, 5, 2), declared_on=None, today=TODAY))
    assert counts.text == "2 titulaires à déclarer, dont 1 en retard"


def test_the_declaration_page_shows_the_counts_and_each_deadline_in_french_overdue_first(
    world, staff_client, certification
):
    response = staff_client.get(reverse("declarations:declare", kwargs={"rncp_code": certification.rncp_code}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>3 titulaires à déclarer, dont 1 à déclarer sous 15 jours et 1 en retard.</strong>" in html
    rows = response.context["new_rows"]
    assert [row.award for row in rows] == [world.overdue, world.due_soon, world.later]
    assert [row.duty.sentence for row in rows] == [
        "à déclarer avant le 10 mai 2023",
        "à déclarer avant le 21 juin 2023",
        "à déclarer avant le 22 juin 2023",
    ]
    overdue_row = html[html.index(world.overdue.number) :]
    assert overdue_row.index("En retard") < overdue_row.index("</tr>")  # a word, not a colour only
    due_soon_row = html[html.index(world.due_soon.number) :]
    assert due_soon_row.index("Sous 15 jours") < due_soon_row.index("</tr>")
    later_row = html[html.index(world.later.number) :]
    assert "badge" not in later_row[: later_row.index("</tr>")]
    assert "déclaré le 2 mai 2023, après l’échéance du 15 avril 2023" in html
    assert "déclaré le 28 février 2023, dans le délai du 28 février 2023" in html
    assert world.withdrawn.number in html  # listed as withdrawn, never to declare
    assert world.withdrawn.pk not in [row.award.pk for row in rows]


def test_the_declarations_index_shows_the_counts_per_certification(world, staff_client, certification):
    html = staff_client.get(reverse("declarations:index")).content.decode()
    row = html[html.index(f'id="declaration-{certification.rncp_code}"') :]
    row = row[: row.index("</tr>")]
    assert "<strong>3 titulaires à déclarer, dont 1 à déclarer sous 15 jours et 1 en retard</strong>" in row
    assert "En retard" in row


# — Access: staff only, as before —


@pytest.mark.parametrize("role_client", ["trainer_client", "president_client"])
def test_others_see_no_deadline(request, role_client, world, certification):
    client = request.getfixturevalue(role_client)
    assert client.get(reverse("declarations:declare", kwargs={"rncp_code": certification.rncp_code})).status_code == 403
    assert client.get(reverse("declarations:index")).status_code == 403
    assert "à déclarer" not in client.get(reverse("home")).content.decode()


def test_anonymous_see_no_deadline(client, world, certification):
    response = client.get(reverse("declarations:declare", kwargs={"rncp_code": certification.rncp_code}))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# — A bounded number of queries —


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_declaration_pages_query_counts_do_not_grow_with_holders(world, staff_client, staff_user, certification):
    urls = [
        reverse("declarations:declare", kwargs={"rncp_code": certification.rncp_code}),
        reverse("declarations:index"),
    ]
    small = [_queries(staff_client, url) for url in urls]
    build_world(staff_user, certification, suffix=" bis")
    assert deadlines.counts_for(certification, TODAY).to_declare == 6
    assert [_queries(staff_client, url) for url in urls] == small
