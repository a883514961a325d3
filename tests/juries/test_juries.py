"""Juries — composition rules, deliberation and the president's sign-off."""

import datetime
import re
from types import SimpleNamespace

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse

from candidates import services as candidate_services
from candidates.models import AcquiredBlock, AcquiredBlockOrigin, AcquiredBlockSource, Candidate, CertificationAward
from certif.audit import AuditAction
from certif.models import AuditEvent, BlockCorrespondence, JuryCompositionRule, Registration
from certif.roles import Role
from certif.security import check_signature_password
from juries import selectors, services
from juries.composition import composition_violations
from juries.models import (
    CertificateSequence,
    Decision,
    JuryMember,
    JurySession,
    JurySessionStatus,
    MemberCategory,
    Presentation,
    Recusal,
)
from tests.conftest import make_user
from tests.factories import (
    JURY_DAY,
    decide_all,
    evaluated_cohort,
    make_jury,
    present_all,
)

pytestmark = pytest.mark.django_db

PASSWORD = "mot-de-passe-de-test"
EMP, EMPLOYER, TRAINER = MemberCategory.EMPLOYEE, MemberCategory.EMPLOYER, MemberCategory.TRAINER


def m(category, president=False):
    return SimpleNamespace(category=category, is_president=president)


@pytest.fixture
def rule(certification):
    return certification.jury_rule


@pytest.fixture
def evaluated(staff_user, trainer_user):
    """Three candidates evaluated on blocks 1 and 2: first validates both, second fails block 1, third fails both."""
    return evaluated_cohort(staff_user, trainer_user, codes={1: ["A", "D", "D"], 2: ["A", "A", "D"]}, name="MPES jury")


@pytest.fixture
def jury(staff_user, president_user, evaluated):
    session = make_jury(staff_user, president_user)
    present_all(session, evaluated[1], staff_user)
    return session


def decision_of(session, enrolment, number):
    return Decision.objects.get(presentation__session=session, presentation__enrolment=enrolment, block__number=number)


def sign(session, user):
    return services.jury_session_sign_off(session=session, signed_by=user)


def field_error(html: str, field: str) -> str:
    """The message shown under a form field (crispy's invalid-feedback, tied to the input by aria-describedby)."""
    match = re.search(
        rf'id="id_{field}_error" class="invalid-feedback">\s*<(?:p|span) id="error_1_id_{field}"><strong>([^<]*)', html
    )
    assert match and f'aria-describedby="id_{field}_helptext id_{field}_error"' in html, f"no error under {field}"
    return match[1]


def form_errors(html: str) -> list[str]:
    """The refusals of the whole form (non-field errors), in the error summary above it: a field's error is listed
    there too, as a link to the field."""
    match = re.search(r'<div class="alert alert-danger error-summary".*?<ul class="mb-0">(.*?)</ul>', html, re.S)
    items = re.findall(r"<li>(.*?)</li>", match[1], re.S) if match else []
    return [item for item in items if not item.startswith("<a ")]


class RecordingHasher(PBKDF2PasswordHasher):
    """Notes whether a password is checked inside a transaction (hashing is slow: never while holding locks)."""

    algorithm = "recording_pbkdf2"
    iterations = 1000
    checked_in_transaction: list[bool] = []

    def verify(self, password, encoded):
        RecordingHasher.checked_in_transaction.append(connection.in_atomic_block)
        return super().verify(password, encoded)


class TestCompositionRule:
    def test_a_valid_jury_of_four(self, rule):
        members = [m(EMPLOYER, True), m(EMP), m(TRAINER), m(TRAINER)]
        assert composition_violations(members, rule) == []

    def test_a_valid_jury_of_eight(self, rule):
        members = [m(EMPLOYER, True), m(EMPLOYER), m(EMP), m(EMP), *[m(TRAINER)] * 4]
        assert composition_violations(members, rule) == []

    @pytest.mark.parametrize(
        ("members", "message"),
        [
            (
                [m(EMPLOYER, True), m(EMP), m(EMP), m(TRAINER), m(TRAINER)],
                "Il faut autant de professionnels que de formateurs (3 professionnels, 2 formateurs).",
            ),
            (
                [m(EMPLOYER, True), m(EMP), m(EMP), m(TRAINER), m(TRAINER), m(TRAINER)],
                "Il faut autant de salariés que d'employeurs parmi les professionnels (2 salariés, 1 employeur).",
            ),
            ([m(EMPLOYER), m(EMP), m(TRAINER, True), m(TRAINER)], "Le président doit être un professionnel."),
            ([m(EMPLOYER), m(EMP), m(TRAINER), m(TRAINER)], "Le jury n'a pas de président."),
            (
                [m(EMPLOYER, True), m(EMP, True), m(TRAINER), m(TRAINER)],
                "Le jury ne peut avoir qu'un président (2 désignés).",
            ),
            ([m(EMPLOYER, True), m(TRAINER)], "Un jury compte au moins 4 membres (2 membres)."),
        ],
    )
    def test_each_violation_is_named_in_french(self, rule, members, message):
        assert message in composition_violations(members, rule)

    def test_the_rule_is_data_not_code(self, certification):
        rule = JuryCompositionRule(
            certification=certification,
            professionals_percent=75,
            trainers_percent=25,
            president_is_professional=False,
            professionals_split_equally=False,
        )
        members = [m(EMPLOYER), m(EMP), m(EMP), m(TRAINER, True)]
        assert composition_violations(members, rule) == []
        assert composition_violations([m(EMPLOYER), m(TRAINER, True)], rule) == [
            "Il faut 75 % de professionnels et 25 % de formateurs (1 professionnel, 1 formateur)."
        ]


class TestComposingInTheBrowserPages:
    def test_staff_compose_and_each_change_shows_the_violations(self, staff_client, president_user, certification):
        response = staff_client.post(
            reverse("juries:create"),
            {
                "date": "2022-06-14",
                "place": "IRUP",
                "blocks": [b.pk for b in certification.blocks.filter(number__lte=2)],
            },
            follow=True,
        )
        session = JurySession.objects.get()
        html = response.content.decode()
        assert "Le jury n&#x27;a pas de président." in html

        add = reverse("juries:member_add", args=[session.pk])
        html = staff_client.post(
            add,
            {"name": "Hélène Garnier", "organisation": "Fondation", "category": EMPLOYER, "is_president": "on"},
        ).content.decode()
        assert "Reliez le président à son compte utilisateur" in html
        trainer = make_user("autre", Role.TRAINER)
        html = staff_client.post(
            add,
            {
                "name": "Hélène Garnier",
                "organisation": "Fondation",
                "category": EMPLOYER,
                "is_president": "on",
                "user": trainer.pk,
            },
        ).content.decode()
        assert "Sélectionnez un choix valide" in html  # only accounts with the president role are offered
        response = staff_client.post(
            add,
            {
                "name": "Hélène Garnier",
                "organisation": "Fondation",
                "category": EMPLOYER,
                "is_president": "on",
                "user": president_user.pk,
            },
            follow=True,
        )
        html = response.content.decode()
        assert "Un jury compte au moins 4 membres (1 membre)." in html
        assert "Il faut autant de professionnels que de formateurs (1 professionnel, 0 formateur)." in html
        for name, category in [("Marc Dumas", EMP), ("Anne Roche", TRAINER), ("Paul Vernet", TRAINER)]:
            response = staff_client.post(add, {"name": name, "organisation": "IRUP", "category": category}, follow=True)
        assert "La composition du jury respecte la fiche." in response.content.decode()
        events = AuditEvent.objects.filter(action="jury.member_added").order_by("pk")
        assert events.count() == 4 and events.last().after["violations"] == []
        assert events.first().after["violations"]

        paul = JuryMember.objects.get(name="Paul Vernet")
        response = staff_client.post(
            reverse("juries:member_remove", args=[session.pk, paul.pk]), {"confirmed": "1"}, follow=True
        )
        assert "Il faut autant de professionnels que de formateurs (2 professionnels, 1 formateur)." in (
            response.content.decode()
        )
        assert AuditEvent.objects.filter(action="jury.member_removed").count() == 1

    def test_trainers_are_refused_everywhere(self, trainer_client, jury):
        for name, args in [
            ("juries:list", []),
            ("juries:create", []),
            ("juries:detail", [jury.pk]),
            ("juries:deliberation", [jury.pk]),
            ("juries:sign_off", [jury.pk]),
            ("juries:presentations", [jury.pk]),
        ]:
            assert trainer_client.get(reverse(name, args=args)).status_code == 403

    def test_a_president_sees_only_the_sessions_they_preside(self, jury, staff_user):
        other = make_user("autrepresident", Role.PRESIDENT)
        client = Client()
        client.force_login(other)
        assert client.get(reverse("juries:detail", args=[jury.pk])).status_code == 404
        assert str(jury.date.year) not in client.get(reverse("juries:list")).content.decode()
        assert client.get(reverse("juries:create")).status_code == 403


class TestPresenting:
    def test_only_complete_submitted_grids_can_be_presented(
        self, staff_user, trainer_user, president_user, staff_client
    ):
        cohort, (ready, withdrawn), _ = evaluated_cohort(staff_user, trainer_user, count=2)
        _, (draft,), _ = evaluated_cohort(staff_user, trainer_user, count=1, submit=False)
        _, (only_one,), _ = evaluated_cohort(staff_user, trainer_user, numbers=(1,), count=1)
        _, (holder,), _ = evaluated_cohort(staff_user, trainer_user, numbers=(2,), count=1)
        candidate_services.acquired_block_import(
            candidate=holder.candidate,
            block=holder.cohort.certification.blocks.get(number=1),
            acquired_on=datetime.date(2021, 6, 17),
            import_source="PV 2021",
            actor=staff_user,
        )
        candidate_services.enrolment_update(enrolment=withdrawn, actor=staff_user, status="abandon")
        session = make_jury(staff_user, president_user)

        html = staff_client.get(reverse("juries:presentations", args=[session.pk])).content.decode()
        eligible = html.split('id="eligible"')[1].split("</ul>")[0]
        ineligible = html.split('id="ineligible"')[1].split("</ul>")[0]
        assert ready.candidate.full_name in eligible
        assert holder.candidate.full_name in eligible and "bloc 1 déjà acquis" in eligible
        assert (
            f"{draft.candidate.full_name} ({draft.cohort.name}) : grille du bloc 1 non soumise ; grille du bloc 2 non soumise"
            in ineligible
        )
        assert f"{only_one.candidate.full_name} ({only_one.cohort.name}) : aucune évaluation du bloc 2" in ineligible
        assert "abandon du parcours" in ineligible

        with pytest.raises(ValidationError, match="ne peut pas être présenté : grille du bloc 1 non soumise"):
            services.presentation_add(session=session, enrolment=draft, actor=staff_user)
        response = staff_client.post(
            reverse("juries:presentations", args=[session.pk]), {"enrolment": only_one.pk}, follow=True
        )
        assert "aucune évaluation du bloc 2" in response.content.decode()
        assert not Presentation.objects.exists()

        staff_client.post(reverse("juries:presentations", args=[session.pk]), {"enrolment": holder.pk})
        presentation = Presentation.objects.get()
        assert [d.block.number for d in presentation.decisions.all()] == [2]
        assert AuditEvent.objects.filter(action="jury.candidate_presented").count() == 1


class TestConflictsOfInterest:
    def test_links_from_the_file_and_declared_ones(self, staff_user, trainer_user, president_user, staff_client):
        cohort, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=3)
        first, second, third = enrolments
        candidate_services.enrolment_update(
            enrolment=second, actor=staff_user, status=second.status, tutor_name="Mme Anne Roche"
        )
        candidate_services.candidate_update(
            candidate=third.candidate, actor=staff_user, employer_name="  association loire insertion "
        )
        members = [
            ("Hélène Garnier", "Fondation Les Hauts du Pilat", EMPLOYER, True),
            ("Marc Dumas", "Association Loire Insertion", EMP, False),
            ("Anne Roche", "IRUP", TRAINER, False),
            ("Paul Vernet", "IRUP", TRAINER, False),
        ]
        session = make_jury(staff_user, president_user, members=members)
        # The trainer of the cohort, by their account.
        JuryMember.objects.filter(name="Paul Vernet").update(user=trainer_user)
        present_all(session, enrolments, staff_user)
        recusals = {(r.member.name, r.presentation.enrolment_id): r.reason for r in Recusal.objects.all()}
        assert recusals[("Paul Vernet", first.pk)] == "formateur du candidat"
        assert recusals[("Anne Roche", second.pk)] == "tuteur du candidat"
        assert recusals[("Marc Dumas", third.pk)] == "employeur du candidat"

        response = staff_client.post(
            reverse("juries:recusal_add", args=[session.pk]),
            {
                "member": JuryMember.objects.get(name="Hélène Garnier").pk,
                "presentation": Presentation.objects.get(enrolment=first).pk,
                "reason": "Ancienne collègue",
            },
            follow=True,
        )
        html = response.content.decode()
        assert "Hélène Garnier — Ancienne collègue (déclaré)" in html
        assert "Anne Roche — tuteur du candidat" in html
        assert AuditEvent.objects.filter(action="jury.recusal_declared").count() == 1

        client = Client()
        client.force_login(president_user)
        html = client.get(reverse("juries:deliberation", args=[session.pk])).content.decode()
        assert "Ne délibèrent pas sur ce candidat" in html and "Paul Vernet (formateur du candidat)" in html

    def test_a_vae_accompanist(self, staff_user, president_user):
        enrolment = SimpleNamespace(
            candidate=SimpleNamespace(employer_name=""), tutor_name="", vae_accompanist="Sophie Marchand (IRUP)"
        )
        member = JuryMember(name="sophie  marchand", organisation="IRUP", category=TRAINER)
        assert selectors.file_links(member, enrolment, set()) == ["accompagnateur VAE du candidat"]


class TestDeliberation:
    def test_decisions_default_to_the_proposal_and_an_override_needs_a_reason(
        self, jury, evaluated, president_user, president_client
    ):
        url = reverse("juries:deliberation", args=[jury.pk])
        html = president_client.get(url).content.decode()
        first, second, _ = evaluated[1]
        d1 = decision_of(jury, second, 1)
        assert d1.proposal_outcome == "not_validated" and not d1.outcome
        assert "Proposition : Non validé" in html and "0 compétence au niveau C ou mieux sur 4 ; 3 requises" in html
        # The proposal is a suggestion until the jury records it: each cell says so, none says saved.
        assert f'<select class="form-select form-select-sm decision mt-1" name="d-{d1.pk}-outcome"' in html
        assert html.count("À décider — non enregistré") == 6 and ">Enregistré<" not in html
        assert "0 décision enregistrée sur 6, 6 à décider." in html

        data = {}
        for decision in Decision.objects.filter(presentation__session=jury):
            data[f"d-{decision.pk}-outcome"] = decision.proposal_outcome
            data[f"d-{decision.pk}-reason"] = ""
        data[f"d-{d1.pk}-outcome"] = "validated"
        response = president_client.post(url, data)
        assert response.status_code == 400
        assert "exige un motif écrit" in response.content.decode()
        assert not Decision.objects.exclude(outcome="").exists()

        data[f"d-{d1.pk}-reason"] = "Compétence C4 démontrée à l'oral devant le jury."
        response = president_client.post(url, data, follow=True)
        assert "Décisions enregistrées (6 modifiées)." in response.content.decode()
        d1.refresh_from_db()
        assert d1.outcome == "validated" and d1.proposal_outcome == "not_validated"
        assert d1.departure_reason.startswith("Compétence C4") and d1.decided_by == president_user
        assert AuditEvent.objects.filter(action="jury.decision_overridden").count() == 1
        assert AuditEvent.objects.filter(action="jury.decision_recorded").count() == 5
        html = response.content.decode()
        assert html.count(">Enregistré<") == 6 and "À décider" not in html.split('id="deliberation"')[1]
        assert "6 décisions enregistrées sur 6." in html

    def test_passing_to_sign_off_saves_the_shown_decisions_first(self, jury, evaluated, president_client):
        url = reverse("juries:deliberation", args=[jury.pk])
        d1 = decision_of(jury, evaluated[1][1], 1)
        data = {"action": "sign"}
        for decision in Decision.objects.filter(presentation__session=jury):
            data[f"d-{decision.pk}-outcome"] = decision.proposal_outcome
            data[f"d-{decision.pk}-reason"] = ""
        data[f"d-{d1.pk}-outcome"] = "validated"

        # Refused (a departure without its reason): nothing saved, the choice kept on the page, and it says so.
        response = president_client.post(url, data)
        assert response.status_code == 400
        html = response.content.decode()
        assert "Rien n'a été enregistré et la session n'est pas passée à la signature" in html
        assert '<option value="validated" selected>Validé</option>' in html.split(f'id="d-{d1.pk}-outcome"')[1]
        assert "Modifié — non enregistré" in html
        assert not Decision.objects.exclude(outcome="").exists()

        data[f"d-{d1.pk}-reason"] = "Compétence C4 démontrée à l'oral devant le jury."
        response = president_client.post(url, data)
        assert response.status_code == 302 and response.url == reverse("juries:sign_off", args=[jury.pk])
        d1.refresh_from_db()
        assert d1.outcome == "validated"
        assert not Decision.objects.filter(presentation__session=jury, outcome="").exists()

    def test_staff_read_only_and_broken_composition_cannot_deliberate(
        self, jury, staff_client, president_user, staff_user
    ):
        url = reverse("juries:deliberation", args=[jury.pk])
        assert staff_client.get(url).status_code == 200
        assert staff_client.post(url, {}).status_code == 403
        with pytest.raises(ValidationError, match="Seul le président"):
            decide_all(jury, staff_user)
        services.jury_member_remove(member=jury.members.get(name="Paul Vernet"), actor=staff_user)
        with pytest.raises(ValidationError, match="le jury ne peut pas délibérer"):
            decide_all(jury, president_user)


class TestSignOffRefusals:
    def test_composition(self, jury, president_user, staff_user):
        decide_all(jury, president_user)
        services.jury_member_save(
            member=JuryMember(session=jury, name="Luc Brun", organisation="IRUP", category=TRAINER), actor=staff_user
        )
        with pytest.raises(ValidationError) as error:
            sign(jury, president_user)
        assert "Il faut autant de professionnels que de formateurs (2 professionnels, 3 formateurs)." in str(
            error.value
        )
        jury.refresh_from_db()
        assert jury.status == JurySessionStatus.PREPARED and not AcquiredBlock.objects.exists()

    def test_missing_decision(self, jury, evaluated, president_user):
        with pytest.raises(ValidationError, match="6 décisions manquent"):
            sign(jury, president_user)

    def test_date_outside_every_registration(self, staff_user, president_user, evaluated, president_client):
        session = make_jury(staff_user, president_user, day=datetime.date(2026, 6, 15))
        present_all(session, evaluated[1], staff_user)
        decide_all(session, president_user)
        message = (
            "La date du jury (15/06/2026) est hors de toute période d'enregistrement au RNCP : l'enregistrement de la "
            "fiche RNCP16204 a pris fin le 17 avril 2023. Un gestionnaire doit rattacher le jury à la fiche qui lui "
            "succède, une fois celle-ci installée : ses candidats y sont transférés et leurs blocs acquis comptent par "
            "correspondance."
        )
        with pytest.raises(ValidationError) as error:
            sign(session, president_user)
        assert error.value.messages == [message]
        response = president_client.post(reverse("juries:sign_off", args=[session.pk]), {"password": PASSWORD})
        assert response.status_code == 400
        assert "hors de toute période d&#x27;enregistrement" in response.content.decode()

    def test_president_only(self, jury, president_user, staff_user):
        decide_all(jury, president_user)
        with pytest.raises(ValidationError, match="Seul le président"):
            sign(jury, staff_user)
        assert not JurySession.objects.filter(status=JurySessionStatus.SIGNED).exists()

    @pytest.mark.parametrize(
        ("password", "message"),
        [
            ("faux", "Mot de passe incorrect : rien n&#x27;a été signé."),
            ("", "Ce champ est obligatoire."),
            ("   ", "Ce champ est obligatoire."),
        ],
    )
    def test_a_wrong_or_empty_password_is_said_under_the_field(
        self, jury, president_user, president_client, password, message
    ):
        decide_all(jury, president_user)
        response = president_client.post(reverse("juries:sign_off", args=[jury.pk]), {"password": password})
        assert response.status_code == 400
        html = response.content.decode()
        assert field_error(html, "password") == message and form_errors(html) == []
        jury.refresh_from_db()
        assert jury.status == JurySessionStatus.PREPARED and not AcquiredBlock.objects.exists()
        assert not AuditEvent.objects.filter(action="jury.signed_off").exists()

    def test_a_refusal_for_another_reason_is_said_above_the_form(self, jury, president_client):
        response = president_client.post(reverse("juries:sign_off", args=[jury.pk]), {"password": PASSWORD})
        assert response.status_code == 400
        html = response.content.decode()
        errors = form_errors(html)
        assert len(errors) == 1 and errors[0].startswith("6 décisions manquent : ")
        assert 'id="id_password_error"' not in html
        jury.refresh_from_db()
        assert jury.status == JurySessionStatus.PREPARED


@pytest.fixture
def signed(jury, evaluated, president_user):
    first, second, _ = evaluated[1]
    d = decision_of(jury, second, 1)
    decide_all(jury, president_user, {d.pk: ("validated", "Démontré à l'oral.")})
    result = sign(jury, president_user)
    jury.refresh_from_db()
    return jury, result


class TestSignOff:
    def test_sign_off_finalises_acquires_and_locks(self, signed, evaluated, president_user):
        session, result = signed
        first, second, third = evaluated[1]
        assert session.status == JurySessionStatus.SIGNED and session.signed_by == president_user
        assert len(session.decisions_fingerprint) == 64
        assert result.acquired == 4 and result.awards == []
        held = set(AcquiredBlock.objects.values_list("candidate_id", "block__number"))
        assert held == {
            (first.candidate_id, 1),
            (first.candidate_id, 2),
            (second.candidate_id, 1),
            (second.candidate_id, 2),
        }
        acquired = AcquiredBlock.objects.get(candidate=second.candidate, block__number=1)
        assert acquired.source == AcquiredBlockSource.JURY and acquired.acquired_on == JURY_DAY
        assert acquired.jury_decision_link.decision == decision_of(session, second, 1)
        evaluation_session = evaluated[2]
        for be in evaluation_session.block_evaluations.all():
            assert be.locked_at is not None and be.grid.is_frozen and be.scale.is_in_use
        assert AuditEvent.objects.filter(action="jury.signed_off").count() == 1
        assert AuditEvent.objects.filter(action="acquired_block.from_jury").count() == 4

    def test_signing_twice_records_one_sign_off(self, signed, president_user, president_client):
        session, _ = signed
        with pytest.raises(ValidationError, match="déjà été signée"):
            sign(session, president_user)
        response = president_client.post(reverse("juries:sign_off", args=[session.pk]), {"password": PASSWORD})
        assert response.status_code == 302
        assert AuditEvent.objects.filter(action="jury.signed_off").count() == 1
        assert AcquiredBlock.objects.count() == 4

    def test_the_page_path_and_candidate_page(self, jury, evaluated, president_user, president_client, staff_user):
        staff_client = Client()
        staff_client.force_login(staff_user)
        decide_all(jury, president_user)
        html = president_client.get(reverse("juries:sign_off", args=[jury.pk])).content.decode()
        assert "ne peut pas être signée" not in html
        response = president_client.post(
            reverse("juries:sign_off", args=[jury.pk]), {"password": PASSWORD}, follow=True
        )
        assert "Session signée : les décisions sont définitives. Blocs acquis ajoutés : 3." in response.content.decode()
        first = evaluated[1][0]
        html = staff_client.get(reverse("candidates:detail", args=[first.candidate_id])).content.decode()
        assert "Décision du jury du 14 juin 2022" in html


class TestImmutability:
    def test_services_refuse(self, signed, staff_user, president_user, evaluated):
        session, _ = signed
        member = session.members.first()
        presentation = session.presentations.first()
        refusals = [
            lambda: services.jury_session_update(
                session=session, date=session.date, place="Ailleurs", blocks=session.blocks.all(), actor=staff_user
            ),
            lambda: services.jury_member_save(member=member, actor=staff_user),
            lambda: services.jury_member_remove(member=member, actor=staff_user),
            lambda: services.presentation_add(session=session, enrolment=evaluated[1][0], actor=staff_user),
            lambda: services.presentation_remove(presentation=presentation, actor=staff_user),
            lambda: services.recusal_declare(member=member, presentation=presentation, reason="x", actor=staff_user),
            lambda: decide_all(session, president_user),
        ]
        for refusal in refusals:
            with pytest.raises(ValidationError, match="signée"):
                refusal()
        assert session.members.count() == 4 and session.presentations.count() == 3

    def test_models_refuse(self, signed):
        session, _ = signed
        decision = Decision.objects.filter(presentation__session=session).first()
        decision.outcome = "not_validated"
        for action in (
            decision.save,
            Decision.objects.filter(presentation__session=session).last().delete,
            session.members.first().save,
            session.presentations.first().delete,
            session.save,
            session.delete,
        ):
            with pytest.raises(ValidationError, match="signée"):
                action()
        assert decision_of(session, decision.presentation.enrolment, decision.block.number).outcome != ""

    def test_views_refuse(self, signed, staff_user, president_client, evaluated):
        session, _ = signed
        staff_client = Client()
        staff_client.force_login(staff_user)
        before = list(Decision.objects.values_list("pk", "outcome", "departure_reason").order_by("pk"))
        data = {f"d-{pk}-outcome": "not_validated" for pk, _, _ in before}
        response = president_client.post(reverse("juries:deliberation", args=[session.pk]), data, follow=True)
        assert "ne peuvent plus être modifiées" in response.content.decode()
        for url, data in [
            (reverse("juries:edit", args=[session.pk]), {"date": "2022-06-15", "place": "X", "blocks": []}),
            (reverse("juries:member_add", args=[session.pk]), {"name": "X", "organisation": "Y", "category": TRAINER}),
            (reverse("juries:member_remove", args=[session.pk, session.members.first().pk]), {}),
            (reverse("juries:presentations", args=[session.pk]), {"enrolment": evaluated[1][0].pk}),
            (reverse("juries:presentation_remove", args=[session.pk, session.presentations.first().pk]), {}),
        ]:
            response = staff_client.post(url, data, follow=True)
            assert "ne peuvent plus être modifiées" in response.content.decode()
        assert list(Decision.objects.values_list("pk", "outcome", "departure_reason").order_by("pk")) == before
        assert session.members.count() == 4 and session.presentations.count() == 3

    def test_admin_is_read_only(self, signed, client, evaluated):
        session, _ = signed
        superuser = make_user("admin", None, is_staff=True, is_superuser=True)
        client.force_login(superuser)
        decision = Decision.objects.first()
        be = evaluated[2].block_evaluations.first()
        for url in [
            reverse("admin:juries_jurysession_change", args=[session.pk]),
            reverse("admin:juries_decision_change", args=[decision.pk]),
            reverse("admin:evaluation_blockevaluation_change", args=[be.pk]),
            reverse("admin:certif_grid_change", args=[be.grid_id]),
            reverse("admin:certif_ratingscale_change", args=[be.scale_id]),
        ]:
            assert client.get(url).status_code == 200  # view only
            response = client.post(url, {"outcome": "not_validated", "place": "X", "version": 9})
            assert response.status_code == 403, url
        assert (
            client.post(reverse("admin:juries_decision_delete", args=[decision.pk]), {"post": "yes"}).status_code == 403
        )
        assert Decision.objects.filter(pk=decision.pk, outcome=decision.outcome).exists()

    def test_grids_and_scales_stay_as_judged(self, signed, evaluated, staff_user, trainer_client, certification):
        from certif import services as referential
        from evaluation import services as evaluation

        be = evaluated[2].block_evaluations.select_related("grid").get(block__number=1)
        with pytest.raises(ValidationError, match="Le jury a signé"):
            evaluation.block_evaluation_save(block_evaluation=be, cells=[], actor=staff_user)
        with pytest.raises(ValidationError, match="ne peut plus être rouverte"):
            evaluation.block_evaluation_reopen(block_evaluation=be, reason="x", actor=staff_user)
        with pytest.raises(ValidationError, match="Le jury a signé"):
            evaluation.block_evaluation_submit(block_evaluation=be, actor=staff_user)
        response = trainer_client.post(reverse("evaluation:grid", args=[be.session_id, 1]), {"action": "save"})
        assert response.status_code == 409
        referential.competence_rename(block=be.block, position=1, label="Un projet reformulé", actor=staff_user)
        be.refresh_from_db()
        assert be.grid.version == 1 and be.block.current_grid.version == 2
        assert be.grid.competences.get(position=1).label != "Un projet reformulé"
        with pytest.raises(ValidationError):
            referential.rating_scale_update(
                scale=be.scale,
                levels=[{"position": 1, "code": "X", "label": "X", "validates": True}],
                actor=staff_user,
            )


class TestRectification:
    def test_a_rectification_is_a_signed_act_that_keeps_the_original(
        self, signed, evaluated, president_user, president_client
    ):
        session, _ = signed
        third = evaluated[1][2]
        decision = decision_of(session, third, 1)
        url = reverse("juries:rectify", args=[session.pk, decision.pk])
        response = president_client.post(url, {"outcome": "validated", "reason": "", "password": PASSWORD})
        assert response.status_code == 400
        response = president_client.post(url, {"outcome": "validated", "reason": "Erreur matérielle", "password": "x"})
        assert response.status_code == 400
        html = response.content.decode()
        assert field_error(html, "password") == "Mot de passe incorrect : rien n&#x27;a été signé."
        assert "Erreur matérielle" in html  # what was typed stays in the form
        assert not decision.rectifications.exists()
        response = president_client.post(
            url, {"outcome": "validated", "reason": "Erreur matérielle de report", "password": PASSWORD}, follow=True
        )
        html = response.content.decode()
        assert "Rectification signée" in html and "Erreur matérielle de report" in html
        decision.refresh_from_db()
        assert decision.outcome == "not_validated" and decision.current_outcome == "validated"
        assert (
            AcquiredBlock.objects.get(candidate=third.candidate, block__number=1).jury_decision_link.decision
            == decision
        )
        assert AuditEvent.objects.filter(action="jury.decision_rectified").count() == 1

        acquired_decision = decision_of(session, evaluated[1][0], 1)
        with pytest.raises(ValidationError, match="un bloc acquis l'est sans limite"):
            services.decision_rectify(
                decision=acquired_decision,
                outcome="not_validated",
                reason="x",
                signed_by=president_user,
            )

    def test_only_the_president(self, signed, staff_user, staff_client):
        session, _ = signed
        decision = Decision.objects.first()
        with pytest.raises(ValidationError, match="Seul le président"):
            services.decision_rectify(decision=decision, outcome="not_validated", reason="x", signed_by=staff_user)
        assert staff_client.get(reverse("juries:rectify", args=[session.pk, decision.pk])).status_code == 403


class TestCertification:
    def test_blocks_across_two_sessions_then_the_award(self, staff_user, trainer_user, president_user, staff_client):
        cohort, enrolments, _ = evaluated_cohort(staff_user, trainer_user, numbers=(1, 2), count=2)
        first = make_jury(staff_user, president_user, numbers=(1, 2))
        present_all(first, enrolments, staff_user)
        decide_all(first, president_user)
        assert sign(first, president_user).awards == []
        assert not CertificationAward.objects.exists()

        from evaluation import services as evaluation
        from evaluation.models import BlockEvaluation
        from tests.factories import fill_and_submit

        second_evaluation = evaluation.evaluation_session_open(
            cohort=cohort,
            blocks=cohort.certification.blocks.filter(number__in=(3, 4)),
            evaluators=[trainer_user],
            starts_on=datetime.date(2022, 9, 1),
            ends_on=datetime.date(2023, 1, 31),
            actor=staff_user,
        )
        for be in BlockEvaluation.objects.filter(session=second_evaluation):
            fill_and_submit(be, enrolments, trainer_user, "A")
        second = make_jury(staff_user, president_user, numbers=(3, 4), day=datetime.date(2023, 2, 2))
        present_all(second, enrolments, staff_user)
        decide_all(second, president_user)
        result = sign(second, president_user)
        assert sorted(award.number for award in result.awards) == ["MPES-2023-0001", "MPES-2023-0002"]
        award = CertificationAward.objects.get(candidate=enrolments[0].candidate)
        assert award.jury_session_link.session == second and award.awarded_on == datetime.date(2023, 2, 2)
        html = staff_client.get(reverse("candidates:detail", args=[enrolments[0].candidate_id])).content.decode()
        assert "Décision du jury du 14 juin 2022" in html and "Décision du jury du 2 février 2023" in html
        assert f"certificat n° {award.number}" in html
        assert AuditEvent.objects.filter(action="certification.awarded").count() == 2

    def test_numbers_are_never_reused(self, certification):
        assert services.certificate_number_next(certification=certification, year=2024) == "MPES-2024-0001"
        assert services.certificate_number_next(certification=certification, year=2024) == "MPES-2024-0002"
        assert services.certificate_number_next(certification=certification, year=2025) == "MPES-2025-0001"


class TestHomeAndQueryCounts:
    def test_president_home_lists_sessions_to_deliberate(self, jury, president_client):
        html = president_client.get(reverse("home")).content.decode()
        assert "Jury du 14 juin 2022" in html and "6 décisions à prendre" in html

    @pytest.mark.parametrize("page", ["deliberation", "detail", "sign_off"])
    def test_pages_do_not_grow_with_the_candidates(
        self, page, staff_user, trainer_user, president_user, django_assert_num_queries
    ):
        """Measured with 3 decided candidates, then pinned for 15: proposals are recomputed in bulk."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client = Client()
        client.force_login(president_user)

        def decided_session(count):
            _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=count)
            session = make_jury(staff_user, president_user)
            present_all(session, enrolments, staff_user)
            decide_all(session, president_user)
            return reverse(f"juries:{page}", args=[session.pk])

        small = decided_session(3)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(small).status_code == 200
        large = decided_session(15)
        with django_assert_num_queries(len(queries)):
            assert client.get(large).status_code == 200

    def test_signed_session_page_does_not_grow_with_the_candidates(
        self, staff_user, trainer_user, president_user, django_assert_num_queries
    ):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client = Client()
        client.force_login(staff_user)
        urls = []
        for count in (3, 15):
            _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=count)
            session = make_jury(staff_user, president_user, day=datetime.date(2022, 6, 14 + count))
            present_all(session, enrolments, staff_user)
            decide_all(session, president_user)
            sign(session, president_user)
            urls.append(reverse("juries:detail", args=[session.pk]))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(urls[0]).status_code == 200
        with django_assert_num_queries(len(queries)):
            assert client.get(urls[1]).status_code == 200

    def test_recording_decisions_does_not_grow_with_the_candidates(self, staff_user, trainer_user, president_user):
        """The same number of queries for 3 and for 15 candidates: the changed decisions are written in one UPDATE,
        their audit rows in one INSERT, each readable with its before and after."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        counts, changes = [], []
        for count in (3, 15):
            _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=count)
            session = make_jury(staff_user, president_user)
            present_all(session, enrolments, staff_user)
            ContentType.objects.clear_cache()  # both runs look up the decisions' type once
            with CaptureQueriesContext(connection) as queries:
                changes.append(decide_all(session, president_user))
            counts.append(len(queries))
            decisions = Decision.objects.filter(presentation__session=session)
            assert decisions.count() == changes[-1] and not decisions.filter(outcome="").exists()
            events = AuditEvent.objects.filter(
                action=AuditAction.JURY_DECISION_RECORDED, target_id__in=[str(d.pk) for d in decisions]
            )
            assert events.count() == changes[-1]
            assert {event.after["outcome"] for event in events} == set(decisions.values_list("outcome", flat=True))
            assert all(event.before["outcome"] == "" and event.actor == president_user for event in events)
        assert changes[0] < changes[1]
        assert counts[0] == counts[1], counts

    def test_signing_off_does_not_grow_with_the_candidates(self, staff_user, trainer_user, president_user):
        """The same number of queries to sign 3 and 15 candidates who complete the fiche: blocks, awards and their
        audit rows are written in bulk, the certificate numbers drawn in one go and in order."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        counts = []
        CertificateSequence.objects.create(year=2022)  # the year's counter exists before both, as after a first jury
        for count, day in ((3, datetime.date(2022, 6, 14)), (15, datetime.date(2022, 6, 15))):
            _, enrolments, _ = evaluated_cohort(
                staff_user, trainer_user, count=count, numbers=(1, 2, 3, 4), name=f"Signature {count}"
            )
            session = make_jury(staff_user, president_user, day=day, numbers=(1, 2, 3, 4))
            present_all(session, enrolments, staff_user)
            decide_all(session, president_user)
            ContentType.objects.clear_cache()  # both runs look up the audited models' types once
            with CaptureQueriesContext(connection) as queries:
                result = sign(session, president_user)
            counts.append(len(queries))
            candidates = [enrolment.candidate for enrolment in enrolments]
            assert result.acquired == 4 * count
            assert sorted(award.candidate_id for award in result.awards) == sorted(c.pk for c in candidates)
            for candidate in candidates:
                assert AcquiredBlock.objects.filter(candidate=candidate).count() == 4
            audited = AuditEvent.objects.filter(
                action=AuditAction.ACQUIRED_BLOCK_FROM_JURY,
                target_id__in=[
                    str(pk)
                    for pk in AcquiredBlock.objects.filter(candidate__in=candidates).values_list("pk", flat=True)
                ],
            )
            assert audited.count() == 4 * count
            assert (
                AuditEvent.objects.filter(
                    action=AuditAction.CERTIFICATION_AWARDED, target_id__in=[str(a.pk) for a in result.awards]
                ).count()
                == count
            )
        numbers = list(CertificationAward.objects.order_by("pk").values_list("number", flat=True))
        assert numbers == [f"MPES-2022-{n:04d}" for n in range(1, 19)]
        assert counts[0] == counts[1], counts

    def test_session_list_does_not_grow_with_the_sessions(self, staff_user, president_user, django_assert_num_queries):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client = Client()
        client.force_login(president_user)
        make_jury(staff_user, president_user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("juries:list")).status_code == 200
        for _ in range(5):
            make_jury(staff_user, president_user)
        with django_assert_num_queries(len(queries)):
            assert client.get(reverse("juries:list")).status_code == 200


class TestDemo:
    def test_a_coherent_history_and_a_session_the_president_signs_today(self, db):
        from django.core.management import call_command
        from django.utils import timezone

        from juries.demo import OVERRIDE_REASON

        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        counts = (AuditEvent.objects.count(), AcquiredBlock.objects.count(), Decision.objects.count())
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        assert (AuditEvent.objects.count(), AcquiredBlock.objects.count(), Decision.objects.count()) == counts

        first, second, third, fourth = JurySession.objects.filter(status=JurySessionStatus.SIGNED).order_by("date")
        ready = JurySession.objects.get(status=JurySessionStatus.PREPARED)
        assert [(s.date, s.certification.rncp_code) for s in (first, second, third, fourth, ready)] == [
            (datetime.date(2022, 6, 14), "16204"),
            (datetime.date(2023, 3, 21), "16204"),
            (datetime.date(2023, 4, 4), "16204"),
            (datetime.date(2025, 6, 17), "99901"),
            (datetime.date(2026, 11, 26), "99901"),
        ]
        # Every jury sits inside a registration France Compétences gave: none is invented.
        for session in (first, second, third, fourth, ready):
            assert session.certification.registration_on(session.date) is not None
        assert not Registration.objects.filter(certification__rncp_code="16204", in_force_until__gt="2023-04-17")
        # Signed that evening, in the past: never on the day the demo was seeded.
        for session, at in (
            (first, "14/06/2022 17:40"),
            (second, "21/03/2023 17:25"),
            (third, "04/04/2023 18:05"),
            (fourth, "17/06/2025 17:35"),
        ):
            assert f"{timezone.localtime(session.signed_at):%d/%m/%Y %H:%M}" == at
            assert session.members.get(is_president=True).user.username == "president"
            assert (
                timezone.localtime(
                    AuditEvent.objects.get(action="jury.signed_off", target_id=str(session.pk)).occurred_at
                ).date()
                == session.date
            )
        awards = CertificationAward.objects.select_related("certification", "candidate").order_by(
            "awarded_on", "number"
        )
        assert [(a.certification.rncp_code, a.awarded_on) for a in awards][:3] == [
            ("16204", datetime.date(2023, 3, 21))
        ] * 3
        assert {a.candidate.birth_name for a in awards if a.certification.rncp_code == "99901"} == {
            "Giraud",
            "Nguyen",
            "Poncet",
        }

        # Sarah Nguyen: RNCP99901 with three of its four blocks carried over from RNCP 16204.
        nguyen = Candidate.objects.get(birth_name="Nguyen")
        carried = AcquiredBlock.objects.filter(candidate=nguyen, source=AcquiredBlockSource.CORRESPONDENCE)
        assert sorted(carried.values_list("block__number", flat=True)) == [1, 2, 4]
        assert sorted(
            AcquiredBlockOrigin.objects.filter(acquired_block__candidate=nguyen).values_list(
                "acquired_block__block__number", "previous_acquisition__block__number"
            )
        ) == [(1, 2), (2, 1), (2, 2), (4, 4)]
        assert BlockCorrespondence.objects.filter(first_used_at__isnull=False).count() == 4

        # The one departure from a proposal: a borderline block, one competence short, with a jury's reason.
        (departure,) = Decision.objects.exclude(departure_reason="")
        assert departure.presentation.session == first and departure.departure_reason == OVERRIDE_REASON
        assert departure.proposal_explanation == "2 compétences au niveau C ou mieux sur 4 ; 3 requises"
        assert CertificationAward.objects.filter(candidate=departure.candidate).exists()

        # Thomas Giraud's tutor and employer stands aside; a substitute of her category takes her seat.
        giraud = Presentation.objects.get(session=first, enrolment__candidate__birth_name="Giraud")
        assert giraud.recusals.get().member.name == "Sylvie Rochette"
        panel = selectors.presentation_panels(first, list(first.members.all()), [giraud])[giraud.pk]
        assert panel.is_valid
        assert [(seat.member.name, seat.replaces.name) for seat in panel.replacements] == [
            ("Nadine Peyrard", "Sylvie Rochette")
        ]

        # Ready to deliberate under the successor: nothing but the decisions is missing, and the president signs
        # it now. The blocks held through the correspondence table are not examined again.
        assert selectors.session_violations(ready) == [] and ready.presentations.count() == 5
        (problem,) = selectors.sign_off_problems(ready)
        assert problem.startswith("18 décisions manquent")
        morel = Presentation.objects.get(session=ready, enrolment__candidate__birth_name="Morel")
        assert sorted(d.block.number for d in morel.decisions.all()) == [2, 3, 4]  # new block 1 by her old block 2
        president = first.members.get(is_president=True).user
        decide_all(ready, president)
        result = services.jury_session_sign_off(session=ready, signed_by=president)
        assert sorted(award.candidate.birth_name for award in result.awards) == ["El Amrani", "Mercier", "Morel"]
        assert {award.certification.rncp_code for award in result.awards} == {"99901"}
        assert (
            AcquiredBlock.objects.get(
                candidate__birth_name="Morel", block__certification__rncp_code="99901", block__number=1
            )
            .origins.get()
            .previous_acquisition.import_source.startswith("Procès-verbal du jury du 20 juin 2019")
        )

    def test_promotions_enrolments_evaluations_and_juries_come_in_order(self, db):
        import re

        from django.core.management import call_command
        from django.utils import timezone

        from candidates.models import Cohort, Enrolment
        from evaluation.models import EvaluationSession

        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        for cohort in Cohort.objects.all():
            years = [int(y) for y in re.findall(r"20\d\d", cohort.name)]
            assert min(years) == cohort.start_date.year and max(years) == cohort.end_date.year, cohort.name
            for enrolment in Enrolment.objects.filter(cohort=cohort):
                assert enrolment.enrolled_on <= cohort.end_date, enrolment
        for evaluation in EvaluationSession.objects.select_related("cohort"):
            cohort = evaluation.cohort
            assert cohort.start_date <= evaluation.starts_on <= evaluation.ends_on <= cohort.end_date, evaluation
            latest = Enrolment.objects.filter(cohort=cohort).order_by("-enrolled_on").first().enrolled_on
            assert latest < evaluation.starts_on
        for decision in Decision.objects.select_related("presentation__session", "block_evaluation__session"):
            session, evaluation = decision.presentation.session, decision.block_evaluation.session
            assert evaluation.ends_on < session.date
            assert decision.presentation.presented_at.date() <= session.date
        for session in JurySession.objects.filter(status=JurySessionStatus.SIGNED):
            assert session.date <= timezone.localdate(session.signed_at) < timezone.localdate()
        # Every demo trace is dated in the past; only what the worker is asked today is of today.
        assert not AuditEvent.objects.filter(occurred_at__gt=timezone.now()).exists()


@pytest.mark.django_db(transaction=True)
class TestSignaturePassword:
    """The password is hashed before the write transaction, never inside it (the session row and, on SQLite, the
    whole database stay locked for the transaction's length)."""

    @pytest.fixture
    def recording(self, settings):
        settings.PASSWORD_HASHERS = ["tests.juries.test_juries.RecordingHasher"]
        RecordingHasher.checked_in_transaction.clear()
        return RecordingHasher.checked_in_transaction

    def test_the_function_refuses_a_wrong_or_empty_password(self, president_user, rf):
        request = rf.post("/jurys/1/signature/")
        request.user = president_user
        for password, message in (
            ("faux", "Mot de passe incorrect : rien n'a été signé."),
            ("", "Saisissez votre mot de passe : rien n'a été signé."),
            (None, "Saisissez votre mot de passe : rien n'a été signé."),
        ):
            with pytest.raises(ValidationError) as error:
                check_signature_password(request=request, user=president_user, password=password)
            assert error.value.message_dict == {"password": [message]}
        check_signature_password(request=request, user=president_user, password=PASSWORD)

    def test_sign_off_and_rectification_check_it_outside_the_transaction(self, recording, staff_user, trainer_user):
        president = make_user("presidente2", Role.PRESIDENT)
        assert president.password.startswith("recording_pbkdf2$")
        _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=1, codes={1: "D", 2: "A"})
        session = make_jury(staff_user, president)
        present_all(session, enrolments, staff_user)
        decide_all(session, president)
        client = Client()
        client.force_login(president)
        response = client.post(reverse("juries:sign_off", args=[session.pk]), {"password": PASSWORD})
        assert response.status_code == 302
        decision = decision_of(session, enrolments[0], 1)
        response = client.post(
            reverse("juries:rectify", args=[session.pk, decision.pk]),
            {"outcome": "validated", "reason": "Erreur matérielle de report", "password": PASSWORD},
        )
        assert response.status_code == 302
        assert decision.rectifications.count() == 1
        assert recording == [False, False]
