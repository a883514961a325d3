"""Real processes on a real database, as `make run` and a deployment start them: the web server (`runserver`) and
the document worker (`db_worker`), driven over HTTP and stopped by signals, for the tests that race and crash them.

The test process never shares a connection with them: they meet in a database file (SQLite) or in the test
database of a transactional test (PostgreSQL). Data is prepared and read back by `tests/process_steps.py`, run as
its own process on the same database, through the application's services.
"""

import contextlib
import http.cookiejar
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PASSWORD = "mot-de-passe-de-test"


@dataclass
class Database:
    """Where the processes meet: the DATABASE_URL every process of a scenario is started with."""

    url: str
    logs: Path

    def env(self, **extra) -> dict:
        env = {**os.environ, "DATABASE_URL": self.url, "PYTHONUNBUFFERED": "1", "DEBUG": "1", **extra}
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        return env


def sqlite_template(directory: Path) -> Path:
    """A migrated SQLite file (7 s of `migrate`), copied by each scenario instead of migrating again."""
    path = directory / "template.sqlite3"
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{path}"},
        check=True,
        timeout=300,
    )
    return path


def sqlite_database(template: Path, directory: Path) -> Database:
    path = directory / "db.sqlite3"
    shutil.copyfile(template, path)
    return Database(url=f"sqlite:///{path}", logs=directory)


def postgresql_test_database(directory: Path) -> Database:
    """The test database pytest-django created (the test must be transactional: its data is committed)."""
    settings = connection.settings_dict
    user = urllib.parse.quote(settings["USER"] or "")
    password = f":{urllib.parse.quote(settings['PASSWORD'])}" if settings.get("PASSWORD") else ""
    host, port = settings["HOST"] or "127.0.0.1", settings["PORT"] or "5432"
    return Database(url=f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}", logs=directory)


def step(database: Database, name: str, **arguments) -> dict:
    """Run one step of tests/process_steps.py in its own process on the scenario's database; returns its JSON."""
    completed = subprocess.run(
        [PYTHON, "-m", "tests.process_steps", name, json.dumps(arguments)],
        cwd=BASE_DIR,
        env=database.env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if completed.returncode != 0:
        raise AssertionError(f"step {name} failed on {database.url}:\n{completed.stdout}\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


@dataclass
class Process:
    """A manage.py command running in its own process group (as a service, or a terminal's foreground job)."""

    name: str
    popen: subprocess.Popen
    log: Path

    @classmethod
    def start(cls, database: Database, name: str, *args: str) -> "Process":
        log = database.logs / f"{name}-{time.monotonic_ns()}.log"
        handle = log.open("wb")
        popen = subprocess.Popen(
            [PYTHON, "manage.py", *args],
            cwd=BASE_DIR,
            env=database.env(),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        return cls(name=name, popen=popen, log=log)

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self, sig: int) -> None:
        """The signal to this process alone (SIGKILL: the OOM killer, `kill -9`)."""
        self.popen.send_signal(sig)

    def kill_group(self, sig: int) -> None:
        """The signal to the whole process group, as Ctrl+C in a terminal or systemd's stop do."""
        os.killpg(self.popen.pid, sig)

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout=timeout)

    def group_alive(self) -> bool:
        try:
            os.killpg(self.popen.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self) -> None:
        """End the process and every process it started (renderers included), whatever their state."""
        if self.popen.poll() is None:
            self.kill_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=30)
        if self.group_alive():
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)


def start_worker(database: Database, *extra: str) -> Process:
    return Process.start(database, "worker", "db_worker", "--no-reload", "--no-startup-delay", *extra)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: Process
    url: str

    @classmethod
    def start(cls, database: Database) -> "Server":
        port = free_port()
        process = Process.start(database, "server", "runserver", f"127.0.0.1:{port}", "--noreload")
        server = cls(process=process, url=f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                raise AssertionError(f"runserver stopped:\n{process.output}")
            try:
                urllib.request.urlopen(f"{server.url}/connexion/", timeout=5).close()
                return server
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        raise AssertionError(f"runserver does not answer:\n{process.output}")

    def stop(self) -> None:
        self.process.stop()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Response:
    status: int
    text: str
    location: str = ""


@dataclass
class Browser:
    """One person's session over HTTP: cookies, CSRF token, no automatic redirects."""

    server: Server
    cookies: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def __post_init__(self):
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect())

    def _open(self, request) -> Response:
        try:
            with self.opener.open(request, timeout=120) as answer:
                return Response(answer.status, answer.read().decode(), answer.headers.get("Location", ""))
        except urllib.error.HTTPError as error:
            return Response(error.code, error.read().decode(errors="replace"), error.headers.get("Location", ""))

    def get(self, path: str) -> Response:
        return self._open(urllib.request.Request(self.server.url + path))

    def post(self, path: str, data: dict) -> Response:
        token = next((cookie.value for cookie in self.cookies if cookie.name == "csrftoken"), "")
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token}).encode()
        return self._open(urllib.request.Request(self.server.url + path, data=body, method="POST"))

    def log_in(self, username: str, password: str = PASSWORD) -> None:
        self.get("/connexion/")
        response = self.post("/connexion/", {"username": username, "password": password})
        assert response.status == 302, f"login {username}: {response.status}"


def wait_until(predicate, *, timeout: float, interval: float = 0.2, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s: {message}")
