"""The candidate file, from enrolment to acquired blocks, as staff and trainers use it."""

import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates import selectors, services
from candidates.models import Candidate, CertificationAward, Cohort, Enrolment
from certif.models import AccessPathway, AuditEvent, PreparationPlace
from tests.factories import candidate_fields, make_candidate, make_cohort

LIST_URL = reverse("candidates:list")


def _enrolled_holding(candidate, cohort, block, actor):
    """`candidate` enrolled in `cohort`, holding `block` from an earlier jury's minutes."""
    services.enrolment_create(candidate=candidate, cohort=cohort, actor=actor)
    services.acquired_block_import(
        candidate=candidate, block=block, acquired_on=datetime.date(2022, 1, 1), import_source="PV", actor=actor
    )


CREATE_URL = reverse("candidates:create")


def form_data(**overrides):
    data = dict(candidate_fields(**overrides).items())
    data["birth_date"] = (
        data["birth_date"].isoformat() if isinstance(data["birth_date"], datetime.date) else data["birth_date"]
    )
    return data


@pytest.mark.django_db
class TestCandidateForm:
    def test_staff_create_a_candidate_and_the_change_is_audited(self, staff_client, staff_user):
        response = staff_client.post(CREATE_URL, form_data(birth_name="Durand", first_name="Léa"))
        candidate = Candidate.objects.get(birth_name="Durand")
        assert response.url == reverse("candidates:detail", args=[candidate.pk])
        event = AuditEvent.objects.get(action="candidate.created")
        assert event.actor == staff_user and event.after["birth_name"] == "Durand"

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("birth_name", "", "Ce champ est obligatoire."),
            ("birth_date", "2020-01-01", "Date de naissance peu plausible : le candidat aurait"),
            ("birth_date", "1900-01-01", "(16 à 100 ans attendus)"),
            ("birth_insee_code", "2C004", "2A / 2B suivis de 3 chiffres pour la Corse"),
            ("birth_insee_code", "4221", "Le code INSEE compte 5 caractères"),
            ("email", "camille@", "Saisissez une adresse de courriel valide."),
            ("phone", "12345", "Numéro de téléphone invalide"),
            ("postal_code", "4200", "Le code postal compte 5 chiffres."),
            ("birth_postal_code", "4200", "Le code postal compte 5 chiffres."),
            ("birth_postal_code", "42OOO", "Le code postal compte 5 chiffres."),
        ],
    )
    def test_bad_input_is_refused_next_to_the_field(self, staff_client, field, value, message):
        response = staff_client.post(CREATE_URL, form_data(**{field: value}))
        html = response.content.decode()
        assert response.status_code == 200
        assert message in html
        assert f'id="error_1_id_{field}"' in html or f"id_{field}" in html
        assert not Candidate.objects.exists()
        assert not AuditEvent.objects.exists()

    @pytest.mark.parametrize("code", ["42218", "2A004", "2B033", "97209"])
    def test_insee_codes_of_every_shape_are_accepted(self, staff_client, code):
        staff_client.post(CREATE_URL, form_data(birth_insee_code=code, birth_commune=""))
        assert Candidate.objects.filter(birth_insee_code=code).exists()  # the commune's name read from the COG

    def test_birth_postal_code_is_on_the_form_saved_and_audited(self, staff_client, staff_user):
        html = staff_client.get(CREATE_URL).content.decode()
        assert 'name="birth_postal_code"' in html
        assert "Code postal de la commune de naissance" in html
        assert "quand le code INSEE n'est pas connu" in html.replace("&#x27;", "'")
        staff_client.post(
            CREATE_URL,
            form_data(birth_name="Postal", birth_commune="Valbenoîte", birth_insee_code="", birth_postal_code="42000"),
        )
        candidate = Candidate.objects.get(birth_name="Postal")
        assert (candidate.birth_insee_code, candidate.birth_postal_code) == ("", "42000")
        assert AuditEvent.objects.get(action="candidate.created").after["birth_postal_code"] == "42000"
        page = staff_client.get(reverse("candidates:detail", args=[candidate.pk])).content.decode()
        assert "(code postal 42000)" in page

        data = form_data(**{f: getattr(candidate, f) for f in selectors.CANDIDATE_AUDITED_FIELDS})
        data["birth_postal_code"] = "42100"
        staff_client.post(reverse("candidates:edit", args=[candidate.pk]), data)
        event = AuditEvent.objects.get(action="candidate.updated")
        assert (event.before, event.after) == ({"birth_postal_code": "42000"}, {"birth_postal_code": "42100"})

    def test_likely_duplicate_is_flagged_and_never_merged(self, staff_client, staff_user):
        existing = make_candidate(staff_user, birth_name="Bernard", first_name="Lucas")
        data = form_data(birth_name="BERNARD", first_name="lucas", email="autre@example.org")
        response = staff_client.post(CREATE_URL, data)
        html = response.content.decode()
        assert "Doublon probable" in html
        assert reverse("candidates:detail", args=[existing.pk]) in html
        assert Candidate.objects.count() == 1
        response = staff_client.post(CREATE_URL, {**data, "confirm_not_duplicate": "on"})
        assert response.status_code == 302
        assert Candidate.objects.count() == 2
        assert Candidate.objects.get(pk=existing.pk).email == existing.email

    def test_edit_records_before_and_after(self, staff_client, staff_user):
        candidate = make_candidate(staff_user, email="avant@example.org")
        data = form_data(**{**{f: getattr(candidate, f) for f in selectors.CANDIDATE_AUDITED_FIELDS}})
        data["email"] = "apres@example.org"
        staff_client.post(reverse("candidates:edit", args=[candidate.pk]), data)
        event = AuditEvent.objects.get(action="candidate.updated")
        assert event.before == {"email": "avant@example.org"} and event.after == {"email": "apres@example.org"}


@pytest.mark.django_db
class TestEnrolment:
    def test_a_cohort_on_a_closed_pathway_is_refused_with_the_fiches_reason(self, staff_client, certification):
        closed = AccessPathway.objects.get(code="candidature-individuelle")
        place = PreparationPlace.objects.get(name="IRUP")
        response = staff_client.post(
            reverse("candidates:cohort_create"),
            {
                "name": "Candidats libres 2026",
                "pathway": closed.pk,
                "preparation_place": place.pk,
                "start_date": "2026-01-05",
                "end_date": "2026-06-30",
            },
        )
        assert (
            "La fiche RNCP 16204 n&#x27;ouvre pas la certification à cette voie d&#x27;accès"
            in response.content.decode()
        )
        assert "« Par candidature individuelle » : NON" in response.content.decode()
        assert not Cohort.objects.exists()

    def test_enrolling_on_a_closed_pathway_is_refused_even_if_the_cohort_exists(self, staff_user, certification):
        candidate = make_candidate(staff_user)
        cohort = Cohort.objects.create(
            certification=certification,
            name="Formation initiale (historique)",
            pathway=AccessPathway.objects.get(code="formation-initiale"),
            preparation_place=PreparationPlace.objects.get(name="IRUP"),
            start_date=datetime.date(2025, 9, 1),
            end_date=datetime.date(2026, 6, 30),
        )
        with pytest.raises(ValidationError) as error:
            services.enrolment_create(candidate=candidate, cohort=cohort, actor=staff_user)
        assert "« Après un parcours de formation sous statut d'élève ou d'étudiant » : NON" in str(error.value)
        assert not Enrolment.objects.exists()

    def test_staff_enrol_through_the_page(self, staff_client, staff_user):
        candidate = make_candidate(staff_user)
        cohort = make_cohort(staff_user)
        response = staff_client.post(
            reverse("candidates:enrol", args=[candidate.pk]), {"cohort": cohort.pk, "tutor_name": "M. Tuteur"}
        )
        assert response.status_code == 302
        enrolment = Enrolment.objects.get(candidate=candidate)
        assert enrolment.tutor_name == "M. Tuteur" and enrolment.can_be_evaluated

    def test_vae_candidates_wait_for_a_favourable_admissibility(self, staff_client, staff_user):
        candidate = make_candidate(staff_user)
        cohort = make_cohort(staff_user, pathway_code="vae")
        enrolment = services.enrolment_create(
            candidate=candidate, cohort=cohort, actor=staff_user, vae_accompanist="Mme Aide"
        )
        assert not enrolment.can_be_evaluated
        url = reverse("candidates:admissibility", args=[enrolment.pk])
        response = staff_client.post(url, {"decided_on": "2026-01-10", "favourable": "non", "reason": ""})
        assert "Une décision défavorable doit être motivée." in response.content.decode()
        assert Enrolment.objects.get(pk=enrolment.pk).admissibility_favourable is None
        staff_client.post(url, {"decided_on": "2026-01-10", "favourable": "oui", "reason": ""})
        enrolment = Enrolment.objects.get(pk=enrolment.pk)
        assert enrolment.admissibility_favourable is True and enrolment.can_be_evaluated
        assert AuditEvent.objects.filter(action="enrolment.admissibility_decided").count() == 1

    def test_accompanist_only_on_the_vae_pathway(self, staff_user):
        candidate = make_candidate(staff_user)
        cohort = make_cohort(staff_user, pathway_code="apprentissage")
        with pytest.raises(ValidationError, match="accompagnateur VAE"):
            services.enrolment_create(candidate=candidate, cohort=cohort, actor=staff_user, vae_accompanist="X")

    def test_enrolling_again_keeps_acquired_blocks(self, staff_client, staff_user, blocks):
        candidate = make_candidate(staff_user)
        services.enrolment_create(candidate=candidate, cohort=make_cohort(staff_user), actor=staff_user)
        for number in (1, 2):
            services.acquired_block_import(
                candidate=candidate,
                block=blocks[number],
                acquired_on=datetime.date(2022, 6, 14),
                import_source="PV du jury du 14 juin 2022",
                actor=staff_user,
            )
        services.enrolment_create(
            candidate=candidate, cohort=make_cohort(staff_user, pathway_code="vae"), actor=staff_user
        )
        html = staff_client.get(reverse("candidates:detail", args=[candidate.pk])).content.decode()
        assert html.count('badge text-bg-success">Acquis') == 2
        assert html.count("En cours</span>") == 2
        assert "PV du jury du 14 juin 2022" in html


@pytest.mark.django_db
class TestAcquiredBlocks:
    def test_history_entry_shows_when_and_how(self, staff_client, staff_user, blocks):
        candidate = make_candidate(staff_user)
        url = reverse("candidates:acquired_block_add", args=[candidate.pk])
        staff_client.post(
            url, {"block": blocks[3].pk, "acquired_on": "2019-06-12", "import_source": "PV du 12 juin 2019"}
        )
        html = staff_client.get(reverse("candidates:detail", args=[candidate.pk])).content.decode()
        assert "Le 12 juin 2019 — Reprise d&#x27;historique (PV du 12 juin 2019, enregistré par" in html
        assert "valable sans limite de durée" in html
        response = staff_client.post(
            url, {"block": blocks[3].pk, "acquired_on": "2020-01-01", "import_source": "Autre"}
        )
        assert "Le bloc 3 est déjà acquis par ce candidat." in response.content.decode()
        response = staff_client.post(url, {"block": blocks[2].pk, "acquired_on": "2020-01-01", "import_source": ""})
        assert "Indiquez d&#x27;où vient ce bloc" in response.content.decode()
        assert candidate.acquired_blocks.count() == 1

    def test_all_four_blocks_and_the_award_number(self, staff_client, staff_user, blocks, certification):
        candidate = make_candidate(staff_user)
        for number, block in blocks.items():
            services.acquired_block_import(
                candidate=candidate,
                block=block,
                acquired_on=datetime.date(2020 + number, 6, 1),
                import_source=f"PV {number}",
                actor=staff_user,
            )
        url = reverse("candidates:detail", args=[candidate.pk])
        assert "Les quatre blocs sont acquis" in staff_client.get(url).content.decode()
        CertificationAward.objects.create(
            candidate=candidate,
            certification=certification,
            number="MPES-2026-0001",
            awarded_on=datetime.date(2026, 6, 20),
        )
        html = staff_client.get(url).content.decode()
        assert "Certification délivrée" in html and "MPES-2026-0001" in html


@pytest.mark.django_db
class TestScopeAndPermissions:
    @pytest.fixture
    def two_cohorts(self, staff_user, trainer_user):
        mine = make_cohort(staff_user, trainers=[trainer_user], name="Promotion de la formatrice")
        other = make_cohort(staff_user, name="Autre promotion")
        alice = make_candidate(staff_user, birth_name="Alpha")
        bob = make_candidate(staff_user, birth_name="Bravo")
        services.enrolment_create(candidate=alice, cohort=mine, actor=staff_user)
        services.enrolment_create(candidate=bob, cohort=other, actor=staff_user)
        return alice, bob

    def test_trainer_sees_only_the_candidates_of_their_cohorts(self, trainer_client, two_cohorts):
        alice, bob = two_cohorts
        html = trainer_client.get(LIST_URL).content.decode()
        assert "ALPHA" in html and "BRAVO" not in html
        assert "en lecture seule" in html and "Nouveau candidat" not in html
        assert trainer_client.get(reverse("candidates:detail", args=[alice.pk])).status_code == 200
        assert trainer_client.get(reverse("candidates:detail", args=[bob.pk])).status_code == 404

    def test_trainer_cannot_change_anything(self, trainer_client, two_cohorts):
        alice, _ = two_cohorts
        for url in (
            CREATE_URL,
            reverse("candidates:edit", args=[alice.pk]),
            reverse("candidates:enrol", args=[alice.pk]),
            reverse("candidates:acquired_block_add", args=[alice.pk]),
            reverse("candidates:personal_data", args=[alice.pk]),
            reverse("candidates:cohort_list"),
        ):
            assert trainer_client.get(url).status_code == 403, url
        assert trainer_client.post(CREATE_URL, form_data()).status_code == 403
        html = trainer_client.get(reverse("candidates:detail", args=[alice.pk])).content.decode()
        assert "Modifier" not in html and "Historique des modifications" not in html

    def test_president_and_anonymous_have_no_candidate_list(self, client, president_client):
        assert president_client.get(LIST_URL).status_code == 403
        client.logout()
        response = client.get(LIST_URL)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.django_db
class TestList:
    def test_search_stays_out_of_the_url(self, staff_client, staff_user):
        make_candidate(staff_user, birth_name="Zola", email="emile.zola@example.org")
        make_candidate(staff_user, birth_name="Hugo")
        response = staff_client.post(LIST_URL, {"q": "zola"})
        assert response.status_code == 302 and "zola" not in response.url.lower()
        html = staff_client.get(response.url).content.decode()
        assert "ZOLA" in html and "HUGO" not in html
        staff_client.post(LIST_URL, {"q": "emile.zola@"})
        assert "ZOLA" in staff_client.get(LIST_URL).content.decode()
        staff_client.post(LIST_URL, {"clear": "1"})
        assert "HUGO" in staff_client.get(LIST_URL).content.decode()

    def test_filters_by_cohort_pathway_status_and_place(self, staff_client, staff_user):
        cohort_a = make_cohort(staff_user, pathway_code="apprentissage", name="A")
        cohort_b = make_cohort(staff_user, pathway_code="vae", place_name="GRETA", name="B")
        a = make_candidate(staff_user, birth_name="Apprenti")
        b = make_candidate(staff_user, birth_name="Experience")
        services.enrolment_create(candidate=a, cohort=cohort_a, actor=staff_user)
        enrolment = services.enrolment_create(candidate=b, cohort=cohort_b, actor=staff_user)
        services.enrolment_update(enrolment=enrolment, actor=staff_user, status="abandon")

        def names(query):
            html = staff_client.get(LIST_URL, query).content.decode()
            return {name for name in ("APPRENTI", "EXPERIENCE") if name in html}

        assert names({"cohort": cohort_a.pk}) == {"APPRENTI"}
        assert names({"pathway": cohort_b.pathway_id}) == {"EXPERIENCE"}
        assert names({"status": "abandon"}) == {"EXPERIENCE"}
        assert names({"place": cohort_a.preparation_place_id}) == {"APPRENTI"}
        assert names({"place": cohort_a.preparation_place_id, "status": "abandon"}) == set()

    def test_pagination(self, staff_client, staff_user):
        for index in range(30):
            make_candidate(staff_user, birth_name=f"Nom{index:02d}")
        html = staff_client.get(LIST_URL).content.decode()
        assert "Page 1 sur 2" in html and "NOM24" in html and "NOM25" not in html
        assert "NOM25" in staff_client.get(LIST_URL, {"page": 2}).content.decode()

    # 15, the certification filter's choices and the example-fiche banner of every page.
    @pytest.mark.parametrize(("fixture", "expected_queries"), [("staff_client", 17), ("trainer_client", 17)])
    def test_query_count_does_not_grow_with_candidates(
        self, request, fixture, expected_queries, staff_user, trainer_user, blocks, django_assert_num_queries
    ):
        client = request.getfixturevalue(fixture)
        cohort = make_cohort(staff_user, trainers=[trainer_user])
        vae = make_cohort(staff_user, trainers=[trainer_user], pathway_code="vae")

        def add(count):
            for index in range(count):
                _enrolled_holding(make_candidate(staff_user), vae if index % 2 else cohort, blocks[1], staff_user)

        add(5)
        client.get(LIST_URL)
        with django_assert_num_queries(expected_queries):
            client.get(LIST_URL, {"cohort": cohort.pk})
        add(45)
        with django_assert_num_queries(expected_queries):
            client.get(LIST_URL, {"cohort": cohort.pk})
        # Sorted by a column read from each candidate's latest enrolment: the order is in the same query.
        for sort in ("-promotion", "statut", "-naissance"):
            with django_assert_num_queries(expected_queries):
                client.get(LIST_URL, {"cohort": cohort.pk, "tri": sort})

    def test_the_list_reads_neither_a_fiche_text_nor_through_a_held_cursor(self, staff_client, staff_user, blocks):
        cohort = make_cohort(staff_user, name="Promotion Fauriel")
        _enrolled_holding(make_candidate(staff_user, birth_name="Lecteur"), cohort, blocks[1], staff_user)
        with CaptureQueriesContext(connection) as queries:
            html = staff_client.get(LIST_URL).content.decode()
        # What the page shows still comes: the row, its blocks held, the filter menus' options.
        assert "LECTEUR" in html and "1 / 4" in html
        assert f'<option value="{cohort.pk}">Promotion Fauriel</option>' in html
        assert f'<option value="{cohort.pathway_id}">{cohort.pathway.label}</option>' in html
        sql = " ".join(query["sql"] for query in queries.captured_queries)
        assert '"certif_certification"."summary"' not in sql and '"certif_certification"."regulation"' not in sql
        assert "DECLARE" not in sql  # PostgreSQL's server-side cursor: three round trips for a menu

    def test_candidate_page_query_count_is_bounded(
        self, staff_client, staff_user, blocks, django_assert_max_num_queries
    ):
        candidate = make_candidate(staff_user)
        for _index in range(3):
            services.enrolment_create(candidate=candidate, cohort=make_cohort(staff_user), actor=staff_user)
        staff_client.get(reverse("candidates:detail", args=[candidate.pk]))
        # 16, plus the correspondence table (blocks carried to a successor fiche) and the CDC declaration history.
        with django_assert_max_num_queries(18):
            staff_client.get(reverse("candidates:detail", args=[candidate.pk]))


@pytest.mark.django_db
def test_personal_data_export(staff_client, staff_user, blocks):
    candidate = make_candidate(staff_user, birth_name="Export")
    services.enrolment_create(candidate=candidate, cohort=make_cohort(staff_user), actor=staff_user)
    services.acquired_block_import(
        candidate=candidate,
        block=blocks[2],
        acquired_on=datetime.date(2021, 6, 1),
        import_source="PV 2021",
        actor=staff_user,
    )
    response = staff_client.get(reverse("candidates:personal_data", args=[candidate.pk]))
    assert response["Content-Type"] == "application/json"
    assert "Export" not in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["identite"]["birth_name"] == "Export"
    assert data["inscriptions"][0]["voie_acces"] == "Après un parcours de formation continue"
    assert data["blocs_acquis"][0]["bloc"] == "RNCP16204BC02"
    assert any(entry["action"] == "candidate.created" for entry in data["historique"])
    assert AuditEvent.objects.filter(action="candidate.personal_data_exported", actor=staff_user).count() == 1
