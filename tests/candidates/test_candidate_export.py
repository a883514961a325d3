"""Export of the candidate list (CSV for Excel, XLSX), filtered as the list page filters it, and re-importable."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.exports import HEADERS
from candidates.filters import SEARCH_SESSION_KEY
from candidates.models import Candidate, Cohort, Enrolment
from candidates.selectors import candidate_snapshot
from candidates.services import candidate_create, enrolment_create
from certif.models import AccessPathway, PreparationPlace

CSV_URL = reverse("candidates:export_csv")
XLSX_URL = reverse("candidates:export_xlsx")
UPLOAD_URL = reverse("candidates:import_upload")
CONFIRM_URL = reverse("candidates:import_confirm")

EXPECTED_HEADERS = [
    "Nom de naissance",
    "Nom d'usage",
    "Prénom",
    "Prénom 2",
    "Prénom 3",
    "Sexe",
    "Date de naissance",
    "Commune de naissance",
    "Code INSEE",
    "Code postal de naissance",
    "Pays de naissance",
    "Courriel",
    "Téléphone",
    "Adresse",
    "Code postal",
    "Ville",
    "Employeur",
    "Type d'employeur",
    "Emploi",
    "Promotion(s) en cours",
    "Voie(s) d'accès",
    "Certification(s)",
]


def make_cohort(certification, *, name, pathway_code):
    return Cohort.objects.create(
        certification=certification,
        name=name,
        pathway=AccessPathway.objects.get(certification=certification, code=pathway_code),
        preparation_place=PreparationPlace.objects.get(certification=certification, name="IRUP"),
        start_date=datetime.date(2025, 9, 1),
        end_date=datetime.date(2026, 6, 30),
    )


def make_candidate(actor, birth_name, **extra):
    fields = {
        "birth_name": birth_name,
        "first_name": "Camille",
        "sex": "F",
        "birth_date": datetime.date(1988, 5, 17),
        "birth_commune": "Saint-Étienne",
    }
    fields.update(extra)
    return candidate_create(actor=actor, **fields)


@pytest.fixture
def cohorts(certification):
    return (
        make_cohort(certification, name="Formation continue 2025", pathway_code="formation-continue"),
        make_cohort(certification, name="VAE 2025", pathway_code="vae"),
    )


def make_candidates(staff_user, cohorts):
    continuing, vae = cohorts
    dupont = make_candidate(
        staff_user,
        "Dupont",
        usage_name="Martin",
        first_name="Hélène",
        second_first_name="Marie",
        third_first_name="Léa",
        birth_date=datetime.date(1985, 3, 12),
        birth_insee_code="2A004",
        birth_commune="Ajaccio",
        email="helene.dupont@example.org",
        phone="+33 6 12 34 56 78",
        address='12, rue "Les Lilas"; bât. B',
        postal_code="01000",
        city="Bourg-en-Bresse",
        employer_name="Coopérative du Rhône",
        employer_kind="cooperative",
        job_title='=HYPERLINK("http://exemple.invalid")',
    )
    nguyen = make_candidate(
        staff_user,
        "Nguyen",
        first_name="Thomas",
        sex="M",
        birth_date=datetime.date(1979, 9, 1),
        birth_country="Viêt Nam",
    )
    petit = make_candidate(
        staff_user, "Petit", first_name="Jean", sex="M", phone="06 12 34 56 78", birth_postal_code="07000"
    )
    enrolment_create(candidate=dupont, cohort=continuing, actor=staff_user)
    enrolment_create(candidate=dupont, cohort=vae, actor=staff_user)
    enrolment_create(candidate=nguyen, cohort=vae, actor=staff_user)
    return dupont, nguyen, petit


@pytest.fixture
def candidates(staff_user, cohorts):
    return make_candidates(staff_user, cohorts)


def read_csv(response) -> list[list[str]]:
    content = response.content
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))


def read_xlsx(response) -> list[tuple]:
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    return list(workbook.active.iter_rows(values_only=True))


@pytest.mark.django_db
class TestCsvExport:
    def test_csv_for_excel_with_french_headers(self, staff_client, candidates):
        response = staff_client.get(CSV_URL)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"].startswith('attachment; filename="candidats-')
        assert response["Cache-Control"] == "no-store"
        rows = read_csv(response)
        assert rows[0] == EXPECTED_HEADERS == HEADERS
        by_name = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
        assert list(by_name) == ["Dupont", "Nguyen", "Petit"]
        dupont = by_name["Dupont"]
        assert dupont["Date de naissance"] == "12/03/1985"
        assert (dupont["Prénom 2"], dupont["Prénom 3"], dupont["Nom d'usage"]) == ("Marie", "Léa", "Martin")
        assert (dupont["Code INSEE"], dupont["Code postal"]) == ("2A004", "01000")
        assert dupont["Adresse"] == '12, rue "Les Lilas"; bât. B'
        assert dupont["Type d'employeur"] == "Coopérative"
        assert dupont["Promotion(s) en cours"] == "Formation continue 2025 | VAE 2025"
        assert dupont["Voie(s) d'accès"] == (
            "Après un parcours de formation continue | Par expérience dispositif VAE prévu en 2012"
        )
        # Cells a spreadsheet would run as formulas are escaped.
        assert dupont["Emploi"] == '\'=HYPERLINK("http://exemple.invalid")'
        assert dupont["Téléphone"] == "'+33 6 12 34 56 78"
        assert by_name["Nguyen"]["Pays de naissance"] == "VIET NAM"  # the COG's label
        assert by_name["Petit"]["Promotion(s) en cours"] == ""
        assert (by_name["Petit"]["Code postal de naissance"], dupont["Code postal de naissance"]) == ("07000", "")

    def test_only_current_enrolments_count_as_current_cohorts(self, staff_client, candidates, cohorts):
        Enrolment.objects.filter(candidate=candidates[0], cohort=cohorts[1]).update(status="termine")
        rows = read_csv(staff_client.get(CSV_URL))
        dupont = dict(zip(rows[0], rows[1], strict=True))
        assert dupont["Promotion(s) en cours"] == "Formation continue 2025"
        assert dupont["Voie(s) d'accès"] == "Après un parcours de formation continue"

    def test_filters_of_the_list_page_apply(self, staff_client, candidates, cohorts):
        rows = read_csv(staff_client.get(CSV_URL, {"cohort": cohorts[0].pk}))
        assert [row[0] for row in rows[1:]] == ["Dupont"]
        rows = read_csv(staff_client.get(CSV_URL, {"cohort": cohorts[1].pk}))
        assert [row[0] for row in rows[1:]] == ["Dupont", "Nguyen"]

    def test_the_sessions_search_applies(self, staff_client, candidates):
        session = staff_client.session
        session[SEARCH_SESSION_KEY] = "nguyen"
        session.save()
        rows = read_csv(staff_client.get(CSV_URL))
        assert [row[0] for row in rows[1:]] == ["Nguyen"]

    def test_query_count_does_not_grow_with_the_number_of_candidates(self, staff_client, staff_user, cohorts):
        def add_candidates(count):
            for _ in range(count):
                candidate = make_candidate(staff_user, f"Nom{Candidate.objects.count()}")
                enrolment_create(candidate=candidate, cohort=cohorts[0], actor=staff_user)

        def queries(url):
            staff_client.get(url)  # warm up (session, user, roles)
            with CaptureQueriesContext(connection) as captured:
                response = staff_client.get(url)
            assert response.status_code == 200
            return len(captured)

        add_candidates(5)
        few = {url: queries(url) for url in (CSV_URL, XLSX_URL)}
        add_candidates(45)
        many = {url: queries(url) for url in (CSV_URL, XLSX_URL)}
        assert many == few
        assert few[CSV_URL] <= 7  # session, user, 2 × permissions, roles, candidates, enrolments
        assert len(read_csv(staff_client.get(CSV_URL))) == 51


@pytest.mark.django_db
class TestXlsxExport:
    def test_xlsx_with_real_dates_and_text_codes(self, staff_client, candidates):
        response = staff_client.get(XLSX_URL)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        rows = read_xlsx(response)
        assert list(rows[0]) == EXPECTED_HEADERS
        dupont = dict(zip(rows[0], rows[1], strict=True))
        assert dupont["Date de naissance"] == datetime.datetime(1985, 3, 12)
        assert (dupont["Code postal"], dupont["Téléphone"]) == ("01000", "+33 6 12 34 56 78")
        assert dupont["Emploi"] == '=HYPERLINK("http://exemple.invalid")'  # text, not a formula
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        assert sheet["S2"].data_type == "s"
        petit = dict(zip(rows[0], rows[3], strict=True))
        assert petit["Code postal de naissance"] == "07000"  # text: the leading zero stays
        assert sheet["G2"].number_format == "DD/MM/YYYY"

    def test_filters_of_the_list_page_apply(self, staff_client, candidates, cohorts):
        pathway = cohorts[0].pathway
        rows = read_xlsx(staff_client.get(XLSX_URL, {"pathway": pathway.pk}))
        assert [row[0] for row in rows[1:]] == ["Dupont"]


@pytest.mark.django_db
class TestAccess:
    def test_trainer_is_refused_even_for_their_own_candidates(self, trainer_client, trainer_user, candidates, cohorts):
        cohorts[0].trainers.add(trainer_user)
        assert trainer_client.get(CSV_URL).status_code == 403
        assert trainer_client.get(XLSX_URL).status_code == 403

    def test_anonymous_is_sent_to_the_login_page(self, client):
        for url in (CSV_URL, XLSX_URL):
            response = client.get(url)
            assert response.status_code == 302
            assert response.url.startswith(reverse("login"))


class Rollback(Exception):
    pass


@pytest.mark.django_db
class TestRoundTrip:
    def reimport(self, client, name, content):
        preview = client.post(UPLOAD_URL, {"file": SimpleUploadedFile(name, content), "cohort": ""})
        assert preview.status_code == 200
        return preview

    @pytest.mark.parametrize("url, name", [(CSV_URL, "candidats.csv"), (XLSX_URL, "candidats.xlsx")])
    def test_an_export_imports_back_identical(self, staff_client, staff_user, cohorts, url, name):
        # The candidates exist only inside this block: rolled back afterwards, they leave an empty list.
        with pytest.raises(Rollback), transaction.atomic():
            make_candidates(staff_user, cohorts)
            before = [candidate_snapshot(candidate) for candidate in Candidate.objects.order_by("birth_name")]
            content = staff_client.get(url).content

            # Into the same database: every row is a likely duplicate, nothing is merged.
            preview = self.reimport(staff_client, name, content)
            assert {issue.row for issue in preview.context["issues"]} == {2, 3, 4}
            assert all(issue.message.startswith("Doublon probable de") for issue in preview.context["issues"])
            assert preview.context["ignored_columns"] == [
                "Promotion(s) en cours",
                "Voie(s) d'accès",
                "Certification(s)",
            ]
            raise Rollback
        assert not Candidate.objects.exists()

        # Into an empty list: the same candidates again, field for field.
        preview = self.reimport(staff_client, name, content)
        assert preview.context["issues"] == []
        staff_client.post(CONFIRM_URL, {"token": preview.context["token"]})
        after = [candidate_snapshot(candidate) for candidate in Candidate.objects.order_by("birth_name")]
        assert after == before
