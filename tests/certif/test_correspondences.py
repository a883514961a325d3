"""The correspondence table between RNCP 16204 and its (illustrative) successor, as staff record it and both fiches
show it."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from certif.audit_display import describe_event
from certif.models import AuditAction, AuditEvent, BlockCorrespondence, Certification
from certif.selectors import correspondence_table
from certif.services import block_correspondences_set
from tests.renewal import SUCCESSOR_CODE, install_successor, new_blocks, old_blocks, record_table

PAGE = reverse("certif:correspondences", kwargs={"rncp_code": SUCCESSOR_CODE})


@pytest.fixture
def successor(certification):
    return install_successor()


@pytest.mark.django_db
class TestService:
    def test_sets_changes_and_clears_a_block_s_correspondence(self, successor, staff_user):
        new, old = new_blocks(successor), old_blocks()
        block_correspondences_set(block=new[2], previous_blocks=[old[2], old[1]], actor=staff_user)
        assert sorted(row.previous_block.number for row in new[2].correspondences.all()) == [1, 2]
        block_correspondences_set(block=new[2], previous_blocks=[old[2]], actor=staff_user)
        assert [row.previous_block.number for row in new[2].correspondences.all()] == [2]
        block_correspondences_set(block=new[2], previous_blocks=[], actor=staff_user)
        assert not new[2].correspondences.exists()
        events = AuditEvent.objects.filter(action=AuditAction.REFERENTIAL_CORRESPONDENCE_CHANGED).order_by("pk")
        assert [(event.before, event.after) for event in events] == [
            ({"previous_blocks": []}, {"previous_blocks": ["RNCP16204BC01", "RNCP16204BC02"]}),
            ({"previous_blocks": ["RNCP16204BC01", "RNCP16204BC02"]}, {"previous_blocks": ["RNCP16204BC02"]}),
            ({"previous_blocks": ["RNCP16204BC02"]}, {"previous_blocks": []}),
        ]
        readable = describe_event(events[1])
        assert readable.label == "Modification des correspondances de blocs"
        assert readable.summary == (
            "blocs de la fiche précédente qui le donnent : RNCP16204BC01, RNCP16204BC02 → RNCP16204BC02"
        )

    def test_the_same_choice_again_records_nothing(self, successor, staff_user):
        new, old = new_blocks(successor), old_blocks()
        block_correspondences_set(block=new[4], previous_blocks=[old[4]], actor=staff_user)
        block_correspondences_set(block=new[4], previous_blocks=[old[4]], actor=staff_user)
        assert AuditEvent.objects.filter(action=AuditAction.REFERENTIAL_CORRESPONDENCE_CHANGED).count() == 1

    def test_a_block_of_a_fiche_that_is_not_a_predecessor_is_refused(self, successor, staff_user):
        new = new_blocks(successor)
        with pytest.raises(ValidationError) as refused:
            block_correspondences_set(block=new[1], previous_blocks=[new[2]], actor=staff_user)
        assert refused.value.messages == [
            "RNCP99901BC02 : un bloc ne correspond qu'à un bloc d'une fiche précédente de RNCP99901 (fiches "
            "précédentes : RNCP16204)."
        ]
        old = old_blocks()
        with pytest.raises(ValidationError, match="fiches précédentes : aucune"):
            block_correspondences_set(block=old[1], previous_blocks=[new[1]], actor=staff_user)
        assert not BlockCorrespondence.objects.exists()

    def test_a_used_correspondence_is_frozen(self, successor, staff_user):
        new, old = new_blocks(successor), old_blocks()
        block_correspondences_set(block=new[2], previous_blocks=[old[1], old[2]], actor=staff_user)
        BlockCorrespondence.objects.filter(block=new[2], previous_block=old[2]).update(
            first_used_at=timezone.make_aware(datetime.datetime(2026, 6, 16, 18, 0))
        )
        for choice in ([old[1]], [old[1], old[2], old[3]], []):
            with pytest.raises(ValidationError) as refused:
                block_correspondences_set(block=new[2], previous_blocks=choice, actor=staff_user)
            assert refused.value.messages == [
                "La correspondance du bloc RNCP99901BC02 ne peut plus changer : un bloc a été acquis par cette "
                "correspondance (RNCP16204BC02 → RNCP99901BC02) le 16/06/2026, et ce bloc acquis en dépend."
            ]
        assert new[2].correspondences.count() == 2


@pytest.mark.django_db
class TestTable:
    def test_both_fiches_read_the_table(self, successor, staff_user, django_assert_num_queries):
        record_table(successor, staff_user)
        with django_assert_num_queries(3):  # its predecessor, its blocks, the rows
            table = correspondence_table(successor)
        assert [(row.block.code, row.codes) for row in table.given_by] == [
            ("RNCP99901BC01", "RNCP16204BC02"),
            ("RNCP99901BC02", "RNCP16204BC01 + RNCP16204BC02"),
            ("RNCP99901BC03", "aucune correspondance"),
            ("RNCP99901BC04", "RNCP16204BC04"),
        ]
        old = Certification.objects.get(rncp_code="16204")
        table = correspondence_table(old)
        assert [(row.block.code, [other.code for other in row.others]) for row in table.gives] == [
            ("RNCP16204BC01", ["RNCP99901BC02"]),
            ("RNCP16204BC02", ["RNCP99901BC01", "RNCP99901BC02"]),
            ("RNCP16204BC03", []),
            ("RNCP16204BC04", ["RNCP99901BC04"]),
        ]
        assert not any(row.frozen for row in table.gives)

    def test_a_fiche_outside_any_renewal_reads_nothing(self, certification, django_assert_num_queries):
        with django_assert_num_queries(0):
            assert correspondence_table(certification).is_empty

    def test_both_fiche_pages_show_the_table(self, successor, staff_user, trainer_client):
        record_table(successor, staff_user)
        new_page = trainer_client.get(reverse("certif:fiche", args=[SUCCESSOR_CODE])).content.decode()
        assert "Correspondances de blocs avec la fiche précédente" in new_page
        assert "RNCP16204BC01 + RNCP16204BC02" in new_page and "aucune correspondance" in new_page
        assert "Modifier les correspondances" not in new_page
        old_page = trainer_client.get(reverse("certif:fiche", args=["16204"])).content.decode()
        assert "Correspondances de blocs avec la fiche suivante" in old_page
        assert "RNCP99901BC01, RNCP99901BC02" in old_page


@pytest.mark.django_db
class TestPage:
    def test_staff_set_a_block_s_correspondence(self, successor, staff_client):
        new, old = new_blocks(successor), old_blocks()
        html = staff_client.get(PAGE).content.decode()
        assert "RNCP16204BC03 — Mettre en œuvre des pratiques internes" in html
        assert html.count('name="previous"') == 16  # four rows, four previous blocks each
        response = staff_client.post(PAGE, {"block": 2, "previous": [old[1].pk, old[2].pk]})
        assert response.status_code == 302
        page = staff_client.get(response.url).content.decode()
        assert "Correspondance du bloc RNCP99901BC02 enregistrée : RNCP16204BC01 + RNCP16204BC02." in page
        assert sorted(row.previous_block.number for row in new[2].correspondences.all()) == [1, 2]

    def test_a_frozen_row_is_shown_disabled_with_why(self, successor, staff_user, staff_client):
        record_table(successor, staff_user)
        new = new_blocks(successor)
        BlockCorrespondence.objects.filter(block=new[4]).update(
            first_used_at=timezone.make_aware(datetime.datetime(2026, 6, 16, 18, 0))
        )
        html = staff_client.get(PAGE).content.decode()
        assert "Figée : un bloc a été acquis par cette correspondance le 16 juin 2026" in html
        assert html.count("<fieldset disabled>") == 1
        response = staff_client.post(PAGE, {"block": 4, "previous": []})
        assert response.status_code == 400
        assert "un bloc a été acquis par cette correspondance (RNCP16204BC04 → RNCP99901BC04)" in (
            response.content.decode()
        )
        assert new[4].correspondences.count() == 1

    def test_a_block_of_another_fiche_is_refused(self, successor, staff_client):
        new = new_blocks(successor)
        response = staff_client.post(PAGE, {"block": 1, "previous": [new[2].pk]})
        assert response.status_code == 400
        assert "Choisissez des blocs de la fiche précédente." in response.content.decode()
        assert not BlockCorrespondence.objects.exists()

    def test_only_staff(self, successor, client, trainer_user, president_user):
        assert client.get(PAGE).status_code in (302, 403)
        for user in (trainer_user, president_user):
            client.force_login(user)
            assert client.get(PAGE).status_code == 403
            assert client.post(PAGE, {"block": 1, "previous": []}).status_code == 403
        assert not AuditEvent.objects.filter(action=AuditAction.REFERENTIAL_CORRESPONDENCE_CHANGED).exists()

    def test_a_fiche_without_predecessor_has_no_such_page(self, certification, staff_client):
        assert staff_client.get(reverse("certif:correspondences", args=["16204"])).status_code == 404


@pytest.mark.django_db
def test_the_page_costs_the_same_queries_with_a_full_table(
    successor, staff_user, staff_client, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as empty:
        staff_client.get(PAGE)
    record_table(successor, staff_user)
    with django_assert_num_queries(len(empty.captured_queries)):
        assert "RNCP16204BC01 — Organiser" in staff_client.get(PAGE).content.decode()
