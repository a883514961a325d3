"""Sortable list tables (certif.sorting): `?tri=`, its header links, and each list page that uses it."""

import datetime
import html as html_module
import re

import pytest
from django.test import RequestFactory
from django.urls import reverse

from candidates import services
from candidates.models import Candidate
from certif.collation import person_order
from certif.sorting import SortColumn, TableSort
from tests.factories import JURY_DAY, evaluated_cohort, make_candidate, make_cohort, make_jury

COLUMNS = (
    SortColumn("nom", "Nom", person_order()),
    SortColumn("naissance", "Né(e) le", ("birth_date",)),
)


def _sort(query: dict, default="nom") -> TableSort:
    return TableSort(RequestFactory().get("/candidats/", query), COLUMNS, default=default)


class TestTableSort:
    def test_no_sort_asked_is_the_default_order_shown_on_its_column(self):
        sort = _sort({})
        assert (sort.key, sort.descending, sort.query) == ("nom", False, "")
        assert sort.headers["nom"].aria_sort == "ascending"
        assert sort.headers["naissance"].aria_sort == ""

    @pytest.mark.parametrize("asked", ["prenom", "-", "--nom", "nom; drop", "NOM", ""])
    def test_an_unknown_value_is_ignored(self, asked):
        sort = _sort({"tri": asked})
        assert (sort.key, sort.descending) == ("nom", False)

    def test_a_descending_sort_and_the_link_that_reverses_it(self):
        sort = _sort({"tri": "-naissance"})
        assert (sort.key, sort.descending, sort.query) == ("naissance", True, "tri=-naissance")
        header = sort.headers["naissance"]
        assert header.aria_sort == "descending" and header.arrow == "▼"
        assert header.link_label == "Né(e) le, trier par ordre croissant"
        assert header.url == "?tri=naissance"
        assert sort.headers["nom"].link_label == "Nom, trier par ordre croissant"
        assert sort.headers["nom"].arrow == "↕"

    def test_the_sorted_column_offers_the_other_direction(self):
        header = _sort({"tri": "naissance"}).headers["naissance"]
        assert header.aria_sort == "ascending" and header.arrow == "▲"
        assert (header.url, header.link_label) == ("?tri=-naissance", "Né(e) le, trier par ordre décroissant")

    def test_links_keep_the_filters_and_go_back_to_the_first_page(self):
        url = _sort({"cohort": "4", "status": "en_cours", "page": "3", "tri": "nom"}).headers["naissance"].url
        assert url.startswith("?") and "page" not in url
        assert dict(pair.split("=") for pair in url[1:].split("&")) == {
            "cohort": "4",
            "status": "en_cours",
            "tri": "naissance",
        }

    def test_rows_in_memory_sort_by_their_value(self):
        columns = (SortColumn("n", "N", value=lambda row: row["n"]),)
        rows = [{"n": 2}, {"n": 1}, {"n": 3}]
        request = RequestFactory().get("/", {"tri": "-n"})
        assert [row["n"] for row in TableSort(request, columns, default="n").sorted(rows)] == [3, 2, 1]

    @pytest.mark.django_db
    def test_the_database_order_reverses_every_key_but_the_tie_break(self, staff_user):
        for name, born in (("ÉLOI", 1990), ("CÉLESTIN", 1980), ("FABRE", 1980)):
            make_candidate(staff_user, birth_name=name, birth_date=datetime.date(born, 1, 1))
        by_birth = _sort({"tri": "-naissance"}).order_by(Candidate.objects.all())
        assert [candidate.birth_name for candidate in by_birth] == ["ÉLOI", "CÉLESTIN", "FABRE"]  # same day: by pk
        by_name = _sort({"tri": "-nom"}).order_by(Candidate.objects.all())
        assert [candidate.birth_name for candidate in by_name] == ["FABRE", "ÉLOI", "CÉLESTIN"]


def _column_order(html: str, names) -> list[str]:
    return sorted(names, key=html.index)


def _header(html: str, label: str) -> str:
    """The `<th>` of the sortable column whose link says `label`."""
    match = re.search(r"<th [^>]*>(?:(?!</th>).)*" + re.escape(label) + r".*?</th>", html, re.S)
    assert match, label
    return html_module.unescape(match.group(0))


@pytest.mark.django_db
class TestCandidateList:
    @pytest.fixture
    def listed(self, staff_user):
        early = make_cohort(staff_user, name="Zénith 2025")
        late = make_cohort(staff_user, name="Alpes 2026", pathway_code="vae")
        for name, cohort, born in (("FABRE", early, 1990), ("CÉLESTIN", late, 1985), ("ÉLOI", early, 1970)):
            candidate = make_candidate(staff_user, birth_name=name, birth_date=datetime.date(born, 3, 1))
            services.enrolment_create(candidate=candidate, cohort=cohort, actor=staff_user)
        make_candidate(staff_user, birth_name="CHAMBON", birth_date=datetime.date(2000, 1, 1))  # no enrolment
        return early, late

    def test_sorted_by_each_column_both_ways(self, staff_client, listed):
        url = reverse("candidates:list")
        names = ["FABRE", "CÉLESTIN", "ÉLOI", "CHAMBON"]
        page = staff_client.get(url).content.decode()
        assert _column_order(page, names) == ["CÉLESTIN", "CHAMBON", "ÉLOI", "FABRE"]
        page = staff_client.get(url, {"tri": "-naissance"}).content.decode()
        assert _column_order(page, names) == ["CHAMBON", "FABRE", "CÉLESTIN", "ÉLOI"]
        page = staff_client.get(url, {"tri": "promotion"}).content.decode()
        assert _column_order(page, names) == ["CÉLESTIN", "ÉLOI", "FABRE", "CHAMBON"]  # no enrolment: last
        assert 'aria-sort="ascending"' in _header(page, "Promotion, trier par")
        page = staff_client.get(url, {"tri": "-promotion"}).content.decode()
        assert _column_order(page, names)[:3] == ["CHAMBON", "ÉLOI", "FABRE"]
        page = staff_client.get(url, {"tri": "n'importe quoi"}).content.decode()
        assert _column_order(page, names) == ["CÉLESTIN", "CHAMBON", "ÉLOI", "FABRE"]

    def test_headers_say_what_they_do_and_keep_the_filters(self, staff_client, listed):
        early, _ = listed
        page = staff_client.get(reverse("candidates:list"), {"cohort": early.pk, "page": 1}).content.decode()
        name = _header(page, "Nom, trier par")
        assert 'aria-sort="ascending"' in name and 'aria-label="Nom, trier par ordre décroissant"' in name
        assert "▲" in name and f"cohort={early.pk}" in name and "tri=-nom" in name and "page=" not in name
        birth = _header(page, "Né(e) le, trier par")
        assert "aria-sort" not in birth and "Né(e) le, trier par ordre croissant" in birth
        page = staff_client.get(reverse("candidates:list"), {"cohort": early.pk, "tri": "-naissance"}).content
        # The filter form carries the sort, the search form posts back to the sorted, filtered list.
        assert '<input type="hidden" name="tri" value="-naissance">' in page.decode()
        assert f"?cohort={early.pk}&amp;tri=-naissance" in page.decode()

    def test_a_search_keeps_the_sort_and_the_filters_and_starts_at_page_one(self, staff_client, listed):
        early, _ = listed
        url = reverse("candidates:list") + f"?cohort={early.pk}&tri=-nom&page=2"
        response = staff_client.post(url, {"q": "e"})
        assert response.status_code == 302
        assert response.url == reverse("candidates:list") + f"?cohort={early.pk}&tri=-nom"
        page = staff_client.get(response.url).content.decode()
        assert _column_order(page, ["FABRE", "ÉLOI"]) == ["FABRE", "ÉLOI"] and "CÉLESTIN" not in page


@pytest.mark.django_db
def test_cohort_list_sorts_by_name_place_and_dates(staff_client, staff_user):
    make_cohort(staff_user, name="Écrins")
    make_cohort(staff_user, name="Chartreuse")
    make_cohort(staff_user, name="Vercors", place_name="GRETA")
    url = reverse("candidates:cohort_list")
    names = ["Écrins", "Chartreuse", "Vercors"]
    assert _column_order(staff_client.get(url, {"tri": "promotion"}).content.decode(), names) == [
        "Chartreuse",
        "Écrins",
        "Vercors",
    ]
    assert _column_order(staff_client.get(url, {"tri": "-promotion"}).content.decode(), names)[0] == "Vercors"
    by_place = staff_client.get(url, {"tri": "-lieu"}).content.decode()
    assert _column_order(by_place, names)[-1] == "Vercors"  # « GRETA… » before « IRUP » ascending
    assert 'aria-sort="descending"' in _header(by_place, "Lieu de préparation, trier par")


@pytest.mark.django_db
def test_birth_places_to_check_sort_by_country(staff_client, staff_user):
    for name, country in (("ARNAUD", "Zanzibar"), ("BERTRAND", "Écosse"), ("CLÉMENT", "Atlantide")):
        pk = make_candidate(staff_user, birth_name=name, birth_insee_code="", birth_country="Allemagne").pk
        Candidate.objects.filter(pk=pk).update(birth_country_code="", birth_country=country)
    url = reverse("candidates:places_to_check")
    page = staff_client.get(url, {"tri": "pays"}).content.decode()
    assert _column_order(page, ["ARNAUD", "BERTRAND", "CLÉMENT"]) == ["CLÉMENT", "BERTRAND", "ARNAUD"]
    assert 'aria-sort="ascending"' in _header(page, "Pays saisi, trier par")


@pytest.mark.django_db
class TestSessionLists:
    def test_evaluation_sessions_sort_and_keep_the_query_count(
        self, staff_client, staff_user, trainer_user, django_assert_num_queries
    ):
        evaluated_cohort(staff_user, trainer_user, submit=False, count=1, name="Écrins 2022")
        evaluated_cohort(staff_user, trainer_user, submit=False, count=1, name="Chartreuse 2022")
        url = reverse("evaluation:session_list")
        names = ["Écrins 2022", "Chartreuse 2022"]
        with django_assert_num_queries(len_of(staff_client, url)):
            page = staff_client.get(url, {"tri": "promotion"}).content.decode()
        assert _column_order(page, names) == ["Chartreuse 2022", "Écrins 2022"]
        page = staff_client.get(url, {"tri": "-promotion"}).content.decode()
        assert _column_order(page, names) == ["Écrins 2022", "Chartreuse 2022"]
        assert 'aria-sort="descending"' in _header(page, "Promotion, trier par")

    def test_jury_sessions_sort_by_place_and_candidates_and_keep_the_query_count(
        self, staff_client, staff_user, trainer_user, president_user, django_assert_num_queries
    ):
        _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=2)
        make_jury(staff_user, president_user, place="Écully")
        crowded = make_jury(staff_user, president_user, place="Chambéry", day=JURY_DAY - datetime.timedelta(days=7))
        from juries import services as juries

        for enrolment in enrolments:
            juries.presentation_add(session=crowded, enrolment=enrolment, actor=staff_user)
        url = reverse("juries:list")
        places = ["Écully", "Chambéry"]
        assert _column_order(staff_client.get(url).content.decode(), places) == ["Écully", "Chambéry"]  # by date
        with django_assert_num_queries(len_of(staff_client, url)):
            page = staff_client.get(url, {"tri": "lieu"}).content.decode()
        assert _column_order(page, places) == ["Chambéry", "Écully"]
        with django_assert_num_queries(len_of(staff_client, url)):
            page = staff_client.get(url, {"tri": "-candidats"}).content.decode()
        assert _column_order(page, places) == ["Chambéry", "Écully"]
        assert _column_order(staff_client.get(url, {"tri": "candidats"}).content.decode(), places) == places


def len_of(client, url) -> int:
    """The queries of `url` in its default order."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return len(captured.captured_queries)


@pytest.mark.django_db
def test_declarations_index_sorts_its_certifications(staff_client, certification, django_assert_num_queries):
    url = reverse("declarations:index")
    with django_assert_num_queries(len_of(staff_client, url)):
        page = staff_client.get(url, {"tri": "-titulaires"}).content.decode()
    assert 'aria-sort="descending"' in _header(page, "Titulaires (certificats en vigueur), trier par")
    assert 'aria-label="Titulaires (certificats en vigueur), trier par ordre croissant"' in page


@pytest.mark.django_db
def test_holders_to_declare_sort_by_name_and_certificate(
    staff_client, staff_user, certification, django_assert_num_queries
):
    from tests.declarations.test_declarations import award_for, declare_url

    cohort = make_cohort(staff_user)
    for name, number in (("FABRE", "MPES-2026-0001"), ("ÉLOI", "MPES-2026-0003"), ("CÉLESTIN", "MPES-2026-0002")):
        candidate = make_candidate(staff_user, birth_name=name)
        services.enrolment_create(candidate=candidate, cohort=cohort, actor=staff_user)
        award_for(candidate, certification, number=number)
    url = declare_url(certification)
    names = ["FABRE", "ÉLOI", "CÉLESTIN"]
    default = staff_client.get(url).content.decode()
    with django_assert_num_queries(len_of(staff_client, url)):
        page = staff_client.get(url, {"tri": "titulaire"}).content.decode()
    assert _column_order(page, names) == ["CÉLESTIN", "ÉLOI", "FABRE"]
    assert 'aria-sort="ascending"' in _header(page, "Titulaire, trier par")
    page = staff_client.get(url, {"tri": "-certificat"}).content.decode()
    assert _column_order(page, names) == ["ÉLOI", "CÉLESTIN", "FABRE"]
    assert 'aria-sort="ascending"' in _header(default, "Échéance, trier par")  # by urgency unless asked
