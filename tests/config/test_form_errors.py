"""A refused form says what to correct where a screen reader and the keyboard find it: every field in error is
marked (is-invalid, aria-invalid) and described by its message (aria-describedby), a summary at the top of the form
links to each field, and the required marks have their legend."""

import pytest
from django.urls import reverse
from django.utils import timezone
from lxml import html as lxml_html

from certif.models import RatingScale
from tests.candidates.test_candidates import CREATE_URL, form_data

REQUIRED_LEGEND = "Les champs marqués d'un astérisque (*) sont obligatoires."


def tree(response):
    return lxml_html.fromstring(response.content.decode())


def text_of(element) -> str:
    return " ".join(element.text_content().split())


def summary(document, form_index=0):
    """The error summary of the page's n-th form: its links (href → text) and its plain items."""
    boxes = document.xpath("//main//form//div[contains(@class, 'error-summary')]")
    box = boxes[form_index]
    assert box.get("role") == "alert"
    assert box.get("tabindex") == "-1"  # focused on load by static/js/error-summary.js
    return box


def assert_field_in_error(document, field_id: str, message: str) -> None:
    field = document.get_element_by_id(field_id)
    assert field.get("aria-invalid") == "true"
    assert "is-invalid" in field.get("class").split()
    described = [document.get_element_by_id(ref) for ref in field.get("aria-describedby").split()]
    assert any(message in text_of(element) for element in described), [text_of(e) for e in described]


@pytest.mark.django_db
class TestCandidateForm:
    def test_each_field_in_error_is_marked_described_and_linked_from_the_summary(self, staff_client):
        response = staff_client.post(CREATE_URL, form_data(birth_name="", email="camille@"))
        document = tree(response)
        assert_field_in_error(document, "id_birth_name", "Ce champ est obligatoire.")
        assert_field_in_error(document, "id_email", "Saisissez une adresse de courriel valide.")
        box = summary(document)
        assert text_of(box).startswith("Le formulaire n'a pas été enregistré : 2 erreurs à corriger")
        links = {link.get("href"): text_of(link) for link in box.xpath(".//a")}
        assert links == {
            "#id_birth_name": "Nom de naissance : Ce champ est obligatoire.",
            "#id_email": "Courriel : Saisissez une adresse de courriel valide.",
        }
        # Each link reaches an element that exists: the field itself.
        for href in links:
            assert document.get_element_by_id(href[1:]).tag == "input"

    def test_the_required_marks_have_their_legend_before_the_fields(self, staff_client):
        document = tree(staff_client.get(CREATE_URL))
        form = document.xpath("//main//form[@method='post']")[0]
        legend = form.xpath(".//p[contains(@class, 'required-legend')]")
        assert [text_of(p) for p in legend] == [REQUIRED_LEGEND]
        assert not form.xpath(".//div[contains(@class, 'error-summary')]")  # nothing refused yet
        first_field = form.xpath(".//input[@type!='hidden'] | .//select")[0]
        in_order = list(form.iter())
        assert in_order.index(legend[0]) < in_order.index(first_field)
        assert form.xpath(".//span[@class='asteriskField']")


@pytest.mark.django_db
class TestCrispyForms:
    """Every `{{ form|crispy }}` gets the summary and the legend (templates/bootstrap5/errors.html)."""

    def test_block_threshold_form(self, staff_client, certification):
        url = reverse("certif:threshold_update", args=[certification.rncp_code, 2])
        response = staff_client.post(
            url,
            {
                "threshold-threshold_kind": "count",
                "threshold-threshold_value": "10",
                "threshold-declared_competence_count": "9",
            },
        )
        assert response.status_code == 400
        document = tree(response)
        message = "Le seuil (10) dépasse le nombre de compétences du bloc (9)."
        assert_field_in_error(document, "id_threshold-threshold_value", message)
        threshold_form = document.xpath("//main//form[contains(@action, '/seuil/')]")[0]
        box = threshold_form.xpath(".//div[contains(@class, 'error-summary')]")[0]
        assert [(link.get("href"), text_of(link)) for link in box.xpath(".//a")] == [
            ("#id_threshold-threshold_value", f"Seuil à atteindre : {message}")
        ]
        assert REQUIRED_LEGEND in text_of(threshold_form)

    def test_new_competence_form(self, staff_client, certification):
        url = reverse("certif:competence_add", args=[certification.rncp_code, 3])
        document = tree(staff_client.post(url, {"add-label": ""}))
        message = "L'intitulé de la compétence ne peut pas être vide."
        assert_field_in_error(document, "id_add-label", message)
        links = document.xpath("//main//div[contains(@class, 'error-summary')]//a")
        assert [(link.get("href"), text_of(link)) for link in links] == [
            ("#id_add-label", f"Intitulé de la nouvelle compétence : {message}")
        ]

    def test_an_error_of_the_whole_form_is_listed_without_a_link(self, client, staff_user):
        response = client.post(reverse("login"), {"username": staff_user.username, "password": "faux"})
        document = tree(response)
        box = summary(document)
        assert not box.xpath(".//a")
        assert "Saisissez un nom d’utilisateur et un mot de passe valides." in text_of(box)


@pytest.mark.django_db
class TestScaleFormset:
    def test_a_row_in_error_is_linked_by_its_line(self, staff_client, certification):
        scale = certification.rating_scales.order_by("-version").first()
        levels = list(scale.levels.order_by("position"))
        data = {
            "form-TOTAL_FORMS": str(len(levels)),
            "form-INITIAL_FORMS": str(len(levels)),
            "form-MIN_NUM_FORMS": "2",
            "form-MAX_NUM_FORMS": "1000",
        }
        for index, level in enumerate(levels):
            data |= {
                f"form-{index}-id": str(level.pk),
                f"form-{index}-position": str(level.position),
                f"form-{index}-code": level.code,
                f"form-{index}-label": level.label,
            }
            if level.validates:
                data[f"form-{index}-validates"] = "on"
        data["form-1-code"] = ""
        document = tree(staff_client.post(reverse("certif:scale_edit", args=[certification.rncp_code]), data))
        assert_field_in_error(document, "id_form-1-code", "Ce champ est obligatoire.")
        links = document.xpath("//main//div[contains(@class, 'error-summary')]//a")
        assert [(link.get("href"), text_of(link)) for link in links] == [
            ("#id_form-1-code", "Ligne 2 — Code : Ce champ est obligatoire.")
        ]


@pytest.mark.django_db
class TestReferentialWords:
    def test_the_threshold_reads_the_french_way(self, staff_client, certification):
        document = tree(staff_client.get(reverse("certif:block_edit", args=[certification.rncp_code, 2])))
        field = document.get_element_by_id("id_threshold-threshold_value")
        assert field.get("value") == "7"  # not « 7.00 »
        label = document.xpath("//label[@for='id_threshold-threshold_value']")[0]
        assert text_of(label) == "Seuil à atteindre*"
        page_text = text_of(document.xpath("//main")[0])
        assert "Règle actuelle : valider 7 des 9 compétences du bloc." in page_text
        assert "Valeur du seuil" not in page_text and "7.00" not in page_text

    def test_a_proportion_is_shown_and_typed_with_a_decimal_comma(self, staff_client, certification):
        url = reverse("certif:threshold_update", args=[certification.rncp_code, 1])
        response = staff_client.post(
            url,
            {
                "threshold-threshold_kind": "proportion",
                "threshold-threshold_value": "62,5",
                "threshold-declared_competence_count": "4",
            },
        )
        assert response.status_code == 302
        document = tree(staff_client.get(reverse("certif:block_edit", args=[certification.rncp_code, 1])))
        assert document.get_element_by_id("id_threshold-threshold_value").get("value") == "62,5"
        assert "valider 62,5 % des compétences du bloc, soit 3 sur 4." in text_of(document.xpath("//main")[0])

    def test_a_level_named_by_its_code_is_not_repeated(self, staff_client, certification):
        scale = certification.rating_scales.order_by("-version").first()
        RatingScale.objects.filter(pk=scale.pk).update(first_used_at=timezone.now())
        page = text_of(tree(staff_client.get(reverse("certif:scale_edit", args=[certification.rncp_code]))))
        assert "A — valide la compétence" in page
        assert "D — ne valide pas la compétence" in page
        assert "A (A)" not in page
        fiche = text_of(tree(staff_client.get(reverse("certif:fiche", args=[certification.rncp_code]))))
        assert "A (valide la compétence) > B (valide la compétence) > C (valide la compétence) > D" in fiche
        assert "A (A)" not in fiche

    def test_a_level_with_its_own_label_shows_its_code_once(self, certification):
        level = certification.rating_scales.first().levels.first()
        level.label = "Maîtrisé"
        assert level.display_name == f"Maîtrisé ({level.code})"
