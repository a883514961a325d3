"""Bad input gets a clear answer in French, next to the field when there is one, and writes nothing.

Every case here was a server error (or a silent acceptance) once. The client answers as production does
(`raise_request_exception=False`): a 500 would show as a 500, not as a test error.
"""

import datetime
import io
import json
import threading
import zipfile
from html import unescape

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from candidates import services as candidate_services
from candidates.models import AcquiredBlock, Candidate, Cohort, Enrolment
from candidates.selectors import CANDIDATE_AUDITED_FIELDS
from certif.models import AccessPathway, AuditEvent, PreparationPlace, Registration
from certif.validation import unique_violations_as_field_errors
from tests.factories import candidate_fields, evaluated_cohort, make_candidate, make_cohort, make_jury, present_all

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def staff(staff_user):
    """Staff browsing as in production: an exception becomes the 500 page, it is not raised into the test."""
    client = Client(raise_request_exception=False)
    client.force_login(staff_user)
    return client


def page(response) -> str:
    return unescape(response.content.decode())


def field_error(html: str, field: str) -> bool:
    """Crispy renders a field's error as <... id="error_1_id_<field>">."""
    return f'id="error_1_id_{field}"' in html


def cohort_form(certification, **overrides):
    data = {
        "name": "Promotion 2025-2026",
        "pathway": AccessPathway.objects.get(certification=certification, code="formation-continue").pk,
        "preparation_place": PreparationPlace.objects.filter(certification=certification).first().pk,
        "start_date": "2025-09-01",
        "end_date": "2026-06-30",
    }
    data.update(overrides)
    return data


class TestUniqueNames:
    def test_a_duplicate_cohort_name_is_refused_next_to_the_name(self, staff, staff_user, certification):
        make_cohort(staff_user, name="Promotion 2025-2026")
        events = AuditEvent.objects.count()
        response = staff.post(reverse("candidates:cohort_create"), cohort_form(certification))
        html = page(response)
        assert response.status_code == 400
        assert field_error(html, "name")
        assert "Une promotion porte déjà ce nom" in html
        assert Cohort.objects.count() == 1 and AuditEvent.objects.count() == events

    def test_renaming_a_cohort_to_another_cohorts_name_is_refused(self, staff, staff_user, certification):
        make_cohort(staff_user, name="Promotion 2025-2026")
        other = make_cohort(staff_user, name="Promotion 2026-2027")
        events = AuditEvent.objects.count()
        response = staff.post(reverse("candidates:cohort_edit", args=[other.pk]), cohort_form(certification))
        html = page(response)
        assert response.status_code == 400
        assert field_error(html, "name") and "Une promotion porte déjà ce nom" in html
        other.refresh_from_db()
        assert other.name == "Promotion 2026-2027" and AuditEvent.objects.count() == events

    def test_a_duplicate_preparation_place_is_refused_next_to_the_name(self, staff, certification):
        existing = PreparationPlace.objects.filter(certification=certification).first()
        count = PreparationPlace.objects.count()
        response = staff.post(reverse("candidates:place_create"), {"name": existing.name, "address": "ailleurs"})
        html = page(response)
        assert response.status_code == 400
        assert field_error(html, "name") and "Un lieu de préparation porte déjà ce nom" in html
        assert PreparationPlace.objects.count() == count


class TestUnknownPositions:
    def test_renaming_a_competence_that_does_not_exist_is_a_404(self, staff):
        url = reverse("certif:competence_rename", args=["16204", 2, 999])
        response = staff.post(url, {"c999-label": "Nouvelle compétence"})
        assert response.status_code == 404

    def test_moving_a_competence_that_does_not_exist_is_a_404(self, staff):
        url = reverse("certif:competence_move", args=["16204", 2, 999])
        assert staff.post(url, {"direction": "up"}).status_code == 404


def vae_enrolment(staff_user):
    cohort = make_cohort(staff_user, pathway_code="vae")
    return candidate_services.enrolment_create(candidate=make_candidate(staff_user), cohort=cohort, actor=staff_user)


class TestImplausibleDates:
    @pytest.mark.parametrize(
        ("decided_on", "message"),
        [
            ("9999-12-31", "ne peut pas être dans le futur"),
            ((TODAY + datetime.timedelta(days=1)).isoformat(), "ne peut pas être dans le futur"),
            ("0001-01-01", "le 01/01/0001 est avant le 01/01/2000"),
        ],
    )
    def test_an_admissibility_decision_dated_absurdly_is_refused(self, staff, staff_user, decided_on, message):
        enrolment = vae_enrolment(staff_user)
        events = AuditEvent.objects.count()
        response = staff.post(
            reverse("candidates:admissibility", args=[enrolment.pk]),
            {"decided_on": decided_on, "favourable": "oui", "reason": ""},
        )
        html = page(response)
        assert response.status_code == 400
        assert field_error(html, "decided_on") and message in html
        enrolment.refresh_from_db()
        assert enrolment.admissibility_date is None and AuditEvent.objects.count() == events

    @pytest.mark.parametrize(
        ("acquired_on", "message"),
        [
            ("0001-01-01", "avant le 13/12/2010, début du premier enregistrement de la fiche"),
            ("2010-12-12", "avant le 13/12/2010, début du premier enregistrement de la fiche"),
            ("9999-12-31", "ne peut pas être dans le futur"),
        ],
    )
    def test_an_acquired_block_dated_absurdly_is_refused(self, staff, staff_user, blocks, acquired_on, message):
        candidate = make_candidate(staff_user)
        response = staff.post(
            reverse("candidates:acquired_block_add", args=[candidate.pk]),
            {"block": blocks[1].pk, "acquired_on": acquired_on, "import_source": "PV du jury"},
        )
        html = page(response)
        assert response.status_code == 400
        assert field_error(html, "acquired_on") and message in html
        assert not AcquiredBlock.objects.exists()

    def test_an_acquired_block_dated_on_the_first_registration_is_accepted(self, staff, staff_user, blocks):
        candidate = make_candidate(staff_user)
        staff.post(
            reverse("candidates:acquired_block_add", args=[candidate.pk]),
            {"block": blocks[1].pk, "acquired_on": "2010-12-13", "import_source": "PV du jury du 13/12/2010"},
        )
        assert AcquiredBlock.objects.get().acquired_on == datetime.date(2010, 12, 13)


class TestOverlongTexts:
    def test_a_200000_character_admissibility_reason_is_refused_with_the_limit(self, staff, staff_user):
        enrolment = vae_enrolment(staff_user)
        response = staff.post(
            reverse("candidates:admissibility", args=[enrolment.pk]),
            {"decided_on": TODAY.isoformat(), "favourable": "non", "reason": "x" * 200_000},
        )
        html = page(response)
        assert response.status_code == 400
        assert field_error(html, "reason") and "au plus 2000 caractères" in html
        enrolment.refresh_from_db()
        assert enrolment.admissibility_favourable is None


class TestCharactersXmlCannotCarry:
    def test_a_vertical_tab_in_a_name_is_refused_next_to_the_field(self, staff):
        data = candidate_fields(birth_name="Dupont\x0bMartin")
        data["birth_date"] = data["birth_date"].isoformat()
        response = staff.post(reverse("candidates:create"), data)
        html = page(response)
        assert response.status_code == 200
        assert field_error(html, "birth_name") and "caractère invisible" in html
        assert not Candidate.objects.exists()

    def test_the_cdc_declaration_lists_a_holder_whose_name_xml_cannot_carry_as_to_fix(
        self, staff, staff_user, certification
    ):
        from declarations import services as declarations
        from declarations.models import HolderDeclaration
        from tests.declarations.test_declarations import award_for

        declarations.declarant_settings_save(
            certification=certification,
            sender_id_client="IRUP0042",
            certifier_id_client="IRUP0042",
            contract_id="MCFCER000123",
            actor=staff_user,
        )
        cohort = make_cohort(staff_user)
        clean = make_candidate(staff_user, birth_name="Dupont")
        candidate_services.enrolment_create(candidate=clean, cohort=cohort, actor=staff_user)
        award_for(clean, certification)
        old = make_candidate(staff_user, birth_name="Martin")
        candidate_services.enrolment_create(candidate=old, cohort=cohort, actor=staff_user)
        Candidate.objects.filter(pk=old.pk).update(birth_name="Mar\x0btin")  # recorded before the rule
        old_award = award_for(old, certification)
        url = reverse("declarations:declare", args=["16204"])

        html = page(staff.get(url))
        assert "Dossiers incomplets : titulaires exclus du fichier (1)" in html
        assert "nom de naissance (caractère invisible non admis" in html

        response = staff.post(url, {"awards": [old_award.pk]})
        assert response.status_code == 400 and not HolderDeclaration.objects.exists()
        response = staff.post(url, {"awards": [clean.awards.get().pk]})
        assert response.status_code == 302
        assert b"Mar" not in bytes(HolderDeclaration.objects.get().xml)


def xlsx_bytes(rows) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_member(xlsx: bytes, name: str, content: bytes) -> bytes:
    """The same workbook with the zip member `name` replaced (or added)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for item in source.infolist():
            if item.filename != name:
                target.writestr(item, source.read(item.filename))
        target.writestr(name, content)
    return buffer.getvalue()


def import_upload(client, content: bytes, name: str):
    return client.post(reverse("candidates:import_upload"), {"file": SimpleUploadedFile(name, content), "cohort": ""})


IMPORT_HEADER = ["Nom de naissance", "Prénom", "Sexe", "Date de naissance", "Commune de naissance", "Code INSEE"]


class TestImportFiles:
    def test_a_csv_cell_of_131073_characters_is_refused_with_its_line_and_column(self, staff):
        rows = [";".join(IMPORT_HEADER), ";".join(["Dupont", "Léa", "F", "12/03/1985", "x" * 131_073, "42218"])]
        response = import_upload(staff, "\r\n".join(rows).encode(), "candidats.csv")
        assert response.status_code == 200
        issues = {(issue.row, issue.column, issue.message) for issue in response.context["issues"]}
        assert issues == {(2, "Commune de naissance", "La cellule compte 131073 caractères ; 60 au plus.")}
        assert "x" * 61 not in page(response)
        assert response.context["token"] is None and not Candidate.objects.exists()

    def test_an_insee_code_of_three_digits_is_refused_as_the_form_refuses_it(self, staff):
        rows = [";".join(IMPORT_HEADER), ";".join(["Dupont", "Léa", "F", "12/03/1985", "Lyon", "123"])]
        response = import_upload(staff, "\r\n".join(rows).encode(), "candidats.csv")
        issues = {(issue.row, issue.column, issue.message) for issue in response.context["issues"]}
        assert issues == {(2, "Code INSEE", str(Candidate._meta.get_field("birth_insee_code").validators[0].message))}
        assert response.context["token"] is None and not Candidate.objects.exists()

    def test_an_xlsx_with_a_million_shared_strings_is_refused_before_it_is_parsed(self, staff):
        workbook = xlsx_bytes([IMPORT_HEADER, ["Dupont", "Léa", "F", "12/03/1985", "Lyon", "69123"]])
        strings = b"<si><t>a</t></si>" * 1_000_000
        types = zipfile.ZipFile(io.BytesIO(workbook)).read("[Content_Types].xml")
        workbook = with_member(  # declared as Excel declares it, so that openpyxl would read it
            workbook,
            "[Content_Types].xml",
            types.replace(
                b"</Types>",
                b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
            ),
        )
        bomb = with_member(
            workbook,
            "xl/sharedStrings.xml",
            b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
            b'main" count="1000000" uniqueCount="1000000">' + strings + b"</sst>",
        )
        assert len(bomb) < 60 * 1024
        response = import_upload(staff, bomb, "candidats.xlsx")
        html = page(response)
        assert response.status_code == 200
        assert "Le classeur contient plus de 100000 chaînes de texte différentes" in html
        assert not Candidate.objects.exists()


class TestGridState:
    def test_a_grid_state_nested_200000_deep_is_a_clear_400(self, staff_user, trainer_user, blocks):
        from evaluation.models import BlockEvaluation
        from tests.evaluation.test_evaluation import enrol_many, grid_data, grid_url, open_session

        cohort = make_cohort(staff_user, trainers=[trainer_user])
        enrolments = enrol_many(cohort, staff_user, 1)
        session = open_session(cohort, [blocks[1]], [trainer_user], staff_user)
        block_evaluation = BlockEvaluation.objects.get(session=session)
        data = grid_data(block_evaluation, {(enrolments[0].pk, 1): "A"})
        data["grid-state"] = "[" * 200_000 + "]" * 200_000
        client = Client(raise_request_exception=False)
        client.force_login(trainer_user)
        response = client.post(grid_url(block_evaluation), data)
        assert response.status_code == 400
        assert "L'état de la grille envoyé est illisible" in page(response)
        assert "Rien n'a été enregistré" in page(response)


# — Beyond the cases observed: the same weaknesses elsewhere —


class TestUniqueEverywhere:
    def test_the_orm_door_reports_a_duplicate_on_the_field_in_french(self, staff_user, certification):
        first = make_cohort(staff_user, name="Promotion A")
        duplicate = Cohort(
            certification=certification,
            name="Promotion A",
            pathway=first.pathway,
            preparation_place=first.preparation_place,
            start_date=first.start_date,
            end_date=first.end_date,
        )
        with pytest.raises(ValidationError) as refused:
            duplicate.full_clean()
        assert refused.value.message_dict == {"name": ["Une promotion porte déjà ce nom : choisissez-en un autre."]}

    def test_a_row_written_between_check_and_save_is_a_field_error_and_the_transaction_survives(
        self, staff_user, certification
    ):
        existing = PreparationPlace.objects.filter(certification=certification).first()
        with transaction.atomic():
            duplicate = PreparationPlace(certification=certification, name=existing.name)
            with pytest.raises(ValidationError) as refused, unique_violations_as_field_errors(duplicate):
                duplicate.save()  # no full_clean: as if the other row had appeared after it
            assert refused.value.message_dict == {"name": ["Un lieu de préparation porte déjà ce nom."]}
            assert PreparationPlace.objects.filter(name=existing.name).count() == 1  # still usable

    def test_enrolling_twice_in_a_cohort_is_refused_next_to_the_cohort(self, staff, staff_user):
        cohort = make_cohort(staff_user)
        candidate = make_candidate(staff_user)
        candidate_services.enrolment_create(candidate=candidate, cohort=cohort, actor=staff_user)
        response = staff.post(reverse("candidates:enrol", args=[candidate.pk]), {"cohort": cohort.pk})
        assert response.status_code == 400
        assert field_error(page(response), "cohort") and "déjà inscrit dans cette promotion" in page(response)
        assert Enrolment.objects.count() == 1

    def test_a_competence_label_already_in_the_grid_is_refused_next_to_the_label(self, staff, blocks):
        label = blocks[2].current_grid.competences.get(position=1).label
        response = staff.post(reverse("certif:competence_add", args=["16204", 2]), {"add-label": label.upper()})
        assert response.status_code == 400
        assert field_error(page(response), "add-label")
        assert "Cette compétence figure déjà dans la grille du bloc." in page(response)

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="two real concurrent transactions")
    @pytest.mark.django_db(transaction=True)
    def test_two_staff_creating_the_same_cohort_at_once_one_gets_a_field_error(self, staff_user, certification):
        """The second request's check sees nothing (the first has not committed); its INSERT waits for the first
        commit, then hits the unique index: a field error, not a 500, and one cohort."""
        template = make_cohort(staff_user, name="Modèle")
        first_saved, first_may_commit = threading.Event(), threading.Event()

        def first_request():
            try:
                with transaction.atomic():
                    cohort = Cohort(**{**_cohort_fields(template), "name": "Promotion concurrente"})
                    candidate_services.cohort_save(cohort=cohort, trainers=[], actor=staff_user)
                    first_saved.set()
                    first_may_commit.wait(10)
            finally:
                connection.close()

        thread = threading.Thread(target=first_request)
        thread.start()
        assert first_saved.wait(10)
        threading.Timer(0.5, first_may_commit.set).start()  # commits while the second INSERT waits on the index
        second = Cohort(**{**_cohort_fields(template), "name": "Promotion concurrente"})
        with pytest.raises(ValidationError) as refused:
            candidate_services.cohort_save(cohort=second, trainers=[], actor=staff_user)
        thread.join()
        assert refused.value.message_dict == {"name": ["Une promotion porte déjà ce nom : choisissez-en un autre."]}
        assert Cohort.objects.filter(name="Promotion concurrente").count() == 1
        assert AuditEvent.objects.filter(action="cohort.created").count() == 2  # the template's and the first's


def _cohort_fields(cohort) -> dict:
    return {
        "certification_id": cohort.certification_id,
        "pathway_id": cohort.pathway_id,
        "preparation_place_id": cohort.preparation_place_id,
        "start_date": cohort.start_date,
        "end_date": cohort.end_date,
    }


class TestUnknownIds:
    @pytest.mark.parametrize("posted", ["abc", "", "-1", "99999999999999999999"])
    def test_presenting_an_enrolment_that_is_not_a_number_is_a_404(self, staff, staff_user, president_user, posted):
        session = make_jury(staff_user, president_user)
        response = staff.post(reverse("juries:presentations", args=[session.pk]), {"enrolment": posted})
        assert response.status_code == 404
        assert not session.presentations.exists()


CANDIDATE_TEXT_FIELDS = [
    name
    for name in CANDIDATE_AUDITED_FIELDS
    if name not in ("sex", "birth_date", "employer_kind", "email", "phone", "birth_insee_code", "birth_postal_code")
    and name not in ("postal_code", "birth_country")  # the country's label follows its code (not on the form)
]


class TestControlCharactersEverywhere:
    @pytest.mark.parametrize("field", CANDIDATE_TEXT_FIELDS)
    @pytest.mark.parametrize("character", ["\x0b", "\x01", "\x1b", "\x7f", "\x85"])
    def test_every_candidate_text_field_refuses_them(self, staff, field, character):
        data = candidate_fields(**{field: f"Val{character}eur"})
        data["birth_date"] = data["birth_date"].isoformat()
        response = staff.post(reverse("candidates:create"), data)
        html = page(response)
        assert field_error(html, field) and f"U+{ord(character):04X}, en position 4" in html
        assert not Candidate.objects.exists()

    def test_the_orm_door_refuses_them_too(self, staff_user):
        candidate = Candidate(**candidate_fields(first_name="Lé\x0ba"))
        with pytest.raises(ValidationError) as refused:
            candidate.full_clean()
        assert list(refused.value.message_dict) == ["first_name"]
        assert "tabulation verticale U+000B, en position 3" in refused.value.message_dict["first_name"][0]

    def test_free_texts_keep_their_line_breaks_but_not_the_rest(self, staff, staff_user):
        enrolment = vae_enrolment(staff_user)
        url = reverse("candidates:admissibility", args=[enrolment.pk])
        refused = staff.post(url, {"decided_on": TODAY.isoformat(), "favourable": "non", "reason": "Dossier\x0cvide"})
        assert refused.status_code == 400 and "saut de page U+000C" in page(refused)
        staff.post(url, {"decided_on": TODAY.isoformat(), "favourable": "non", "reason": "Dossier incomplet :\r\n- CV"})
        enrolment.refresh_from_db()
        assert enrolment.admissibility_reason == "Dossier incomplet :\r\n- CV"

    @pytest.mark.parametrize(
        ("url_name", "args", "data", "field"),
        [
            ("candidates:place_create", [], {"name": "Lieu\x0b1", "address": ""}, "name"),
            ("certif:registration_add", ["16204"], {"act": "Arrêté\x0bdu 1er juin", "in_force_from": "2023-04-18",
                                                    "in_force_until": "2028-04-18"}, "act"),
            ("declarations:settings", ["16204"], {"sender_id_client": "IRUP\x01042", "certifier_id_client": "IRUP0042",
                                                  "contract_id": "MCF"}, "sender_id_client"),
        ],
    )  # fmt: skip
    def test_staff_forms_refuse_them_next_to_the_field(self, staff, url_name, args, data, field):
        response = staff.post(reverse(url_name, args=args), data)
        assert response.status_code in (200, 400)  # the form shown again (the registration page answers 200)
        assert field_error(page(response), field) and "caractère invisible non admis" in page(response)

    def test_the_import_reports_the_row_and_column(self, staff):
        rows = [";".join(IMPORT_HEADER), ";".join(["Dupont", "Lé\x0ba", "F", "12/03/1985", "Lyon", "69123"])]
        response = import_upload(staff, "\r\n".join(rows).encode(), "candidats.csv")
        issues = [(issue.row, issue.column) for issue in response.context["issues"]]
        assert issues == [(2, "Prénom")]
        assert "tabulation verticale U+000B" in response.context["issues"][0].message

    def test_a_jury_place_and_a_members_name(self, staff, staff_user, president_user, blocks):
        response = staff.post(
            reverse("juries:create"), {"date": "2022-06-14", "place": "IRUP\x0bSaint-Étienne", "blocks": [blocks[1].pk]}
        )
        assert response.status_code == 400 and field_error(page(response), "place")
        session = make_jury(staff_user, president_user)
        response = staff.post(
            reverse("juries:member_add", args=[session.pk]),
            {"name": "Luc\x0bBrun", "organisation": "IRUP", "category": "trainer"},
        )
        assert response.status_code == 400 and field_error(page(response), "name")
        assert session.members.count() == 4

    def test_a_grid_comment_is_refused_with_the_typed_grid_kept(self, staff_user, trainer_user, blocks):
        from evaluation.models import BlockEvaluation, LevelEntry
        from tests.evaluation.test_evaluation import enrol_many, grid_data, grid_url, open_session

        cohort = make_cohort(staff_user, trainers=[trainer_user])
        enrolment = enrol_many(cohort, staff_user, 1)[0]
        block_evaluation = BlockEvaluation.objects.get(
            session=open_session(cohort, [blocks[1]], [trainer_user], staff_user)
        )
        data = grid_data(block_evaluation, {(enrolment.pk, 1): "B"}, comments={(enrolment.pk, 1): "Oral\x0bbien"})
        client = Client(raise_request_exception=False)
        client.force_login(trainer_user)
        response = client.post(grid_url(block_evaluation), data)
        html = page(response)
        assert response.status_code == 409
        assert "Un commentaire ne peut pas être enregistré." in html and "tabulation verticale U+000B" in html
        assert "Vos saisies sont restées affichées" in html
        assert not LevelEntry.objects.exists()


class TestDatesEverywhere:
    @pytest.mark.parametrize(("field", "value"), [("start_date", "0001-01-01"), ("end_date", "9999-12-31")])
    def test_a_cohort(self, staff, certification, field, value):
        response = staff.post(reverse("candidates:cohort_create"), cohort_form(certification, **{field: value}))
        assert response.status_code == 400
        assert field_error(page(response), field) and "Date peu plausible" in page(response)
        assert not Cohort.objects.exists()

    def test_a_registration(self, staff):
        data = {"act": "Arrêté du 1er juin 2026", "in_force_from": "2026-06-01", "in_force_until": "9999-12-31"}
        response = staff.post(reverse("certif:registration_add", args=["16204"]), data)
        assert response.status_code == 200  # the form shown again, as for an overlapping period
        assert field_error(page(response), "in_force_until") and "à plus de 10 ans d'aujourd'hui" in page(response)
        assert Registration.objects.count() == 2

    def test_an_evaluation_session(self, staff, staff_user, trainer_user, blocks):
        from evaluation.models import EvaluationSession

        cohort = make_cohort(staff_user, trainers=[trainer_user])
        data = {
            "cohort": cohort.pk,
            "blocks": [blocks[1].pk],
            "evaluators": [trainer_user.pk],
            "starts_on": "2026-05-04",
            "ends_on": "9999-12-31",
        }
        response = staff.post(reverse("evaluation:session_open"), data)
        assert response.status_code == 400 and field_error(page(response), "ends_on")
        assert not EvaluationSession.objects.exists()

    def test_the_planning_horizon_is_five_years(self, staff, certification):
        limit = TODAY.replace(year=TODAY.year + 5) if (TODAY.month, TODAY.day) != (2, 29) else TODAY
        accepted = staff.post(
            reverse("candidates:cohort_create"), cohort_form(certification, end_date=limit.isoformat())
        )
        assert accepted.status_code == 302
        refused = staff.post(
            reverse("candidates:cohort_create"),
            cohort_form(certification, name="Suivante", end_date=(limit + datetime.timedelta(days=1)).isoformat()),
        )
        assert refused.status_code == 400 and "à plus de 5 ans d'aujourd'hui" in page(refused)


class TestOverlongTextsEverywhere:
    def test_a_deliberation_reason_is_refused_whole_not_cut(self, staff_user, trainer_user, president_user):
        from juries.models import Decision

        _cohort, enrolments, _ = evaluated_cohort(staff_user, trainer_user, numbers=(1,), count=1, codes="D")
        session = make_jury(staff_user, president_user, numbers=(1,))
        present_all(session, enrolments, staff_user)
        decision = Decision.objects.get()
        client = Client(raise_request_exception=False)
        client.force_login(president_user)
        data = {f"d-{decision.pk}-outcome": "validated", f"d-{decision.pk}-reason": "x" * 2001}
        response = client.post(reverse("juries:deliberation", args=[session.pk]), data)
        assert response.status_code == 400
        assert "motif : Assurez-vous que cette valeur comporte au plus 2000 caractères (actuellement 2001)." in page(
            response
        )
        decision.refresh_from_db()
        assert decision.outcome == "" and decision.departure_reason == ""

    def test_a_recusal_reason_is_refused_whole_not_cut(self, staff_user, trainer_user, president_user):
        from juries import services as juries

        _cohort, enrolments, _ = evaluated_cohort(staff_user, trainer_user, numbers=(1,), count=1)
        session = make_jury(staff_user, president_user, numbers=(1,))
        presentation = present_all(session, enrolments, staff_user)[0]
        with pytest.raises(ValidationError) as refused:
            juries.recusal_declare(
                member=session.members.first(), presentation=presentation, reason="lien " * 60, actor=staff_user
            )
        assert "au plus 255 caractères" in refused.value.message_dict["reason"][0]
        assert not presentation.recusals.filter(source="declared").exists()

    def test_a_place_address_is_bounded(self, staff):
        response = staff.post(reverse("candidates:place_create"), {"name": "Lieu", "address": "x" * 2001})
        assert response.status_code == 400 and field_error(page(response), "address")
        assert 'maxlength="2000"' in page(staff.get(reverse("candidates:place_create")))

    def test_the_candidate_search_is_bounded(self, staff):
        response = staff.post(reverse("candidates:list"), {"q": "x" * 200_000}, follow=True)
        assert "La recherche compte 200000 caractères ; 100 au plus." in page(response)
        assert staff.session.get("candidate_search", "") == ""


class TestInseeCodes:
    @pytest.mark.parametrize("code", ["00123", "00000"])
    def test_no_department_zero_on_the_form(self, staff, code):
        data = candidate_fields(birth_insee_code=code)
        data["birth_date"] = data["birth_date"].isoformat()
        response = staff.post(reverse("candidates:create"), data)
        assert field_error(page(response), "birth_insee_code") and "jamais par 00" in page(response)
        assert not Candidate.objects.exists()

    @pytest.mark.parametrize(
        ("cell", "issue"),
        [
            ("1053", None),  # 01053 whose zero the spreadsheet dropped
            ("0123", "Le code INSEE compte 5 caractères"),
            ("12", "Le code INSEE compte 5 caractères"),
            ("00123", "jamais par 00"),
            ("2a004", None),
        ],
    )
    def test_the_import_reads_codes_as_the_form_does(self, staff, cell, issue):
        commune = "Ajaccio" if cell.lower().startswith("2a") else "Bourg-en-Bresse"  # the COG's name of the code
        rows = [";".join(IMPORT_HEADER), ";".join(["Dupont", "Léa", "F", "12/03/1985", commune, cell])]
        response = import_upload(staff, "\r\n".join(rows).encode(), "candidatsc.csv")
        messages = [issue.message for issue in response.context["issues"]]
        if issue is None:
            assert messages == []
            assert response.context["candidates"][0][1].birth_insee_code in ("01053", "2A004")
        else:
            assert len(messages) == 1 and issue in messages[0]

    def test_the_form_reads_corsica_in_lower_case_as_the_import_does(self, staff):
        data = candidate_fields(birth_insee_code="2a004", birth_commune="Ajaccio")
        data["birth_date"] = data["birth_date"].isoformat()
        staff.post(reverse("candidates:create"), data)
        assert Candidate.objects.get().birth_insee_code == "2A004"


class TestXlsxBounds:
    def test_a_workbook_that_decompresses_beyond_the_limit_is_refused(self, staff):
        workbook = xlsx_bytes([IMPORT_HEADER, ["Dupont", "Léa", "F", "12/03/1985", "Lyon", "69123"]])
        padded = with_member(workbook, "xl/padding.xml", b" " * (26 * 1024 * 1024))
        assert len(padded) < 100 * 1024
        response = import_upload(staff, padded, "candidats.xlsx")
        assert "Le classeur est trop volumineux une fois décompressé (plus de 25 Mo)" in page(response)

    def test_a_cell_far_to_the_right_does_not_widen_every_row(self, staff):
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(IMPORT_HEADER)
        sheet.append(["Dupont", "Léa", "F", "12/03/1985", "Lyon", "69123"])
        sheet.cell(row=2, column=16384, value="note")  # column XFD, the last Excel has
        buffer = io.BytesIO()
        workbook.save(buffer)
        from candidates.imports import MAX_COLUMNS, read_table

        table = read_table(buffer.getvalue(), "candidats.xlsx")
        assert max(len(row) for row in table) == MAX_COLUMNS
        response = import_upload(staff, buffer.getvalue(), "candidats.xlsx")
        assert response.context["issues"] == [] and len(response.context["candidates"]) == 1

    def test_blank_rows_do_not_hide_the_candidates_below_them(self, staff):
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(IMPORT_HEADER)
        for column, value in enumerate(["Dupont", "Léa", "F", "12/03/1985", "Lyon", "69123"], start=1):
            sheet.cell(row=2500, column=column, value=value)
        buffer = io.BytesIO()
        workbook.save(buffer)
        response = import_upload(staff, buffer.getvalue(), "candidats.xlsx")
        assert [row for row, _candidate in response.context["candidates"]] == [2500]

    def test_a_sheet_running_to_the_last_excel_row_is_refused_with_a_reason(self, staff):
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(IMPORT_HEADER)
        sheet.append(["Dupont", "Léa", "F", "12/03/1985", "Lyon", "69123"])
        sheet.cell(row=1_048_576, column=1, value="fin")
        buffer = io.BytesIO()
        workbook.save(buffer)
        response = import_upload(staff, buffer.getvalue(), "candidats.xlsx")
        assert "Le classeur compte plus de 40000 lignes, vides comprises" in page(response)


class TestOversizedGridState:
    def test_a_state_larger_than_the_grid_can_need_is_a_400(self, staff_user, trainer_user, blocks):
        from evaluation.models import BlockEvaluation, LevelEntry
        from tests.evaluation.test_evaluation import enrol_many, grid_data, grid_url, open_session

        cohort = make_cohort(staff_user, trainers=[trainer_user])
        enrolment = enrol_many(cohort, staff_user, 1)[0]
        block_evaluation = BlockEvaluation.objects.get(
            session=open_session(cohort, [blocks[1]], [trainer_user], staff_user)
        )
        data = grid_data(block_evaluation, {(enrolment.pk, 1): "A"})
        data["grid-state"] = data["grid-state"][:-1] + ', "x": "' + "y" * 60_000 + '"}'
        client = Client(raise_request_exception=False)
        client.force_login(trainer_user)
        response = client.post(grid_url(block_evaluation), data)
        assert response.status_code == 400
        assert "L'état de la grille envoyé est illisible (trop volumineux" in page(response)
        assert not LevelEntry.objects.exists()


class TestEveryDoorHasTheRules:
    """Project-wide: a form or a model added later without the shared input rules fails here."""

    def test_every_form_of_the_application_applies_the_text_rules(self):
        import importlib

        from django import forms

        from certif.validation import InputRulesFormMixin

        for module in [
            "candidates.forms",
            "candidates.filters",
            "candidates.views_import",
            "certif.forms",
            "declarations.forms",
            "evaluation.forms",
            "juries.forms",
            "reporting.views",
        ]:
            importlib.import_module(module)
        ours = [
            form
            for form in _all_subclasses(forms.BaseForm)
            if form.__module__.split(".")[0]
            in ("candidates", "certif", "declarations", "documents", "evaluation", "juries", "reporting")
            and not form.__module__.endswith(".admin")  # the admin's forms go through the models' rules
        ]
        assert len(ours) >= 25
        assert [form.__name__ for form in ours if not issubclass(form, InputRulesFormMixin)] == []

    def test_every_model_that_holds_typed_text_applies_the_rules(self):
        from django.apps import apps
        from django.db import models

        from certif.validation import InputRulesMixin

        # Written by the application itself, never typed: computed fingerprints, stored files, logs, counters.
        system_written = {
            "AuditEvent",
            "Grid",
            "RatingScale",
            "HolderDeclaration",
            "HolderDeclarationLine",
            "BlockEvaluation",
            "CertificateSequence",
            "DocumentBatch",
            "BackgroundJob",
            "AcquiredBlockOrigin",
            "RateLimitCounter",
        }
        missing = []
        for model in apps.get_models():
            if model._meta.app_label not in ("candidates", "certif", "evaluation", "juries"):
                continue
            typed = [
                field
                for field in model._meta.concrete_fields
                if isinstance(field, models.CharField | models.TextField) and not field.choices
            ]
            unique = [c for c in model._meta.constraints if isinstance(c, models.UniqueConstraint)]
            if (typed or unique) and not issubclass(model, InputRulesMixin) and model.__name__ not in system_written:
                missing.append(model.__name__)
        assert missing == []

    def test_every_unique_constraint_a_person_can_hit_speaks_french(self):
        from django.apps import apps
        from django.db import models

        from certif.validation import InputRulesMixin

        default = models.UniqueConstraint(fields=["a", "b"], name="x").violation_error_message
        silent = [
            f"{model.__name__}.{constraint.name}"
            for model in apps.get_models()
            if issubclass(model, InputRulesMixin)
            for constraint in model._meta.constraints
            if isinstance(constraint, models.UniqueConstraint) and constraint.violation_error_message == default
        ]
        assert silent == []


def _all_subclasses(cls):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _all_subclasses(subclass)


class TestDeclarantIdentifiersRecordedBeforeTheRules:
    def test_the_declaration_asks_to_correct_them_instead_of_crashing(self, staff, staff_user, certification):
        from declarations import services as declarations
        from declarations.models import CdcDeclarantSettings, HolderDeclaration
        from tests.declarations.test_declarations import award_for

        declarations.declarant_settings_save(
            certification=certification,
            sender_id_client="IRUP0042",
            certifier_id_client="IRUP0042",
            contract_id="MCFCER000123",
            actor=staff_user,
        )
        CdcDeclarantSettings.objects.update(contract_id="MCF\x01CER")
        candidate = make_candidate(staff_user)
        candidate_services.enrolment_create(candidate=candidate, cohort=make_cohort(staff_user), actor=staff_user)
        award = award_for(candidate, certification)
        response = staff.post(reverse("declarations:declare", args=["16204"]), {"awards": [award.pk]})
        assert response.status_code == 400
        assert "identifiants de l'IRUP auprès de la Caisse des Dépôts sont à corriger" in page(response)
        assert not HolderDeclaration.objects.exists()


class TestLoadFiche:
    def test_a_fiche_file_with_a_character_xml_cannot_carry_installs_nothing(self, certification, tmp_path):
        from io import StringIO

        from django.core.management import CommandError, call_command

        from certif.models import Certification
        from certif.referential import read_referential_file

        data = read_referential_file()
        data["certification"]["rncp_code"] = "99996"
        data["blocks"][1]["competences"][0] = "Un état des lieux\x0bde l'environnement"
        path = tmp_path / "fiche.json"
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        with pytest.raises(CommandError) as refused:
            call_command("load_fiche", str(path), stdout=StringIO())
        assert "compétence invalide (label : Ce texte contient un caractère invisible non admis" in str(refused.value)
        assert not Certification.objects.filter(rncp_code="99996").exists()

    def test_a_file_nested_200000_deep_is_refused_before_it_is_parsed(self, certification, tmp_path):
        from io import StringIO

        from django.core.management import CommandError, call_command

        path = tmp_path / "fiche.json"
        path.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
        with pytest.raises(CommandError) as refused:
            call_command("load_fiche", str(path), stdout=StringIO())
        assert "ce fichier n'est pas une fiche (trop imbriqué : plus de 8 niveaux)" in str(refused.value)


class TestOversizedRequest:
    def test_a_post_over_the_upload_limit_is_a_french_400_and_writes_nothing(self, staff):
        response = staff.post(reverse("candidates:place_create"), {"name": "Lieu", "address": "x" * 3_000_000})
        assert response.status_code == 400
        assert "La requête envoyée n'est pas valide ; rien n'a été enregistré." in page(response)
        assert not PreparationPlace.objects.filter(name="Lieu").exists()
