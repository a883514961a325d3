"""Every rule of certif.permissions: who it lets through and whom it refuses, and the pages that ask it.

The pages keep their answers: 403 to a role that has no business there, 404 for a session a president does not
preside (it is not theirs to know it exists).
"""

import ast
import pathlib

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from certif import permissions
from certif.permissions import may
from certif.roles import Role
from evaluation.models import BlockEvaluation
from juries.models import JurySession
from tests.conftest import make_user
from tests.factories import evaluated_cohort, make_jury

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def other_president(db):
    return make_user("autre-presidente", Role.PRESIDENT)


@pytest.fixture
def superuser(db):
    return make_user("racine", None, is_staff=True, is_superuser=True)


@pytest.fixture
def evaluated(staff_user, trainer_user):
    return evaluated_cohort(staff_user, trainer_user, count=1, submit=False, name="Promotion des règles")


@pytest.fixture
def jury(staff_user, president_user):
    session = make_jury(staff_user, president_user)
    return JurySession.objects.prefetch_related("members").get(pk=session.pk)


@pytest.fixture
def grid(evaluated):
    return BlockEvaluation.objects.select_related("session").filter(session=evaluated[2]).first()


# — Roles —


def test_role_predicates(staff_user, trainer_user, president_user, superuser):
    assert permissions.is_staff(staff_user) and permissions.is_staff(superuser)
    assert not permissions.is_staff(trainer_user) and not permissions.is_staff(president_user)
    assert permissions.is_trainer(trainer_user) and not permissions.is_trainer(staff_user)
    assert permissions.is_president(president_user) and not permissions.is_president(staff_user)


def test_roles_are_read_once_per_user(staff_user, django_assert_num_queries):
    permissions.is_staff(staff_user)
    with django_assert_num_queries(0):
        for rule in ("juries.list_jurysession", "reporting.view_statistics", "candidates.withdraw_candidate"):
            assert may(staff_user, rule)


# — Juries —


def test_the_jury_pages_are_for_staff_and_presidents(staff_user, trainer_user, president_user):
    assert may(staff_user, "juries.list_jurysession") and may(president_user, "juries.list_jurysession")
    assert not may(trainer_user, "juries.list_jurysession")
    assert may(staff_user, "juries.prepare_jurysession")
    assert not may(president_user, "juries.prepare_jurysession")


def test_only_the_session_s_president_deliberates_signs_and_rectifies(
    jury, staff_user, president_user, other_president, superuser, django_assert_num_queries
):
    for rule in ("juries.deliberate_jurysession", "juries.sign_jurysession", "juries.rectify_jurysession"):
        assert may(president_user, rule, jury), rule
        assert not may(other_president, rule, jury), rule
        assert not may(staff_user, rule, jury), rule
        # Presiding is one person's act, never a power of the administration.
        assert not may(superuser, rule, jury), rule
    assert may(staff_user, "juries.see_jurysession", jury) and may(president_user, "juries.see_jurysession", jury)
    assert not may(other_president, "juries.see_jurysession", jury)
    with django_assert_num_queries(0):  # the members are prefetched, the roles and permissions cached
        assert permissions.is_session_president(president_user, jury)
        assert may(president_user, "juries.sign_jurysession", jury)


def test_a_president_who_no_longer_holds_the_permission_cannot_sign(jury, president_user):
    group = president_user.groups.get()
    group.permissions.remove(Permission.objects.get(codename="change_decision"))
    fresh = type(president_user).objects.get(pk=president_user.pk)
    assert permissions.is_session_president(fresh, jury)
    assert not may(fresh, "juries.sign_jurysession", jury)
    assert not may(fresh, "juries.deliberate_jurysession", jury)


def test_jury_pages_answer_as_before(client, jury, trainer_user, president_user, other_president, staff_user):
    detail = reverse("juries:detail", args=[jury.pk])
    sign_off = reverse("juries:sign_off", args=[jury.pk])
    client.force_login(trainer_user)
    assert client.get(detail).status_code == 403
    client.force_login(other_president)
    assert client.get(detail).status_code == 404
    assert client.get(sign_off).status_code == 404
    assert client.get(reverse("juries:edit", args=[jury.pk])).status_code == 403
    client.force_login(staff_user)
    assert client.get(detail).status_code == 200
    assert client.get(sign_off).status_code == 403
    assert "Modifier la session" in client.get(detail).content.decode()
    client.force_login(president_user)
    page = client.get(detail).content.decode()
    assert "Signer la session" in page and "Modifier la session" not in page
    assert client.get(sign_off).status_code == 200
    assert client.post(reverse("juries:deliberation", args=[jury.pk]), {}).status_code != 403


# — Documents and statistics —


def test_document_rules(staff_user, trainer_user, president_user):
    assert may(staff_user, "documents.read_all_documents") and may(staff_user, "documents.issue_documents")
    assert may(president_user, "documents.read_documents") and not may(president_user, "documents.read_all_documents")
    assert not may(president_user, "documents.issue_documents")
    assert not may(trainer_user, "documents.read_documents")
    trainer_user.user_permissions.add(Permission.objects.get(codename="view_issueddocument"))
    granted = type(trainer_user).objects.get(pk=trainer_user.pk)
    assert may(granted, "documents.read_all_documents") and not may(granted, "documents.issue_documents")


def test_a_document_is_read_by_its_session_s_president_only(jury, president_user, other_president, staff_user):
    from documents.models import IssuedDocument

    document = IssuedDocument(session=jury)
    assert may(president_user, "documents.read_issueddocument", document)
    assert may(staff_user, "documents.read_issueddocument", document)
    assert not may(other_president, "documents.read_issueddocument", document)


def test_statistics_are_for_staff(client, staff_user, trainer_user, president_user):
    assert may(staff_user, "reporting.view_statistics")
    for user in (trainer_user, president_user):
        assert not may(user, "reporting.view_statistics")
        client.force_login(user)
        assert client.get(reverse("statistics:dashboard")).status_code == 403


# — Evaluation —


def test_grid_rules(grid, staff_user, trainer_user):
    other_trainer = make_user("autre-formatrice", Role.TRAINER)
    assert may(trainer_user, "evaluation.see_blockevaluation", grid)
    assert may(trainer_user, "evaluation.enter_levels", grid)
    assert may(staff_user, "evaluation.see_blockevaluation", grid)
    assert not may(staff_user, "evaluation.enter_levels", grid)
    assert may(staff_user, "evaluation.reopen_blockevaluation", grid)
    assert not may(trainer_user, "evaluation.reopen_blockevaluation", grid)
    assert not may(other_trainer, "evaluation.see_blockevaluation", grid)
    assert not may(other_trainer, "evaluation.enter_levels", grid)
    assert permissions.is_session_evaluator(trainer_user, grid.session)
    assert not permissions.is_session_evaluator(other_trainer, grid.session)


def test_grid_pages_answer_as_before(client, grid, staff_user):
    other_trainer = make_user("autre-formatrice", Role.TRAINER)
    url = reverse("evaluation:grid", args=[grid.session_id, grid.block.number])
    client.force_login(other_trainer)
    assert client.get(url).status_code == 403
    client.force_login(staff_user)
    assert client.get(url).status_code == 200
    assert client.post(url, {"action": "save"}).status_code == 403


# — Candidates and cohorts —


def test_candidate_and_cohort_rules(evaluated, staff_user, trainer_user):
    cohort, (enrolment,), _ = evaluated
    other_trainer = make_user("autre-formatrice", Role.TRAINER)
    candidate = enrolment.candidate
    assert permissions.is_cohort_trainer(trainer_user, cohort)
    assert not permissions.is_cohort_trainer(other_trainer, cohort)
    assert may(trainer_user, "candidates.see_candidate", candidate)
    assert may(staff_user, "candidates.see_candidate", candidate)
    assert not may(other_trainer, "candidates.see_candidate", candidate)
    for rule in ("candidates.edit_candidate", "candidates.withdraw_candidate", "candidates.read_candidate_history"):
        assert may(staff_user, rule) and not may(trainer_user, rule), rule


def test_the_candidate_scope_agrees_with_the_rule(evaluated, staff_user, trainer_user):
    from candidates.models import Candidate

    other_trainer = make_user("autre-formatrice", Role.TRAINER)
    for user in (staff_user, trainer_user, other_trainer):
        visible = set(Candidate.objects.visible_to(user))
        assert visible == {c for c in Candidate.objects.all() if may(user, "candidates.see_candidate", c)}


# — Accounts —


def test_accounts_rules(staff_user, trainer_user, superuser):
    assert may(staff_user, "certif.manage_accounts") and not may(trainer_user, "certif.manage_accounts")
    assert may(staff_user, "certif.change_account", trainer_user)
    assert not may(staff_user, "certif.change_account", superuser)
    assert superuser.has_perm("certif.change_account", superuser)  # a superuser changes any account


# — One place —


def _python_files():
    for folder in ("certif", "candidates", "evaluation", "juries"):
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def test_no_group_name_is_read_outside_the_roles_and_the_permissions():
    # accounts.py and admin_accounts.py give and list the roles themselves.
    allowed = {ROOT / "certif" / name for name in ("roles.py", "permissions.py", "accounts.py", "admin_accounts.py")}
    offenders = []
    for path in _python_files():
        if path in allowed:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg in {"groups__name", "groups__name__in"}:
                offenders.append(f"{path.relative_to(ROOT)}:{node.value.lineno}")
            if isinstance(node, ast.Name) and node.id == "roles_of" and path.name != "context_processors.py":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_every_rule_is_registered():
    import rules

    for name in permissions.RULES:
        assert rules.perm_exists(name), name
