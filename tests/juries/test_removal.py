"""Removing a presented candidate or a jury member sets them aside: out of every reading, restorable with their
decisions and links until the deliberation starts."""

import html as html_text

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from certif.models import AuditEvent
from documents.content import SessionData, session_slots
from juries import selectors, services
from juries.models import Decision, JuryMember, MemberCategory, Presentation, Recusal
from reporting import statistics
from tests.factories import decide_all, evaluated_cohort, make_jury, present_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def evaluated(staff_user, trainer_user):
    return evaluated_cohort(staff_user, trainer_user, count=3, name="MPES retraits")


@pytest.fixture
def jury(staff_user, president_user, evaluated):
    session = make_jury(staff_user, president_user)
    present_all(session, evaluated[1], staff_user)
    return session


def presentation_of(session, enrolment):
    return Presentation.all_objects.get(session=session, enrolment=enrolment)


def stored(presentation):
    """What a presented candidate carries, as stored: decisions (with their proposals) and links."""
    decisions = list(
        Decision.all_objects.filter(presentation=presentation)
        .order_by("pk")
        .values_list("pk", "block__number", "proposal_outcome", "proposal_explanation", "outcome")
    )
    recusals = list(
        Recusal.all_objects.filter(presentation=presentation).order_by("pk").values_list("member__name", "reason")
    )
    return decisions, recusals


@pytest.fixture
def removed(jury, evaluated, staff_user):
    """The first candidate, with a declared link to a member, removed."""
    enrolment = evaluated[1][0]
    presentation = presentation_of(jury, enrolment)
    member = jury.members.get(name="Marc Dumas")
    services.recusal_declare(member=member, presentation=presentation, reason="ancien collègue", actor=staff_user)
    before = stored(presentation)
    services.presentation_remove(presentation=presentation, actor=staff_user)
    return presentation, enrolment, before


class TestRemovedCandidate:
    def test_kept_as_stored_and_out_of_every_reading(self, jury, removed, staff_user, president_user):
        presentation, enrolment, before = removed
        assert stored(presentation) == before and before[1] == [("Marc Dumas", "ancien collègue")]
        presentation.refresh_from_db()
        assert presentation.removed_by == staff_user and presentation.removed_at is not None
        assert enrolment.pk not in {p.enrolment_id for p in jury.presentations.all()}
        assert not Decision.objects.filter(presentation=presentation).exists()
        assert not Recusal.objects.filter(presentation=presentation).exists()
        # Its blocks are free: another jury may examine them.
        assert not Decision.all_objects.filter(presentation=presentation, is_open=True).exists()
        (pending,) = selectors.prepared_sessions_work(selectors.sessions_presided_by(president_user))
        assert pending.candidate_count == 2 and pending.missing == 4
        assert all(enrolment.candidate.full_name not in problem for problem in selectors.sign_off_problems(jury))
        recap = selectors.sign_off_recap(jury, selectors.session_decisions(jury))
        assert enrolment.candidate.full_name not in [row.name for row in recap.rows] and len(recap.rows) == 2

    def test_decided_then_removed_appears_in_no_document_count_or_statistic(
        self, jury, evaluated, staff_user, president_user
    ):
        enrolment = evaluated[1][0]
        presentation = presentation_of(jury, enrolment)
        decide_all(jury, president_user)
        services.presentation_remove(presentation=presentation, actor=staff_user)
        assert Decision.all_objects.filter(presentation=presentation).exclude(outcome="").count() == 2
        services.jury_session_sign_off(session=jury, signed_by=president_user)
        jury.refresh_from_db()
        names = {slot.candidate.full_name for slot in session_slots(jury) if slot.candidate}
        assert enrolment.candidate.full_name not in names and len(names) == 2
        data = SessionData(jury)
        assert presentation.pk not in data.presentations and len(data.presentations) == 2
        assert enrolment.candidate.full_name not in {member.name for member in data.members}
        assert not enrolment.candidate.acquired_blocks.exists() and not enrolment.candidate.awards.exists()
        assert AuditEvent.objects.get(action="jury.signed_off").after["decisions"] == 4
        (summary,) = statistics.overview([jury.certification])
        assert (summary.candidates, summary.taken) == (2, 4)
        active = list(
            Decision.objects.filter(presentation__session=jury).select_related(
                "block", "block_evaluation__grid", "block_evaluation__scale", "presentation__enrolment"
            )
        )
        assert selectors.decisions_fingerprint(jury, active) == jury.decisions_fingerprint

    def test_restored_intact_with_decisions_and_links(self, jury, removed, staff_user):
        presentation, enrolment, before = removed
        services.presentation_restore(presentation=presentation, actor=staff_user)
        presentation.refresh_from_db()
        assert presentation.removed_at is None and presentation.removed_by is None
        assert stored(presentation) == before
        assert Decision.objects.filter(presentation=presentation, is_open=True).count() == 2
        assert presentation in jury.presentations.all()
        restored = AuditEvent.objects.get(action="jury.candidate_restored")
        assert restored.actor == staff_user and restored.before["removed_by"] == "gestion"
        assert restored.after["removed_at"] is None and restored.after["blocks"] == [1, 2]
        withdrawn = AuditEvent.objects.get(action="jury.candidate_withdrawn")
        assert withdrawn.before["removed_at"] is None and withdrawn.after["removed_by"] == "gestion"

    def test_not_restored_once_the_deliberation_started(self, jury, removed, staff_user, president_user):
        presentation, _, before = removed
        assert not selectors.deliberation_started(jury)
        decide_all(jury, president_user)
        assert selectors.deliberation_started(jury)
        with pytest.raises(ValidationError, match="La délibération a commencé"):
            services.presentation_restore(presentation=presentation, actor=staff_user)
        assert stored(presentation) == before and Presentation.all_objects.get(pk=presentation.pk).is_removed

    def test_presented_again_means_restore_before_the_deliberation(self, jury, removed, staff_user):
        _, enrolment, _ = removed
        with pytest.raises(ValidationError, match="rétablissez-le"):
            services.presentation_add(session=jury, enrolment=enrolment, actor=staff_user)

    def test_presented_again_after_the_deliberation_started_as_a_new_presentation(
        self, jury, removed, staff_user, president_user
    ):
        presentation, enrolment, _ = removed
        decide_all(jury, president_user)
        eligible = {item.enrolment.pk for item in selectors.eligibilities(jury) if item.eligible}
        assert enrolment.pk in eligible
        again = services.presentation_add(session=jury, enrolment=enrolment, actor=staff_user)
        assert again.pk != presentation.pk and jury.presentations.count() == 3

    def test_not_restored_while_before_another_jury(self, jury, removed, staff_user, president_user):
        presentation, enrolment, before = removed
        other = make_jury(staff_user, president_user, place="Ailleurs")
        services.presentation_add(session=other, enrolment=enrolment, actor=staff_user)
        with pytest.raises(ValidationError, match="ne peut pas être rétabli"):
            services.presentation_restore(presentation=presentation, actor=staff_user)
        assert stored(presentation) == before

    def test_database_refuses_a_removal_without_its_author(self, jury, evaluated):
        presentation = presentation_of(jury, evaluated[1][1])
        with pytest.raises(IntegrityError), transaction.atomic():
            Presentation.all_objects.filter(pk=presentation.pk).update(removed_at=timezone.now())


class TestRemovedMember:
    def test_out_of_the_composition_and_back(self, jury, evaluated, staff_user):
        paul = jury.members.get(name="Paul Vernet")
        presentation = presentation_of(jury, evaluated[1][0])
        services.recusal_declare(member=paul, presentation=presentation, reason="voisin", actor=staff_user)
        violations = services.jury_member_remove(member=paul, actor=staff_user)
        assert "Il faut autant de professionnels que de formateurs (2 professionnels, 1 formateur)." in violations
        assert paul.name not in {member.name for member in jury.members.all()}
        assert not Recusal.objects.filter(member=paul).exists()
        assert Recusal.all_objects.filter(member=paul, reason="voisin").exists()
        assert services.jury_member_restore(member=paul, actor=staff_user) == []
        assert Recusal.objects.filter(member=paul, reason="voisin", presentation=presentation).exists()
        event = AuditEvent.objects.get(action="jury.member_restored")
        assert event.before["name"] == "Paul Vernet" and event.before["removed_by"] == "gestion"

    def test_a_removed_president_no_longer_presides(self, jury, staff_user, president_user):
        president = jury.members.get(is_president=True)
        services.jury_member_remove(member=president, actor=staff_user)
        assert not selectors.sessions_presided_by(president_user).exists()
        with pytest.raises(ValidationError, match="Seul le président"):
            services.jury_session_sign_off(session=jury, signed_by=president_user)

    def test_not_restored_once_the_deliberation_started(self, jury, staff_user, president_user):
        extra = JuryMember(
            session=jury, name="Léa Martin", organisation="IRUP", category=MemberCategory.TRAINER, is_substitute=True
        )
        services.jury_member_save(member=extra, actor=staff_user)
        services.jury_member_remove(member=extra, actor=staff_user)
        decide_all(jury, president_user)
        with pytest.raises(ValidationError, match="un membre retiré ne peut plus être rétabli"):
            services.jury_member_restore(member=extra, actor=staff_user)


class TestPages:
    def test_without_javascript_the_server_asks_first(self, jury, evaluated, staff_client):
        presentation = presentation_of(jury, evaluated[1][0])
        url = reverse("juries:presentation_remove", args=[jury.pk, presentation.pk])
        html = page_text(staff_client.post(url))
        name = evaluated[1][0].candidate.full_name
        assert f"Retirer {name} de la session ?" in html and "vous pourrez le rétablir" in html
        assert 'name="confirmed" value="1"' in html
        assert not Presentation.all_objects.get(pk=presentation.pk).is_removed
        response = staff_client.post(url, {"confirmed": "1"}, follow=True)
        assert f"{name} n'est plus présenté à cette session." in page_text(response)
        assert Presentation.all_objects.get(pk=presentation.pk).is_removed

    def test_the_session_page_offers_to_restore(self, jury, removed, staff_client):
        presentation, enrolment, _ = removed
        url = reverse("juries:detail", args=[jury.pk])
        html = page_text(staff_client.get(url))
        assert 'id="removed-presentations"' in html and "Rétablir" in html
        assert f'data-confirm-title="Retirer {evaluated_name(jury)} de la session ?"' in html
        restore = reverse("juries:presentation_restore", args=[jury.pk, presentation.pk])
        response = staff_client.post(restore, follow=True)
        assert "est de nouveau présenté à cette session" in page_text(response)
        assert 'id="removed-presentations"' not in page_text(response)

    def test_restore_refused_in_french_after_the_deliberation(self, jury, removed, staff_client, president_user):
        presentation, _, _ = removed
        decide_all(jury, president_user)
        html = page_text(staff_client.get(reverse("juries:detail", args=[jury.pk])))
        assert "La délibération a commencé : un candidat retiré ne peut plus être rétabli" in html
        assert reverse("juries:presentation_restore", args=[jury.pk, presentation.pk]) not in html
        response = staff_client.post(
            reverse("juries:presentation_restore", args=[jury.pk, presentation.pk]), follow=True
        )
        assert "un candidat retiré ne peut plus être rétabli" in page_text(response)

    def test_member_roles_in_plain_words(self, jury, staff_client):
        html = page_text(staff_client.get(reverse("juries:detail", args=[jury.pk])))
        assert "(compte " not in html and "Président du jury" in html


def page_text(response) -> str:
    return html_text.unescape(response.content.decode())


def evaluated_name(session):
    return session.presentations.first().enrolment.candidate.full_name


class TestMemberPages:
    def test_remove_confirmed_then_restore_from_the_session_page(self, jury, staff_client):
        paul = jury.members.get(name="Paul Vernet")
        detail = reverse("juries:detail", args=[jury.pk])
        html = page_text(staff_client.get(detail))
        assert 'data-confirm-title="Retirer Paul Vernet du jury ?"' in html
        remove = reverse("juries:member_remove", args=[jury.pk, paul.pk])
        asked = page_text(staff_client.post(remove))
        assert "Retirer Paul Vernet du jury ?" in asked and "vous pourrez le rétablir" in asked
        assert not JuryMember.all_objects.get(pk=paul.pk).is_removed
        html = page_text(staff_client.post(remove, {"confirmed": "1"}, follow=True))
        assert "Paul Vernet a été retiré du jury." in html and 'id="removed-members"' in html
        restore = reverse("juries:member_restore", args=[jury.pk, paul.pk])
        assert restore in html
        html = page_text(staff_client.post(restore, follow=True))
        assert "Paul Vernet fait de nouveau partie du jury." in html and 'id="removed-members"' not in html

    def test_the_candidates_page_offers_to_restore_and_comes_back_to_itself(self, jury, removed, staff_client):
        presentation, enrolment, _ = removed
        url = reverse("juries:presentations", args=[jury.pk])
        html = page_text(staff_client.get(url))
        assert 'id="removed-presentations"' in html and f'name="next" value="{url}"' in html
        response = staff_client.post(
            reverse("juries:presentation_restore", args=[jury.pk, presentation.pk]), {"next": url}
        )
        assert response.status_code == 302 and response["Location"] == url
