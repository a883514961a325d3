"""The menu written out in one pass says to the browser exactly what Django's own menu says."""

import re

import pytest
from django import forms

from candidates.filters import CandidateFilterForm
from certif.forms_widgets import QuickSelect
from tests.factories import make_cohort


class Menus(forms.Form):
    status = forms.ChoiceField(
        label="Statut",
        choices=[("", "Tous"), ("a", "Admis & <reçu>"), ("b", "Ajourné")],
        required=True,
        widget=QuickSelect(attrs={"class": "form-select"}),
    )
    grouped = forms.ChoiceField(
        choices=[("Ouverts", [("x", "Voie X")]), ("Fermés", [("y", "Voie Y")])],
        required=False,
        widget=QuickSelect,
    )


def django_rendering(bound_field) -> str:
    """The same field through Django's template rendering of a menu, spaces between tags removed."""
    field = bound_field.field
    original = field.widget
    field.widget = forms.Select(attrs=original.attrs, choices=original.choices)
    try:
        return re.sub(r">\s+<", "><", bound_field.as_widget().strip())
    finally:
        field.widget = original


@pytest.mark.parametrize("data", [None, {"status": "a"}, {"status": ""}, {"status": "inconnu"}])
def test_the_markup_is_django_s_own(data):
    form = Menus(data)
    form.is_valid()
    quick = form["status"].as_widget()
    assert quick == django_rendering(form["status"])
    if data and data["status"] == "a":
        assert '<option value="a" selected>Admis &amp; &lt;reçu&gt;</option>' in quick


def test_an_invalid_choice_carries_the_attributes_that_point_to_the_message():
    form = Menus({"status": ""})
    assert not form.is_valid()
    html = form["status"].as_widget()
    assert 'aria-invalid="true"' in html and "required" in html
    assert html == django_rendering(form["status"])


def test_option_groups_go_through_django_s_rendering():
    form = Menus({"grouped": "y"})
    html = form["grouped"].as_widget()
    assert '<optgroup label="Fermés">' in html and '<option value="y" selected>Voie Y</option>' in html


@pytest.mark.django_db
def test_the_candidate_filters_read_each_menu_in_one_query(staff_user, blocks, django_assert_num_queries):
    cohort = make_cohort(staff_user, name="Promotion Fauriel")
    form = CandidateFilterForm({"cohort": str(cohort.pk)})
    assert form.is_valid()  # as the list does before showing the form
    # The certifications (shared by the labels), then the cohorts, the open pathways and the places: no count first.
    with django_assert_num_queries(4):
        html = "".join(form[name].as_widget() for name in ("certification", "cohort", "pathway", "place", "status"))
    assert f'<option value="{cohort.pk}" selected>{cohort.name}</option>' in html
