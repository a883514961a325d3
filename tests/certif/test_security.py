"""Locked doors: password guessing throttled per account and per address, the headers every response carries, and
the deploy check that catches mail delivered to nobody.

The suite runs with DEBUG off (pytest-django), as production does.
"""

import datetime
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.db.models import F
from django.test import Client
from django.urls import reverse

from certif.models import AuditEvent
from certif.roles import Role
from juries.models import JurySession, JurySessionStatus
from tests.conftest import make_user
from tests.factories import decide_all, evaluated_cohort, make_jury, present_all

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "mot-de-passe-de-test"
LOCKED = "Trop d&#x27;essais de mot de passe"  # as the pages escape it
LIMIT = 5


def log_in(client, username, password, address, url=None):
    return client.post(url or reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def let_the_cool_off_pass() -> None:
    """Moves every recorded try back by the whole cool-off, as if that time had passed: no sleep, no race with a
    slow machine (a 2-second cool-off and a sleep failed when the tries themselves took longer)."""
    elapsed = settings.AXES_COOLOFF_TIME + datetime.timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - elapsed)
    AccessFailureLog.objects.update(attempt_time=F("attempt_time") - elapsed)


class TestLoginThrottle:
    def test_five_wrong_passwords_lock_the_account_even_from_new_addresses(self, client, president_user):
        for attempt in range(1, LIMIT):
            response = log_in(client, "presidente", "faux", f"10.0.0.{attempt}")
            assert response.status_code == 200 and "Saisissez un nom d’utilisateur et un mot de passe valides" in (
                response.content.decode()
            )
        locked = log_in(client, "presidente", "faux", "10.0.0.5")
        assert locked.status_code == 429 and LOCKED in locked.content.decode()

        response = log_in(client, "presidente", PASSWORD, "10.0.0.99")  # the right password, another address
        assert response.status_code == 429
        html = response.content.decode()
        assert "Connexion temporairement bloquée" in html and LOCKED in html and "bloqué jusqu&#x27;à" in html
        assert not logged_in(client)
        assert log_in(Client(), "gestion-inconnu", "faux", "10.0.0.99").status_code == 200  # others still may try

    def test_five_wrong_passwords_from_one_address_lock_that_address_for_every_account(self, client, staff_user):
        for number in range(LIMIT):
            log_in(client, f"compte{number}", "faux", "192.0.2.7")
        response = log_in(client, "gestion", PASSWORD, "192.0.2.7")
        assert response.status_code == 429 and LOCKED in response.content.decode()
        assert not logged_in(client)
        elsewhere = Client()
        assert log_in(elsewhere, "gestion", PASSWORD, "198.51.100.3").status_code == 302 and logged_in(elsewhere)

    def test_the_lockout_ends_after_the_cool_off(self, client, president_user):
        for _attempt in range(LIMIT):
            log_in(client, "presidente", "faux", "10.0.1.1")
        assert log_in(client, "presidente", PASSWORD, "10.0.1.1").status_code == 429
        let_the_cool_off_pass()
        assert log_in(client, "presidente", PASSWORD, "10.0.1.1").status_code == 302 and logged_in(client)

    def test_the_admin_login_is_throttled_with_the_same_counters(self, client, staff_user):
        admin_login = reverse("admin:login")
        for attempt in range(LIMIT - 1):
            assert log_in(client, "gestion", "faux", f"10.0.2.{attempt}", admin_login).status_code == 200
        log_in(client, "gestion", "faux", "10.0.3.1")  # the fifth, on the application's login page
        response = log_in(client, "gestion", PASSWORD, "10.0.3.2", admin_login)
        assert response.status_code == 429 and LOCKED in response.content.decode()
        assert not logged_in(client)

    def test_failures_and_the_lockout_leave_a_trace_staff_can_read(self, president_user, staff_client):
        client = Client()
        for _attempt in range(LIMIT):
            log_in(client, "presidente", "faux", "10.0.4.1")
        event = AuditEvent.objects.get(action="security.locked_out")
        assert event.target_repr == "presidente" and event.after["ip_address"] == "10.0.4.1"
        assert event.after["failures"] == LIMIT and event.after["path"] == reverse("login")
        assert AccessFailureLog.objects.filter(username="presidente").count() == LIMIT
        log_in(client, "presidente", PASSWORD, "10.0.4.1")  # refused during the lockout: no second event
        assert AuditEvent.objects.filter(action="security.locked_out").count() == 1
        attempts = AccessAttempt.objects.get(username="presidente")
        assert "faux" not in attempts.post_data  # the passwords tried are never stored

        for url in (
            reverse("admin:axes_accessfailurelog_changelist"),
            reverse("admin:axes_accessattempt_changelist"),
            reverse("admin:certif_auditevent_changelist") + "?action=security.locked_out",
        ):
            response = staff_client.get(url)
            assert response.status_code == 200 and "presidente" in response.content.decode(), url


@pytest.fixture
def ready_jury(staff_user, trainer_user, president_user):
    _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=2, name="Promotion verrous")
    session = make_jury(staff_user, president_user)
    present_all(session, enrolments, staff_user)
    decide_all(session, president_user)
    return session


def sign_off(client, session, password, address="10.1.0.1"):
    return client.post(reverse("juries:sign_off", args=[session.pk]), {"password": password}, REMOTE_ADDR=address)


class TestSignaturePasswordThrottle:
    def test_wrong_passwords_then_the_right_one_refused_under_the_field(self, ready_jury, president_client):
        for attempt in range(LIMIT - 1):
            response = sign_off(president_client, ready_jury, f"faux-{attempt}")
            html = response.content.decode()
            assert response.status_code == 400
            assert re.search(r'id="error_1_id_password"[^>]*>\s*<strong>Mot de passe incorrect', html), html
        response = sign_off(president_client, ready_jury, "faux-encore")
        assert response.status_code == 400 and LOCKED in response.content.decode()

        response = sign_off(president_client, ready_jury, PASSWORD, address="10.1.0.2")
        html = response.content.decode()
        assert response.status_code == 400  # the sign-off page, not a lockout page: the message is under the field
        assert re.search(r'id="error_1_id_password"[^>]*>\s*<strong>Trop d&#x27;essais', html), html
        assert "Rien n&#x27;a été signé" in html
        assert JurySession.objects.get(pk=ready_jury.pk).status == JurySessionStatus.PREPARED
        assert AuditEvent.objects.get(action="security.locked_out").after["path"] == reverse(
            "juries:sign_off", args=[ready_jury.pk]
        )
        # Guessing here costs the login's tries: the account is locked there too.
        assert log_in(Client(), "presidente", PASSWORD, "10.1.0.3").status_code == 429

    def test_after_the_cool_off_the_president_signs(self, ready_jury, president_client):
        for _attempt in range(LIMIT):
            sign_off(president_client, ready_jury, "faux")
        assert LOCKED in sign_off(president_client, ready_jury, PASSWORD).content.decode()
        let_the_cool_off_pass()
        response = sign_off(president_client, ready_jury, PASSWORD)
        assert response.status_code == 302
        assert JurySession.objects.get(pk=ready_jury.pk).status == JurySessionStatus.SIGNED

    def test_the_rectification_password_shares_the_counters(self, ready_jury, president_user, president_client):
        from juries import services

        services.jury_session_sign_off(session=ready_jury, signed_by=president_user)
        decision = ready_jury.presentations.first().decisions.first()
        url = reverse("juries:rectify", args=[ready_jury.pk, decision.pk])
        for attempt in range(LIMIT - 2):  # three wrong at the login…
            log_in(Client(), "presidente", "faux", f"10.2.0.{attempt}")
        outcome = "not_validated" if decision.outcome == "validated" else "validated"
        data = {"outcome": outcome, "reason": "Erreur matérielle de report", "password": "faux"}
        first = president_client.post(url, data, REMOTE_ADDR="10.2.1.1")  # …a fourth and a fifth here
        assert first.status_code == 400 and "Mot de passe incorrect" in first.content.decode()
        president_client.post(url, data, REMOTE_ADDR="10.2.1.1")
        response = president_client.post(url, {**data, "password": PASSWORD}, REMOTE_ADDR="10.2.1.2")
        assert response.status_code == 400 and LOCKED in response.content.decode()
        assert not decision.rectifications.exists()

    def test_the_password_change_counts_its_old_password_as_a_try(self, president_client, president_user):
        url = reverse("password_change")
        new = {"new_password1": "Nouveau-mot-de-passe-2026", "new_password2": "Nouveau-mot-de-passe-2026"}
        for _attempt in range(LIMIT - 1):
            response = president_client.post(url, {"old_password": "faux", **new}, REMOTE_ADDR="10.3.0.1")
            assert "Votre ancien mot de passe est incorrect" in response.content.decode()
        president_client.post(url, {"old_password": "faux", **new}, REMOTE_ADDR="10.3.0.1")
        response = president_client.post(url, {"old_password": PASSWORD, **new}, REMOTE_ADDR="10.3.0.1")
        assert response.status_code == 200 and LOCKED in response.content.decode()
        president_user.refresh_from_db()
        assert president_user.check_password(PASSWORD)

    def test_the_admin_s_password_page_leads_to_the_throttled_one(self, staff_client, staff_user):
        response = staff_client.get(reverse("admin:password_change"))
        assert response.status_code == 302 and response["Location"] == reverse("password_change")
        new = {"new_password1": "Nouveau-mot-de-passe-2026", "new_password2": "Nouveau-mot-de-passe-2026"}
        staff_client.post(reverse("admin:password_change"), {"old_password": PASSWORD, **new})
        staff_user.refresh_from_db()
        assert staff_user.check_password(PASSWORD)  # nothing is changed there, whatever is posted


class TestPasswordResetRequests:
    def test_requests_for_a_link_are_limited_per_address(self, client, president_user):
        from django.core import mail

        president_user.email = "helene.garnier@fondation.example"
        president_user.save()
        url = reverse("password_reset")
        for _request in range(5):
            response = client.post(url, {"email": "helene.garnier@fondation.example"}, REMOTE_ADDR="203.0.113.9")
            assert response.status_code == 302
        response = client.post(url, {"email": "helene.garnier@fondation.example"}, REMOTE_ADDR="203.0.113.9")
        assert response.status_code == 200
        assert "Trop de demandes depuis cette adresse" in response.content.decode()
        assert len(mail.outbox) == 5


class TestHeaders:
    def policy(self, response) -> dict[str, str]:
        header = response["Content-Security-Policy"]
        return {part.split()[0]: part.partition(" ")[2] for part in header.split("; ")}

    def assert_page_policies(self, response):
        policy = self.policy(response)
        if b"<script" in response.content:  # the page's scripts carry the nonce
            assert re.fullmatch(r"'self' 'nonce-[\w-]{20,}'", policy["script-src"]), policy["script-src"]
        else:
            assert policy["script-src"] == "'self'"
        assert policy["style-src"] == "'self'"
        assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
        assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"
        assert "unsafe" not in response["Content-Security-Policy"]
        permissions = response["Permissions-Policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
            assert feature in permissions
        assert "no-store" in response["Cache-Control"]

    def test_anonymous_pages(self, client, settings):
        assert settings.DEBUG is False
        for url in (reverse("login"), reverse("password_reset"), "/v/", "/v/ABCD-EFGH-JKLM/", "/sante/"):
            response = client.get(url)
            assert response.status_code in (200, 404), url
            self.assert_page_policies(response)
        not_found = client.get("/connexion/nulle-part/")
        assert not_found.status_code in (302, 404)
        assert "Permissions-Policy" in not_found and "no-store" in not_found["Cache-Control"]

    def test_logged_in_pages_and_the_admin(self, staff_client):
        for url in (reverse("home"), reverse("candidates:list"), reverse("juries:list"), reverse("admin:index")):
            response = staff_client.get(url)
            assert response.status_code == 200, url
            self.assert_page_policies(response)

    def test_the_nonce_in_the_header_is_the_one_in_the_page(self, staff_client):
        response = staff_client.get(reverse("admin:index"))
        nonce = re.search(r"'nonce-([\w-]+)'", response["Content-Security-Policy"]).group(1)
        html = response.content.decode()
        assert f'nonce="{nonce}"' in html
        assert (
            staff_client.get(reverse("admin:index"))["Content-Security-Policy"] != response["Content-Security-Policy"]
        )  # a fresh nonce for each response

    def test_a_document_download_is_not_kept_and_opens_in_the_pdf_viewer(
        self, ready_jury, president_user, staff_client
    ):
        from documents import services as services_documents
        from documents.models import DocumentKind
        from juries import services

        services.jury_session_sign_off(session=ready_jury, signed_by=president_user)
        document = services_documents.document_issue(
            session=ready_jury, kind=DocumentKind.MINUTES, actor=make_user("gestion2", Role.STAFF, is_staff=True)
        )
        for query in ("", "?affichage=1"):
            response = staff_client.get(reverse("documents:download", args=[document.pk]) + query)
            assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
            assert "no-store" in response["Cache-Control"]
            # The browser's PDF viewer embeds the file and styles its frame: only framing stays forbidden.
            assert response["Content-Security-Policy"] == "frame-ancestors 'none'"
            assert "camera=()" in response["Permissions-Policy"]

    def test_static_files_carry_the_policies_and_stay_cacheable(self, settings):
        settings.WHITENOISE_USE_FINDERS = True  # serve from the source folders, as before collectstatic
        settings.WHITENOISE_AUTOREFRESH = True
        response = Client().get("/static/css/app.css")  # a new client: WhiteNoise reads these settings at start
        assert response.status_code == 200
        assert "camera=()" in response["Permissions-Policy"]
        assert "Content-Security-Policy" in response
        assert "no-store" not in response.get("Cache-Control", "")

    def test_templates_carry_no_inline_script_handler_or_style(self):
        """The policy allows no inline script without the nonce and no inline style: the templates have none.

        The documents' templates are excepted: WeasyPrint draws them into PDFs, no browser reads them as pages.
        """
        pdf_templates = ROOT / "templates" / "documents"
        served = {"session_documents.html", "verify.html"}
        for template in (ROOT / "templates").rglob("*.html"):
            if template.parent == pdf_templates and template.name not in served:
                continue
            text = template.read_text(encoding="utf-8")
            for tag in re.findall(r"<script\b[^>]*>", text):
                assert "src=" in tag or 'type="application/json"' in tag or "{% csp_nonce_attr %}" in tag, (
                    template,
                    tag,
                )
            assert not re.search(r"<style\b", text), template
            assert not re.search(r"\sstyle\s*=", text), template
            assert not re.search(r"\son[a-z]+\s*=", text), template


class TestDeployCheck:
    def test_check_deploy_fails_without_mail(self):
        env = {
            **{key: value for key, value in os.environ.items() if key != "EMAIL_HOST"},
            "DEBUG": "0",
            "SECRET_KEY": "x9!" + "k" * 60 + "Zq#unique-production-like-secret",
            "ALLOWED_HOSTS": "mpes.irup.example",
        }
        result = subprocess.run(
            [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        output = result.stdout + result.stderr
        assert result.returncode != 0
        assert "mpes.W002" in output and "EMAIL_HOST" in output
