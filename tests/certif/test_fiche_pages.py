"""The fiche page and the staff's referential editing, as a browser user sees them."""

from html import unescape

import pytest
from django.urls import reverse

from certif.models import AuditEvent, Block, Competence, RatingScale, Registration

FICHE_URL = reverse("certif:fiche", kwargs={"rncp_code": "16204"})


def block_url(number):
    return reverse("certif:block_edit", kwargs={"rncp_code": "16204", "number": number})


def current_labels(block):
    return list(Block.objects.get(pk=block.pk).current_grid.competences.values_list("label", flat=True))


@pytest.mark.django_db
class TestFichePage:
    def test_every_role_reads_the_whole_fiche_in_french(self, client, staff_user, trainer_user, president_user):
        for user in (staff_user, trainer_user, president_user):
            client.force_login(user)
            html = unescape(client.get(FICHE_URL).content.decode())
            assert "Manager de proximité dans l'économie sociale et solidaire" in html
            assert "II (nomenclature de 1969) · 6 (nomenclature européenne)" in html
            assert "RNCP16204BC01" in html and "RNCP16204BC04" in html

    def test_each_block_states_its_rule_and_grid_completeness(self, trainer_client):
        html = trainer_client.get(FICHE_URL).content.decode()
        assert "valider 75 % des compétences qui le constituent, soit 3 sur 4, au moins au niveau C" in html
        assert html.count("valider 7 des 9 compétences, au moins au niveau C") == 2
        assert "valider 5 des 7 compétences, au moins au niveau C" in html
        assert "4 compétences définies sur 4" in html
        assert "6 compétences définies sur 9 — grille à compléter" in html
        assert "3 compétences définies sur 7 — grille à compléter" in html
        assert "5 compétences définies sur 9 — grille à compléter" in html

    def test_banner_says_the_registration_has_lapsed(self, trainer_client):
        html = trainer_client.get(FICHE_URL).content.decode()
        assert "Enregistrement au RNCP échu depuis le 17 avril 2023" in html
        assert "Arrêté du 22 janvier 2013" in html and "Arrêté du 9 avril 2018" in html

    def test_banner_disappears_once_a_renewal_is_in_force(self, trainer_client, certification):
        Registration.objects.create(
            certification=certification,
            act="Décision de France compétences (test)",
            in_force_from="2023-04-17",
            in_force_until="2099-12-31",
        )
        html = trainer_client.get(FICHE_URL).content.decode()
        assert "échu depuis" not in html
        assert "En vigueur" in html

    def test_pathways_and_jury_rule_are_shown(self, trainer_client):
        html = trainer_client.get(FICHE_URL).content.decode()
        assert "Par candidature individuelle" in html
        assert "50% professionnels, 50% formateurs" in html
        assert "Président : un professionnel" in html
        assert "au moins 4 membres" in html

    def test_query_count_does_not_depend_on_grid_size(self, trainer_client, blocks, django_assert_num_queries):
        trainer_client.get(FICHE_URL)  # warm the session
        with django_assert_num_queries(15) as captured:  # 14, and the example-fiche banner of every page
            trainer_client.get(FICHE_URL)
        grid = blocks[2].current_grid
        Competence.objects.bulk_create(
            Competence(grid=grid, position=10 + index, label=f"Compétence ajoutée {index}") for index in range(3)
        )
        with django_assert_num_queries(len(captured)):
            trainer_client.get(FICHE_URL)


@pytest.mark.django_db
class TestPermissions:
    def test_anonymous_is_sent_to_the_login_page(self, client):
        response = client.get(FICHE_URL)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))

    def test_login_page_and_healthcheck_are_public(self, client):
        assert client.get(reverse("login")).status_code == 200
        assert client.get(reverse("healthcheck")).content == b"ok"

    @pytest.mark.parametrize("fixture", ["trainer_client", "president_client"])
    def test_non_staff_get_a_french_403_on_staff_pages(self, request, fixture, blocks):
        client = request.getfixturevalue(fixture)
        for url in (
            block_url(2),
            reverse("certif:registration_add", kwargs={"rncp_code": "16204"}),
            reverse("certif:scale_edit", kwargs={"rncp_code": "16204"}),
        ):
            response = client.get(url)
            assert response.status_code == 403
            assert "Accès refusé" in response.content.decode()
        response = client.post(
            reverse("certif:competence_add", kwargs={"rncp_code": "16204", "number": 2}), {"add-label": "Intrus"}
        )
        assert response.status_code == 403
        assert "Intrus" not in current_labels(blocks[2])

    def test_home_page_shows_each_role_its_own_tasks(self, client, staff_user, trainer_user, president_user):
        client.force_login(staff_user)
        html = client.get("/").content.decode()
        assert "Gestionnaire IRUP — à faire" in html
        assert "Bloc 2 : 6 compétences définies sur 9" in html
        client.force_login(trainer_user)
        html = client.get("/").content.decode()
        assert "Formateur — à faire" in html and "Gestionnaire IRUP — à faire" not in html
        client.force_login(president_user)
        html = client.get("/").content.decode()
        assert "Président de jury — à faire" in html and "Formateur — à faire" not in html


@pytest.mark.django_db
class TestGridEditing:
    def test_staff_add_a_competence_and_the_audit_records_it(self, staff_client, staff_user, blocks):
        url = reverse("certif:competence_add", kwargs={"rncp_code": "16204", "number": 3})
        response = staff_client.post(url, {"add-label": "  Une compétence   complémentaire "}, follow=True)
        assert "Compétence ajoutée à la grille." in response.content.decode()
        labels = current_labels(blocks[3])
        assert labels[-1] == "Une compétence complémentaire"
        assert len(labels) == 4
        event = AuditEvent.objects.get(action="referential.competence_added")
        assert event.actor == staff_user
        assert len(event.before["competences"]) == 3 and len(event.after["competences"]) == 4

    def test_completing_a_grid_turns_its_badge_complete(self, staff_client, blocks):
        url = reverse("certif:competence_add", kwargs={"rncp_code": "16204", "number": 3})
        for index in range(4):
            staff_client.post(url, {"add-label": f"[Démo] Critère complémentaire {index + 1}"})
        html = staff_client.get(FICHE_URL).content.decode()
        assert "7 compétences définies sur 7" in html
        assert "3 compétences définies sur 7" not in html

    @pytest.mark.parametrize(
        ("label", "message"),
        [
            ("", "L&#x27;intitulé de la compétence ne peut pas être vide."),
            ("   ", "L&#x27;intitulé de la compétence ne peut pas être vide."),
            ("une analyse interne de l’entreprise de l’ESS", "Cette compétence figure déjà dans la grille du bloc."),
            ("UNE ANALYSE INTERNE DE L’ENTREPRISE DE L’ESS", "Cette compétence figure déjà dans la grille du bloc."),
        ],
    )
    def test_bad_labels_are_refused_next_to_the_field(self, staff_client, blocks, label, message):
        before = current_labels(blocks[2])
        url = reverse("certif:competence_add", kwargs={"rncp_code": "16204", "number": 2})
        response = staff_client.post(url, {"add-label": label})
        assert response.status_code == 400
        assert message in response.content.decode()
        assert current_labels(blocks[2]) == before
        assert not AuditEvent.objects.exists()

    def test_rename_and_refuse_a_duplicate(self, staff_client, blocks):
        rename = reverse("certif:competence_rename", kwargs={"rncp_code": "16204", "number": 1, "position": 2})
        staff_client.post(rename, {"c2-label": "des professionnels externes fédérés et mobilisés"})
        assert current_labels(blocks[1])[1] == "des professionnels externes fédérés et mobilisés"
        response = staff_client.post(rename, {"c2-label": "un projet formalisé"})
        assert response.status_code == 400
        assert "Cette compétence figure déjà dans la grille du bloc." in response.content.decode()
        assert current_labels(blocks[1])[1] == "des professionnels externes fédérés et mobilisés"

    def test_reorder_moves_a_competence(self, staff_client, blocks):
        first, second = current_labels(blocks[1])[:2]
        move = reverse("certif:competence_move", kwargs={"rncp_code": "16204", "number": 1, "position": 1})
        staff_client.post(move, {"direction": "down"})
        assert current_labels(blocks[1])[:2] == [second, first]
        assert AuditEvent.objects.filter(action="referential.competence_moved").count() == 1

    def test_editing_a_frozen_grid_makes_a_new_version(self, staff_client, blocks):
        frozen = blocks[1].current_grid
        frozen.frozen_at = "2026-01-01T10:00:00Z"
        frozen.save()
        rename = reverse("certif:competence_rename", kwargs={"rncp_code": "16204", "number": 1, "position": 1})
        staff_client.post(rename, {"c1-label": "un projet formalisé et partagé"})
        block = Block.objects.get(pk=blocks[1].pk)
        assert block.current_grid.version == 2
        assert current_labels(block)[0] == "un projet formalisé et partagé"
        assert frozen.competences.get(position=1).label == "un projet formalisé"

    @pytest.mark.parametrize(
        ("kind", "value", "out_of", "message"),
        [
            ("count", "10", "9", "Le seuil (10) dépasse le nombre de compétences du bloc (9)."),
            ("proportion", "0", "9", "Une proportion doit être comprise entre 0 % (exclu) et 100 %."),
            ("proportion", "120", "9", "Une proportion doit être comprise entre 0 % (exclu) et 100 %."),
        ],
    )
    def test_bad_thresholds_are_refused(self, staff_client, blocks, kind, value, out_of, message):
        url = reverse("certif:threshold_update", kwargs={"rncp_code": "16204", "number": 2})
        response = staff_client.post(
            url,
            {
                "threshold-threshold_kind": kind,
                "threshold-threshold_value": value,
                "threshold-declared_competence_count": out_of,
            },
        )
        assert response.status_code == 400
        assert message in response.content.decode()
        block = Block.objects.get(pk=blocks[2].pk)
        assert (block.threshold_kind, block.threshold_value, block.declared_competence_count) == ("count", 7, 9)


@pytest.mark.django_db
class TestRegistrations:
    url = reverse("certif:registration_add", kwargs={"rncp_code": "16204"})

    def post(self, client, start, end):
        return client.post(
            self.url,
            {
                "act": "Décision du directeur général de France compétences",
                "publication": "",
                "in_force_from": start,
                "in_force_until": end,
            },
        )

    def test_staff_record_a_renewal(self, staff_client, certification):
        response = self.post(staff_client, "2023-04-17", "2028-04-17")
        assert response.status_code == 302
        assert certification.registrations.count() == 3
        assert AuditEvent.objects.filter(action="referential.registration_added").count() == 1

    def test_overlapping_period_is_refused(self, staff_client, certification):
        response = self.post(staff_client, "2022-01-01", "2027-01-01")
        html = response.content.decode()
        assert response.status_code == 200
        assert "Cette période chevauche l&#x27;enregistrement « Arrêté du 9 avril 2018 »" in html
        assert certification.registrations.count() == 2

    def test_inverted_dates_are_refused(self, staff_client, certification):
        response = self.post(staff_client, "2030-01-01", "2025-01-01")
        assert "La date de fin doit être postérieure à la date d&#x27;entrée en vigueur." in response.content.decode()
        assert certification.registrations.count() == 2


@pytest.mark.django_db
class TestRatingScale:
    url = reverse("certif:scale_edit", kwargs={"rncp_code": "16204"})

    def formset_data(self, scale, rows):
        data = {
            "form-TOTAL_FORMS": str(len(rows)),
            "form-INITIAL_FORMS": str(scale.levels.count()),
            "form-MIN_NUM_FORMS": "2",
            "form-MAX_NUM_FORMS": "1000",
        }
        levels = list(scale.levels.order_by("position"))
        for index, (position, code, label, validates) in enumerate(rows):
            if index < len(levels):
                data[f"form-{index}-id"] = str(levels[index].pk)
            data[f"form-{index}-position"] = str(position)
            data[f"form-{index}-code"] = code
            data[f"form-{index}-label"] = label
            if validates:
                data[f"form-{index}-validates"] = "on"
        return data

    def test_staff_rename_levels_of_an_unused_scale(self, staff_client, certification):
        scale = certification.rating_scales.get()
        rows = [
            (1, "A", "Expert", True),
            (2, "B", "Maîtrisé", True),
            (3, "C", "Acquis", True),
            (4, "D", "Non acquis", False),
        ]
        response = staff_client.post(self.url, self.formset_data(scale, rows))
        assert response.status_code == 302
        assert [level.label for level in scale.ordered_levels] == ["Expert", "Maîtrisé", "Acquis", "Non acquis"]
        assert RatingScale.objects.get(pk=scale.pk).floor_label == "Acquis"

    def test_validating_levels_must_be_the_best(self, staff_client, certification):
        scale = certification.rating_scales.get()
        rows = [(1, "A", "A", True), (2, "B", "B", False), (3, "C", "C", True), (4, "D", "D", False)]
        response = staff_client.post(self.url, self.formset_data(scale, rows))
        assert "Les niveaux qui valident doivent être les meilleurs" in response.content.decode()
        assert [level.validates for level in scale.ordered_levels] == [True, True, True, False]

    def test_empty_label_is_refused_next_to_the_field(self, staff_client, certification):
        scale = certification.rating_scales.get()
        rows = [(1, "A", "", True), (2, "B", "B", True), (3, "C", "C", True), (4, "D", "D", False)]
        response = staff_client.post(self.url, self.formset_data(scale, rows))
        assert "Ce champ est obligatoire." in response.content.decode()
        assert scale.levels.get(code="A").label == "A"

    def test_a_used_scale_is_read_only_and_a_new_version_can_be_made(self, staff_client, certification):
        scale = certification.rating_scales.get()
        scale.first_used_at = "2026-02-01T09:00:00Z"
        scale.save()
        rows = [(1, "A", "Changé", True), (2, "B", "B", True), (3, "C", "C", True), (4, "D", "D", False)]
        staff_client.post(self.url, self.formset_data(scale, rows))
        assert scale.levels.get(code="A").label == "A"
        assert "ne peut plus être modifiée" in staff_client.get(self.url).content.decode()
        staff_client.post(self.url, {"new_version": "1"})
        assert certification.rating_scales.count() == 2
        new = certification.rating_scales.order_by("-version").first()
        assert new.version == 2 and not new.is_in_use
        assert [level.code for level in new.ordered_levels] == ["A", "B", "C", "D"]
