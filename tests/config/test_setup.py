"""What a new user and an operator rely on: roles, demo accounts, deploy checks, French locale."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import formats, timezone

from certif.demo import DEMO_PASSWORD
from certif.roles import Role, roles_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_the_three_roles_exist_with_their_permissions():
    staff = Group.objects.get(name=Role.STAFF)
    trainer = Group.objects.get(name=Role.TRAINER)
    president = Group.objects.get(name=Role.PRESIDENT)
    assert staff.permissions.filter(codename="manage_referential").exists()
    assert not trainer.permissions.filter(codename="manage_referential").exists()
    assert not president.permissions.filter(codename="manage_referential").exists()
    assert staff.permissions.filter(codename="add_user").exists()


@pytest.mark.django_db
def test_seed_demo_creates_one_account_per_role_and_can_run_twice(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    output = capsys.readouterr().out
    assert DEMO_PASSWORD in output
    for username, role in (
        ("gestionnaire", Role.STAFF),
        ("formateur", Role.TRAINER),
        ("president", Role.PRESIDENT),
    ):
        # A request, as every login has one: the throttle counts tries per account and per client address.
        user = authenticate(RequestFactory().post("/connexion/"), username=username, password=DEMO_PASSWORD)
        assert user is not None
        assert roles_of(user) == {role}


def test_interface_is_french_with_paris_time(settings):
    assert settings.LANGUAGE_CODE == "fr-fr"
    assert settings.TIME_ZONE == "Europe/Paris"
    day = timezone.datetime(2023, 4, 17).date()
    assert formats.date_format(day, "j F Y") == "17 avril 2023"


def test_login_is_required_everywhere_but_explicit_opt_outs(settings):
    assert "django.contrib.auth.middleware.LoginRequiredMiddleware" in settings.MIDDLEWARE


def test_no_cdn_in_templates():
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "cdn." not in text and "//unpkg" not in text and "jsdelivr" not in text, template


def test_check_deploy_passes_with_debug_off_and_real_secrets():
    env = {
        **{key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DEBUG": "0",
        "SECRET_KEY": "x9!" + "k" * 60 + "Zq#unique-production-like-secret",
        "ALLOWED_HOSTS": "mpes.irup.example",
        "EMAIL_HOST": "smtp.irup.example",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_settings_refuse_to_start_without_secret_key_when_debug_is_off():
    env = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"}
    env["DEBUG"] = "0"
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "SECRET_KEY doit être défini" in result.stderr
