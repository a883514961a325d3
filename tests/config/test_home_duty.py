"""The staff home: per certification, the holders to declare to the Caisse des Dépôts, those due within 15 days and
those overdue, with a link to the declaration page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.declarations.duty_world import build_world, declarant_for, on_a_fixed_day


@pytest.fixture
def world(staff_user, certification, monkeypatch):
    on_a_fixed_day(monkeypatch)
    declarant_for(certification, staff_user)
    return build_world(staff_user, certification)


def _duty_block(html, certification):
    block = html[html.index(f'id="duty-{certification.rncp_code}"') :]
    return block[: block.index("</div>")]


def test_the_staff_home_lists_the_holders_to_declare_most_urgent_first(world, staff_client, certification):
    block = _duty_block(staff_client.get(reverse("home")).content.decode(), certification)
    assert "<strong>3 titulaires à déclarer, dont 1 à déclarer sous 15 jours et 1 en retard</strong>" in block
    assert f'href="{reverse("declarations:declare", kwargs={"rncp_code": certification.rncp_code})}"' in block
    overdue, due_soon = block.index(world.overdue.number), block.index(world.due_soon.number)
    assert overdue < due_soon
    assert 'à déclarer avant le 10 mai 2023 <span class="badge text-bg-danger">En retard</span>' in block
    assert 'à déclarer avant le 21 juin 2023 <span class="badge text-bg-warning">Sous 15 jours</span>' in block
    # counted, not listed: 16 days left; never: declared, or withdrawn
    for award in (world.later, world.declared_late, world.declared_on_time, world.withdrawn):
        assert award.number not in block


def test_nothing_to_declare_says_nothing(staff_client, certification):
    assert 'id="duty-' not in staff_client.get(reverse("home")).content.decode()


def _home_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    return len(captured)


def test_the_home_query_count_does_not_grow_with_holders(world, staff_client, staff_user, certification):
    small = _home_queries(staff_client)
    build_world(staff_user, certification, suffix=" bis")
    html = staff_client.get(reverse("home")).content.decode()
    assert "6 titulaires à déclarer, dont 2 à déclarer sous 15 jours et 2 en retard" in html
    assert _home_queries(staff_client) == small
