"""The audit history as people read it: French labels, field labels and values, on every page that shows it, in a
number of queries that does not grow with the number of events."""

import datetime
import html

import pytest
from django.urls import reverse

from candidates import services as candidates_services
from certif.audit import AuditAction, AuditChange, record_audit, record_audits
from certif.audit_display import describe_event
from certif.models import AuditEvent, Block
from juries.models import Decision, DecisionOutcome, JuryMember
from tests.factories import decide_all, evaluated_cohort, make_candidate, make_cohort, make_jury, present_all


def page_text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def section(page: str, heading: str) -> str:
    return page[page.index(heading) :]


@pytest.mark.django_db
class TestPresenter:
    def test_values_are_read_as_people_write_them(self, staff_user, blocks):
        event = record_audit(
            actor=staff_user,
            action=AuditAction.JURY_MEMBER_CHANGED,
            target=blocks[1],
            before={"is_president": False, "category": "trainer", "declared_competence_count": 9, "blocks": [1, 2]},
            after={"is_president": True, "category": "employer_professional", "declared_competence_count": 8},
        )
        view = describe_event(event)
        assert view.label == "Modification d'un membre du jury"
        assert view.actor == staff_user.get_full_name()
        assert [change.text for change in view.changes] == [
            "président du jury : Non → Oui",
            "catégorie : Formateur → Professionnel employeur",
            "nombre de compétences du bloc : 9 → 8",
            "blocs : 1, 2",  # recorded before only: shown as it was
        ]

    def test_a_trace_without_actor_is_the_system_and_dates_are_french(self, blocks):
        event = record_audit(
            actor=None,
            action=AuditAction.CERTIFICATION_AWARDED,
            target=blocks[1],
            after={"awarded_on": "2022-06-14", "levels": [{"code": "A", "validates": True}]},
        )
        view = describe_event(event)
        assert view.actor == "système"
        assert view.sentence.startswith("Délivrance de la certification, par système, le ")
        assert [change.text for change in view.changes] == [
            "délivrée le : 14/06/2022",
            "niveaux : code : A, valide le bloc : Oui",
        ]

    def test_a_foreign_key_id_is_shown_as_its_object(self, staff_user, certification):
        # The cohort's snapshot records its pathway and its place as ids.
        cohort = make_cohort(staff_user, name="Promotion des traces")
        event = AuditEvent.objects.get(action=AuditAction.COHORT_CREATED, target_id=str(cohort.pk))
        lines = [change.text for change in describe_event(event).changes]
        assert f"lieu de préparation : {cohort.preparation_place}" in lines
        assert f"voie d'accès : {cohort.pathway}" in lines
        assert "début : 01/09/2025" in lines

    def test_record_audits_writes_one_row_per_change_in_one_query(self, staff_user, blocks, django_assert_num_queries):
        record_audit(actor=staff_user, action=AuditAction.REFERENTIAL_THRESHOLD_CHANGED, target=blocks[1])
        with django_assert_num_queries(1):
            record_audits(
                actor=staff_user,
                action=AuditAction.REFERENTIAL_THRESHOLD_CHANGED,
                changes=[AuditChange(target=block, after={"threshold_value": "7.00"}) for block in blocks.values()],
            )
        assert AuditEvent.objects.count() == 1 + len(blocks)
        with pytest.raises(ValueError, match="Action d'audit inconnue"):
            record_audits(actor=staff_user, action="referential.threshold_changed", changes=[])


@pytest.mark.django_db
def test_the_candidate_history_costs_the_same_queries_with_more_events(
    staff_client, staff_user, django_assert_num_queries
):
    candidate = make_candidate(staff_user)
    url = reverse("candidates:detail", args=[candidate.pk])
    staff_client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        staff_client.get(url)
    for title in ("Éducateur spécialisé", "Chef de service", "Directeur adjoint"):
        candidates_services.candidate_update(candidate=candidate, actor=staff_user, job_title=title)
    with django_assert_num_queries(len(first.captured_queries)):
        page = page_text(staff_client.get(url))
    history = section(page, "Historique des modifications")
    assert "emploi occupé : Éducateur spécialisé → Chef de service" in history
    assert history.count("Modification de la fiche") == 3


@pytest.fixture
def deliberated(staff_user, trainer_user, president_user):
    _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=2)
    session = make_jury(staff_user, president_user)
    present_all(session, enrolments, staff_user)
    decide_all(session, president_user)
    return session


@pytest.mark.django_db
class TestSessionHistory:
    def test_staff_and_the_president_read_the_history_of_the_session_and_its_decisions(
        self, deliberated, staff_client, president_user, client
    ):
        url = reverse("juries:detail", args=[deliberated.pk])
        history = section(page_text(staff_client.get(url)), "Historique")
        assert "Création de la session de jury" in history
        assert "Ajout d'un membre du jury" in history
        assert "catégorie : Professionnel employeur" in history
        assert "président du jury : Oui" in history
        assert "Présentation d'un candidat au jury" in history
        assert "Enregistrement d'une décision" in history
        assert "décision du jury : (vide) → Validé" in history
        assert "jury." not in history and "{'" not in history and "employer_professional" not in history

        client.force_login(president_user)
        assert "Enregistrement d'une décision" in section(page_text(client.get(url)), "Historique")

    def test_a_count_named_like_a_reverse_relation_is_read_as_a_count(self, deliberated, staff_client, staff_user):
        # « documents » is also the session's reverse relation to its issued documents: the page must not take it
        # for a field of the session (the demo's batch request records exactly this).
        record_audit(
            actor=staff_user,
            action=AuditAction.DOCUMENTS_BATCH_REQUESTED,
            target=deliberated,
            after={"documents": 15},
        )
        history = section(page_text(staff_client.get(reverse("juries:detail", args=[deliberated.pk]))), "Historique")
        assert AuditAction.DOCUMENTS_BATCH_REQUESTED.label in history
        assert "15" in history

    def test_the_history_costs_the_same_queries_with_more_events(
        self, deliberated, staff_client, staff_user, django_assert_num_queries
    ):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        url = reverse("juries:detail", args=[deliberated.pk])
        staff_client.get(url)
        with CaptureQueriesContext(connection) as first:
            staff_client.get(url)
        decision = Decision.objects.filter(presentation__session=deliberated).first()
        member = JuryMember.objects.filter(session=deliberated).first()
        for _ in range(3):
            record_audit(
                actor=staff_user,
                action=AuditAction.JURY_DECISION_RECORDED,
                target=decision,
                before={"outcome": DecisionOutcome.NOT_VALIDATED},
                after={"outcome": DecisionOutcome.VALIDATED, "block": Block.objects.first().number},
            )
            record_audit(
                actor=staff_user,
                action=AuditAction.JURY_SESSION_UPDATED,
                target=deliberated,
                before={"date": "2022-06-14", "place": "IRUP"},
                after={"date": "2022-06-15", "place": member.organisation},
            )
        with django_assert_num_queries(len(first.captured_queries)):
            history = section(page_text(staff_client.get(url)), "Historique")
        assert "décision du jury : Non validé → Validé" in history
        assert "date du jury : 14/06/2022 → 15/06/2022" in history


@pytest.mark.django_db
class TestAdminJournal:
    def test_the_journal_lists_french_labels_and_each_trace_reads_its_fields(self, admin_client, staff_user):
        candidate = make_candidate(staff_user, birth_date=datetime.date(1985, 4, 12))
        listing = page_text(admin_client.get(reverse("admin:certif_auditevent_changelist")))
        assert "Création de la fiche" in listing
        event = AuditEvent.objects.get(action=AuditAction.CANDIDATE_CREATED, target_id=str(candidate.pk))
        page = page_text(admin_client.get(reverse("admin:certif_auditevent_change", args=[event.pk])))
        assert "Création de la fiche" in page
        assert "date de naissance : 12/04/1985" in page
        assert "emploi occupé : Chef de service" in page
        assert "{'" not in page and '{"' not in page and "birth_date" not in page
