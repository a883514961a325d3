#!/usr/bin/env python
"""The README's screenshots (not a test): `.venv/bin/python scripts/screenshots.py`.

Builds the demonstration on a throwaway SQLite database (`migrate` + `seed_demo`, as `make run` does), serves it
with `runserver` on a free local port, and photographs it in Debian's Chromium at 1280 px wide:

- docs/screenshots/grille.png: the trainer's grid of the cohort being evaluated (block 2);
- docs/screenshots/deliberation.png: the president's deliberation page of the jury to deliberate today;
- docs/certificat.png: a certificate of the demo's jury of 17 June 2025, rendered by WeasyPrint as the worker renders
  it (nothing is stored), turned into an image by Poppler's `pdftoppm` (Debian package poppler-utils).

`--url http://127.0.0.1:8000` photographs a demonstration already running instead (nothing is built, no certificate).
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
PASSWORD = "mpes-demo-2026"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(*arguments, env, **kwargs):
    return subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, check=True, **kwargs)


def wait_until_up(url: str, server) -> None:
    for _ in range(120):
        if server.poll() is not None:
            raise SystemExit("Le serveur de démonstration s'est arrêté.")
        try:
            urllib.request.urlopen(f"{url}/sante/", timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("Le serveur de démonstration ne répond pas.")


def log_in(page, url, username):
    page.goto(f"{url}/connexion/")
    page.get_by_label("Nom d’utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{url}/")


def photograph(url: str) -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        context = browser.new_context(
            locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1280, "height": 900}
        )
        page = context.new_page()

        log_in(page, url, "formateur")
        page.get_by_role("link", name="bloc 2", exact=False).first.click()
        page.get_by_role("heading", name="Grille du bloc 2").wait_for()
        page.locator("select.level").first.focus()
        page.screenshot(path=str(OUT / "grille.png"))
        page.get_by_role("button", name="Se déconnecter").click()

        log_in(page, url, "president")
        page.get_by_role("link", name="26 novembre 2026", exact=False).first.click()
        page.locator("#deliberation").wait_for()
        # A departure from the proposal being typed, not saved (nothing is written): its reason box opens and
        # the cell says it is not saved.
        page.set_viewport_size({"width": 1280, "height": 1000})
        departure = page.locator("select.decision").nth(1)
        departure.select_option("validated")
        departure.evaluate("select => select.closest('td').querySelector('textarea').value = 'Épreuve orale probante.'")
        departure.dispatch_event("input")
        page.locator("#deliberation").scroll_into_view_if_needed()
        page.evaluate("window.scrollTo(0, document.getElementById('deliberation-summary').offsetTop - 16)")
        page.screenshot(path=str(OUT / "deliberation.png"))
        browser.close()
    for name in ("grille.png", "deliberation.png"):
        print(f"{OUT / name} : {(OUT / name).stat().st_size // 1024} Ko")


# Run by `manage.py shell` on the demo's database: the certificate exactly as a batch would render it.
CERTIFICATE_SCRIPT = """
import sys
from documents.content import SessionData, issuable, prepare, session_slots
from documents.models import DocumentKind
from documents.pdf import html_to_pdf
from juries.models import JurySession
session = JurySession.objects.filter(status="signed", certification__rncp_code="99901").earliest("date")
data = SessionData(session)
slot = next(slot for slot in issuable(session_slots(session)) if slot.kind == DocumentKind.CERTIFICATE)
sys.stdout.buffer.write(html_to_pdf(prepare(data, slot).html))
"""


def certificate_image(env) -> None:
    if not shutil.which("pdftoppm"):
        print("pdftoppm absent (apt-get install poppler-utils) : docs/certificat.png n'est pas refait.")
        return
    pdf = manage("shell", "-c", CERTIFICATE_SCRIPT, env=env, stdout=subprocess.PIPE).stdout
    target = ROOT / "docs" / "certificat"
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", "-", str(target)], input=pdf, check=True)
    print(f"{target}.png : {target.with_suffix('.png').stat().st_size // 1024} Ko")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="une démonstration qui tourne déjà (rien n'est construit)")
    arguments = parser.parse_args()
    if arguments.url:
        photograph(arguments.url.rstrip("/"))
        return
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{Path(folder) / 'demo.sqlite3'}",
            "DEBUG": "true",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        }
        manage("migrate", "--noinput", "-v0", env=env)
        manage("seed_demo", env=env, stdout=subprocess.DEVNULL)
        certificate_image(env)
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_up(f"http://127.0.0.1:{port}", server)
            photograph(f"http://127.0.0.1:{port}")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
