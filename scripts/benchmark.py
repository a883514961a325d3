#!/usr/bin/env python
"""The project's benchmark (not a test): `make benchmark`, `make benchmark ARGS=--scale` (or `BENCHMARK_SCALE=1`).

Prints each performance goal of the README beside its measured figure, « atteint » or « MANQUÉ », in one run:
pages under gunicorn as a ratio to a bare view (wrk), page and export times through the application's URLs (Django
test client, DEBUG off), the write paths' query counts at two sizes, and the documents (`benchmark_documents.py`).

The volume is written through the application's services (cohorts, enrolments, evaluations, jury sessions,
presentations, decisions, sign-off: the builders of tests/factories.py): by default 500 candidates, with `--scale`
5,000 candidates in 50 sessions of 100, 4 blocks each: 20,000 decisions. It goes to a throwaway test database created
for the run and dropped after (`test_<name>` of DATABASE_URL — PostgreSQL when it points there —, or a temporary
SQLite file): never the application's own data. Times are medians of interleaved runs (one run of each measure in
turn, so that a load on the machine weighs on all alike). Measured through URLs, not through internal functions,
so that the figures follow the code wherever it goes.
"""

import argparse
import contextlib
import datetime
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

PASSWORD = "mot-de-passe-de-test"  # tests.conftest.make_user's
ALL_BLOCKS = (1, 2, 3, 4)
FIRST_JURY_DAY = datetime.date(2022, 6, 1)  # after the evaluations (March–May 2022), inside the fiche's registration


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--scale", action="store_true", help="5 000 candidats, 20 000 décisions, sessions de 100 (BENCHMARK_SCALE=1)"
    )
    parser.add_argument("--candidates", type=int, default=None, help="nombre de candidats (500 par défaut)")
    parser.add_argument("--session-size", type=int, default=100, help="candidats par session de jury")
    parser.add_argument(
        "--runs", type=int, default=int(os.environ.get("BENCHMARK_RUNS", "7")), help="mesures par temps"
    )
    parser.add_argument("--wrk-seconds", type=int, default=4, help="durée de chaque passe de wrk")
    parser.add_argument("--no-gunicorn", action="store_true", help="sans les mesures sous gunicorn")
    parser.add_argument("--no-documents", action="store_true", help="sans scripts/benchmark_documents.py")
    arguments = parser.parse_args(argv)
    if os.environ.get("BENCHMARK_SCALE", "") not in ("", "0"):
        arguments.scale = True
    if arguments.candidates is None:
        arguments.candidates = 5000 if arguments.scale else 500
    arguments.session_size = max(1, min(arguments.session_size, arguments.candidates))
    return arguments


# — Printing —


class Report:
    """The lines of the table, printed at the end in the README's order (the detail as it comes)."""

    def __init__(self):
        self.lines: list[tuple[str, str, str, bool | str | None]] = []

    def add(self, what: str, figure: str, goal: str, met: bool | None):
        self.lines.append((what, figure, goal, met))
        print(f"  → {what} : {figure} (objectif {goal})", flush=True)

    def add_reference(self, what: str, figure: str):
        """A figure without a goal of its own, printed beside the goals it explains (a page's frame, say)."""
        self.lines.append((what, figure, "—", "repère"))
        print(f"  → {what} : {figure} (repère)", flush=True)

    ORDER = (
        "liste des candidats (gestion) sous",
        "liste des candidats (gestion) /",
        "cadre vide connecté",
        "page publique /v/<code>/ sous",
        "page publique /v/<code>/ /",
        "cadre vide public",
        "grille",
        "certificat",
        "relevé",
        "lot",
        "signature",
        "délibération",
        "présenter :",
        "présenter tous",
        "export CSV",
        "export XLSX",
        "déclaration",
        "tableau de bord",
    )

    def rank(self, what: str) -> int:
        return next((n for n, prefix in enumerate(self.ORDER) if what.startswith(prefix)), len(self.ORDER))

    def print(self):
        print("\nRésultats (objectifs de performance du README) :")
        width = max(len(what) for what, *_ in self.lines)
        for what, figure, goal, met in sorted(self.lines, key=lambda line: self.rank(line[0])):
            verdict = met if isinstance(met, str) else "non mesuré" if met is None else ("atteint" if met else "MANQUÉ")
            print(f"  {what:<{width}}  {figure:<38}  objectif {goal:<24} {verdict}")


def fr_number(value: float, decimals: int = 0) -> str:
    """« 3 762 », « 0,21 »: French digits, a narrow no-break space between thousands."""
    text = f"{value:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
    return text


def ms(seconds: float) -> str:
    return f"{fr_number(seconds * 1000, 1)} ms"


def step(message: str):
    print(message, flush=True)


@contextlib.contextmanager
def timed(label: str):
    start = time.perf_counter()
    yield
    step(f"  {label} : {fr_number(time.perf_counter() - start, 1)} s")


def interleaved(measures: dict, runs: int) -> dict[str, float]:
    """Median time of each measure, the measures taking turns run after run."""
    times: dict[str, list[float]] = {name: [] for name in measures}
    for function in measures.values():
        function()  # warm-up: templates compiled, caches filled, first connection opened
    for _ in range(runs):
        for name, function in measures.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


# — The volume, through the services —


class Volume:
    def __init__(self, staff, trainer, president):
        self.staff, self.trainer, self.president = staff, trainer, president
        self.days = (FIRST_JURY_DAY + datetime.timedelta(days=n) for n in range(10_000))
        self.sessions = 0

    def present(self, session, enrolments):
        """The cohort's candidates, in one go when they are exactly those eligible (« présenter tous les éligibles »
        would otherwise also take the cohort kept apart for the presenting measure), else one by one."""
        from juries import services
        from juries.selectors import eligibilities
        from tests.factories import present_all

        eligible = {eligibility.enrolment.pk for eligibility in eligibilities(session) if eligibility.eligible}
        if eligible == {enrolment.pk for enrolment in enrolments}:
            services.presentations_add_eligible(session=session, actor=self.staff)
        else:
            present_all(session, enrolments, self.staff)

    def session(self, count: int, *, numbers=ALL_BLOCKS, decide=True, sign=True, present=True):
        """A cohort of `count` candidates evaluated (all « A ») on `numbers`, and a jury session on those blocks."""
        from juries import services
        from tests.factories import decide_all, evaluated_cohort, make_jury

        self.sessions += 1
        name = f"Promotion banc d'essai {self.sessions}"
        _, enrolments, _ = evaluated_cohort(self.staff, self.trainer, count=count, numbers=numbers, name=name)
        session = make_jury(
            self.staff, self.president, numbers=numbers, day=next(self.days), place=f"IRUP, salle {self.sessions}"
        )
        if present:
            self.present(session, enrolments)
        if present and decide:
            decide_all(session, self.president)
        if present and decide and sign:
            services.jury_session_sign_off(session=session, signed_by=self.president)
        session.refresh_from_db()
        return session, enrolments


def build_volume(volume: Volume, candidates: int, session_size: int):
    from django.db import connection

    from juries.models import Decision

    step(
        f"Volume : {fr_number(candidates)} candidats en sessions de {session_size}, blocs 1 à 4, "
        "par les services de l'application"
    )
    start, built, sessions = time.perf_counter(), 0, []
    while built < candidates:
        count = min(session_size, candidates - built)
        session, _ = volume.session(count)
        sessions.append(session)
        built += count
        elapsed = time.perf_counter() - start
        left = elapsed / built * (candidates - built)
        step(
            f"  {fr_number(built)} / {fr_number(candidates)} candidats ({len(sessions)} sessions signées), "
            f"{fr_number(elapsed)} s écoulées, reste ≈ {fr_number(left)} s"
        )
    decisions = Decision.objects.count()
    elapsed = time.perf_counter() - start
    # Fresh planner statistics, as autovacuum keeps them on a database in service: without them PostgreSQL plans
    # the built tables as if they were still empty.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    step(
        f"  construit : {fr_number(candidates)} candidats, {fr_number(decisions)} décisions en "
        f"{fr_number(elapsed)} s ({fr_number(elapsed / max(candidates, 1) * 1000)} ms par candidat)\n"
    )
    return sessions, decisions, elapsed


# — Gunicorn and wrk —


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(settings_dict) -> str:
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = urllib.parse.quote(settings_dict.get("USER") or "")
    password = settings_dict.get("PASSWORD") or ""
    credentials = f"{user}:{urllib.parse.quote(password)}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{settings_dict['NAME']}"


MANIFEST_STORAGE = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"


def wrk(url: str, seconds: int, cookie: str | None = None) -> float:
    command = ["wrk", "-t1", "-c4", f"-d{seconds}s", url]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk {url} : réponses en erreur\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def answered_200(url: str, cookie: str | None) -> None:
    """wrk counts a redirect as an answer: a page measured must first answer itself, not the login page."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        status = urllib.request.build_opener(_NoRedirect).open(request, timeout=10).status
    except urllib.error.HTTPError as error:
        status = error.code
    if status != 200:
        raise RuntimeError(f"{url} répond {status}, pas 200 : la mesure serait celle d'une autre page")


@contextlib.contextmanager
def gunicorn(connection, workdir: Path):
    """Gunicorn, 2 workers, DEBUG off, on the throwaway database, static files collected as in production."""
    from django.conf import settings
    from django.core.management import call_command
    from django.test import override_settings

    env = {
        **os.environ,
        "DEBUG": "0",
        # The key that signed the staff session's cookie in this process: with another, the session's hash does not
        # match and every staff page answers the login redirect.
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url(connection.settings_dict),
        "STATIC_ROOT": str(workdir / "static"),
        # The look-up limit of /v/ still counts each request in the database, but so high that wrk's thousands of
        # look-ups are all answered.
        "VERIFICATION_RATE_LIMIT": str(10**9),
    }
    # The manifest of hashed names that production's storage reads, without its compressed copies (a minute of
    # work for files wrk never asks for): `{% static %}` costs the same dictionary look-up.
    with (
        timed("fichiers statiques collectés (noms du manifeste)"),
        override_settings(
            STATIC_ROOT=env["STATIC_ROOT"],
            STORAGES={**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}},
        ),
    ):
        call_command("collectstatic", interactive=False, verbosity=0)
    port = free_port()
    log = open(workdir / "gunicorn.log", "w")  # noqa: SIM115 — closed below, once the server is stopped
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "benchmark_wsgi:application",
            "--pythonpath",
            str(ROOT / "scripts"),
            "--chdir",
            str(ROOT),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/__benchmark__/vide/", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError((workdir / "gunicorn.log").read_text()) from None
                time.sleep(0.1)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


def measure_gunicorn(report: Report, connection, workdir: Path, staff_cookie: str, code: str, seconds: int):
    step("Sous gunicorn (2 workers, DEBUG=0, limite de /v/ comptée en base), wrk 1 fil, 4 connexions :")
    logged_in = {"liste", "cadre"}
    with gunicorn(connection, workdir) as base:
        urls = {
            "vide": base + "/__benchmark__/vide/",
            "cadre": base + "/__benchmark__/cadre/",
            "cadre public": base + "/__benchmark__/cadre-public/",
            "liste": base + "/candidats/",
            "v": base + f"/v/{code}/",
        }
        for name, url in urls.items():
            answered_200(url, staff_cookie if name in logged_in else None)
        rates: dict[str, list[float]] = {name: [] for name in urls}
        for name, url in urls.items():  # warm-up of both workers
            wrk(url, 1, staff_cookie if name in logged_in else None)
        for _ in range(3):
            for name, url in urls.items():
                rates[name].append(wrk(url, seconds, staff_cookie if name in logged_in else None))

    def ratio(name: str, to: str) -> float:
        return statistics.median(r / b for r, b in zip(rates[name], rates[to], strict=True))

    bare = statistics.median(rates["vide"])
    for name, label, goal, frame, frame_label in (
        ("liste", "liste des candidats (gestion) sous gunicorn", 0.2, "cadre", "cadre vide connecté"),
        ("v", "page publique /v/<code>/ sous gunicorn", 0.5, "cadre public", "cadre vide public"),
    ):
        report.add(
            label,
            f"{fr_number(ratio(name, 'vide'), 3)} × ({fr_number(statistics.median(rates[name]))} contre "
            f"{fr_number(bare)} requêtes/s)",
            f"≥ {fr_number(goal, 1)} ×",
            ratio(name, "vide") >= goal,
        )
        report.add_reference(
            f"{label.split(' sous ')[0]} / {frame_label}",
            f"{fr_number(ratio(name, frame), 3)} × ({fr_number(statistics.median(rates[frame]))} requêtes/s)",
        )
        report.add_reference(
            f"{frame_label} (gabarit de base seul) / vue nue",
            f"{fr_number(ratio(frame, 'vide'), 3)} ×",
        )


# — The documents: scripts/benchmark_documents.py, run on its own throwaway database —


def measure_documents(report: Report, runs: int, candidates: int):
    step(f"Documents : scripts/benchmark_documents.py (sa propre base jetable, lot de {candidates} candidats)")
    env = {**os.environ, "BENCHMARK_RUNS": str(runs), "BENCHMARK_CANDIDATES": str(candidates)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "benchmark_documents.py")], env=env, capture_output=True, text=True
    )
    for line in result.stdout.splitlines():
        step("  | " + line)
    if result.returncode:
        step(result.stderr)
    ratio = re.search(r"vue / WeasyPrint seul\s+([\d.]+)", result.stdout)
    report.add(
        "certificat : vue « Émettre » / WeasyPrint seul",
        f"{fr_number(float(ratio.group(1)), 2)} ×" if ratio else "non mesuré",
        "≤ 1,15 ×",
        float(ratio.group(1)) <= 1.15 if ratio else None,
    )
    batch = re.search(r"(\d+) documents dont .*?:\s+([\d.]+) s", result.stdout)
    report.add(
        f"lot d'une session de {candidates} candidats",
        f"{fr_number(float(batch.group(2)), 1)} s ({batch.group(1)} documents)" if batch else "non mesuré",
        "≤ 10 s (100 candidats)",
        float(batch.group(2)) <= 10 if batch and candidates >= 100 else None,
    )


# — The main run —


def main(argv=None) -> None:
    arguments = parse_arguments(argv)
    report = Report()
    workdir = Path(tempfile.mkdtemp(prefix="mpes-benchmark-"))
    try:
        documents_size = min(100, arguments.candidates)
        documents_done = False
        if not arguments.no_documents:
            # First, while no other throwaway database exists (both would be `test_<name>`).
            measure_documents(report, arguments.runs, documents_size)
            documents_done = True
        run(arguments, report, workdir, documents_done)
        report.print()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(arguments, report: Report, workdir: Path, documents_done: bool) -> None:
    import warnings

    import django

    # WhiteNoise warns that this process has no collected static files: the test client never asks for them.
    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    setup_test_environment(debug=False)
    old_name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        # A file, not memory: gunicorn's workers open the same database.
        connection.settings_dict.setdefault("TEST", {})["NAME"] = str(workdir / "benchmark.sqlite3")
    with timed("base jetable créée (migrations)"):
        connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        measure_all(arguments, report, workdir, connection)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
    if not documents_done:
        report.add("certificat : vue « Émettre » / WeasyPrint seul", "non mesuré (--no-documents)", "≤ 1,15 ×", None)
        report.add("lot d'une session de 100 candidats", "non mesuré (--no-documents)", "≤ 10 s", None)


def machine(connection) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            version = "PostgreSQL " + cursor.fetchone()[0]
        else:
            cursor.execute("SELECT sqlite_version()")
            version = "SQLite " + cursor.fetchone()[0]
    return f"{os.cpu_count()} cœurs, {version}, Python {sys.version.split()[0]}"


def measure_all(arguments, report: Report, workdir: Path, connection) -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from certif.models import Certification
    from certif.roles import Role
    from documents.models import DocumentKind, IssuedDocument
    from juries.models import Decision
    from tests.conftest import make_user

    step(f"Machine : {machine(connection)} ; base jetable {connection.settings_dict['NAME']}")
    step(f"{arguments.runs} mesures par temps (médianes de passes alternées)\n")
    staff = make_user("gestion", Role.STAFF, is_staff=True)
    trainer = make_user("formatrice", Role.TRAINER)
    president = make_user("presidente", Role.PRESIDENT)
    volume = Volume(staff, trainer, president)
    sessions, decisions, _ = build_volume(volume, arguments.candidates, arguments.session_size)

    staff_client, trainer_client, president_client = Client(), Client(), Client()
    staff_client.force_login(staff)
    trainer_client.force_login(trainer)
    president_client.force_login(president)

    def get(client, url, status=200):
        response = client.get(url)
        assert response.status_code == status, (url, response.status_code)
        if response.streaming:
            b"".join(response.streaming_content)
        return response

    # — The pieces the measures need, built before any of them —
    step("Préparation des mesures :")
    with timed("grille de 30 candidats (bloc 1), niveaux saisis, non soumise"):
        grid_url = grid_of_30(staff, trainer)
    to_present_size = min(100, arguments.session_size)
    with timed(f"session à présenter ({to_present_size} candidats évalués, non présentés)"):
        to_present, _ = volume.session(to_present_size, present=False)
    presentations_url = reverse("juries:presentations", args=[to_present.pk])
    # An issued document is never deleted (revoked only): each run issues to another candidate of a signed session.
    holders = iter(
        Decision.objects.filter(presentation__session__in=sessions, block__number=1)
        .order_by("pk")
        .values_list("presentation__session", "presentation__enrolment__candidate")
    )

    def issue(kind):
        session_pk, candidate_pk = next(holders)
        response = staff_client.post(
            reverse("documents:issue", args=[session_pk]), {"kind": kind, "candidate": candidate_pk}
        )
        assert response.status_code == 302, response.status_code

    issue(DocumentKind.CERTIFICATE)
    code = IssuedDocument.objects.filter(kind=DocumentKind.CERTIFICATE).values_list("verification_code", flat=True)[0]

    # — 1, 2: under gunicorn —
    if arguments.no_gunicorn or not shutil.which("wrk"):
        for label, goal in (
            ("liste des candidats (gestion) sous gunicorn", "≥ 0,2 ×"),
            ("page publique /v/<code>/ sous gunicorn", "≥ 0,5 ×"),
        ):
            report.add(label, "non mesuré (--no-gunicorn ou wrk absent)", goal, None)
    else:
        cookie = f"{settings_cookie_name()}={staff_client.cookies[settings_cookie_name()].value}"
        measure_gunicorn(report, connection, workdir, cookie, code, arguments.wrk_seconds)

    # — 3, 5, 9 (page), 10 (CSV), 12: read times, interleaved —
    step("Pages et exports (client de test, DEBUG=0), passes alternées :")
    measures = {
        "grid": lambda: get(trainer_client, grid_url),
        "results": lambda: issue(DocumentKind.RESULTS),
        "presentations": lambda: get(staff_client, presentations_url),
        "csv": lambda: get(staff_client, reverse("statistics:results_csv")),
        "dashboard": lambda: get(staff_client, reverse("statistics:dashboard")),
    }
    times = interleaved(measures, arguments.runs)
    report.add("grille 30 × 9, page entière", ms(times["grid"]), "≤ 50 ms", times["grid"] <= 0.050)
    report.add("relevé de résultats (vue « Émettre »)", ms(times["results"]), "≤ 80 ms", times["results"] <= 0.080)

    # — 7: sign-off at 3 and 30 —
    step("Écritures (une mesure chacune : elles ne se refont pas) :")
    counts, signing = {}, {}
    for size in (3, 30):
        session, _ = volume.session(size, sign=False)
        ContentType.objects.clear_cache()
        hashing = HashingWatch()
        with hashing, CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = president_client.post(reverse("juries:sign_off", args=[session.pk]), {"password": PASSWORD})
            signing[size] = time.perf_counter() - start
        assert response.status_code == 302, response.status_code
        counts[size] = len(queries)
        step(
            f"  signature de {size} candidats : {counts[size]} requêtes, {ms(signing[size])} "
            f"(dont hachage du mot de passe {ms(hashing.seconds)}, "
            f"{'hors' if hashing.outside else 'DANS LA'} transaction)"
        )
    report.add(
        "signature de 30 candidats",
        f"{counts[30]} requêtes (3 : {counts[3]}), {ms(signing[30])}, hachage "
        + ("hors transaction" if hashing.outside else "dans la transaction"),
        "fixe, hachage hors",
        counts[30] == counts[3] and hashing.outside,
    )

    # — 8: deliberation, 6 then 60 decisions changed —
    counts, saving = {}, {}
    for size in (3, 30):
        session, _ = volume.session(size, numbers=(1, 2), decide=False)
        decisions_posted = {
            f"d-{pk}-outcome": outcome
            for pk, outcome in Decision.objects.filter(presentation__session=session).values_list(
                "pk", "proposal_outcome"
            )
        }
        ContentType.objects.clear_cache()
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = president_client.post(reverse("juries:deliberation", args=[session.pk]), decisions_posted)
            saving[size] = time.perf_counter() - start
        assert response.status_code == 302, response.status_code
        counts[size] = len(queries)
        step(f"  délibération, {len(decisions_posted)} décisions : {counts[size]} requêtes, {ms(saving[size])}")
    report.add(
        "délibération, 60 décisions modifiées",
        f"{counts[30]} requêtes (6 décisions : {counts[3]}), {ms(saving[30])}",
        "nombre fixe",
        counts[30] == counts[3],
    )

    # — 9: presenting —
    page = get(staff_client, presentations_url).content.decode()
    if 'name="all"' in page:
        start = time.perf_counter()
        response = staff_client.post(presentations_url, {"all": "1"})
        present_time = time.perf_counter() - start
        presented = to_present.presentations.count()
        figure = f"en un POST : {presented} présentés en {ms(present_time)}"
        met_post = response.status_code == 302 and presented > 0
    else:
        figure, met_post = "« présenter tous les éligibles » non disponible", False
    report.add(
        f"présenter : page à {fr_number(arguments.candidates)} candidats",
        ms(times["presentations"]),
        "≤ 100 ms",
        times["presentations"] <= 0.100,
    )
    report.add("présenter tous les éligibles", figure, "un seul POST", met_post)

    # — 10: exports —
    decisions = Decision.objects.count()
    report.add(
        f"export CSV des résultats à {fr_number(decisions)} décisions",
        ms(times["csv"]),
        "≤ 1 s, en flux",
        times["csv"] <= 1.0,
    )
    start = time.perf_counter()
    response = staff_client.get(reverse("statistics:results_xlsx"))
    xlsx_time = time.perf_counter() - start
    if response.status_code == 200 and response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
        report.add("export XLSX des résultats", f"{ms(xlsx_time)} dans la requête", "tâche de fond si gros", None)
    else:
        start = time.perf_counter()
        response = staff_client.post(reverse("statistics:results_xlsx"))
        request_time = time.perf_counter() - start
        job_time, job_done = run_job_of(response)
        report.add(
            "export XLSX des résultats",
            f"en arrière-plan : demande {ms(request_time)}, travail {fr_number(job_time, 1)} s",
            "tâche de fond si gros",
            job_done and request_time <= 0.5,
        )

    # — 11: CDC declaration, every holder ticked —
    from candidates.models import CertificationAward
    from declarations import services as declarations

    certification = Certification.objects.get(rncp_code="16204")
    declarations.declarant_settings_save(
        certification=certification,
        sender_id_client="IRUP0042",
        certifier_id_client="IRUP0042",
        contract_id="MCFCER000123",
        actor=staff,
    )
    awards = list(CertificationAward.objects.filter(certification=certification).values_list("pk", flat=True))
    start = time.perf_counter()
    response = staff_client.post(
        reverse("declarations:declare", kwargs={"rncp_code": "16204"}), {"awards": awards, "resend": []}
    )
    declare_time = time.perf_counter() - start
    if "/travaux/" in response.get("Location", ""):
        job_time, job_done = run_job_of(response)
        report.add(
            f"déclaration CDC, {fr_number(len(awards))} titulaires cochés",
            f"en arrière-plan : demande {ms(declare_time)}, travail {fr_number(job_time, 1)} s",
            "≤ 0,5 s",
            declare_time <= 0.5 and job_done,
        )
    else:
        report.add(
            f"déclaration CDC, {fr_number(len(awards))} titulaires cochés",
            f"{ms(declare_time)} (réponse {response.status_code})",
            "≤ 0,5 s",
            declare_time <= 0.5 and response.status_code in (200, 302),
        )

    # — 12 —
    report.add(
        f"tableau de bord statistique à {fr_number(decisions)} décisions",
        ms(times["dashboard"]),
        "≤ 200 ms",
        times["dashboard"] <= 0.200,
    )


def run_job_of(response) -> tuple[float, bool]:
    """The background job a POST queued (its page is where it redirected), run here as the worker would: its time,
    and whether it ended done."""
    from django.urls import resolve

    from certif import jobs
    from certif.models import BackgroundJob, JobStatus

    if response.status_code != 302:
        return 0.0, False
    job_id = resolve(urllib.parse.urlsplit(response["Location"]).path).kwargs["pk"]
    start = time.perf_counter()
    jobs.job_run(job_id=job_id)
    elapsed = time.perf_counter() - start
    return elapsed, BackgroundJob.objects.filter(pk=job_id, status=JobStatus.DONE).exists()


def settings_cookie_name() -> str:
    from django.conf import settings

    return settings.SESSION_COOKIE_NAME


class HashingWatch:
    """Times the password hashers' `verify` and notes whether a transaction was open when it ran."""

    def __enter__(self):
        from django.contrib.auth import hashers
        from django.db import connection

        self.seconds, self.outside, self.patched = 0.0, True, []
        for hasher in hashers.get_hashers():
            original = type(hasher).verify

            def verify(hasher_self, password, encoded, _original=original):
                self.outside = self.outside and not connection.in_atomic_block
                start = time.perf_counter()
                try:
                    return _original(hasher_self, password, encoded)
                finally:
                    self.seconds += time.perf_counter() - start

            self.patched.append((type(hasher), original))
            type(hasher).verify = verify
        return self

    def __exit__(self, *exc):
        for cls, original in self.patched:
            cls.verify = original


def grid_of_30(staff, trainer) -> str:
    """A grid of 30 candidates on block 1, every level entered but not submitted: the page as a trainer fills it."""
    from django.urls import reverse

    from evaluation import services as evaluation
    from evaluation.demo import grid_cells
    from evaluation.models import BlockEvaluation
    from tests.factories import evaluated_cohort

    _, enrolments, session = evaluated_cohort(staff, trainer, count=30, numbers=(1,), submit=False, name="Grille 30")
    block_evaluation = BlockEvaluation.objects.select_related("grid", "block").get(session=session)
    evaluation.block_evaluation_save(
        block_evaluation=block_evaluation,
        cells=grid_cells(block_evaluation, [(enrolment, "B") for enrolment in enrolments]),
        actor=trainer,
    )
    return reverse("evaluation:grid", args=[session.pk, block_evaluation.block.number])


if __name__ == "__main__":
    main()
