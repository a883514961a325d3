"""Evaluation sessions and grids — trainers enter levels, the application proposes each block's outcome."""

import datetime
import json
import re
from html import unescape

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from candidates import services as candidate_services
from candidates.demo import create_demo_candidates
from certif import services as referential
from certif.demo import create_demo_accounts, create_demo_successor
from certif.models import AuditEvent, Block, Grid, RatingScale
from certif.roles import Role
from evaluation import selectors, services
from evaluation.demo import PLACEHOLDER, create_demo_evaluation
from evaluation.models import BlockEvaluation, BlockEvaluationStatus, EvaluationSession, LevelEntry
from tests.conftest import make_user
from tests.factories import make_candidate, make_cohort

pytestmark = pytest.mark.django_db

START, END = datetime.date(2026, 5, 4), datetime.date(2026, 6, 12)


def complete_grid(block, actor):
    grid = block.grids.order_by("-version").first()
    for n in range(grid.competences.count() + 1, block.declared_competence_count + 1):
        referential.competence_add(block=block, label=PLACEHOLDER.format(n=n), actor=actor)


def enrol_many(cohort, actor, count, **overrides):
    return [
        candidate_services.enrolment_create(candidate=make_candidate(actor, **overrides), cohort=cohort, actor=actor)
        for _ in range(count)
    ]


def open_session(cohort, blocks, evaluators, actor):
    return services.evaluation_session_open(
        cohort=cohort, blocks=blocks, evaluators=evaluators, starts_on=START, ends_on=END, actor=actor
    )


def grid_url(block_evaluation):
    return reverse("evaluation:grid", args=[block_evaluation.session_id, block_evaluation.block.number])


def grid_data(block_evaluation, levels: dict, comments: dict | None = None, versions: dict | None = None):
    """The POST a browser sends: every evaluable cell, as displayed now, with `levels` {(enrolment, position): code}.

    `versions` overrides what a cell displayed, (level, comment, version), to simulate a page displayed earlier.
    """
    comments, versions = comments or {}, versions or {}
    entries = {
        (e.enrolment_id, e.competence_id): e for e in LevelEntry.objects.filter(block_evaluation=block_evaluation)
    }
    data, state = {}, {}
    enrolments = [e for e in selectors.cohort_enrolments(block_evaluation.session.cohort) if e.can_be_evaluated]
    for enrolment in enrolments:
        for competence in block_evaluation.grid.competences.all():
            entry = entries.get((enrolment.pk, competence.pk))
            key = (enrolment.pk, competence.position)
            shown = (entry.level, entry.comment, entry.version) if entry else ("", "", 0)
            if key in versions:
                shown = versions[key]
            add_cell(
                data, state, enrolment.pk, competence.pk, levels.get(key, shown[0]), comments.get(key, shown[1]), shown
            )
    data["grid-state"] = json.dumps(state)
    return data


def add_cell(data, state, enrolment_id, competence_id, level, comment="", shown=("", "", 0)):
    data[f"c-{enrolment_id}-{competence_id}-level"] = level
    data[f"c-{enrolment_id}-{competence_id}-comment"] = comment
    state[f"{enrolment_id}-{competence_id}"] = [shown[2], shown[0], shown[1]]
    if "grid-state" in data:
        data["grid-state"] = json.dumps(state)


def set_state(data, enrolment_id, competence_id, level, comment, version):
    state = json.loads(data["grid-state"])
    state[f"{enrolment_id}-{competence_id}"] = [version, level, comment]
    data["grid-state"] = json.dumps(state)


def row_levels(enrolment, codes: str) -> dict:
    return {(enrolment.pk, position): ("" if code == "." else code) for position, code in enumerate(codes, start=1)}


@pytest.fixture
def grids_complete(blocks, staff_user):
    for number in (2, 3, 4):
        complete_grid(blocks[number], staff_user)
    return blocks


@pytest.fixture
def cohort(staff_user, trainer_user):
    return make_cohort(staff_user, trainers=[trainer_user], name="MPES test")


@pytest.fixture
def session(grids_complete, cohort, staff_user, trainer_user):
    enrol_many(cohort, staff_user, 3)
    return open_session(cohort, [grids_complete[1], grids_complete[2]], [trainer_user], staff_user)


@pytest.fixture
def be1(session):
    return BlockEvaluation.objects.get(session=session, block__number=1)


@pytest.fixture
def be2(session):
    return BlockEvaluation.objects.get(session=session, block__number=2)


@pytest.fixture
def enrolments(cohort):
    return list(selectors.cohort_enrolments(cohort))


class TestOpeningASession:
    def test_an_incomplete_grid_is_refused_with_the_block_and_the_count(
        self, staff_client, blocks, cohort, trainer_user
    ):
        response = staff_client.post(
            reverse("evaluation:session_open"),
            {
                "cohort": cohort.pk,
                "blocks": [blocks[1].pk, blocks[2].pk],
                "evaluators": [trainer_user.pk],
                "starts_on": "2026-05-04",
                "ends_on": "2026-06-12",
            },
        )
        assert response.status_code == 400
        assert (
            "Le bloc 2 a une grille incomplète : 3 compétences manquent (6 définies sur 9)."
            in response.content.decode()
        )
        assert not EvaluationSession.objects.exists()
        assert not Grid.objects.filter(frozen_at__isnull=False).exists()

    def test_staff_open_a_session_through_the_page(self, staff_client, grids_complete, cohort, trainer_user):
        response = staff_client.post(
            reverse("evaluation:session_open"),
            {
                "cohort": cohort.pk,
                "blocks": [grids_complete[1].pk, grids_complete[2].pk],
                "evaluators": [trainer_user.pk],
                "starts_on": "2026-05-04",
                "ends_on": "2026-06-12",
            },
            follow=True,
        )
        assert "Session d&#x27;évaluation ouverte pour « MPES test »" in response.content.decode()
        session = EvaluationSession.objects.get()
        assert list(session.evaluators.all()) == [trainer_user]
        evaluations = list(session.block_evaluations.order_by("block__number"))
        assert [be.block.number for be in evaluations] == [1, 2]
        assert all(be.grid.is_frozen and be.status == BlockEvaluationStatus.DRAFT for be in evaluations)
        assert evaluations[0].scale.first_used_at is not None
        assert AuditEvent.objects.filter(action="evaluation.session_opened").count() == 1

    def test_evaluators_must_be_trainers(self, grids_complete, cohort, staff_user, president_user):
        with pytest.raises(ValidationError) as error:
            open_session(cohort, [grids_complete[1]], [president_user], staff_user)
        assert "n'a pas le rôle de formateur" in str(error.value)
        with pytest.raises(ValidationError, match="au moins un évaluateur"):
            open_session(cohort, [grids_complete[1]], [], staff_user)

    def test_a_block_already_under_evaluation_is_refused(
        self, session, grids_complete, cohort, staff_user, trainer_user
    ):
        with pytest.raises(ValidationError, match="Le bloc 1 est déjà en cours d'évaluation"):
            open_session(cohort, [grids_complete[1]], [trainer_user], staff_user)

    def test_the_evaluation_keeps_its_grid_and_scale_versions(
        self, session, be1, staff_user, certification, trainer_client, enrolments
    ):
        referential.competence_rename(block=be1.block, position=1, label="Un projet reformulé", actor=staff_user)
        new_scale = referential.rating_scale_new_version(certification=certification, actor=staff_user)
        levels = [
            {"position": 1, "code": "E", "label": "Excellent", "validates": True},
            {"position": 2, "code": "S", "label": "Suffisant", "validates": True},
            {"position": 3, "code": "I", "label": "Insuffisant", "validates": False},
        ]
        referential.rating_scale_update(scale=new_scale, levels=levels, actor=staff_user)

        be1.refresh_from_db()
        assert be1.block.current_grid.version == 2 and be1.grid.version == 1
        assert be1.scale.version == 1 and RatingScale.objects.filter(certification=certification).count() == 2
        html = trainer_client.get(grid_url(be1)).content.decode()
        assert "Un projet reformulé" not in html and "un projet formalisé" in html
        assert '<option value="C">C</option>' in html and 'value="E"' not in html
        # The old scale still governs this grid: E is not one of its levels.
        data = grid_data(be1, row_levels(enrolments[0], "E..."))
        assert trainer_client.post(grid_url(be1), data).status_code == 400


class TestVae:
    def test_vae_candidates_are_evaluated_only_once_admissible(self, grids_complete, staff_user, trainer_user):
        vae = make_cohort(staff_user, pathway_code="vae", trainers=[trainer_user])
        admitted, waiting = enrol_many(vae, staff_user, 2)
        candidate_services.admissibility_record(
            enrolment=admitted, decided_on=datetime.date(2026, 3, 1), favourable=True, reason="", actor=staff_user
        )
        session = open_session(vae, [grids_complete[1]], [trainer_user], staff_user)
        be = session.block_evaluations.get()
        client = Client()
        client.force_login(trainer_user)
        html = client.get(grid_url(be)).content.decode()
        assert f"c-{admitted.pk}-" in html and f"c-{waiting.pk}-" not in html
        assert "Candidats absents de la grille" in html
        assert f"{waiting.candidate.full_name} — VAE, recevabilité en attente" in html
        first = be.grid.competences.first()
        data = grid_data(be, {})
        add_cell(data, json.loads(data["grid-state"]), waiting.pk, first.pk, "A")
        response = client.post(grid_url(be), data)
        assert response.status_code == 400
        assert "pas évaluable dans cette promotion" in response.content.decode()
        assert not LevelEntry.objects.exists()

    def test_withdrawn_candidates_leave_the_grid(self, be1, trainer_client, enrolments, staff_user):
        withdrawn = enrolments[0]
        candidate_services.enrolment_update(enrolment=withdrawn, actor=staff_user, status="abandon")
        html = trainer_client.get(grid_url(be1)).content.decode()
        assert f"c-{withdrawn.pk}-" not in html and f"c-{enrolments[1].pk}-" in html
        assert f"{withdrawn.candidate.full_name} — abandon du parcours" in html


class TestProposals:
    """The real blocks: block 1 validates 75 % of 4 (3), block 2 seven of nine, both at level C or better."""

    @pytest.mark.parametrize(
        ("number", "codes", "badge", "explanation"),
        [
            (1, "ABCD", "Validé", "3 compétences au niveau C ou mieux sur 4 ; 3 requises"),
            (1, "CDDA", "Non validé", "2 compétences au niveau C ou mieux sur 4 ; 3 requises"),
            (1, "AB.C", "Incomplet", "1 compétence sans niveau sur 4 ; toutes les compétences doivent être évaluées"),
            (2, "CCCCCCCDD", "Validé", "7 compétences au niveau C ou mieux sur 9 ; 7 requises"),
            (2, "ABCCCCDDD", "Non validé", "6 compétences au niveau C ou mieux sur 9 ; 7 requises"),
            (
                2,
                "AAAAAAAA.",
                "Incomplet",
                "1 compétence sans niveau sur 9 ; toutes les compétences doivent être évaluées",
            ),
            (
                2,
                "AA.......",
                "Incomplet",
                "7 compétences sans niveau sur 9 ; toutes les compétences doivent être évaluées",
            ),
        ],
    )
    def test_each_row_shows_the_proposal(self, session, trainer_client, enrolments, number, codes, badge, explanation):
        be = session.block_evaluations.get(block__number=number)
        response = trainer_client.post(grid_url(be), grid_data(be, row_levels(enrolments[0], codes)), follow=True)
        assert response.status_code == 200
        html = response.content.decode()
        row = re.search(
            rf"<tr data-row>\s*<th scope=\"row\"[^>]*>{re.escape(enrolments[0].candidate.full_name)}</th>.*?</tr>",
            html,
            re.S,
        )
        assert row, "row of the first candidate"
        assert f">{badge}</span>" in row[0]
        assert explanation in row[0]
        entries = LevelEntry.objects.filter(block_evaluation=be, enrolment=enrolments[0]).exclude(level="")
        assert entries.count() == len(codes.replace(".", ""))

    def test_untouched_rows_are_incomplete(self, be2, trainer_client):
        html = trainer_client.get(grid_url(be2)).content.decode()
        assert html.count("9 compétences sans niveau sur 9 ; toutes les compétences doivent être évaluées") == 3


class TestSaving:
    def test_save_writes_levels_comments_and_an_audit_trace_per_changed_cell(
        self, be1, trainer_client, trainer_user, enrolments
    ):
        data = grid_data(
            be1, row_levels(enrolments[0], "AB.."), comments={(enrolments[0].pk, 1): "Projet écrit et présenté"}
        )
        response = trainer_client.post(grid_url(be1), data, follow=True)
        assert "Grille enregistrée : 2 cellules modifiées." in response.content.decode()
        entry = LevelEntry.objects.get(block_evaluation=be1, enrolment=enrolments[0], competence__position=1)
        assert (entry.level, entry.comment, entry.version, entry.updated_by) == (
            "A",
            "Projet écrit et présenté",
            1,
            trainer_user,
        )
        events = AuditEvent.objects.filter(action="evaluation.level_changed")
        assert events.count() == 2
        event = events.get(target_id=str(entry.pk))
        assert event.actor == trainer_user
        assert event.before == {"level": "", "comment": ""}
        assert event.after == {"level": "A", "comment": "Projet écrit et présenté"}

        # Saving the same page again changes nothing and records nothing.
        trainer_client.post(grid_url(be1), grid_data(be1, {}))
        assert AuditEvent.objects.filter(action="evaluation.level_changed").count() == 2

        trainer_client.post(grid_url(be1), grid_data(be1, {(enrolments[0].pk, 1): "C"}))
        entry.refresh_from_db()
        assert (entry.level, entry.version) == ("C", 2)

        history = trainer_client.get(
            reverse("evaluation:cell_history", args=[be1.session_id, 1, enrolments[0].pk, entry.competence_id])
        ).content.decode()
        assert "Historique" in history
        assert "niveau « A », commentaire « Projet écrit et présenté »" in history
        assert "niveau « C », commentaire « Projet écrit et présenté »" in history
        assert trainer_user.first_name in history
        assert history.index("niveau « C »") < history.index("niveau « aucun »")  # newest first

    def test_the_grid_page_links_each_filled_cell_to_its_history(self, be1, trainer_client, enrolments):
        trainer_client.post(grid_url(be1), grid_data(be1, row_levels(enrolments[0], "A...")))
        entry = LevelEntry.objects.get()
        html = trainer_client.get(grid_url(be1)).content.decode()
        assert (
            reverse("evaluation:cell_history", args=[be1.session_id, 1, entry.enrolment_id, entry.competence_id])
            in html
        )

    def test_each_cell_offers_the_whole_scale_with_its_own_level_selected(self, be1, trainer_client, enrolments):
        import re

        trainer_client.post(grid_url(be1), grid_data(be1, row_levels(enrolments[0], "AB.")))
        html = trainer_client.get(grid_url(be1)).content.decode()
        selects = re.findall(r'<select class="form-select form-select-sm level"[^>]*>(.*?)</select>', html, re.S)
        assert selects and len(selects) % 3 == 0
        codes = [level.code for level in be1.scale.ordered_levels]
        for select in selects:
            assert re.findall(r'<option value="([^"]*)"', select) == ["", *codes]
            assert select.count(" selected") == 1
        first_row = selects[:3]
        assert '<option value="A" selected>' in first_row[0] and '<option value="B" selected>' in first_row[1]
        assert '<option value="" selected>—</option>' in first_row[2]


class TestConflict:
    def test_the_second_save_does_not_silently_overwrite_the_first(self, session, be1, enrolments, staff_user):
        first_user = make_user("premier", Role.TRAINER)
        second_user = make_user("second", Role.TRAINER)
        session.evaluators.add(first_user, second_user)
        first, second = Client(), Client()
        first.force_login(first_user)
        second.force_login(second_user)
        a, b = enrolments[0].pk, enrolments[1].pk

        # Both pages are displayed on the same state; the second person's page is built now, before any save.
        stale = grid_data(be1, {(a, 1): "D", (b, 2): "B"})
        assert first.post(grid_url(be1), grid_data(be1, {(a, 1): "A", (a, 3): "C"})).status_code == 302

        response = second.post(grid_url(be1), stale)
        assert response.status_code == 409
        html = response.content.decode()
        cell = LevelEntry.objects.get(enrolment_id=a, competence__position=1)
        # Not overwritten; the other cell of the same request is saved; a cell only the first person changed stays.
        assert cell.level == "A" and cell.updated_by == first_user
        assert LevelEntry.objects.get(enrolment_id=b, competence__position=2).level == "B"
        assert LevelEntry.objects.get(enrolment_id=a, competence__position=3).level == "C"
        # Both values shown: the typed one stays selected, the other one is shown beside it with its author.
        prefix = f"c-{a}-{cell.competence_id}"
        select = re.search(rf'<select[^>]*name="{prefix}-level".*?</select>', html, re.S)[0]
        assert '<option value="D" selected>' in select
        assert "1 cellule non enregistrée" in html
        assert "enregistré par Premier" in html and "Votre saisie : « D »" in html
        state = json.loads(re.search(r'name="grid-state" value="([^"]*)"', html)[1].replace("&quot;", '"'))
        assert state[f"{a}-{cell.competence_id}"] == [1, "A", ""]

        # Saving again (the hidden version now matches) keeps the second person's choice, on purpose.
        again = dict(stale)
        set_state(again, a, cell.competence_id, "A", "", 1)
        assert second.post(grid_url(be1), again).status_code == 302
        cell.refresh_from_db()
        assert (cell.level, cell.version, cell.updated_by) == ("D", 2, second_user)

    def test_choosing_the_other_value_saves_nothing(self, session, be1, enrolments, trainer_user):
        other = make_user("autre", Role.TRAINER)
        session.evaluators.add(other)
        a = enrolments[0].pk
        stale = grid_data(be1, {(a, 1): "D"})
        services.block_evaluation_save(
            block_evaluation=be1,
            cells=[
                services.CellInput(
                    enrolment_id=a, competence_id=be1.grid.competences.first().pk, level="A", comment="", version=0
                )
            ],
            actor=other,
        )
        result = services.block_evaluation_save(block_evaluation=be1, cells=services_cells(stale), actor=trainer_user)
        assert len(result.conflicts) == 1 and not result.saved
        prefix = f"c-{a}-{be1.grid.competences.first().pk}"
        stale[f"{prefix}-level"] = "A"
        set_state(stale, a, be1.grid.competences.first().pk, "A", "", 1)
        result = services.block_evaluation_save(block_evaluation=be1, cells=services_cells(stale), actor=trainer_user)
        assert not result.conflicts and not result.saved
        assert LevelEntry.objects.get().version == 1


def services_cells(data):
    from django.http import QueryDict

    from evaluation.forms import parse_cells

    query = QueryDict(mutable=True)
    query.update(data)
    return parse_cells(query)


class TestSubmitAndReopen:
    def fill(self, client, be, enrolments, codes):
        levels = {}
        for enrolment in enrolments:
            levels.update(row_levels(enrolment, codes))
        return client.post(grid_url(be), grid_data(be, levels), follow=True)

    def test_an_incomplete_grid_cannot_be_submitted(self, be1, trainer_client, enrolments):
        data = grid_data(be1, row_levels(enrolments[0], "ABCD"))
        data["action"] = "submit"
        html = trainer_client.post(grid_url(be1), data, follow=True).content.decode()
        assert "La grille n&#x27;est pas complète : 8 cellules sans niveau." in html
        be1.refresh_from_db()
        assert be1.status == BlockEvaluationStatus.DRAFT
        assert LevelEntry.objects.count() == 4  # what was typed is saved all the same

    def test_submit_read_only_then_staff_reopen_with_a_reason(
        self, be1, trainer_client, trainer_user, staff_user, enrolments
    ):
        self.fill(trainer_client, be1, enrolments, "ABCD")
        data = grid_data(be1, {})
        data["action"] = "submit"
        html = trainer_client.post(grid_url(be1), data, follow=True).content.decode()
        assert "Grille soumise" in html
        be1.refresh_from_db()
        assert be1.status == BlockEvaluationStatus.SUBMITTED and be1.submitted_by == trainer_user
        assert "Enregistrer la grille" not in html and "disabled" in html

        # Read-only for trainers: a save is refused, nothing is written, what was typed stays on the page.
        response = trainer_client.post(grid_url(be1), grid_data(be1, {(enrolments[0].pk, 1): "D"}))
        assert response.status_code == 409
        assert "Cette grille a été soumise" in response.content.decode()
        assert LevelEntry.objects.get(enrolment=enrolments[0], competence__position=1).level == "A"
        assert '<option value="D" selected>' in response.content.decode()

        # Trainers cannot reopen; staff must give a reason.
        reopen_url = reverse("evaluation:reopen", args=[be1.session_id, 1])
        assert trainer_client.post(reopen_url, {"reason": "x"}).status_code == 403
        staff = Client()
        staff.force_login(staff_user)
        assert "Rouvrir la grille" in staff.get(grid_url(be1)).content.decode()
        response = staff.post(reopen_url, {"reason": "  "})
        assert response.status_code == 400 and "obligatoire" in response.content.decode()
        be1.refresh_from_db()
        assert be1.status == BlockEvaluationStatus.SUBMITTED
        staff.post(reopen_url, {"reason": "Erreur de saisie signalée par la formatrice"})
        be1.refresh_from_db()
        assert be1.status == BlockEvaluationStatus.DRAFT and be1.submitted_at is None
        event = AuditEvent.objects.get(action="evaluation.reopened")
        assert event.after["reason"] == "Erreur de saisie signalée par la formatrice" and event.actor == staff_user
        assert AuditEvent.objects.filter(action="evaluation.submitted").count() == 1
        assert trainer_client.post(grid_url(be1), grid_data(be1, {(enrolments[0].pk, 1): "D"})).status_code == 302

    def test_nothing_changes_once_the_jury_has_signed(self, be1, trainer_client, staff_user, enrolments):
        self.fill(trainer_client, be1, enrolments, "ABCD")
        services.block_evaluation_submit(block_evaluation=be1, actor=staff_user)
        BlockEvaluation.objects.filter(pk=be1.pk).update(locked_at=timezone.now())
        be1.refresh_from_db()
        with pytest.raises(ValidationError, match="ne peut plus être rouverte"):
            services.block_evaluation_reopen(block_evaluation=be1, reason="Motif", actor=staff_user)
        with pytest.raises(ValidationError, match="Le jury a signé"):
            services.block_evaluation_save(block_evaluation=be1, cells=[], actor=staff_user)
        response = trainer_client.post(grid_url(be1), grid_data(be1, {(enrolments[0].pk, 1): "D"}))
        assert response.status_code == 409 and "Le jury a signé" in response.content.decode()


class TestPermissions:
    def test_evaluator_staff_and_others(self, be1, client, trainer_client, staff_user, president_user, enrolments):
        url = grid_url(be1)
        assert trainer_client.get(url).status_code == 200

        staff = Client()
        staff.force_login(staff_user)
        html = staff.get(url).content.decode()
        assert "Lecture seule" in html and "Enregistrer la grille" not in html
        assert staff.post(url, grid_data(be1, row_levels(enrolments[0], "A"))).status_code == 403

        other = Client()
        other.force_login(make_user("autre", Role.TRAINER))
        assert other.get(url).status_code == 403
        assert other.post(url, grid_data(be1, row_levels(enrolments[0], "A"))).status_code == 403
        assert other.get(reverse("evaluation:session_list")).status_code == 200
        assert "MPES test" not in other.get(reverse("evaluation:session_list")).content.decode()
        assert other.get(reverse("evaluation:session_open")).status_code == 403

        president = Client()
        president.force_login(president_user)
        assert president.get(url).status_code == 403
        assert president.get(reverse("evaluation:session_list")).status_code == 403

        anonymous = Client().get(url)
        assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("login"))
        assert not LevelEntry.objects.exists()

    def test_trainer_home_lists_their_grids_with_progress(self, be1, trainer_client, enrolments):
        trainer_client.post(grid_url(be1), grid_data(be1, row_levels(enrolments[0], "ABCD")))
        html = trainer_client.get(reverse("home")).content.decode()
        assert "Vos grilles d'évaluation" in html
        assert "MPES test — bloc 1" in html and "4 cellules renseignées sur 12" in html
        assert "MPES test — bloc 2" in html and "0 cellule renseignée sur 27" in html


class TestTampering:
    @pytest.fixture
    def other_cohort_enrolment(self, staff_user):
        return enrol_many(make_cohort(staff_user, name="Autre promotion"), staff_user, 1)[0]

    @pytest.mark.parametrize(
        ("case", "message"),
        [
            ("level", "Le niveau « Z » n'existe pas dans l'échelle de cette grille."),
            ("competence", "Une compétence envoyée n'appartient pas à la grille de ce bloc."),
            ("candidate", "Un candidat envoyé n'est pas évaluable dans cette promotion."),
            ("garbage", "Champ de grille inconnu dans l'envoi."),
            ("state", "L'état de la grille envoyé est illisible."),
        ],
    )
    def test_refused_with_400_and_nothing_written(
        self, case, message, be1, be2, trainer_client, enrolments, other_cohort_enrolment
    ):
        data = grid_data(be1, row_levels(enrolments[0], "ABCD"))
        state = json.loads(data["grid-state"])
        if case == "level":
            data[f"c-{enrolments[1].pk}-{be1.grid.competences.first().pk}-level"] = "Z"
        elif case == "competence":
            add_cell(data, state, enrolments[1].pk, be2.grid.competences.first().pk, "A")
        elif case == "candidate":
            add_cell(data, state, other_cohort_enrolment.pk, be1.grid.competences.first().pk, "A")
        elif case == "garbage":
            data["c-1-x-level"] = "A"
        else:
            data["grid-state"] = "{pas du json"
        events = AuditEvent.objects.count()
        response = trainer_client.post(grid_url(be1), data)
        assert response.status_code == 400
        text = unescape(response.content.decode())
        assert message in text and "Rien n'a été enregistré" in text
        assert not LevelEntry.objects.exists()
        assert AuditEvent.objects.count() == events


class TestQueryCounts:
    @pytest.mark.parametrize("size", [5, 30])
    def test_grid_page_and_save_do_not_grow_with_the_cohort(
        self, size, grids_complete, staff_user, trainer_user, trainer_client, django_assert_num_queries
    ):
        cohort = make_cohort(staff_user, trainers=[trainer_user])
        enrolled = enrol_many(cohort, staff_user, size)
        session = open_session(cohort, [grids_complete[2]], [trainer_user], staff_user)
        be = session.block_evaluations.get()
        url = grid_url(be)
        trainer_client.get(url)  # session, caches
        ContentType.objects.get_for_model(LevelEntry, for_concrete_model=False)  # cached for the process

        levels = {}
        for enrolment in enrolled:
            levels.update(row_levels(enrolment, "ABCDABCD."))
        first = grid_data(be, levels)
        # The immutability guards read once per bulk write: is the grid locked by a jury's signature?
        with django_assert_num_queries(17):  # create 8 cells per candidate
            assert trainer_client.post(url, first).status_code == 302
        assert LevelEntry.objects.count() == size * 8
        levels = {}
        for enrolment in enrolled:
            levels.update(row_levels(enrolment, "DCBADCBAA"))
        second = grid_data(be, levels)
        with django_assert_num_queries(19):  # update 8 cells, create 1, per candidate
            assert trainer_client.post(url, second).status_code == 302
        with django_assert_num_queries(12):  # 11, and the example-fiche banner of every page
            response = trainer_client.get(url)
        assert response.content.decode().count("7 compétences au niveau C ou mieux sur 9 ; 7 requises") == size


class TestDemo:
    def test_the_demo_opens_a_session_with_partly_filled_grids_idempotently(self, db):
        accounts = create_demo_accounts()
        staff, trainer = accounts[Role.STAFF], accounts[Role.TRAINER]
        assert create_demo_evaluation(staff=staff, trainer=trainer)["sessions"] == 0  # no demo promotions yet
        create_demo_successor(staff=staff)  # today's promotions prepare the fiche in force
        create_demo_candidates(staff=staff, trainer=trainer)
        summary = create_demo_evaluation(staff=staff, trainer=trainer)
        assert summary["created_sessions"] == 1 and summary["placeholders"] == 3 + 4 + 4
        session = EvaluationSession.objects.get()
        assert list(session.evaluators.all()) == [trainer]
        assert trainer in session.cohort.trainers.all()
        progress = {
            be.block.number: (be.filled_cells, be.total_cells) for be in BlockEvaluation.objects.with_progress()
        }
        assert set(progress) == {1, 2} and session.cohort.certification.rncp_code == "99901"
        assert all(0 < filled < total for filled, total in progress.values())
        # RNCP 16204's grids list fewer competences than its blocks declare: the demo completes them, plainly.
        placeholders = [
            c.label
            for c in Block.objects.get(certification__rncp_code="16204", number=2).current_grid.competences.all()
        ][6:]
        assert placeholders and all(label.startswith("[Démo]") for label in placeholders)
        events = AuditEvent.objects.count()
        assert create_demo_evaluation(staff=staff, trainer=trainer)["created_sessions"] == 0
        assert AuditEvent.objects.count() == events
