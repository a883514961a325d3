"""The admin is one more door, and it keeps the services' rules: the attempts that once went through it now meet
the same refusal, in French, with nothing written — or go through the service and leave an audit trace.

The scene: a jury signed on 21 March 2023 on block 3 (inside the arrêté du 9 avril 2018, in force until
17 April 2023), a staff member (gestionnaire, « statut équipe ») in the admin.
"""

import datetime
import html
import io
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from pypdf import PdfReader

from certif.models import AccessPathway, AuditEvent, Block, Certification, JuryCompositionRule, Registration
from documents import services as documents
from juries import services as juries
from tests.candidates.test_candidate_admin import admin_url, form_data
from tests.factories import decide_all, evaluated_cohort, make_jury, present_all

pytestmark = pytest.mark.django_db

SIGNED_DAY = datetime.date(2023, 3, 21)
PASSWORD = "mot-de-passe-de-test"


def sign(session, president):
    juries.jury_session_sign_off(session=session, signed_by=president)


@pytest.fixture
def signed_on_block_3(staff_user, trainer_user, president_user):
    """Two candidates judged on block 3 by a jury signed on 21/03/2023; 5 of 7 at C or better validates."""
    _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, numbers=(3,), count=2, codes="C")
    session = make_jury(staff_user, president_user, numbers=(3,), day=SIGNED_DAY)
    present_all(session, enrolments, staff_user)
    decide_all(session, president_user)
    sign(session, president_user)
    session.refresh_from_db()
    return session, enrolments


@pytest.fixture
def admin_client(client, staff_user):
    client.force_login(staff_user)
    return client


def page(response) -> str:
    return html.unescape(response.content.decode())


def registration_2018(certification) -> Registration:
    return Registration.objects.get(certification=certification, in_force_from=datetime.date(2018, 3, 5))


def rule_of(block) -> tuple:
    block = Block.objects.get(pk=block.pk)
    return block.threshold_kind, block.threshold_value, block.declared_competence_count


class TestBlockRule:
    def test_one_of_seven_on_a_block_judged_by_a_signed_jury_is_refused_in_french(
        self, signed_on_block_3, admin_client, blocks, staff_user
    ):
        session, enrolments = signed_on_block_3
        url = admin_url(Block, "change", blocks[3].pk)
        data = form_data(admin_client.get(url))
        data.update(threshold_kind="count", threshold_value="1", declared_competence_count="7")
        response = admin_client.post(url, data)
        assert response.status_code == 200
        assert "Le bloc 3 a déjà servi à une évaluation : sa règle de validation" in page(response)
        assert rule_of(blocks[3]) == ("count", Decimal("5.00"), 7)
        assert not AuditEvent.objects.filter(action="referential.threshold_changed").exists()

        # The results statement issued afterwards still prints the rule the jury applied.
        document = documents.document_issue(
            session=session, kind="results", candidate=enrolments[0].candidate, actor=staff_user
        )
        text = re.sub(
            r"\s+", " ", "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(bytes(document.pdf))).pages)
        )
        assert "valider 5 des 7 compétences" in text
        assert "valider 1 des 7" not in text

    def test_the_orm_refuses_the_same_change(self, signed_on_block_3, blocks):
        block = Block.objects.get(pk=blocks[3].pk)
        block.threshold_value = Decimal(1)
        with pytest.raises(ValidationError, match="Le bloc 3 a déjà servi à une évaluation"):
            block.save()
        with pytest.raises(ValidationError, match="a déjà servi à une évaluation"):
            Block.objects.filter(pk=block.pk).update(threshold_value=1)
        with pytest.raises(ValidationError, match="a déjà servi à une évaluation"):
            Block.objects.bulk_update([block], ["threshold_value"])
        with pytest.raises(ValidationError, match="a déjà servi à une évaluation"):
            Block.objects.filter(pk=block.pk).update(declared_competence_count=8)
        assert rule_of(blocks[3]) == ("count", Decimal("5.00"), 7)

    def test_a_used_block_keeps_its_rule_even_once_its_grid_has_a_new_version(
        self, signed_on_block_3, blocks, staff_user
    ):
        from certif import services as referential

        referential.competence_rename(block=blocks[3], position=1, label="Une activité conforme", actor=staff_user)
        assert Block.objects.get(pk=blocks[3].pk).current_grid.frozen_at is None
        with pytest.raises(ValidationError, match="a déjà servi à une évaluation"):
            referential.block_threshold_update(
                block=blocks[3],
                threshold_kind="count",
                threshold_value=1,
                declared_competence_count=7,
                actor=staff_user,
            )

    def test_the_block_page_says_the_rule_is_frozen_and_refuses_a_post(self, signed_on_block_3, staff_client):
        edit = reverse("certif:block_edit", kwargs={"rncp_code": "16204", "number": 3})
        content = page(staff_client.get(edit))
        assert "Règle figée : une évaluation a déjà été ouverte sur ce bloc." in content
        assert "Enregistrer le seuil" not in content
        response = staff_client.post(
            reverse("certif:threshold_update", kwargs={"rncp_code": "16204", "number": 3}),
            {
                "threshold-threshold_kind": "count",
                "threshold-threshold_value": "1",
                "threshold-declared_competence_count": "7",
            },
        )
        assert response.status_code == 400
        assert "Le bloc 3 a déjà servi à une évaluation" in page(response)

    def test_an_unused_block_rule_changes_through_the_service_and_the_audit_shows_it(
        self, admin_client, blocks, staff_user
    ):
        url = admin_url(Block, "change", blocks[2].pk)
        data = form_data(admin_client.get(url))
        data.update(threshold_kind="count", threshold_value="6", declared_competence_count="8")
        data["title"] = "Un autre intitulé"  # read-only in the admin: ignored
        response = admin_client.post(url, data)
        assert response.status_code == 302
        assert rule_of(blocks[2]) == ("count", Decimal("6.00"), 8)
        assert Block.objects.get(pk=blocks[2].pk).title == blocks[2].title
        event = AuditEvent.objects.get(action="referential.threshold_changed")
        assert event.actor == staff_user
        assert event.before == {"threshold_kind": "count", "threshold_value": "7.00", "declared_competence_count": 9}
        assert event.after == {"threshold_kind": "count", "threshold_value": "6", "declared_competence_count": 8}
        assert "Modification de la règle du bloc" in page(admin_client.get(url))

    def test_saving_the_unchanged_form_records_nothing(self, admin_client, blocks):
        url = admin_url(Block, "change", blocks[2].pk)
        assert admin_client.post(url, form_data(admin_client.get(url))).status_code == 302
        assert not AuditEvent.objects.exists()

    def test_blocks_are_neither_added_nor_deleted_in_the_admin(self, admin_client, blocks):
        assert admin_client.get(admin_url(Block, "add")).status_code == 403
        response = admin_client.post(admin_url(Block, "delete", blocks[1].pk), {"post": "yes"})
        assert response.status_code == 403
        assert "Accès refusé" in page(response)
        assert Block.objects.filter(pk=blocks[1].pk).exists()


class TestRegistration:
    def test_moving_the_end_date_before_a_signed_jury_is_refused_next_to_the_field(
        self, signed_on_block_3, admin_client, certification
    ):
        registration = registration_2018(certification)
        url = admin_url(Registration, "change", registration.pk)
        data = form_data(admin_client.get(url))
        data["in_force_until"] = "2023-03-01"
        response = admin_client.post(url, data)
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert errors["in_force_until"] == [
            "Le jury du 21/03/2023, signé pendant cet enregistrement, n'en serait plus couvert : une session "
            "signée reste dans la période d'enregistrement où elle a été tenue."
        ]
        assert registration_2018(certification).in_force_until == datetime.date(2023, 4, 17)
        assert not AuditEvent.objects.filter(action__startswith="referential.registration").exists()

    def test_moving_the_start_date_after_it_is_refused_too(self, signed_on_block_3, admin_client, certification):
        registration = registration_2018(certification)
        url = admin_url(Registration, "change", registration.pk)
        data = form_data(admin_client.get(url))
        data["in_force_from"] = "2023-04-01"
        response = admin_client.post(url, data)
        assert response.status_code == 200
        assert "Le jury du 21/03/2023, signé pendant cet enregistrement" in page(response)
        assert registration_2018(certification).in_force_from == datetime.date(2018, 3, 5)

    def test_a_correction_that_still_covers_the_jury_goes_through_the_service(
        self, signed_on_block_3, admin_client, certification, staff_user
    ):
        registration = registration_2018(certification)
        url = admin_url(Registration, "change", registration.pk)
        data = form_data(admin_client.get(url))
        data.update(in_force_until="2023-04-16", publication="Journal officiel du 17 avril 2018")
        assert admin_client.post(url, data).status_code == 302
        assert registration_2018(certification).in_force_until == datetime.date(2023, 4, 16)
        event = AuditEvent.objects.get(action="referential.registration_changed")
        assert event.actor == staff_user
        assert event.before["in_force_until"] == "2023-04-17" and event.after["in_force_until"] == "2023-04-16"
        assert "Correction de l'enregistrement" in page(admin_client.get(url))

    def test_deleting_the_registration_a_signed_jury_rests_on_is_refused(
        self, signed_on_block_3, admin_client, certification
    ):
        registration = registration_2018(certification)
        response = admin_client.post(admin_url(Registration, "delete", registration.pk), {"post": "yes"}, follow=True)
        assert (
            "Cet enregistrement ne peut pas être supprimé : le jury du 21/03/2023 y a été signé, et leurs "
            "résultats et documents en dépendent." in page(response)
        )
        assert Registration.objects.filter(pk=registration.pk).exists()
        assert not AuditEvent.objects.filter(action="referential.registration_deleted").exists()

    def test_the_orm_refuses_the_same(self, signed_on_block_3, certification):
        registration = registration_2018(certification)
        # pre_delete refuses inside Django's delete transaction: each attempt runs in its own savepoint.
        with pytest.raises(ValidationError, match="ne peut pas être supprimé"), transaction.atomic():
            registration.delete()
        with pytest.raises(ValidationError, match="ne peut pas être supprimé"), transaction.atomic():
            Registration.objects.filter(pk=registration.pk).delete()
        registration.in_force_until = datetime.date(2023, 3, 1)
        with pytest.raises(ValidationError, match="n'en serait plus couvert"):
            registration.save()
        with pytest.raises(ValidationError, match="n'en serait plus couvert"):
            Registration.objects.filter(pk=registration.pk).update(in_force_until=datetime.date(2023, 3, 1))
        with pytest.raises(ValidationError, match="n'en serait plus couvert"):
            Registration.objects.bulk_update([registration], ["in_force_until"])
        assert registration_2018(certification).in_force_until == datetime.date(2023, 4, 17)

    def test_a_registration_recorded_by_mistake_is_added_and_deleted_through_the_services(
        self, admin_client, certification, staff_user
    ):
        response = admin_client.post(
            admin_url(Registration, "add"),
            {
                "certification": certification.pk,
                "act": "Décision saisie par erreur",
                "publication": "",
                "in_force_from": "2023-04-17",
                "in_force_until": "2028-04-17",
                "level_note": "",
            },
        )
        assert response.status_code == 302
        mistake = Registration.objects.get(act="Décision saisie par erreur")
        assert AuditEvent.objects.get(action="referential.registration_added").actor == staff_user
        response = admin_client.post(admin_url(Registration, "delete", mistake.pk), {"post": "yes"})
        assert response.status_code == 302
        assert not Registration.objects.filter(pk=mistake.pk).exists()
        event = AuditEvent.objects.get(action="referential.registration_deleted")
        assert event.actor == staff_user and event.before["act"] == "Décision saisie par erreur"

    def test_an_overlapping_period_is_refused_in_the_admin_as_on_the_page(self, admin_client, certification):
        response = admin_client.post(
            admin_url(Registration, "add"),
            {
                "certification": certification.pk,
                "act": "Chevauchement",
                "in_force_from": "2022-01-01",
                "in_force_until": "2027-01-01",
            },
        )
        assert response.status_code == 200
        assert "Cette période chevauche l'enregistrement « Arrêté du 9 avril 2018 »" in page(response)
        assert certification.registrations.count() == 2


class TestFicheData:
    """The fiche's pathways and jury composition rule: shown, never changed nor deleted through the admin."""

    def test_the_jury_composition_rule_is_neither_deleted_nor_changed(
        self, signed_on_block_3, admin_client, certification
    ):
        rule = JuryCompositionRule.objects.get(certification=certification)
        response = admin_client.post(admin_url(JuryCompositionRule, "delete", rule.pk), {"post": "yes"})
        assert response.status_code == 403 and "Accès refusé" in page(response)
        response = admin_client.post(
            admin_url(JuryCompositionRule, "change", rule.pk), {"professionals_percent": 25, "trainers_percent": 75}
        )
        assert response.status_code == 403
        rule.refresh_from_db()
        assert (rule.professionals_percent, rule.trainers_percent) == (50, 50)
        assert admin_client.get(admin_url(JuryCompositionRule, "change", rule.pk)).status_code == 200  # shown

    def test_an_access_pathway_is_neither_deleted_nor_changed(self, admin_client, certification):
        pathway = AccessPathway.objects.get(certification=certification, code="vae")
        response = admin_client.post(admin_url(AccessPathway, "delete", pathway.pk), {"post": "yes"})
        assert response.status_code == 403 and "Accès refusé" in page(response)
        response = admin_client.post(admin_url(AccessPathway, "change", pathway.pk), {"label": "X", "is_open": ""})
        assert response.status_code == 403
        assert AccessPathway.objects.get(pk=pathway.pk).is_open
        assert admin_client.get(admin_url(AccessPathway, "add")).status_code == 403

    def test_the_orm_refuses_deleting_them_while_in_use(self, signed_on_block_3, certification):
        rule = JuryCompositionRule.objects.get(certification=certification)
        # pre_delete refuses inside Django's delete transaction: each attempt runs in its own savepoint.
        in_use = "ne peut pas être supprimée : des sessions de jury"
        with pytest.raises(ValidationError, match=in_use), transaction.atomic():
            rule.delete()
        with pytest.raises(ValidationError, match=in_use), transaction.atomic():
            JuryCompositionRule.objects.filter(pk=rule.pk).delete()
        vae = AccessPathway.objects.get(certification=certification, code="vae")  # in the rule, no cohort
        with (
            pytest.raises(
                ValidationError, match="« Par expérience dispositif VAE prévu en 2012 » ne peut pas être supprimée"
            ),
            transaction.atomic(),
        ):
            vae.delete()
        with pytest.raises(ValidationError, match="ne peut pas être supprimée"), transaction.atomic():
            AccessPathway.objects.filter(pk=vae.pk).delete()
        assert AccessPathway.objects.filter(certification=certification).count() == 6
        assert rule.pathways.filter(pk=vae.pk).exists()


class TestCertification:
    def test_the_description_is_saved_through_the_service_and_the_fiche_stays_read_only(
        self, admin_client, certification, staff_user
    ):
        url = admin_url(Certification, "change", certification.pk)
        data = form_data(admin_client.get(url))
        data["accessible_new_caledonia"] = "on"
        data["title"] = "Un autre intitulé"  # the fiche's: read-only, ignored
        data["signatory_title"] = "Quelqu'un d'autre"
        response = admin_client.post(url, data)
        assert response.status_code == 302
        certification.refresh_from_db()
        assert certification.accessible_new_caledonia
        assert certification.title == "Manager de proximité dans l'économie sociale et solidaire"
        assert certification.signatory_title == "Directeur général"
        event = AuditEvent.objects.get(action="referential.certification_changed")
        assert event.actor == staff_user
        assert (event.before, event.after) == ({"accessible_new_caledonia": False}, {"accessible_new_caledonia": True})

    def test_a_certification_is_neither_added_nor_deleted_and_its_rows_are_read_only(self, admin_client, certification):
        assert admin_client.get(admin_url(Certification, "add")).status_code == 403
        response = admin_client.post(admin_url(Certification, "delete", certification.pk), {"post": "yes"})
        assert response.status_code == 403
        response = admin_client.get(admin_url(Certification, "change", certification.pk))
        for inline in response.context["inline_admin_formsets"]:
            assert not inline.has_add_permission and not inline.has_change_permission
            assert not inline.has_delete_permission

    def test_the_service_refuses_the_fiches_identity(self, certification, staff_user):
        from certif import services as referential

        with pytest.raises(ValidationError, match="viennent de la fiche RNCP"):
            referential.certification_update(certification=certification, actor=staff_user, title="Autre")
        assert Certification.objects.get(pk=certification.pk).title == certification.title


class TestGridAndScale:
    def test_a_fifth_competence_cannot_be_added_to_block_1_through_the_admin(self, admin_client, blocks):
        grid = blocks[1].current_grid
        url = admin_url(type(grid), "change", grid.pk)
        response = admin_client.get(url)
        assert response.status_code == 200  # shown, read-only
        assert "Les compétences se modifient sur la page du bloc" not in page(response)  # that link is the block's
        assert "Page du bloc 1" in page(response)
        response = admin_client.post(
            url,
            {
                "competences-TOTAL_FORMS": "5",
                "competences-INITIAL_FORMS": "4",
                "competences-4-position": "5",
                "competences-4-label": "une cinquième compétence",
            },
        )
        assert response.status_code == 403
        assert grid.competences.count() == 4

    def test_an_unused_scale_is_edited_on_its_page_only(self, admin_client, certification):
        scale = certification.rating_scales.get()
        assert not scale.is_in_use
        response = admin_client.post(admin_url(type(scale), "change", scale.pk), {"levels-0-label": "Autre"})
        assert response.status_code == 403
        assert scale.levels.get(code="A").label == "A"
