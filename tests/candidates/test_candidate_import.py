"""Bulk import of candidates: the spreadsheets staff really have, every bad row reported, all or nothing."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from candidates.imports import (
    HEADER_TO_FIELD,
    CandidateImportError,
    ImportIssue,
    convert_cell,
    import_candidates,
    normalize_header,
    parse_table,
)
from candidates.models import Candidate, Cohort, Enrolment
from candidates.services import candidate_create
from candidates.views_import import IMPORT_SESSION_KEY
from certif.models import AccessPathway, AuditEvent, PreparationPlace

UPLOAD_URL = reverse("candidates:import_upload")
CONFIRM_URL = reverse("candidates:import_confirm")

HEADER = [
    "Nom de naissance",
    "Nom d'usage",
    "Prénom",
    "Prénom 2",
    "Sexe",
    "Date de naissance",
    "Commune de naissance",
    "Code INSEE",
    "Pays de naissance",
    "Courriel",
    "Téléphone",
    "Adresse",
    "Code postal",
    "Ville",
    "Employeur",
    "Type d'employeur",
    "Poste",
]
HELENE = [
    "Dupont",
    "",
    "Hélène",
    "Marie",
    "F",
    "12/03/1985",
    "Saint-Étienne",
    "42218",
    "France",
    "helene.dupont@example.org",
    "06 12 34 56 78",
    "12, rue de la République",
    "42000",
    "Saint-Étienne",
    "Association Loire Solidarités",
    "Association",
    "Chef de service",
]
THOMAS = [
    "Nguyen",
    "Martin",
    "Thomas",
    "",
    "Homme",
    "01/09/1979",
    "Ajaccio",
    "2A004",
    "",
    "t.nguyen@example.org",
    "+33 6 98 76 54 32",
    "",
    "69003",
    "Lyon",
    "Coopérative du Rhône",
    "coopérative",
    "Coordinateur d'activité",
]


def csv_upload(rows, *, delimiter=";", encoding="utf-8-sig", name="candidats.csv"):
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(encoding), content_type="text/csv")


def xlsx_upload(rows, name="candidats.xlsx"):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(
        name, buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def make_cohort(certification, *, pathway_code="formation-continue", name="Promotion 2025-2026"):
    return Cohort.objects.create(
        certification=certification,
        name=name,
        pathway=AccessPathway.objects.get(certification=certification, code=pathway_code),
        preparation_place=PreparationPlace.objects.get(certification=certification, name="IRUP"),
        start_date=datetime.date(2025, 9, 1),
        end_date=datetime.date(2026, 6, 30),
    )


@pytest.fixture
def cohort(certification):
    return make_cohort(certification)


def upload(client, file, cohort=None):
    return client.post(UPLOAD_URL, {"file": file, "cohort": cohort.pk if cohort else ""})


def issues_of(response) -> set[tuple[int, str, str]]:
    return {(issue.row, issue.column, issue.message) for issue in response.context["issues"]}


@pytest.mark.django_db
class TestHeadersAndCells:
    @pytest.mark.parametrize(
        "header, field",
        [
            ("  NOM DE NAISSANCE ", "birth_name"),
            ("Nom d’usage", "usage_name"),
            ("nom d'usage", "usage_name"),
            ("prenom", "first_name"),
            ("PRÉNOM 2", "second_first_name"),
            ("Prénom3", "third_first_name"),
            ("sexe", "sex"),
            ("Date de naissance", "birth_date"),
            ("Code Insee", "birth_insee_code"),
            ("E-mail", "email"),
            ("Email", "email"),
            ("Courriel", "email"),
            ("téléphone", "phone"),
            ("Code_postal", "postal_code"),
            ("Employeur", "employer_name"),
            ("Type d'employeur", "employer_kind"),
            ("Emploi", "job_title"),
            ("Poste", "job_title"),
        ],
    )
    def test_french_headers_are_recognised_whatever_case_accents_and_spaces(self, header, field):
        assert HEADER_TO_FIELD[normalize_header(header)] == field

    @pytest.mark.parametrize(
        "value, expected", [("F", "F"), ("femme", "F"), ("Mme", "F"), ("M", "M"), ("Homme", "M"), ("M.", "M")]
    )
    def test_sex_accepts_letters_and_words(self, value, expected):
        assert convert_cell("sex", value) == (expected, None)

    def test_cells_spreadsheets_mangle_are_restored(self):
        assert convert_cell("postal_code", 1000) == ("01000", None)
        assert convert_cell("birth_insee_code", "2a004") == ("2A004", None)
        assert convert_cell("phone", 612345678.0) == ("0612345678", None)
        assert convert_cell("birth_date", datetime.datetime(1985, 3, 12)) == ("1985-03-12", None)
        assert convert_cell("birth_date", " 12/03/1985 ") == ("1985-03-12", None)
        assert convert_cell("employer_kind", "Coopérative") == ("cooperative", None)
        assert convert_cell("phone", "'+33 6 12 34 56 78") == ("+33 6 12 34 56 78", None)

    def test_unknown_values_are_errors_in_french(self):
        assert convert_cell("birth_date", "31/02/1990") == (
            "",
            "Date invalide : « 31/02/1990 » (format attendu JJ/MM/AAAA).",
        )
        assert convert_cell("sex", "X")[1] == "Valeur « X » non reconnue : F ou M attendu (Femme ou Homme)."
        assert "Association, Fondation, Coopérative, Mutuelle, Autre" in convert_cell("employer_kind", "SARL")[1]

    def test_blank_rows_are_skipped_but_row_numbers_stay_the_spreadsheets(self):
        parsed = parse_table([HEADER, HELENE, [""] * len(HEADER), [], THOMAS])
        assert [row["row"] for row in parsed.rows] == [2, 5]


@pytest.mark.django_db
class TestUploadAndPreview:
    def test_csv_utf8_with_bom_and_semicolons_is_previewed_without_writing(self, staff_client, cohort):
        audit_count = AuditEvent.objects.count()
        response = upload(staff_client, csv_upload([HEADER, HELENE, THOMAS]), cohort)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Candidats qui seront créés" in html
        assert "Hélène" in html and "Nguyen" in html and "12/03/1985" in html and "2A004" in html
        assert "2 candidats seront créés et inscrits dans la promotion « Promotion 2025-2026 »" in html
        assert "Confirmer l'import" in html
        assert [row for row, _ in response.context["candidates"]] == [2, 3]
        assert not Candidate.objects.exists()
        assert AuditEvent.objects.count() == audit_count
        pending = staff_client.session[IMPORT_SESSION_KEY]
        assert pending["cohort"] == cohort.pk
        assert pending["rows"][0]["fields"]["birth_date"] == "1985-03-12"
        assert pending["rows"][1]["fields"]["sex"] == "M"
        assert "birth_country" not in pending["rows"][1]["fields"]  # empty cell: the model's default, France

    def test_csv_with_commas_and_headers_as_typed_by_hand(self, staff_client):
        header = ["NOM DE NAISSANCE", "prenom", "sexe", "date de naissance ", "Commune de naissance", "E-mail"]
        rows = [header, ["Durand", "Léa", "f", "03/04/1990", "Roanne", "lea@example.org"]]
        rows.append(["Petit", "Jean", "H", "1975-11-30", "Lyon", ""])
        response = upload(staff_client, csv_upload(rows, delimiter=",", encoding="utf-8"))
        assert response.status_code == 200
        assert response.context["issues"] == []
        durand, petit = (candidate for _, candidate in response.context["candidates"])
        assert (durand.first_name, durand.sex, durand.email) == ("Léa", "F", "lea@example.org")
        assert petit.birth_date == datetime.date(1975, 11, 30)

    def test_address_with_commas_does_not_fool_the_separator_sniffing(self, staff_client):
        response = upload(staff_client, csv_upload([HEADER, HELENE, THOMAS], delimiter=";"))
        candidate = response.context["candidates"][0][1]
        assert candidate.address == "12, rue de la République"

    def test_csv_in_cp1252_is_read(self, staff_client):
        response = upload(staff_client, csv_upload([HEADER, HELENE], encoding="cp1252"))
        assert response.context["issues"] == []
        candidate = response.context["candidates"][0][1]
        assert (candidate.first_name, candidate.birth_commune) == ("Hélène", "Saint-Étienne")

    def test_xlsx_with_real_date_cells_and_numbers(self, staff_client):
        header = ["Nom de naissance", "Prénom", "Sexe", "Date de naissance", "Commune de naissance", "Code INSEE"]
        header += ["Code postal", "Téléphone", "Commentaire"]
        rows = [
            header,
            ["Girard", "Inès", "Femme", datetime.datetime(1991, 7, 14), "Bourg-en-Bresse", 1053, 1000, 612345678, "x"],
            ["Roux", "Paul", "M", datetime.date(1980, 1, 2), "Lyon", "69123", "69003", "", ""],
        ]
        response = upload(staff_client, xlsx_upload(rows))
        assert response.status_code == 200
        assert response.context["issues"] == []
        assert response.context["ignored_columns"] == ["Commentaire"]
        girard, roux = (candidate for _, candidate in response.context["candidates"])
        assert girard.birth_date == datetime.date(1991, 7, 14)
        assert (girard.birth_insee_code, girard.postal_code, girard.phone) == ("01053", "01000", "0612345678")
        assert roux.birth_date == datetime.date(1980, 1, 2)
        assert "Colonnes ignorées (non reconnues) : Commentaire." in response.content.decode()

    def test_every_bad_row_is_reported_and_nothing_is_written(self, staff_client, cohort):
        def row(**changes):
            values = dict(zip(HEADER, HELENE, strict=True))
            values.update(changes)
            values["Nom de naissance"] = changes.get("Nom de naissance", f"Nom{len(rows)}")
            return [values[name] for name in HEADER]

        rows = [HEADER]
        rows.append(row())  # 2: good
        rows.append(row(**{"Prénom": ""}))  # 3
        rows.append(row(**{"Date de naissance": "01/01/2020"}))  # 4
        rows.append(row(**{"Code INSEE": "2C123"}))  # 5
        rows.append(row(**{"Courriel": "pas-un-courriel"}))  # 6
        rows.append(row(**{"Téléphone": "12345"}))  # 7
        rows.append(row(**{"Date de naissance": "31/02/1990"}))  # 8
        rows.append(row(**{"Sexe": "X"}))  # 9
        rows.append([""] * len(HEADER))  # 10: blank, skipped
        rows.append(row(**{"Code postal": "ABCDE", "Date de naissance": ""}))  # 11
        audit_count = AuditEvent.objects.count()

        response = upload(staff_client, csv_upload(rows), cohort)

        assert response.status_code == 200
        today = timezone.localdate()
        age = today.year - 2020 - ((today.month, today.day) < (1, 1))
        assert issues_of(response) == {
            (3, "Prénom", "Ce champ ne peut pas être vide."),
            (
                4,
                "Date de naissance",
                f"Date de naissance peu plausible : le candidat aurait {age} ans (16 à 100 ans attendus).",
            ),
            (
                5,
                "Code INSEE",
                "Le code INSEE compte 5 caractères : 5 chiffres, ou 2A / 2B suivis de 3 chiffres pour la Corse.",
            ),
            (6, "Courriel", "Saisissez une adresse de courriel valide."),
            (
                7,
                "Téléphone",
                "Numéro de téléphone invalide : 10 chiffres commençant par 0 (06 12 34 56 78) ou format international (+33 6 12 34 56 78).",
            ),
            (8, "Date de naissance", "Date invalide : « 31/02/1990 » (format attendu JJ/MM/AAAA)."),
            (9, "Sexe", "Valeur « X » non reconnue : F ou M attendu (Femme ou Homme)."),
            (11, "Code postal", "Le code postal compte 5 chiffres."),
            (11, "Date de naissance", "Ce champ ne peut pas être vide."),
        }
        html = response.content.decode()
        assert "Import impossible : 8 lignes à corriger (9 erreurs)." in html
        assert "Erreurs par ligne du fichier" in html
        assert "Confirmer l" not in html
        assert IMPORT_SESSION_KEY not in staff_client.session
        assert Candidate.objects.count() == 0
        assert AuditEvent.objects.count() == audit_count

    def test_missing_required_columns_is_one_clear_error_next_to_the_file_field(self, staff_client):
        response = upload(staff_client, csv_upload([["Nom", "Prénom", "Courriel"], ["Dupont", "Hélène", ""]]))
        assert response.status_code == 200
        assert response.context["form"].errors["file"] == [
            "Colonnes obligatoires absentes : « Sexe », « Date de naissance », « Commune de naissance ». "
            "La première ligne du fichier doit porter les en-têtes de colonnes."
        ]
        html = response.content.decode()
        assert 'class="form-control is-invalid"' in html
        assert 'id="id_file_errors" class="invalid-feedback"' in html
        assert 'aria-describedby="id_file_errors id_file_help"' in html

    def test_two_columns_for_the_same_data_are_refused(self, staff_client):
        header = [*HEADER, "E-mail"]
        response = upload(staff_client, csv_upload([header, [*HELENE, "autre@example.org"]]))
        (error,) = response.context["form"].errors["file"]
        assert "Les colonnes « Courriel » et « E-mail » (colonne R) désignent la même donnée" in error

    @pytest.mark.parametrize(
        "file, message",
        [
            (SimpleUploadedFile("vieux.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100), "Excel 97-2003 (.xls)"),
            (SimpleUploadedFile("abime.xlsx", b"PK\x03\x04 pas un classeur"), "n'a pas pu être lu"),
            (SimpleUploadedFile("notes.pdf", b"%PDF-1.7"), "fichier CSV (.csv) ou un classeur Excel (.xlsx)"),
            (SimpleUploadedFile("vide.csv", b"\xef\xbb\xbf"), "Le fichier est vide"),
            (SimpleUploadedFile("entetes.csv", ";".join(HEADER).encode()), "aucune ligne de candidat"),
        ],
    )
    def test_unusable_files_are_refused_with_a_reason(self, staff_client, file, message):
        response = upload(staff_client, file)
        assert response.status_code == 200
        assert message in " ".join(response.context["form"].errors["file"])
        assert IMPORT_SESSION_KEY not in staff_client.session


@pytest.mark.django_db
class TestDuplicates:
    def test_rows_matching_an_existing_candidate_or_another_row_are_errors(self, staff_client, staff_user):
        existing = candidate_create(
            actor=staff_user,
            birth_name="Dupont",
            first_name="Hélène",
            sex="F",
            birth_date=datetime.date(1985, 3, 12),
            birth_commune="Saint-Étienne",
        )
        same_as_existing = ["dupont", *HELENE[1:2], "hélène", *HELENE[3:]]
        twin = [*THOMAS]
        twin[0], twin[2] = "NGUYEN", "THOMAS"
        response = upload(staff_client, csv_upload([HEADER, same_as_existing, THOMAS, twin]))

        identity = "Nom de naissance / Prénom / Date de naissance"
        assert issues_of(response) == {
            (
                2,
                identity,
                "Doublon probable de Hélène DUPONT, déjà enregistré(e) avec la même date de naissance (12/03/1985) : "
                "vérifiez la fiche existante plutôt que d'en créer une autre.",
            ),
            (4, identity, "Doublon probable de Thomas NGUYEN (Martin) (ligne 3)."),
        }
        assert list(Candidate.objects.all()) == [existing]


@pytest.mark.django_db
class TestConfirm:
    def test_confirm_creates_every_candidate_and_enrols_them(self, staff_client, staff_user, cohort):
        preview = upload(staff_client, csv_upload([HEADER, HELENE, THOMAS]), cohort)
        response = staff_client.post(CONFIRM_URL, {"token": preview.context["token"]}, follow=True)

        assert response.redirect_chain == [(reverse("candidates:list"), 302)]
        assert (
            "2 candidats importés et inscrits dans la promotion « Promotion 2025-2026 »." in response.content.decode()
        )
        helene = Candidate.objects.get(birth_name="Dupont")
        assert (helene.first_name, helene.second_first_name, helene.birth_date) == (
            "Hélène",
            "Marie",
            datetime.date(1985, 3, 12),
        )
        assert (helene.employer_kind, helene.job_title, helene.birth_country) == (
            "association",
            "Chef de service",
            "France",
        )
        thomas = Candidate.objects.get(birth_name="Nguyen")
        assert (thomas.usage_name, thomas.sex, thomas.birth_insee_code, thomas.birth_country) == (
            "Martin",
            "M",
            "2A004",
            "France",
        )
        assert (thomas.phone, thomas.employer_kind) == ("+33 6 98 76 54 32", "cooperative")
        assert set(Enrolment.objects.filter(cohort=cohort).values_list("candidate__birth_name", flat=True)) == {
            "Dupont",
            "Nguyen",
        }
        actions = list(AuditEvent.objects.filter(actor=staff_user).values_list("action", flat=True))
        assert sorted(actions) == ["candidate.created"] * 2 + ["enrolment.created"] * 2
        assert IMPORT_SESSION_KEY not in staff_client.session

        # The same confirmation posted twice imports nothing more.
        again = staff_client.post(CONFIRM_URL, {"token": preview.context["token"]}, follow=True)
        assert "Aucun import n&#x27;attend de confirmation" in again.content.decode()
        assert Candidate.objects.count() == 2

    def test_confirm_without_cohort_creates_without_enrolling(self, staff_client):
        preview = upload(staff_client, xlsx_upload([HEADER, HELENE]))
        staff_client.post(CONFIRM_URL, {"token": preview.context["token"]})
        assert Candidate.objects.count() == 1
        assert not Enrolment.objects.exists()

    def test_confirm_needs_the_previews_token(self, staff_client):
        upload(staff_client, csv_upload([HEADER, HELENE]))
        response = staff_client.post(CONFIRM_URL, {"token": "autre"})
        assert response.status_code == 302
        assert not Candidate.objects.exists()

    def test_confirm_validates_again_and_writes_nothing_if_the_database_changed(self, staff_client, staff_user):
        preview = upload(staff_client, csv_upload([HEADER, HELENE, THOMAS]))
        assert preview.context["issues"] == []
        candidate_create(
            actor=staff_user,
            birth_name="Nguyen",
            first_name="Thomas",
            sex="M",
            birth_date=datetime.date(1979, 9, 1),
            birth_commune="Ajaccio",
        )
        audit_count = AuditEvent.objects.count()

        response = staff_client.post(CONFIRM_URL, {"token": preview.context["token"]})

        assert response.status_code == 200
        assert [(issue.row, issue.message[:28]) for issue in response.context["issues"]] == [
            (3, "Doublon probable de Thomas N")
        ]
        assert "Import impossible" in response.content.decode()
        assert Candidate.objects.count() == 1
        assert AuditEvent.objects.count() == audit_count
        assert IMPORT_SESSION_KEY not in staff_client.session

    def test_confirm_is_post_only(self, staff_client):
        assert staff_client.get(CONFIRM_URL).status_code == 405


@pytest.mark.django_db
class TestImportService:
    def rows(self):
        return parse_table([HEADER, HELENE, THOMAS]).rows

    def test_all_or_nothing_when_an_enrolment_fails_midway(self, staff_user, certification):
        closed = make_cohort(certification, pathway_code="candidature-individuelle", name="Promotion fermée")
        audit_count = AuditEvent.objects.count()
        with pytest.raises(ValidationError):
            import_candidates(rows=self.rows(), cohort=closed, actor=staff_user)
        assert not Candidate.objects.exists()
        assert AuditEvent.objects.count() == audit_count

    def test_invalid_rows_raise_with_every_issue(self, staff_user):
        rows = self.rows()
        rows[0]["fields"]["first_name"] = ""
        rows[1]["fields"]["email"] = "non"
        with pytest.raises(CandidateImportError) as caught:
            import_candidates(rows=rows, cohort=None, actor=staff_user)
        assert caught.value.issues == [
            ImportIssue(2, "Prénom", "Ce champ ne peut pas être vide."),
            ImportIssue(3, "Courriel", "Saisissez une adresse de courriel valide."),
        ]
        assert not Candidate.objects.exists()

    def test_creates_through_the_service_with_audit(self, staff_user, cohort):
        created = import_candidates(rows=self.rows(), cohort=cohort, actor=staff_user)
        assert [candidate.birth_name for candidate in created] == ["Dupont", "Nguyen"]
        assert AuditEvent.objects.filter(action="candidate.created").count() == 2
        assert Enrolment.objects.filter(cohort=cohort).count() == 2


@pytest.mark.django_db
class TestAccess:
    def test_trainer_is_refused(self, trainer_client, cohort):
        assert trainer_client.get(UPLOAD_URL).status_code == 403
        assert upload(trainer_client, csv_upload([HEADER, HELENE])).status_code == 403
        assert trainer_client.post(CONFIRM_URL, {"token": "x"}).status_code == 403
        assert not Candidate.objects.exists()

    def test_anonymous_is_sent_to_the_login_page(self, client):
        for response in (client.get(UPLOAD_URL), client.post(CONFIRM_URL)):
            assert response.status_code == 302
            assert response.url.startswith(reverse("login"))

    def test_upload_page_is_in_french_and_lists_the_columns(self, staff_client, cohort):
        html = staff_client.get(UPLOAD_URL).content.decode()
        assert "Importer des candidats depuis un tableur" in html
        assert '<label for="id_file" class="form-label">Fichier des candidats' in html
        assert 'enctype="multipart/form-data"' in html
        assert "Colonnes attendues dans la première ligne du fichier" in html
        assert "Promotion 2025-2026 — Après un parcours de formation continue" in html


@pytest.mark.django_db
class TestBirthPostalCode:
    """Optional column: the postal code of the birth commune, for the CDC declaration when the INSEE code is unknown."""

    @pytest.mark.parametrize(
        "header",
        ["Code postal de naissance", "code postal de la commune de naissance", "CP de naissance", "CP naissance"],
    )
    def test_headers_are_recognised_and_distinct_from_the_address_postal_code(self, header):
        assert HEADER_TO_FIELD[normalize_header(header)] == "birth_postal_code"
        assert HEADER_TO_FIELD[normalize_header("Code postal")] == "postal_code"

    def test_leading_zero_restored_and_bad_value_reported(self, staff_client):
        header = ["Nom de naissance", "Prénom", "Sexe", "Date de naissance", "Commune de naissance"]
        header += ["Code postal de naissance", "Code postal"]
        rows = [
            header,
            ["Girard", "Inès", "F", "14/07/1991", "Bourg-en-Bresse", 1000, "69003"],
            ["Roux", "Paul", "M", "02/01/1980", "Lyon", "6900A", ""],
        ]
        response = upload(staff_client, xlsx_upload(rows))
        girard = response.context["candidates"][0][1]
        assert (girard.birth_postal_code, girard.postal_code) == ("01000", "69003")
        assert issues_of(response) == {(3, "Code postal de naissance", "Le code postal compte 5 chiffres.")}
        assert not Candidate.objects.exists()

    def test_the_column_is_optional_and_imported_when_present(self, staff_client):
        preview = upload(staff_client, csv_upload([HEADER, HELENE]))  # no such column: still fine
        assert preview.context["issues"] == []
        rows = [[*HEADER, "Code postal de naissance"], [*HELENE[:7], "", *HELENE[8:], "42000"]]
        preview = upload(staff_client, csv_upload(rows))
        assert preview.context["issues"] == []
        # One commune of the COG bears this name with this postal code: its INSEE code is known.
        assert "Saint-Étienne (42218)" in preview.content.decode()
        staff_client.post(CONFIRM_URL, {"token": preview.context["token"]})
        helene = Candidate.objects.get(birth_name="Dupont")
        assert (helene.birth_insee_code, helene.birth_postal_code) == ("42218", "42000")

    def test_upload_page_lists_the_column(self, staff_client):
        html = staff_client.get(UPLOAD_URL).content.decode()
        assert "Code postal de naissance" in html


@pytest.mark.django_db
class TestImportQueries:
    @staticmethod
    def _rows(count, offset):
        people = [
            [f"Famille{offset + index}", "", "Hélène", "", "F", f"{1 + index % 28:02d}/03/19{60 + index % 30}"]
            + HELENE[6:]
            for index in range(count)
        ]
        return parse_table([HEADER, *people]).rows

    def test_checking_the_rows_does_not_grow_with_the_rows(self, staff_user):
        """Checking 3 or 15 rows reads the database the same number of times: no query per row and per length bound
        (the fields' own limits say it), one look for likely duplicates of the whole file."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from candidates.imports import validate_rows

        counts = []
        for count, offset in ((3, 0), (15, 100)):
            rows = self._rows(count, offset)
            with CaptureQueriesContext(connection) as queries:
                checked, issues = validate_rows(rows)
            assert not issues and len(checked) == count
            counts.append(len(queries))
        assert counts[0] == counts[1], counts

    def test_a_value_too_long_is_still_refused_next_to_its_column(self, staff_user):
        from candidates.imports import validate_rows

        rows = self._rows(1, 0)
        rows[0]["fields"]["birth_name"] = "N" * 61
        _checked, issues = validate_rows(rows)
        assert [(issue.column, issue.message) for issue in issues] == [
            ("Nom de naissance", "Assurez-vous que cette valeur comporte au plus 60 caractères (actuellement 61).")
        ]

    def test_writing_the_import_does_not_grow_with_the_rows(self, staff_user, cohort):
        """The same number of writes for 3 and for 15 rows: candidates, enrolments and their audit rows are each
        written in one INSERT."""
        from django.contrib.contenttypes.models import ContentType
        from django.db import connection, reset_queries
        from django.test.utils import CaptureQueriesContext

        from candidates.imports import validate_rows
        from candidates.services import candidates_create_many

        counts = []
        for count, offset in ((3, 0), (15, 100)):
            checked, issues = validate_rows(self._rows(count, offset))
            assert not issues
            ContentType.objects.clear_cache()
            reset_queries()
            with CaptureQueriesContext(connection) as queries:
                created = candidates_create_many(
                    candidates=[candidate for _row, candidate in checked], cohort=cohort, actor=staff_user
                )
            counts.append(len(queries))
            assert len(created) == count and all(candidate.pk for candidate in created)
        assert counts[0] == counts[1] > 0, counts
        assert Enrolment.objects.filter(cohort=cohort).count() == 18
        assert AuditEvent.objects.filter(action="candidate.created").count() == 18
        assert AuditEvent.objects.filter(action="enrolment.created").count() == 18
