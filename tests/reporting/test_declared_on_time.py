"""The statistics: per year of delivery, the share of holders declared to the Caisse des Dépôts within three months,
on the page and in the exports."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.declarations.duty_world import award, build_world, declarant_for, declare, on_a_fixed_day

D = datetime.date
NBSP_PERCENT = "\u00a0%"
DASHBOARD = reverse("statistics:dashboard")


@pytest.fixture
def world(staff_user, certification, monkeypatch):
    on_a_fixed_day(monkeypatch)
    declarant_for(certification, staff_user)
    world = build_world(staff_user, certification)
    # 2021: eight holders, seven declared by their deadline (awarded 1 March, due 1 June), one after it
    holders = [award(staff_user, certification, D(2021, 3, 1), birth_name=f"Holder{index}") for index in range(8)]
    declare(staff_user, certification, holders[:7], D(2021, 6, 1))
    declare(staff_user, certification, holders[7:], D(2021, 6, 2))
    return world


def _table(html):
    table = html[html.index('id="declared_on_time"') :]
    return table[: table.index("</section>")]


def test_the_page_shows_the_share_declared_on_time_per_award_year(world, staff_client):
    table = _table(staff_client.get(DASHBOARD).content.decode())
    assert "<caption>Titulaires déclarés à la Caisse des Dépôts dans les trois mois, par année de délivrance" in table
    assert '<th scope="col" class="text-end">Part déclarée dans le délai</th>' in table
    # year, certified, on time, late, not yet declared, share
    expected = {
        "2021": ["8", "7", "1", "0", f"87,5{NBSP_PERCENT}"],
        "2022": ["1", "1", "0", "0", f"100,0{NBSP_PERCENT}"],  # due 28 February 2023, declared that day
        # the withdrawn certificate is not counted; the three not yet declared count against the share
        "2023": ["5", "1", "1", "3", f"20,0{NBSP_PERCENT}"],
    }
    for year, cells in expected.items():
        row = f'<th scope="row" class="fw-normal">{year}</th>' + "".join(
            f'<td class="text-end">{cell}</td>' for cell in cells
        )
        assert row in table, year


def test_a_year_filter_keeps_that_year(world, staff_client):
    table = _table(staff_client.get(DASHBOARD, {"year": "2021"}).content.decode())
    assert '<th scope="row" class="fw-normal">2021</th>' in table
    assert "2023</th>" not in table


def test_the_exports_carry_the_share(world, staff_client):
    response = staff_client.get(reverse("statistics:statistics_csv"))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    start = rows.index(["Titulaires déclarés à la Caisse des Dépôts dans les trois mois, par année de délivrance"])
    assert rows[start + 1] == [
        "Année de délivrance",
        "Certifiés",
        "Déclarés dans le délai",
        "Déclarés après l’échéance",
        "Pas encore déclarés",
        "Part déclarée dans le délai",
    ]
    assert rows[start + 2] == ["2021", "8", "7", "1", "0", f"87,5{NBSP_PERCENT}"]

    response = staff_client.get(reverse("statistics:statistics_xlsx"))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["Déclarés dans le délai"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][:5] == ("2021", 8, 7, 1, 0)
    assert values[1][5] == pytest.approx(0.875)
    assert sheet["F2"].number_format == "0.0 %"


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured)


def test_the_statistics_query_count_does_not_grow_with_holders(world, staff_client, staff_user, certification):
    urls = [DASHBOARD, reverse("statistics:statistics_csv"), reverse("statistics:statistics_xlsx")]
    small = [_queries(staff_client, url) for url in urls]
    build_world(staff_user, certification, suffix=" bis")
    assert '<td class="text-end">10</td>' in _table(staff_client.get(DASHBOARD).content.decode())
    assert [_queries(staff_client, url) for url in urls] == small
