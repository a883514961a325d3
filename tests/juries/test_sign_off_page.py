"""The signature page: a recap of what the president signs, and when nothing can be signed, a disabled form that
says who must do what."""

import datetime
import html as html_text
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.services import acquired_block_import
from certif import clock
from juries import services
from juries.models import JurySessionStatus
from tests.factories import decide_all, evaluated_cohort, make_jury, present_all

pytestmark = pytest.mark.django_db

PASSWORD = "mot-de-passe-de-test"


def page_text(response) -> str:
    return html_text.unescape(response.content.decode())


def visible(html: str) -> str:
    """The page's words as read, tags left out."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace(" :", " :")


def recap_row(html: str, name: str) -> list[str]:
    row = re.search(rf"<th scope=\"row\">{re.escape(name)}</th>(.*?)</tr>", html, re.S)
    assert row, f"no recap row for {name}"
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row[1], re.S)]


@pytest.fixture
def evaluated(staff_user, trainer_user):
    """First validates blocks 1 and 2, second fails block 1, third fails both."""
    return evaluated_cohort(staff_user, trainer_user, codes={1: ["A", "D", "D"], 2: ["A", "A", "D"]}, name="Recap")


@pytest.fixture
def jury(staff_user, president_user, evaluated):
    session = make_jury(staff_user, president_user)
    present_all(session, evaluated[1], staff_user)
    return session


def test_the_recap_lists_blocks_certificates_and_attestations(
    jury, evaluated, staff_user, president_user, president_client, certification
):
    first, second, third = (enrolment.candidate for enrolment in evaluated[1])
    for number in (3, 4):  # the first candidate already holds the other two blocks: the signature certifies them
        acquired_block_import(
            candidate=first,
            block=certification.blocks.get(number=number),
            acquired_on=datetime.date(2021, 6, 17),
            import_source="Procès-verbal du jury du 17 juin 2021",
            actor=staff_user,
        )
    decide_all(jury, president_user)
    response = president_client.get(reverse("juries:sign_off", args=[jury.pk]))
    html = page_text(response)
    assert "Ce que vous signez" in html
    assert "3 candidats ; 3 blocs validés ; 1 certificat à délivrer ; 1 attestation de blocs." in html
    assert recap_row(html, first.full_name) == ["1, 2", "aucun", "Le certificat (tous les blocs détenus)"]
    assert recap_row(html, second.full_name) == ["2", "1", "Une attestation des blocs acquis"]
    assert recap_row(html, third.full_name) == ["aucun", "1, 2", "Un relevé de résultats (aucun bloc acquis)"]
    assert 'id="sign-off-problems"' not in html
    assert (
        re.search(r'<input type="password"[^>]*>', html)
        and " disabled" not in re.search(r'<input type="password"[^>]*>', html)[0]
    )
    # What the page announced is what the signature does.
    result = services.jury_session_sign_off(session=jury, signed_by=president_user)
    assert len(result.awards) == 1 and result.awards[0].candidate == first


def test_nothing_to_sign_disables_the_form_and_says_who_acts(jury, president_user, president_client):
    url = reverse("juries:sign_off", args=[jury.pk])
    html = page_text(president_client.get(url))
    assert "6 décisions manquent" in html
    assert "À faire par le président du jury : enregistrer ces décisions sur la page de délibération." in visible(html)
    password = re.search(r'<input type="password"[^>]*>', html)[0]
    assert " disabled" in password
    assert re.search(r'<button type="submit" class="btn btn-primary" disabled[^>]*>Signer la session</button>', html)
    assert "Enregistrez un renouvellement" not in html
    # The server refuses all the same.
    response = president_client.post(url, {"password": PASSWORD})
    assert response.status_code == 400
    jury.refresh_from_db()
    assert jury.status == JurySessionStatus.PREPARED


def test_staff_tasks_are_said_to_be_staff_tasks(jury, staff_user, president_user, president_client):
    services.jury_member_remove(member=jury.members.get(name="Paul Vernet"), actor=staff_user)
    html = page_text(president_client.get(reverse("juries:sign_off", args=[jury.pk])))
    assert "À faire par un gestionnaire : composer le jury conformément à la fiche" in visible(html)


def test_a_jury_not_yet_sitting_waits_for_its_day(staff_user, trainer_user, president_user, president_client):
    _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=1, name="Plus tard")
    session = make_jury(staff_user, president_user, day=clock.localdate() + datetime.timedelta(days=30))
    present_all(session, enrolments, staff_user)
    decide_all(session, president_user)
    html = page_text(president_client.get(reverse("juries:sign_off", args=[session.pk])))
    assert "Attendre le jour du jury : la signature sera possible à partir du" in visible(html)


def test_the_page_with_nothing_to_sign_does_not_grow_with_the_candidates(
    staff_user, trainer_user, president_user, django_assert_num_queries
):
    client = Client()
    client.force_login(president_user)
    urls = []
    for count in (3, 15):
        _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=count, name=f"Taille {count}")
        session = make_jury(staff_user, president_user, place=f"Salle {count}")
        present_all(session, enrolments, staff_user)
        urls.append(reverse("juries:sign_off", args=[session.pk]))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(urls[0]).status_code == 200
    with django_assert_num_queries(len(queries)):
        assert client.get(urls[1]).status_code == 200
