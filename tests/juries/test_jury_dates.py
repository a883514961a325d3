"""Dates tell the truth: a jury is signed on or after its day, planned at most two years ahead, its date moves only by
staff with a reason once candidates are presented (never once signed), and a date outside every registration is
said at once."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from certif import services as referential
from certif.models import AuditEvent, Registration
from certif.text import french_date
from juries import selectors, services
from juries.models import JurySession, JurySessionStatus
from tests.factories import JURY_DAY, decide_all, evaluated_cohort, make_jury, present_all

pytestmark = pytest.mark.django_db

PASSWORD = "mot-de-passe-de-test"
TODAY = timezone.localdate()


def fr(day) -> str:
    from documents.content import french_date

    return french_date(day).replace("1er", "1")


@pytest.fixture
def renewal(certification, staff_user):
    """A renewal in force from the day after the last registration to three years from today (staff record it)."""
    return referential.registration_create(
        registration=Registration(
            certification=certification,
            act="Arrêté de renouvellement (test)",
            in_force_from=datetime.date(2023, 4, 18),
            in_force_until=TODAY + datetime.timedelta(days=3 * 366),
        ),
        actor=staff_user,
    )


@pytest.fixture
def evaluated(staff_user, trainer_user):
    return evaluated_cohort(staff_user, trainer_user, count=2)


def prepared(staff_user, president_user, evaluated, day):
    session = make_jury(staff_user, president_user, day=day)
    present_all(session, evaluated[1], staff_user)
    return session


class TestNotSignedBeforeItsDay:
    def test_a_future_jury_is_refused_then_todays_is_signed(
        self, renewal, staff_user, president_user, evaluated, president_client
    ):
        later = TODAY + datetime.timedelta(days=30)
        session = prepared(staff_user, president_user, evaluated, later)
        decide_all(session, president_user)
        message = (
            f"Le jury siège le {selectors.french_day(later)} : sa session ne peut pas être signée avant ce jour "
            f"(nous sommes le {selectors.french_day(TODAY)})."
        )
        assert selectors.sign_off_problems(session) == [message]
        with pytest.raises(ValidationError) as error:
            services.jury_session_sign_off(session=session, signed_by=president_user)
        assert error.value.messages == [message]
        response = president_client.post(reverse("juries:sign_off", args=[session.pk]), {"password": PASSWORD})
        assert response.status_code == 400
        html = response.content.decode()
        assert "ne peut pas être signée avant ce jour" in html
        assert f'Signature possible à partir du</dt><dd class="col-sm-8">{french_date(later)} (' in html
        session.refresh_from_db()
        assert session.status == JurySessionStatus.PREPARED and not session.signed_at

        # The same jury held today is signed: certificates and acquired blocks carry today's date, never a later one.
        services.jury_session_update(
            session=session,
            date=TODAY,
            place=session.place,
            blocks=session.blocks.all(),
            actor=staff_user,
            date_change_reason="Jury avancé : salle disponible plus tôt.",
        )
        decide_all(session, president_user)
        services.jury_session_sign_off(session=session, signed_by=president_user)
        session.refresh_from_db()
        assert session.is_signed and timezone.localdate(session.signed_at) == TODAY == session.date

    def test_signing_after_the_jurys_day_is_allowed(self, staff_user, president_user, evaluated):
        session = prepared(staff_user, president_user, evaluated, JURY_DAY)
        decide_all(session, president_user)
        assert selectors.sign_off_problems(session) == []
        services.jury_session_sign_off(session=session, signed_by=president_user)
        assert JurySession.objects.get(pk=session.pk).signed_at.date() > JURY_DAY


class TestPlanning:
    def test_not_more_than_two_years_ahead_error_next_to_the_date(self, staff_client, certification, staff_user):
        latest = TODAY.replace(year=TODAY.year + 2) if (TODAY.month, TODAY.day) != (2, 29) else None
        assert latest is None or selectors.latest_plannable_date() == latest
        too_far = selectors.latest_plannable_date() + datetime.timedelta(days=1)
        response = staff_client.post(
            reverse("juries:create"),
            {"date": too_far.isoformat(), "place": "IRUP", "blocks": [certification.blocks.get(number=1).pk]},
        )
        assert response.status_code == 400
        form = response.context["form"]
        assert form.errors["date"] == [
            "Un jury ne se prévoit pas plus de deux ans à l'avance : choisissez une date au plus tard le "
            f"{selectors.french_day(selectors.latest_plannable_date())}."
        ]
        assert 'id="error_1_id_date"' in response.content.decode()  # under the date field
        assert not JurySession.objects.exists()
        session = services.jury_session_create(
            certification=certification,
            date=selectors.latest_plannable_date(),
            place="IRUP",
            blocks=certification.blocks.filter(number=1),
            actor=staff_user,
        )
        with pytest.raises(ValidationError) as error:
            services.jury_session_update(
                session=session, date=too_far, place="IRUP", blocks=session.blocks.all(), actor=staff_user
            )
        assert "date" in error.value.message_dict

    def test_outside_every_registration_warns_at_once_and_on_the_session_page(self, staff_client, certification):
        response = staff_client.post(
            reverse("juries:create"),
            {"date": "2026-06-15", "place": "IRUP", "blocks": [certification.blocks.get(number=1).pk]},
            follow=True,
        )
        html = response.content.decode()
        warning = (
            "La date du jury (15/06/2026) est hors de toute période d&#x27;enregistrement au RNCP : "
            "l&#x27;enregistrement de la fiche RNCP16204 a pris fin le 17 avril 2023."
        )
        assert f"Attention : {warning}" in html  # the message right after saving
        assert 'id="registration-warning"' in html.split("Attention :")[1]  # and the session's dates section
        assert 'Enregistrement au RNCP à cette date</dt>\n    <dd class="col-sm-8"><strong>aucun</strong>' in html

        session = JurySession.objects.get()
        response = staff_client.post(
            reverse("juries:edit", args=[session.pk]),
            {"date": "2022-06-14", "place": "IRUP", "blocks": [certification.blocks.get(number=1).pk]},
            follow=True,
        )
        html = response.content.decode()
        assert "Attention :" not in html and 'id="registration-warning"' not in html
        assert "Arrêté du 9 avril 2018" in html and "en vigueur du 5 mars 2018 au 17 avril 2023" in html
        response = staff_client.post(
            reverse("juries:edit", args=[session.pk]),
            {"date": "2023-04-18", "place": "IRUP", "blocks": [certification.blocks.get(number=1).pk]},
            follow=True,
        )
        assert "Attention : La date du jury (18/04/2023) est hors de toute période" in response.content.decode()


class TestMovingTheDate:
    def test_free_until_a_candidate_is_presented_then_staff_with_a_reason_audited(
        self, staff_user, president_user, evaluated, staff_client, certification
    ):
        session = make_jury(staff_user, president_user)
        services.jury_session_update(
            session=session, date=JURY_DAY + datetime.timedelta(days=1), place="IRUP", blocks=session.blocks.all(),
            actor=staff_user,
        )  # fmt: skip
        assert AuditEvent.objects.filter(action="jury.session_updated").count() == 1
        present_all(session, evaluated[1], staff_user)
        url = reverse("juries:edit", args=[session.pk])
        blocks = [b.pk for b in session.blocks.all()]

        html = staff_client.get(url).content.decode()
        assert "Motif du changement de date" in html
        response = staff_client.post(url, {"date": "2022-06-20", "place": "IRUP", "blocks": blocks})
        assert response.status_code == 400
        assert response.context["form"].errors["date_change_reason"] == [
            "Des candidats sont présentés à ce jury : indiquez le motif du changement de date (il est conservé "
            "dans le journal d'audit)."
        ]
        assert 'id="error_1_id_date_change_reason"' in response.content.decode()
        session.refresh_from_db()
        assert session.date == JURY_DAY + datetime.timedelta(days=1)

        # Anyone but staff (here the president, through the service) cannot move it, reason or not.
        with pytest.raises(ValidationError, match="sa date ne se déplace que par un gestionnaire"):
            services.jury_session_update(
                session=session, date=datetime.date(2022, 6, 20), place="IRUP", blocks=session.blocks.all(),
                actor=president_user, date_change_reason="Salle indisponible",
            )  # fmt: skip

        response = staff_client.post(
            url,
            {"date": "2022-06-20", "place": "IRUP", "blocks": blocks, "date_change_reason": "Salle indisponible"},
            follow=True,
        )
        assert "Session de jury modifiée." in response.content.decode()
        session.refresh_from_db()
        assert session.date == datetime.date(2022, 6, 20)
        event = AuditEvent.objects.get(action="jury.date_moved")
        assert event.actor == staff_user
        assert event.before["date"] == "2022-06-15"
        assert event.after["date"] == "2022-06-20" and event.after["reason"] == "Salle indisponible"

    def test_the_orm_cannot_move_it_around_the_service(self, staff_user, president_user, evaluated):
        session = prepared(staff_user, president_user, evaluated, JURY_DAY)
        session.date = datetime.date(2023, 4, 10)
        with pytest.raises(ValidationError, match="sa date ne se déplace que par un gestionnaire"):
            session.save()
        assert JurySession.objects.get(pk=session.pk).date == JURY_DAY
        with pytest.raises(ValidationError, match="sa date ne se déplace que par un gestionnaire"):
            JurySession.objects.filter(pk=session.pk).update(date=datetime.date(2023, 4, 10))
        with (
            pytest.raises(ValidationError, match="sa date ne se déplace que par un gestionnaire"),
            transaction.atomic(),
        ):
            JurySession.objects.bulk_update([session], ["date"])
        assert JurySession.objects.get(pk=session.pk).date == JURY_DAY
        session.date = JURY_DAY
        session.place = "IRUP, salle 2"
        session.save()  # other fields: the service's own rules, not this guard
        JurySession.objects.filter(pk=session.pk).update(place="IRUP, salle 3")

    def test_never_once_signed(self, staff_user, president_user, evaluated, staff_client):
        session = prepared(staff_user, president_user, evaluated, JURY_DAY)
        decide_all(session, president_user)
        services.jury_session_sign_off(session=session, signed_by=president_user)
        with pytest.raises(ValidationError, match="signée"):
            services.jury_session_update(
                session=session, date=datetime.date(2022, 6, 20), place=session.place, blocks=session.blocks.all(),
                actor=staff_user, date_change_reason="Erreur de saisie",
            )  # fmt: skip
        response = staff_client.post(
            reverse("juries:edit", args=[session.pk]),
            {"date": "2022-06-20", "place": "X", "blocks": [], "date_change_reason": "Erreur"},
            follow=True,
        )
        assert "ne peuvent plus être modifiées" in response.content.decode()
        session.date = datetime.date(2022, 6, 20)
        with pytest.raises(ValidationError):
            session.save()
        assert JurySession.objects.get(pk=session.pk).date == JURY_DAY


class TestDateFactsOnThePages:
    def test_session_and_sign_off_pages(self, staff_user, president_user, evaluated, staff_client, president_client):
        session = prepared(staff_user, president_user, evaluated, JURY_DAY)
        for client, name in ((staff_client, "juries:detail"), (president_client, "juries:sign_off")):
            html = client.get(reverse(name, args=[session.pk])).content.decode()
            section = html.split('id="session-dates"')[1].split("</section>")[0]
            assert "Mardi 14 juin 2022" in section
            assert (
                "Arrêté du 9 avril 2018 (Journal Officiel du 17 avril 2018), en vigueur du 5 mars 2018 au 17 avril 2023"
                in section
            )
            assert (
                'Signature possible à partir du</dt><dd class="col-sm-8">14 juin 2022 (jour du jury, ou après ; jamais avant)'
                in section
            )
            assert "seul un gestionnaire peut encore déplacer la date, motif à l&#x27;appui" in section
        decide_all(session, president_user)
        services.jury_session_sign_off(session=session, signed_by=president_user)
        session.refresh_from_db()
        section = (
            staff_client.get(reverse("juries:detail", args=[session.pk]))
            .content.decode()
            .split('id="session-dates"')[1]
        )
        signed_at = timezone.localtime(session.signed_at)
        assert f'Signée le</dt><dd class="col-sm-8">{fr(signed_at.date())} à {signed_at:%H:%M}' in section
        assert "Session signée : sa date ne change plus." in section
