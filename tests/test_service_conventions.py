"""The services' conventions, read from the source (AST), so that a new service keeps them without a reviewer:

- every public function of a `services*.py` module takes keyword arguments only, each one typed, and says what it
  returns; whoever acts is a `User` (`actor`, `signed_by`);
- its name reads `<entity>_<action>` (`enrolment_create`, `jury_session_sign_off`);
- a row lock names the table it locks (`select_for_update(of=("self",))`): a jury change must not lock the
  certification row it reads through a join.

Reads live in `selectors.py`; a read-only function left in a services module would have to follow the first rule,
and is better moved.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {".venv", "node_modules", "tests", "migrations", "static", "templates", "scripts"}
ACTOR_NAMES = ("actor", "signed_by")


def _app_sources():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if not SKIPPED_DIRS.intersection(relative.parts) and len(relative.parts) > 1:
            yield relative, ast.parse(path.read_text(), filename=str(relative))


def _service_modules():
    for relative, tree in _app_sources():
        if relative.name.startswith("services"):
            yield relative, tree


def _public_functions(tree):
    return [node for node in tree.body if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")]


def convention_problems(relative, tree) -> list[str]:
    problems = []
    for function in _public_functions(tree):
        where = f"{relative}:{function.lineno} {function.name}"
        arguments = function.args
        positional = [argument.arg for argument in arguments.posonlyargs + arguments.args]
        if positional or arguments.vararg:
            problems.append(f"{where}: takes {', '.join(positional) or '*args'} by position; write `def x(*, …)`.")
        for argument in arguments.kwonlyargs:
            if argument.annotation is None:
                problems.append(f"{where}: `{argument.arg}` has no type.")
            elif argument.arg in ACTOR_NAMES and ast.unparse(argument.annotation) != "User":
                problems.append(f"{where}: `{argument.arg}` is typed {ast.unparse(argument.annotation)}, not User.")
        if function.returns is None:
            problems.append(f"{where}: says not what it returns.")
        if "_" not in function.name:
            problems.append(f"{where}: name it <entity>_<action>.")
    return problems


def lock_problems(relative, tree) -> list[str]:
    return [
        f'{relative}:{node.lineno}: select_for_update() without of=: name the table it locks (of=("self",)).'
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "select_for_update"
        and not any(keyword.arg == "of" for keyword in node.keywords)
    ]


def test_the_services_are_found():
    modules = {str(relative) for relative, _ in _service_modules()}
    assert {"candidates/services.py", "juries/services.py"} <= modules


def test_every_public_service_is_keyword_only_typed_and_named_entity_action():
    problems = [problem for relative, tree in _service_modules() for problem in convention_problems(relative, tree)]
    assert not problems, "\n".join(problems)


def test_every_row_lock_names_its_table():
    problems = [problem for relative, tree in _app_sources() for problem in lock_problems(relative, tree)]
    assert not problems, "\n".join(problems)


# — the checks themselves catch what they are for —


def _parsed(source: str):
    return ast.parse(source)


def test_a_positional_untyped_service_is_reported():
    tree = _parsed("def enrol(candidate, *, actor) -> None: ...\n")
    assert convention_problems("x/services.py", tree) == [
        "x/services.py:1 enrol: takes candidate by position; write `def x(*, …)`.",
        "x/services.py:1 enrol: `actor` has no type.",
        "x/services.py:1 enrol: name it <entity>_<action>.",
    ]


def test_a_service_without_a_return_type_or_with_a_loose_actor_is_reported():
    tree = _parsed("def cohort_save(*, cohort: int, actor: object): ...\n\ndef _helper(x): ...\n")
    assert convention_problems("x/services.py", tree) == [
        "x/services.py:1 cohort_save: `actor` is typed object, not User.",
        "x/services.py:1 cohort_save: says not what it returns.",
    ]


def test_a_lock_without_its_table_is_reported():
    tree = _parsed('A.objects.select_for_update().get(pk=1)\nB.objects.select_for_update(of=("self",)).get(pk=1)\n')
    assert lock_problems("x/services.py", tree) == [
        'x/services.py:1: select_for_update() without of=: name the table it locks (of=("self",)).'
    ]
