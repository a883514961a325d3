"""Names sort in French order, accents and case aside, the same on PostgreSQL (ICU) and SQLite (certif.collation)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models.functions import Collate
from django.urls import reverse

from candidates import services
from candidates.models import Candidate, Cohort
from certif.collation import FRENCH_COLLATION, french, french_sort_key, user_order
from evaluation.selectors import cohort_enrolments
from juries.models import JuryMember, Presentation, Recusal
from tests.conftest import make_user
from tests.factories import make_candidate, make_cohort

NAMES = ["FABRE", "ÉLOI", "CHAMBON", "CÉLESTIN", "Zoé", "zoe", "Éloi", "Eloi", "eloi", "MÜLLER", "MULLER", "MUÑOZ"]
NAMES += ["LE BRIS", "LEBLANC", "DE LA TOUR", "Delatour", "D'ARC", "D’ARC", "D-ARC", "DARC", "ŒUVRE", "OEUVRE", "ODIN"]


def _in_database_order(names: list[str]) -> list[str]:
    """`names` as the database orders them with the French collation."""
    placeholders = " UNION ALL ".join("SELECT %s AS name" for _ in names)
    collated = connection.ops.quote_name("french")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT name FROM ({placeholders}) AS names ORDER BY name COLLATE {collated}", names)
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_accented_capitals_sort_with_their_letter_not_after_z():
    ordered = _in_database_order(NAMES)
    assert ordered.index("CÉLESTIN") < ordered.index("CHAMBON")
    assert ordered.index("ÉLOI") < ordered.index("FABRE")
    assert ordered.index("MUÑOZ") < ordered.index("ODIN")
    assert ordered.index("ŒUVRE") == ordered.index("OEUVRE") + 1  # « Œ » read as « OE »


@pytest.mark.django_db
def test_the_database_and_python_agree_on_every_tie():
    """PostgreSQL's ICU collation and SQLite's registered one give the order `french_sort_key` gives, ties
    included (accents after the bare letter, lower case first, punctuation before letters)."""
    assert _in_database_order(NAMES) == sorted(NAMES, key=french_sort_key)


def test_the_python_order_reads_as_a_french_reader_expects():
    assert sorted(["ÉLOI", "FABRE", "CHAMBON", "CÉLESTIN", "eloi"], key=french_sort_key) == [
        "CÉLESTIN",
        "CHAMBON",
        "eloi",
        "ÉLOI",
        "FABRE",
    ]


@pytest.mark.django_db
def test_accounts_sort_in_french_order_both_ways():
    names = ["ÉLOI", "CHAMBON", "CÉLESTIN", "FABRE"]
    for name in names:
        make_user(name.lower(), None, last_name=name)
    accounts = get_user_model().objects.filter(last_name__in=names)
    assert [user.last_name for user in accounts.order_by(*user_order())] == ["CÉLESTIN", "CHAMBON", "ÉLOI", "FABRE"]
    assert [user.last_name for user in accounts.order_by(french("last_name").desc())] == [
        "FABRE",
        "ÉLOI",
        "CHAMBON",
        "CÉLESTIN",
    ]


@pytest.fixture
def french_names(staff_user, trainer_user):
    cohort = make_cohort(staff_user, trainers=[trainer_user], name="Promotion des noms")
    for name in ("FABRE", "ÉLOI", "CHAMBON", "CÉLESTIN"):
        services.enrolment_create(
            candidate=make_candidate(staff_user, birth_name=name), cohort=cohort, actor=staff_user
        )
    return cohort


EXPECTED = ["CÉLESTIN", "CHAMBON", "ÉLOI", "FABRE"]


@pytest.mark.django_db
def test_every_list_of_candidates_is_in_french_order(french_names, staff_client):
    assert [c.birth_name for c in Candidate.objects.all()] == EXPECTED
    assert [e.candidate.birth_name for e in cohort_enrolments(french_names)] == EXPECTED
    html = staff_client.get(reverse("candidates:list")).content.decode()
    assert [html.index(name) for name in EXPECTED] == sorted(html.index(name) for name in EXPECTED)


def test_models_listing_people_default_to_the_french_order():
    """Candidates, the candidates presented to a jury, its members and their recusals, cohorts by name."""
    for model, field in (
        (Candidate, "birth_name"),
        (Presentation, "enrolment__candidate__birth_name"),
        (JuryMember, "name"),
        (Recusal, "member__name"),
        (Cohort, "name"),
    ):
        collated = [
            item.source_expressions[0].name
            for item in model._meta.ordering
            if isinstance(item, Collate) and item.collation == FRENCH_COLLATION
        ]
        assert field in collated, model


# An `order_by` or `ordering` naming a name field as a plain string: the bytes' order, not the French one.
PLAIN_NAME_ORDER = re.compile(
    r"(?:order_by\(|ordering\s*=\s*\[)[^)\]]*?(?<!french\()[\"']-?(?:\w+__)?(?:birth_name|first_name|last_name|usage_name|name)[\"']"
)


def test_no_ordering_by_a_name_bypasses_the_french_collation():
    offenders = []
    for app in ("candidates", "certif", "declarations", "documents", "evaluation", "juries", "reporting", "config"):
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text()
            offenders += [f"{path.name}: {match.group(0)}" for match in PLAIN_NAME_ORDER.finditer(text)]
    assert offenders == []
