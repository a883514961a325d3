"""Each role's home page lists its work: a card per kind of task, with its count, a sentence and the links to the
pages that do it; « Rien à faire » when nothing waits. Built through the application's services; the pages' query
count does not grow with the data."""

import datetime
import io
import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.models import Candidate
from certif import clock
from certif.roles import Role
from documents import services as documents
from documents.models import DocumentKind
from evaluation import services as evaluation
from evaluation.demo import grid_cells
from evaluation.models import BlockEvaluation
from tests.conftest import make_user
from tests.declarations.duty_world import award, declarant_for
from tests.factories import VALID_MEMBERS, decide_all, evaluated_cohort, make_jury, present_all
from tests.signed_world import sign

pytestmark = pytest.mark.django_db


def _home(client) -> str:
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _task(html: str, key: str) -> str:
    """The card of one task (its <li>), or "" when the page does not show it."""
    marker = f'id="task-{key}"'
    if marker not in html:
        return ""
    start = html.index(marker)
    depth, position = 1, html.index(">", start)
    while depth:
        opening, closing = html.find("<li", position), html.find("</li>", position)
        if opening != -1 and opening < closing:
            depth, position = depth + 1, opening + 3
        else:
            depth, position = depth - 1, closing + 5
    return html[start:position]


def _count(card: str) -> str:
    return re.search(r'class="home-task-count">([^<]*)<', card).group(1)


def _days_since(day: datetime.date) -> int:
    return (clock.localdate() - day).days


def _french(number: int) -> str:
    """« 1 631 », as `_text` reads it (the page groups with a no-break space)."""
    return f"{number:,}".replace(",", " ")


def _cohort_in_progress(staff, trainer, name, count=3):
    """A cohort of `count` candidates, blocks 1 (4 competences) and 2 (9 competences) open to `trainer`, empty."""
    _, enrolments, session = evaluated_cohort(staff, trainer, count=count, submit=False, name=name)
    grids = {be.block.number: be for be in BlockEvaluation.objects.filter(session=session).select_related("block")}
    return enrolments, grids


def _fill(be, enrolments, trainer, letters="A"):
    evaluation.block_evaluation_save(
        block_evaluation=be, cells=grid_cells(be, [(e, letters) for e in enrolments]), actor=trainer
    )


# — Staff —


def test_with_nothing_to_do_the_staff_home_says_so(staff_client, certification):
    html = _home(staff_client)
    staff = html[html.index('id="staff-title"') : html.index('id="certifications-title"')]
    assert "Rien à faire pour l'instant." in staff
    assert 'id="task-' not in staff


def test_submitted_grids_wait_for_a_jury_then_the_jury_to_deliberate_and_sign_then_its_documents(
    staff_client, staff_user, trainer_user, president_user, certification
):
    _, enrolments, session = evaluated_cohort(staff_user, trainer_user, count=2, name="Promotion Lumière")
    html = _home(staff_client)
    card = _task(html, "grilles-soumises")
    assert _count(card) == "2"
    assert "grilles soumises attendent d&#x27;être présentées à un jury" in card
    for number in (1, 2):
        assert (
            f'href="{reverse("evaluation:grid", args=[session.pk, number])}">Promotion Lumière — bloc {number}</a>'
            in card
        )
    assert f'<a href="{reverse("juries:list")}">Présenter les candidats à un jury</a>' in card

    jury = make_jury(staff_user, president_user)
    present_all(jury, enrolments, staff_user)
    html = _home(staff_client)
    assert not _task(html, "grilles-soumises")  # taken up by the jury
    card = _task(html, "jurys-du-jour")
    late = _days_since(jury.date)
    assert _count(card) == "1" and "jury dont le jour est venu, à délibérer ou à signer" in card
    assert f'href="{reverse("juries:detail", args=[jury.pk])}">Jury du 14 juin 2022 — IRUP, Saint-Étienne</a>' in card
    assert f"2 candidats, 4 décisions à prendre ; à délibérer, en retard de {_french(late)} jours" in _text(card)
    assert "En retard" in card

    decide_all(jury, president_user)
    card = _task(_home(staff_client), "jurys-du-jour")
    assert "2 candidats, toutes les décisions prises ; à signer par le président, en retard" in _text(card)

    sign(jury, president_user)
    html = _home(staff_client)
    assert not _task(html, "jurys-du-jour")
    card = _task(html, "documents")
    assert _count(card) == "1" and "session signée a des documents à émettre" in card
    assert f'href="{reverse("documents:session", args=[jury.pk])}">Documents du jury du 14 juin 2022' in card
    assert "procès-verbal à émettre, 2 relevés de résultats sur 2 à émettre" in _text(card)

    documents.document_issue(session=jury, kind=DocumentKind.MINUTES, actor=staff_user)
    card = _task(_home(staff_client), "documents")
    assert "RNCP16204, 2 relevés de résultats sur 2 à émettre" in _text(card)
    assert "procès-verbal" not in card


def test_sessions_to_compose_say_what_they_lack(staff_client, staff_user, president_user, certification):
    future = clock.localdate() + datetime.timedelta(days=30)
    alone = make_jury(staff_user, president_user, members=VALID_MEMBERS[:1], day=future, place="Salle A")
    headless = make_jury(
        staff_user, president_user, members=[(*member[:3], False) for member in VALID_MEMBERS], place="Salle B"
    )
    card = _task(_home(staff_client), "jurys-a-composer")
    assert _count(card) == "2" and "sessions de jury à composer" in card
    text = _text(card)
    assert "Jury du 14 juin 2022 — Salle B : Le jury n'a pas de président. Aucun candidat n'est présenté." in text
    assert "Salle A : Un jury compte au moins 4 membres (1 membre)." in text
    assert "Il faut autant de professionnels que de formateurs (1 professionnel, 0 formateur)." in text
    for session in (alone, headless):
        assert f'href="{reverse("juries:detail", args=[session.pk])}"' in card
    assert "En retard" in card  # the day of Salle B's jury has passed without a composition


def test_holders_to_declare_incomplete_files_missing_identifiers_and_birth_places(
    staff_client, staff_user, certification
):
    overdue = award(staff_user, certification, datetime.date(2022, 6, 14), birth_name="Rivière")
    unknown_place = award(staff_user, certification, datetime.date(2022, 6, 14), birth_name="Lenoir")
    Candidate.objects.filter(pk=unknown_place.candidate_id).update(birth_country_code="", birth_country="Atlantide")
    html = _home(staff_client)

    card = _task(html, "declarations")
    assert _count(card) == "2" and "titulaires à déclarer à la Caisse des Dépôts, dont 2 en retard" in card
    assert f'href="{reverse("declarations:declare", args=["16204"])}"' in card
    assert overdue.number in card and unknown_place.number in card

    card = _task(html, "fiches-incompletes")
    assert _count(card) == "1" and "titulaire à déclarer a une fiche incomplète pour la Caisse des Dépôts" in card
    assert f'href="{reverse("candidates:edit", args=[unknown_place.candidate_id])}">Compléter la fiche de' in card
    assert "pays de naissance à vérifier (« Atlantide » n&#x27;est pas dans la liste du COG)" in card

    card = _task(html, "identifiants-cdc")
    assert _count(card) == "1" and "certification n&#x27;a pas ses identifiants auprès de la Caisse des Dépôts" in card
    assert (
        f'href="{reverse("declarations:settings", args=["16204"])}">Enregistrer les identifiants de RNCP16204</a>'
        in card
    )

    card = _task(html, "lieux-de-naissance")
    assert _count(card) == "1" and "fiche candidat a un lieu de naissance à vérifier" in card
    assert f'href="{reverse("candidates:places_to_check")}">Vérifier les lieux de naissance</a>' in card

    declarant_for(certification, staff_user)
    assert not _task(_home(staff_client), "identifiants-cdc")


def test_a_registration_ending_within_six_months_is_announced(staff_client, certification, monkeypatch):
    ends = certification.registrations.order_by("-in_force_until").first().in_force_until
    monkeypatch.setattr(clock, "localdate", lambda: ends - datetime.timedelta(days=60))
    card = _task(_home(staff_client), "enregistrements")
    assert _count(card) == "1" and "enregistrement au RNCP prend fin dans moins de six mois" in card
    assert f'href="{reverse("certif:fiche", args=["16204"])}">Fiche RNCP16204</a>' in card
    monkeypatch.setattr(clock, "localdate", lambda: ends - datetime.timedelta(days=200))
    assert not _task(_home(staff_client), "enregistrements")


# — Trainer —


def test_the_trainer_sees_grids_to_fill_to_submit_and_given_back(
    trainer_client, staff_user, trainer_user, certification
):
    enrolments, grids = _cohort_in_progress(staff_user, trainer_user, "Promotion Soleil")
    _fill(grids[1], enrolments[:1], trainer_user)
    html = _home(trainer_client)
    card = _task(html, "grilles-a-remplir")
    assert _count(card) == "2" and "grilles à remplir : 35 cellules restent à renseigner" in card
    text = _text(card)
    assert "Promotion Soleil — bloc 1 : RNCP16204, 8 cellules sur 12 à renseigner" in text
    assert "Promotion Soleil — bloc 2 : RNCP16204, 27 cellules sur 27 à renseigner" in text
    assert f'href="{reverse("evaluation:grid", args=[grids[1].session_id, 1])}"' in card
    assert not _task(html, "grilles-a-soumettre") and not _task(html, "grilles-rouvertes")

    _fill(grids[1], enrolments, trainer_user)
    evaluation.block_evaluation_submit(block_evaluation=grids[1], actor=trainer_user)
    _fill(grids[2], enrolments, trainer_user)
    html = _home(trainer_client)
    assert not _task(html, "grilles-a-remplir")
    card = _task(html, "grilles-a-soumettre")
    assert _count(card) == "1" and "Promotion Soleil — bloc 2" in card and "Promotion Soleil — bloc 1" not in card

    evaluation.block_evaluation_reopen(
        block_evaluation=BlockEvaluation.objects.get(pk=grids[1].pk),
        reason="Niveau de Martin à revoir",
        actor=staff_user,
    )
    card = _task(_home(trainer_client), "grilles-rouvertes")
    assert _count(card) == "1" and "grille rouverte par le service certification" in card
    assert "motif : « Niveau de Martin à revoir » ; 12 cellules renseignées sur 12" in _text(card)


def test_a_trainer_sees_only_their_own_grids(client, staff_user, trainer_user, certification):
    _cohort_in_progress(staff_user, trainer_user, "Promotion de Formatrice")
    other = make_user("autre-formateur", Role.TRAINER)
    _cohort_in_progress(staff_user, other, "Promotion d'un autre")
    client.force_login(other)
    html = _home(client)
    assert "Promotion d&#x27;un autre — bloc 1" in _task(html, "grilles-a-remplir")
    assert "Promotion de Formatrice" not in html


def test_a_trainer_without_grids_has_nothing_to_do(trainer_client):
    html = _home(trainer_client)
    assert "Rien à faire pour l'instant." in html and 'id="task-' not in html


# — Jury president —


def test_the_president_deliberates_then_signs_on_the_jury_day_or_after(
    president_client, staff_user, trainer_user, president_user, certification
):
    _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=3)
    jury = make_jury(staff_user, president_user)
    present_all(jury, enrolments, staff_user)
    html = _home(president_client)
    card = _task(html, "a-deliberer")
    assert _count(card) == "1" and "jury à délibérer" in card
    url = reverse("juries:deliberation", args=[jury.pk])
    assert f'href="{url}">Délibérer : Jury du 14 juin 2022 — IRUP, Saint-Étienne</a>' in card
    assert "RNCP16204, 3 candidats, 6 décisions à prendre ; à délibérer, en retard de" in _text(card)
    assert not _task(html, "a-signer")

    decide_all(jury, president_user)
    html = _home(president_client)
    assert not _task(html, "a-deliberer")
    card = _task(html, "a-signer")
    assert _count(card) == "1" and "jury délibéré à signer" in card
    assert f'href="{reverse("juries:sign_off", args=[jury.pk])}">Signer : Jury du 14 juin 2022' in card

    sign(jury, president_user)
    html = _home(president_client)
    assert "Rien à faire pour l'instant." in html and 'id="task-' not in html


def test_a_session_whose_day_has_not_come_is_not_to_sign(
    president_client, staff_user, trainer_user, president_user, certification
):
    _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=1)
    day = clock.localdate() + datetime.timedelta(days=20)
    coming = make_jury(staff_user, president_user, day=day, place="Salle des fêtes")
    present_all(coming, enrolments, staff_user)
    decide_all(coming, president_user)
    html = _home(president_client)
    assert 'id="task-' not in html
    coming_list = html[html.index('id="president-sessions-coming"') :]
    assert f'href="{reverse("juries:deliberation", args=[coming.pk])}"' in coming_list
    assert "se signe à partir du" in _text(coming_list)


def test_a_president_sees_only_the_sessions_they_preside(
    client, staff_user, trainer_user, president_user, certification
):
    _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=1)
    theirs = make_jury(staff_user, president_user, place="Salle de la présidente")
    present_all(theirs, enrolments, staff_user)
    other = make_user("autre-president", Role.PRESIDENT)
    _, others, _ = evaluated_cohort(staff_user, trainer_user, count=1)
    elsewhere = make_jury(staff_user, other, place="Salle de l'autre")
    present_all(elsewhere, others, staff_user)
    client.force_login(other)
    html = _home(client)
    assert "Salle de l&#x27;autre" in _task(html, "a-deliberer")
    assert "Salle de la présidente" not in html


# — A bounded number of queries, whatever the data —


def _queries(client) -> int:
    client.get(reverse("home"))  # the session, warm
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("home")).status_code == 200
    return len(captured)


def _staff_world(staff, trainer, president, certification, size):
    """`size` of each staff task: grids awaiting a jury, sessions to compose, juries to deliberate, signed sessions
    without documents, holders to declare (an incomplete file among them)."""
    for index in range(size):
        evaluated_cohort(staff, trainer, count=1, name=f"En attente {size}-{index}")
        make_jury(staff, president, members=VALID_MEMBERS[:2], place=f"À composer {size}-{index}")
        _, enrolments, _ = evaluated_cohort(staff, trainer, count=1, name=f"Présentée {size}-{index}")
        present_all(make_jury(staff, president, place=f"À délibérer {size}-{index}"), enrolments, staff)
        _, enrolments, _ = evaluated_cohort(staff, trainer, count=1, name=f"Signée {size}-{index}")
        signed = make_jury(staff, president, place=f"Signée {size}-{index}")
        present_all(signed, enrolments, staff)
        decide_all(signed, president)
        sign(signed, president)
        holder = award(staff, certification, datetime.date(2022, 6, 14), birth_name=f"Titulaire{size}x{index}")
        Candidate.objects.filter(pk=holder.candidate_id).update(birth_country_code="")


def test_the_staff_home_does_not_grow_with_the_work(
    staff_client, staff_user, trainer_user, president_user, certification, django_assert_num_queries
):
    _staff_world(staff_user, trainer_user, president_user, certification, 1)
    small = _queries(staff_client)
    _staff_world(staff_user, trainer_user, president_user, certification, 5)
    html = _home(staff_client)
    for key, count in [
        ("grilles-soumises", "12"),
        ("jurys-a-composer", "6"),
        ("jurys-du-jour", "6"),
        ("documents", "6"),
        ("declarations", "6"),
        ("fiches-incompletes", "6"),
        ("lieux-de-naissance", "6"),
    ]:
        assert _count(_task(html, key)) == count, key
    card = _task(html, "grilles-soumises")  # ten lines at most, the rest counted and linked
    assert card.count("<li>") == 11 and "et 2 autres" in card
    assert f'<a href="{reverse("evaluation:session_list")}">Toutes les sessions d&#x27;évaluation</a>' in card
    with django_assert_num_queries(small):
        staff_client.get(reverse("home"))


def test_the_trainer_home_does_not_grow_with_the_grids(
    trainer_client, staff_user, trainer_user, certification, django_assert_num_queries
):
    def cohorts(size):
        for index in range(size):
            enrolments, grids = _cohort_in_progress(staff_user, trainer_user, f"Cohorte {size}-{index}", count=2)
            _fill(grids[1], enrolments, trainer_user)
            evaluation.block_evaluation_submit(block_evaluation=grids[1], actor=trainer_user)
            evaluation.block_evaluation_reopen(
                block_evaluation=BlockEvaluation.objects.get(pk=grids[1].pk), reason="À revoir", actor=staff_user
            )

    cohorts(1)
    small = _queries(trainer_client)
    cohorts(5)
    html = _home(trainer_client)
    assert _count(_task(html, "grilles-rouvertes")) == "6" and _count(_task(html, "grilles-a-remplir")) == "6"
    with django_assert_num_queries(small):
        trainer_client.get(reverse("home"))


def test_the_president_home_does_not_grow_with_the_sessions(
    president_client, staff_user, trainer_user, president_user, certification, django_assert_num_queries
):
    def sessions(size):
        for index in range(size):
            _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=1, name=f"D {size}-{index}")
            present_all(make_jury(staff_user, president_user, place=f"D {size}-{index}"), enrolments, staff_user)
            _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=1, name=f"S {size}-{index}")
            to_sign = make_jury(staff_user, president_user, place=f"S {size}-{index}")
            present_all(to_sign, enrolments, staff_user)
            decide_all(to_sign, president_user)

    sessions(1)
    small = _queries(president_client)
    sessions(5)
    html = _home(president_client)
    assert _count(_task(html, "a-deliberer")) == "6" and _count(_task(html, "a-signer")) == "6"
    with django_assert_num_queries(small):
        president_client.get(reverse("home"))


# — The demo (`make run`) —


def test_the_demo_homes_show_each_role_its_work():
    call_command("seed_demo", stdout=io.StringIO())
    clients = {}
    for username in ("gestionnaire", "formateur", "president"):
        clients[username] = Client()
        clients[username].force_login(get_user_model().objects.get(username=username))

    staff = _home(clients["gestionnaire"])
    card = _text(_task(staff, "declarations"))
    assert "dont 1 en retard" in card
    assert "Sarah NGUYEN" in card and "En retard" in card
    assert "Jury du 26 novembre 2026" in _text(_task(staff, "jurys-du-jour"))

    president = _home(clients["president"])
    work = _task(president, "a-deliberer") + _task(president, "a-signer")
    assert "Jury du 26 novembre 2026" in work
    assert reverse("juries:deliberation", args=[_session_pk(work)]) in work or "signature" in work

    trainer = _home(clients["formateur"])
    card = _text(_task(trainer, "grilles-a-remplir"))
    assert "MPES 2026-2027 — Saint-Étienne, formation continue — bloc 1 : RNCP99901" in card
    assert "MPES 2026-2027 — Saint-Étienne, formation continue — bloc 2 : RNCP99901" in card


def _session_pk(html: str) -> int:
    return int(re.search(r"/jurys/(\d+)/", html).group(1))
