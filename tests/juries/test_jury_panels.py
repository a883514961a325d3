"""The deliberating jury keeps the rule: for each candidate, the members who deliberate (all but the recused, each
replaced by a substitute of the same category when there is one) must satisfy the fiche's composition."""

from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from candidates import services as candidate_services
from certif.models import AuditEvent
from documents.models import IssuedDocument
from documents.services import document_issue
from juries import selectors, services
from juries.composition import deliberating_panel, panel_problem
from juries.models import JuryMember, JurySessionStatus, MemberCategory
from tests.factories import decide_all, evaluated_cohort, make_jury, present_all

EMP, EMPLOYER, TRAINER = MemberCategory.EMPLOYEE, MemberCategory.EMPLOYER, MemberCategory.TRAINER
PASSWORD = "mot-de-passe-de-test"


def m(pk, category, president=False, substitute=False, name=None):
    return SimpleNamespace(
        pk=pk, name=name or f"M{pk}", category=category, is_president=president, is_substitute=substitute
    )


class TestPanel:
    @pytest.fixture
    def rule(self, certification):
        return certification.jury_rule

    def test_a_recused_member_is_replaced_by_the_first_substitute_of_their_category(self, rule, db):
        members = [
            m(1, EMPLOYER, president=True),
            m(2, EMP),
            m(3, TRAINER),
            m(4, TRAINER),
            m(5, TRAINER, substitute=True),
            m(6, EMP, substitute=True),
            m(7, EMP, substitute=True),
        ]
        panel = deliberating_panel(members, {2}, rule)
        assert panel.is_valid
        assert [(s.member.pk, s.replaces.pk if s.replaces else None) for s in panel.seats] == [
            (1, None),
            (6, 2),
            (3, None),
            (4, None),
        ]
        # Without a recusal, the substitutes do not deliberate.
        assert [s.member.pk for s in deliberating_panel(members, set(), rule).seats] == [1, 2, 3, 4]
        # A recused substitute is not called: the next one is.
        assert [s.member.pk for s in deliberating_panel(members, {2, 6}, rule).replacements] == [7]

    def test_no_substitute_of_that_category_breaks_the_panel_and_says_who(self, rule, db):
        members = [m(1, EMPLOYER, president=True), m(2, EMP, name="Sylvie Rochette"), m(3, TRAINER), m(4, TRAINER)]
        members.append(m(5, TRAINER, substitute=True))
        panel = deliberating_panel(members, {2}, rule)
        assert [member.name for member in panel.unreplaced] == ["Sylvie Rochette"]
        assert panel.violations == [
            "Un jury compte au moins 4 membres (3 membres).",
            "Il faut autant de professionnels que de formateurs (1 professionnel, 2 formateurs).",
            "Il faut autant de salariés que d'employeurs parmi les professionnels (0 salarié, 1 employeur).",
        ]
        assert panel_problem("Thomas GIRAUD", panel) == (
            "Thomas GIRAUD : le jury qui délibère sur ce candidat ne respecte pas la fiche (Sylvie Rochette "
            "(professionnel salarié) ne délibère pas sur ce candidat et aucun suppléant de sa catégorie ne le "
            "remplace). Un jury compte au moins 4 membres (3 membres). Il faut autant de professionnels que de "
            "formateurs (1 professionnel, 2 formateurs). Il faut autant de salariés que d'employeurs parmi les "
            "professionnels (0 salarié, 1 employeur). Ajoutez un suppléant de la même catégorie."
        )

    def test_the_substitute_of_a_recused_president_presides_for_that_candidate(self, rule, db):
        members = [m(1, EMPLOYER, president=True), m(2, EMP), m(3, TRAINER), m(4, TRAINER)]
        members.append(m(5, EMPLOYER, substitute=True))
        panel = deliberating_panel(members, {1}, rule)
        assert panel.is_valid and [s.member.pk for s in panel.seats if s.is_president] == [5]
        assert deliberating_panel(members[:4], {1}, rule).violations[-1] == "Le jury n'a pas de président."


@pytest.fixture
def linked(staff_user, trainer_user, president_user):
    """Two candidates; Marc Dumas (the only salaried professional) is the second one's tutor."""
    _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=2, codes={1: ["A", "D"], 2: "A"})
    candidate_services.enrolment_update(
        enrolment=enrolments[1], actor=staff_user, status=enrolments[1].status, tutor_name="M. Marc Dumas"
    )
    session = make_jury(staff_user, president_user)
    present_all(session, enrolments, staff_user)
    return session, enrolments


pytestmark = pytest.mark.django_db


class TestSessions:
    def test_sign_off_and_deliberation_refuse_an_unbalanced_panel_naming_the_candidate(
        self, linked, president_user, president_client
    ):
        session, (first, second) = linked
        name = second.candidate.full_name
        problem, missing = selectors.sign_off_problems(session)
        assert missing.startswith("4 décisions manquent")
        assert problem.startswith(f"{name} : le jury qui délibère sur ce candidat ne respecte pas la fiche")
        assert "Marc Dumas (professionnel salarié) ne délibère pas sur ce candidat" in problem
        assert "(0 salarié, 1 employeur)" in problem

        with pytest.raises(ValidationError) as error:
            decide_all(session, president_user)
        assert error.value.messages == [problem]

        html = president_client.get(reverse("juries:deliberation", args=[session.pk])).content.decode()
        rows = html.split("<tbody>")[1].split("</tr>")
        row_first, row_second = (next(r for r in rows if c.full_name in r) for c in (first.candidate, second.candidate))
        assert "panel-problem" in row_second and "<select" not in row_second
        assert "<select" in row_first and "panel-problem" not in row_first

        # The first candidate's decisions alone can be recorded; the sign-off stays refused.
        decide_first = {key: value for key, value in _form(session).items() if key.split("-")[1] in _ids(first)}
        response = president_client.post(reverse("juries:deliberation", args=[session.pk]), decide_first)
        assert response.status_code == 302
        response = president_client.post(reverse("juries:sign_off", args=[session.pk]), {"password": PASSWORD})
        assert response.status_code == 400 and "le jury qui délibère sur ce candidat" in response.content.decode()
        session.refresh_from_db()
        assert session.status == JurySessionStatus.PREPARED

    def test_staff_add_a_substitute_and_the_panel_is_restored(self, linked, staff_client, president_user):
        session, (first, second) = linked
        president_client = Client()
        president_client.force_login(president_user)
        response = staff_client.post(
            reverse("juries:member_add", args=[session.pk]),
            {
                "name": "Claire Vidal",
                "organisation": "Union régionale des Scop",
                "category": EMP,
                "is_substitute": "on",
            },
            follow=True,
        )
        html = response.content.decode()
        assert "La composition du jury respecte la fiche." in html  # substitutes do not count in the base
        members = html.split('id="members"')[1].split("</table>")[0]
        assert "Claire Vidal" in members and "Suppléant" in members
        event = AuditEvent.objects.filter(action="jury.member_added").order_by("pk").last()
        assert event.after["is_substitute"] is True and event.after["violations"] == []
        panel_cell = html.split('id="presented"')[1].split(second.candidate.full_name)[1].split("</tr>")[0]
        assert "Claire Vidal — suppléant, remplace Marc Dumas" in panel_cell
        assert "Le jury titulaire au complet" in html.split(first.candidate.full_name)[1].split("</tr>")[0]

        html = president_client.get(reverse("juries:deliberation", args=[session.pk])).content.decode()
        assert "Délibèrent sur ce candidat :" in html and "panel-problem" not in html
        decide_all(session, president_user)
        services.jury_session_sign_off(session=session, signed_by=president_user)
        session.refresh_from_db()
        assert session.is_signed

        # The minutes say who sat for whom.
        from tests.documents.test_documents import assert_archival

        minutes = document_issue(session=session, kind="minutes", actor=session.created_by)
        text = assert_archival(IssuedDocument.objects.get(pk=minutes.pk))
        assert "Claire Vidal Union régionale des Scop Professionnel salarié Membre suppléant" in text
        assert f"Marc Dumas {second.candidate.full_name} tuteur du candidat Claire Vidal (suppléant)" in text

    def test_a_substitute_never_presides_error_next_to_the_field(self, linked, staff_client, president_user):
        session, _ = linked
        response = staff_client.post(
            reverse("juries:member_add", args=[session.pk]),
            {
                "name": "Paule Rey",
                "organisation": "Fondation",
                "category": EMPLOYER,
                "is_president": "on",
                "is_substitute": "on",
                "user": president_user.pk,
            },
        )
        assert response.status_code == 400
        assert response.context["form"].errors["is_substitute"] == [
            "Le président est un membre titulaire : un suppléant ne préside pas le jury."
        ]
        assert not JuryMember.objects.filter(name="Paule Rey").exists()

    def test_a_declared_link_warns_at_once(self, linked, staff_client, staff_user):
        session, (first, _) = linked
        trainer = JuryMember.objects.get(session=session, name="Anne Roche")
        response = staff_client.post(
            reverse("juries:recusal_add", args=[session.pk]),
            {"member": trainer.pk, "presentation": session.presentations.get(enrolment=first).pk, "reason": "Voisine"},
            follow=True,
        )
        html = response.content.decode()
        assert f"{first.candidate.full_name} : le jury qui délibère sur ce candidat ne respecte pas la fiche" in html
        assert "Anne Roche (formateur) ne délibère pas sur ce candidat" in html


def _form(session):
    from juries.models import Decision

    return {
        key: value
        for d in Decision.objects.filter(presentation__session=session)
        for key, value in ((f"d-{d.pk}-outcome", d.proposal_outcome), (f"d-{d.pk}-reason", ""))
    }


def _ids(enrolment):
    from juries.models import Decision

    return {str(pk) for pk in Decision.objects.filter(presentation__enrolment=enrolment).values_list("pk", flat=True)}


def test_presidents_of_other_sessions_see_nothing(linked):
    from tests.conftest import make_user

    session, _ = linked
    client = Client()
    client.force_login(make_user("autre", "president"))
    assert client.get(reverse("juries:deliberation", args=[session.pk])).status_code == 404
