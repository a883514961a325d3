"""Project-wide invariants: every model has one decided door in the admin, and the admin keeps to it.

`ADMIN_POLICY` names, for every model of our applications and every model registered in the admin, what the admin
does with it:

- `read_only(reason)`: shown, never added, changed nor deleted there, by anyone (superusers included);
- `through(add=..., change=..., delete=..., reason=...)`: each operation named goes through the service named
  (dotted path), so its validation and audit apply; an operation not named is refused to everyone;
- `not_registered(reason)`: absent from the admin; its own pages and services handle it;
- `accounts(staff_may=..., reason=...)`: Django's account admin; the staff role may do exactly `staff_may` there.

Adding a model? Add its line: the first test fails, telling what to decide, until you do.
Inlines are doors too: every inline of every admin is read-only.
"""

import ast
import datetime
import html
import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin import AdminSite
from django.test import RequestFactory
from django.urls import reverse
from django.utils.module_loading import import_string

from candidates import services as candidates_services
from certif.models import AuditAction, AuditEvent, Block, Competence, Grid
from certif.roles import Role
from tests.conftest import make_user
from tests.factories import make_candidate

OUR_APPS = ("certif", "candidates", "evaluation", "juries", "documents", "declarations", "reporting", "config")
OPERATIONS = ("add", "change", "delete")


@dataclass(frozen=True)
class Policy:
    door: str
    reason: str
    services: dict[str, str] = field(default_factory=dict)  # operation → dotted path of the service
    staff_may: frozenset[str] = frozenset()  # accounts only


def read_only(reason: str) -> Policy:
    return Policy("read-only", reason)


def through(*, reason: str, add: str = "", change: str = "", delete: str = "") -> Policy:
    services = {operation: path for operation, path in (("add", add), ("change", change), ("delete", delete)) if path}
    return Policy("through services", reason, services=services)


def not_registered(reason: str) -> Policy:
    return Policy("not registered", reason)


def accounts(*, reason: str, staff_may=()) -> Policy:
    return Policy("accounts", reason, staff_may=frozenset(staff_may))


ADMIN_POLICY: dict[str, Policy] = {
    # — certif: the referential —
    "certif.Certification": through(
        change="certif.services.certification_update",
        reason="installed from its fiche (load_fiche); the fiche's identity is read-only, its description audited",
    ),
    "certif.RomeCode": not_registered(
        "the fiche's ROME codes, installed with it; shown read-only on the certification"
    ),
    "certif.PreparationPlace": not_registered(
        "added on /candidats/lieux/nouveau/ (preparation_place_create); shown read-only on the certification"
    ),
    "certif.Registration": through(
        add="certif.services.registration_create",
        change="certif.services.registration_update",
        delete="certif.services.registration_delete",
        reason="a signed jury stays inside its registration: neither moved out of it nor deleted",
    ),
    "certif.Block": through(
        change="certif.services.block_threshold_update",
        reason="the rule of a block is frozen once an evaluation has opened on it; blocks come with the fiche",
    ),
    "certif.Grid": read_only("edited on the block's page: new version when frozen, audited"),
    "certif.Competence": not_registered("edited on the block's page (competence_add/rename/move/remove)"),
    "certif.RatingScale": read_only("edited on the scale page (rating_scale_update / rating_scale_new_version)"),
    "certif.ScaleLevel": not_registered("edited as a whole scale on the scale page"),
    "certif.AuditEvent": read_only("write-once trace"),
    "certif.RateLimitCounter": not_registered(
        "a technical counter of the rate limiter (certif.ratelimit), overwritten at each window and purged by the worker"
    ),
    "certif.BackgroundJob": read_only(
        "asked for from its page (job_request: the large results export), run by the worker; frozen once finished"
    ),
    "certif.BlockCorrespondence": read_only(
        "recorded on the successor fiche's page (block_correspondences_set), audited; frozen once used"
    ),
    "declarations.CdcDeclarantSettings": not_registered("/declarations-cdc/ (declarant_settings_save)"),
    "declarations.HolderDeclaration": not_registered(
        "/declarations-cdc/ (holder_declaration_create), kept byte for byte"
    ),
    "declarations.HolderDeclarationLine": not_registered("written with its declaration"),
    "declarations.HolderDeclarationReceipt": not_registered(
        "uploaded on the flux page (receipt_record), kept byte for byte"
    ),
    "declarations.HolderDeclarationOutcome": not_registered("written with its receipt"),
    "declarations.HolderDeclarationCorrection": not_registered(
        "flagged by the declarations' receivers of a rectification or a withdrawal"
    ),
    # — candidates —
    "certif.AccessPathway": read_only("the fiche's OUI/NON table; cohorts and the jury rule rest on it"),
    "candidates.Candidate": through(
        add="candidates.services.candidate_create",
        change="candidates.services.candidate_update",
        reason="identity changes are audited; a candidate is never deleted",
    ),
    "candidates.Cohort": through(
        add="candidates.services.cohort_save",
        change="candidates.services.cohort_save",
        reason="trainers and pathway checked and audited; never deleted",
    ),
    "candidates.Enrolment": through(
        add="candidates.services.enrolment_create",
        change="candidates.services.enrolment_update",
        reason="closed pathways refused, audited; the VAE admissibility is recorded on its page",
    ),
    "candidates.AcquiredBlock": through(
        add="candidates.services.acquired_block_import",
        reason="history only; blocks validated by a jury join the ledger at sign-off; never changed nor deleted",
    ),
    "candidates.CertificationAward": read_only("awarded at a jury's sign-off, with its number"),
    "candidates.Withdrawal": read_only("recorded from the candidate's file (withdrawal_record), write-once"),
    "candidates.WithdrawnBlock": not_registered("written with its withdrawal, shown inside it"),
    "candidates.AcquiredBlockOrigin": not_registered(
        "written with the block acquired by correspondence, at the sign-off that awards it; shown on the file"
    ),
    "documents.WithdrawnDocument": not_registered("written with its withdrawal, shown inside it"),
    # — evaluation —
    "evaluation.EvaluationSession": read_only("opened on its page (evaluation_session_open)"),
    "evaluation.BlockEvaluation": read_only("grid pages: save, submit, reopen (evaluation.services)"),
    "evaluation.LevelEntry": read_only("grid page (block_evaluation_save), one audit event per cell"),
    # — juries —
    "certif.JuryCompositionRule": read_only("the fiche's rule, installed with it; sessions are composed under it"),
    "juries.JurySession": read_only("jury pages (juries.services); final once signed"),
    "juries.JuryMember": not_registered("jury pages (jury_member_save/remove); shown read-only on the session"),
    "juries.Presentation": read_only("jury pages (presentation_add/remove)"),
    "juries.Decision": read_only("deliberation page (decisions_record), rectification once signed"),
    "juries.Recusal": read_only("computed from the candidates' files or declared on the jury page"),
    "juries.Rectification": read_only("signed by the president on the rectification page"),
    "juries.CertificateSequence": read_only("drawn under a row lock at sign-off, never reused"),
    "juries.DecisionAcquiredBlock": read_only("written once with the block a signed decision gave, at sign-off"),
    "juries.SessionAward": read_only("written once with the award a signed session gave, at sign-off"),
    "documents.IssuedDocument": read_only("documents page (document_issue / document_revoke)"),
    "documents.DocumentBatch": read_only("documents page (batch_request), run by the worker"),
    "documents.CertifierIdentity": not_registered(
        "staff page « Logo et signataire des documents » (certifier_identity_save), audited"
    ),
    # — outside our applications, registered in the admin —
    "auth.User": accounts(
        staff_may={"add", "change"},
        reason="staff manage accounts and give the three roles; an account is never deleted (audit traces name it)",
    ),
    "auth.Group": accounts(reason="the three roles, installed by install_roles after every migrate"),
    "axes.AccessAttempt": accounts(
        reason="django-axes' lockout counters: staff read them, only a superuser deletes one to lift a lockout"
    ),
    "axes.AccessFailureLog": accounts(reason="django-axes' log of failed passwords (never the passwords): read only"),
    "axes.AccessLog": accounts(reason="django-axes' log of logins: read only"),
    "django_tasks_database.DBTaskResult": read_only("django-tasks-db's own read-only admin of the task queue"),
}

DECIDE = (
    "{label}: no admin door decided. Add a line for it to ADMIN_POLICY in tests/test_consistency.py: "
    "read_only(reason) if only its pages and services write it; through(add=..., change=..., delete=..., reason=...) "
    "if the admin saves it through services (save_model / delete_model calling them); not_registered(reason) "
    "if it stays out of the admin. Then decide its database guard too."
)


def models_in_scope(site) -> set:
    ours = {model for model in apps.get_models() if model._meta.app_label in OUR_APPS}
    return ours | set(site._registry)


def _names(code) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= _names(const)
    return names


def calls(method, service) -> bool:
    """Whether `method`'s code refers to `service`: by its own name, or as an attribute of a module it names."""
    method = inspect.unwrap(method)
    names = _names(method.__code__)
    for name in names:
        value = method.__globals__.get(name)
        if value is service:
            return True
        if inspect.ismodule(value) and service.__name__ in names and getattr(value, service.__name__, None) is service:
            return True
    return False


def _overridden(model_admin, name: str) -> bool:
    return getattr(type(model_admin), name) is not getattr(admin.ModelAdmin, name)


def _has(model_admin, operation: str, request, obj=None) -> bool:
    if operation == "add":
        return model_admin.has_add_permission(request)
    return getattr(model_admin, f"has_{operation}_permission")(request, obj)


def _sample(model):
    """A stored row when there is one (the fiche installs most of the referential), else a blank instance."""
    return model._default_manager.first() or model()


def inline_problems(label, model_admin, superuser_request) -> list[str]:
    problems = []
    for inline_class in model_admin.inlines:
        inline = inline_class(model_admin.model, model_admin.admin_site)
        for operation in OPERATIONS:
            if getattr(inline, f"has_{operation}_permission")(superuser_request, None):
                problems.append(
                    f"{label}: the inline of {inline.model._meta.label} lets a superuser {operation} rows without "
                    "a service; make it read-only (certif.admin_doors.ReadOnlyInline)."
                )
    return problems


def registered_problems(label, model, model_admin, policy, requests) -> list[str]:
    problems = inline_problems(label, model_admin, requests["superuser"])
    samples = [None, _sample(model)]
    if policy.door == "accounts":
        for operation in OPERATIONS:
            allowed = any(_has(model_admin, operation, requests["staff"], obj) for obj in samples)
            if allowed != (operation in policy.staff_may):
                problems.append(
                    f"{label}: the staff role {'may' if allowed else 'may not'} {operation} in the admin, "
                    f"the policy says {'it may' if operation in policy.staff_may else 'it may not'}."
                )
        return problems
    for operation in OPERATIONS:
        service_path = policy.services.get(operation)
        if service_path is None:
            if any(_has(model_admin, operation, requests["superuser"], obj) for obj in samples):
                problems.append(
                    f"{label}: the admin lets a superuser {operation} although the policy is "
                    f"« {policy.door} » without a service for {operation}."
                )
            continue
        if not _has(model_admin, operation, requests["staff"]):
            problems.append(f"{label}: the policy names a service to {operation}, but the staff role may not.")
        service = import_string(service_path)
        method = "delete_model" if operation == "delete" else "save_model"
        if not _overridden(model_admin, method) or not calls(getattr(type(model_admin), method), service):
            problems.append(f"{label}: {type(model_admin).__name__}.{method} does not call {service_path}.")
        bulk_delete = operation == "delete" and "delete_selected" in model_admin.get_actions(requests["superuser"])
        if bulk_delete and not _overridden(model_admin, "delete_queryset"):
            problems.append(f"{label}: the bulk delete action bypasses {service_path}.")
    if policy.services.keys() & {"add", "change"} and not _overridden(model_admin, "save_related"):
        form = model_admin.get_form(requests["superuser"], None if "add" in policy.services else samples[1])
        written_m2m = [f.name for f in model._meta.local_many_to_many if f.name in form.base_fields]
        if written_m2m:
            problems.append(
                f"{label}: the admin form writes {', '.join(written_m2m)} with form.save_m2m(), outside the "
                "service; override save_related (the service sets them)."
            )
    return problems


def admin_problems(site, policy_table, requests, models=None) -> list[str]:
    problems = []
    models = models_in_scope(site) if models is None else models
    for model in sorted(models, key=lambda m: m._meta.label):
        label = model._meta.label
        policy = policy_table.get(label)
        if policy is None:
            problems.append(DECIDE.format(label=label))
            continue
        model_admin = site._registry.get(model)
        if policy.door == "not registered":
            if model_admin is not None:
                problems.append(
                    f"{label}: registered in the admin, but the policy says not_registered ({policy.reason})."
                )
            continue
        if model_admin is None:
            problems.append(f"{label}: the policy is « {policy.door} » but the model is not registered in the admin.")
            continue
        problems.extend(registered_problems(label, model, model_admin, policy, requests))
    if models is None or models == models_in_scope(site):
        known = {model._meta.label for model in models_in_scope(site)}
        for label in sorted(set(policy_table) - known):
            problems.append(f"{label}: in ADMIN_POLICY but no such model in scope; remove the line.")
    return problems


@pytest.fixture
def requests(db):
    factory = RequestFactory()
    superuser_request, staff_request = factory.get("/admin/"), factory.get("/admin/")
    superuser_request.user = make_user("racine", None, is_staff=True, is_superuser=True)
    staff_request.user = make_user("gestionnaire-admin", Role.STAFF, is_staff=True)
    return {"superuser": superuser_request, "staff": staff_request}


def test_every_model_has_a_decided_admin_door_and_the_admin_keeps_to_it(requests):
    problems = admin_problems(admin.site, ADMIN_POLICY, requests)
    assert not problems, "\n".join(problems)


def test_every_model_of_our_applications_is_in_the_table():
    labels = {model._meta.label for model in apps.get_models() if model._meta.app_label in OUR_APPS}
    assert labels <= set(ADMIN_POLICY)
    assert {"auth.User", "auth.Group"} <= set(ADMIN_POLICY)


# — the checks themselves catch what they are for —


def test_a_new_model_missing_from_the_table_is_reported_with_what_to_decide(requests):
    table = {label: policy for label, policy in ADMIN_POLICY.items() if label != "certif.Block"}
    problems = admin_problems(admin.site, table, requests)
    assert problems == [DECIDE.format(label="certif.Block")]
    assert "read_only(reason)" in problems[0] and "through(" in problems[0] and "not_registered(" in problems[0]


def test_a_plain_model_admin_on_a_read_only_model_is_reported(requests):
    site = AdminSite(name="essai")
    site.register(Grid, admin.ModelAdmin)
    problems = admin_problems(site, {"certif.Grid": ADMIN_POLICY["certif.Grid"]}, requests, models={Grid})
    assert problems == [
        f"certif.Grid: the admin lets a superuser {operation} although the policy is « read-only » without a "
        f"service for {operation}."
        for operation in OPERATIONS
    ]


def test_a_save_model_that_skips_its_service_is_reported(requests):
    class DirectBlockAdmin(admin.ModelAdmin):
        def has_add_permission(self, request):
            return False

        def has_delete_permission(self, request, obj=None):
            return False

        def save_model(self, request, obj, form, change):
            obj.save()

    site = AdminSite(name="essai")
    site.register(Block, DirectBlockAdmin)
    problems = admin_problems(site, {"certif.Block": ADMIN_POLICY["certif.Block"]}, requests, models={Block})
    assert problems == [
        "certif.Block: DirectBlockAdmin.save_model does not call certif.services.block_threshold_update."
    ]


def test_a_writable_inline_is_reported(requests):
    class CompetenceInline(admin.TabularInline):
        model = Competence

    class GridWithInline(admin.ModelAdmin):
        inlines = [CompetenceInline]

        def has_add_permission(self, request):
            return False

        def has_change_permission(self, request, obj=None):
            return False

        def has_delete_permission(self, request, obj=None):
            return False

    site = AdminSite(name="essai")
    site.register(Grid, GridWithInline)
    problems = admin_problems(site, {"certif.Grid": ADMIN_POLICY["certif.Grid"]}, requests, models={Grid})
    assert problems == [
        f"certif.Grid: the inline of certif.Competence lets a superuser {operation} rows without a service; make it "
        "read-only (certif.admin_doors.ReadOnlyInline)."
        for operation in OPERATIONS
    ]


def test_a_registered_model_declared_not_registered_is_reported(requests):
    site = AdminSite(name="essai")
    site.register(Competence, admin.ModelAdmin)
    problems = admin_problems(
        site, {"certif.Competence": ADMIN_POLICY["certif.Competence"]}, requests, models={Competence}
    )
    assert len(problems) == 1 and problems[0].startswith("certif.Competence: registered in the admin")


def test_a_stale_line_is_reported(requests):
    table = {**ADMIN_POLICY, "juries.Ghost": read_only("a model that no longer exists")}
    assert admin_problems(admin.site, table, requests) == [
        "juries.Ghost: in ADMIN_POLICY but no such model in scope; remove the line."
    ]


# — Audit: every action recorded is a member of the closed set, with a French label —

REPOSITORY = Path(__file__).resolve().parent.parent
NOT_OUR_CODE = {"tests", ".venv", "node_modules", "migrations", ".git"}
RECORDERS = {"record_audit", "record_audits"}


def our_modules() -> dict[Path, ast.Module]:
    return {
        path: ast.parse(path.read_text(), filename=str(path))
        for path in sorted(REPOSITORY.rglob("*.py"))
        if not NOT_OUR_CODE & set(path.relative_to(REPOSITORY).parts)
    }


def _called_name(call: ast.Call) -> str:
    return getattr(call.func, "id", None) or getattr(call.func, "attr", "")


def _is_member(node) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "AuditAction"
        and node.attr in AuditAction.__members__
    )


def _annotated_action(annotation) -> bool:
    return annotation is not None and ast.unparse(annotation) == "AuditAction"


def action_problems(modules) -> list[str]:
    """Every recorder's action is `AuditAction.<member>`, a choice between members, a parameter typed `AuditAction`
    passed on, or the result of a function typed `-> AuditAction` that returns only members."""
    functions = {
        node.name: node
        for tree in modules.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }

    def allowed(node, function) -> bool:
        if _is_member(node):
            return True
        if isinstance(node, ast.IfExp):
            return allowed(node.body, function) and allowed(node.orelse, function)
        if isinstance(node, ast.Name) and function is not None:
            arguments = function.args
            return any(
                argument.arg == node.id and _annotated_action(argument.annotation)
                for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            )
        if isinstance(node, ast.Call) and (called := functions.get(_called_name(node))) is not None:
            returned = [item.value for item in ast.walk(called) if isinstance(item, ast.Return)]
            return _annotated_action(called.returns) and all(allowed(value, called) for value in returned)
        return False

    problems = []
    for path, tree in modules.items():
        where = path.relative_to(REPOSITORY)
        parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
        for node in ast.walk(tree):
            is_action_attribute = (
                isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "AuditAction"
            )
            if is_action_attribute and node.attr not in dir(AuditAction):
                problems.append(f"{where}:{node.lineno}: AuditAction.{node.attr} is not a member")
            if not isinstance(node, ast.Call):
                continue
            name = _called_name(node)
            if name == "AuditEvent" and where.as_posix() != "certif/audit.py":
                problems.append(f"{where}:{node.lineno}: an AuditEvent built by hand; use record_audit(s)")
            if name not in RECORDERS:
                continue
            action = next((keyword.value for keyword in node.keywords if keyword.arg == "action"), None)
            function = parents.get(node)
            while function is not None and not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                function = parents.get(function)
            if action is None or not allowed(action, function):
                shown = ast.unparse(action) if action is not None else "no action"
                problems.append(f"{where}:{node.lineno}: {name}(action={shown}) is not an AuditAction member")
    return problems


def test_every_audit_action_recorded_in_the_code_is_a_member_of_the_set():
    modules = our_modules()
    assert len(modules) > 50  # the walk reads the applications, not an empty folder
    assert action_problems(modules) == []


def test_the_walk_reports_a_free_string_and_a_hand_built_trace():
    code = ast.parse(
        "def f(actor, target, action):\n"
        "    record_audit(actor=actor, action='candidate.created', target=target)\n"
        "    record_audit(actor=actor, action=AuditAction.CANDIDATE_CREATD, target=target)\n"
        "    record_audit(actor=actor, action=action, target=target)\n"
        "    AuditEvent(action=AuditAction.CANDIDATE_CREATED)\n"
    )
    problems = action_problems({REPOSITORY / "candidates" / "example.py": code})
    assert len(problems) == 5, problems  # the string, the typo (twice: attribute and argument), the name, the row


def test_every_audit_action_has_a_french_label_of_its_own():
    labels = [member.label for member in AuditAction]
    assert all(member.label != member.value and " " in member.label for member in AuditAction)
    assert all(label[0].isupper() for label in labels)
    assert len(set(labels)) == len(labels)


@pytest.mark.django_db
def test_record_audit_refuses_a_free_string(staff_user):
    from certif.audit import record_audit

    with pytest.raises(ValueError, match="Action d'audit inconnue"):
        record_audit(actor=staff_user, action="candidate.created", target=staff_user)
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_the_candidate_page_shows_the_history_in_french(staff_client, staff_user):
    candidate = make_candidate(staff_user, birth_date=datetime.date(1985, 4, 12))
    candidates_services.candidate_update(
        candidate=candidate, actor=staff_user, job_title="Responsable de secteur", employer_kind="fondation"
    )
    page = html.unescape(staff_client.get(reverse("candidates:detail", args=[candidate.pk])).content.decode())
    # What a reader sees: the text, not the markup (each row keeps its code in a data attribute, for machines).
    history = re.sub(r"<[^>]+>", " ", page[page.index("Historique des modifications") :])
    assert AuditAction.CANDIDATE_CREATED.label in history and "Création de la fiche" in history
    assert "Modification de la fiche" in history
    assert "date de naissance : 12/04/1985" in history
    assert "emploi occupé : Chef de service → Responsable de secteur" in history
    assert "type d'employeur : Association → Fondation" in history
    assert staff_user.get_full_name() in history
    assert "candidate.created" not in history and "candidate.updated" not in history
    assert "{'" not in history and "'}" not in history and "birth_date" not in history


# — One direction: the rooms and their arrows —

ROOT = Path(__file__).resolve().parents[1]
# config → everything; declarations, reporting, documents → juries → evaluation → candidates → certif.
LAYERS = {
    "certif": 0,
    "candidates": 1,
    "evaluation": 2,
    "juries": 3,
    "documents": 4,
    "reporting": 4,
    "declarations": 4,
    "config": 5,
}
# Nothing points up: each debt found while splitting the rooms was paid (the jury side holds the provenance of the
# blocks and awards it produced; the admin's audit table lives in certif; juries registers the sessions a
# registration guards; config gathers the integrity checks of documents and declarations). Kept as sets so that a new
# upward link shows up by name.
KNOWN_UPWARD_RELATIONS: set[tuple[str, str]] = set()
KNOWN_UPWARD_IMPORTS: set[tuple[str, str]] = set()


def _project_modules():
    for room in LAYERS:
        for path in sorted((ROOT / room).rglob("*.py")):
            yield room, path


def _imported_rooms(tree: ast.AST):
    """Every room an import names, at module level or inside a function (ast.walk reaches both)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]


def test_no_import_points_up_the_rooms():
    upward = []
    for room, path in _project_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for _line, imported in _imported_rooms(tree):
            if imported in LAYERS and imported != room and LAYERS[imported] >= LAYERS[room] and room != "config":
                upward.append((str(path.relative_to(ROOT)), imported))
    assert set(upward) == KNOWN_UPWARD_IMPORTS


def test_no_relation_points_up_the_rooms():
    """Foreign keys, one-to-ones and many-to-manys, string references included (read from the loaded models)."""
    found = set()
    for model in apps.get_models():
        room = model._meta.app_label
        if room not in LAYERS:
            continue
        for model_field in model._meta.get_fields(include_hidden=True):
            if not model_field.is_relation or model_field.auto_created or model_field.related_model is None:
                continue
            target = model_field.related_model._meta.app_label
            if target in LAYERS and target != room and LAYERS[target] >= LAYERS[room]:
                found.add((f"{model._meta.label}.{model_field.name}", target))
    assert found == KNOWN_UPWARD_RELATIONS


def _app_dependencies():
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    edges = set()
    for key in loader.graph.nodes:
        for parent in loader.graph.node_map[key].parents:
            if key[0] != parent.key[0] and key[0] in LAYERS and parent.key[0] in LAYERS:
                edges.add((key[0], parent.key[0]))
    return edges


def test_the_migration_graph_has_only_downward_dependencies():
    """The graph a fresh database follows: each room's squashed migration depends only on rooms below it (the
    history before the rooms, with its cycles between rooms, is kept in migrations_legacy for older databases)."""
    edges = _app_dependencies()
    assert sorted(edge for edge in edges if LAYERS[edge[1]] >= LAYERS[edge[0]]) == []
    assert edges == {
        ("candidates", "certif"),
        ("evaluation", "certif"),
        ("evaluation", "candidates"),
        ("juries", "certif"),
        ("juries", "candidates"),
        ("juries", "evaluation"),
        ("documents", "candidates"),
        ("documents", "juries"),
        ("declarations", "certif"),
        ("declarations", "candidates"),
    }
