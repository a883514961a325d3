"""Locked doors in real headless Chromium: the admin's scripts run under the Content-Security-Policy, staff open an
account whose owner chooses the password from the mailed link, and password guessing meets the French lockout page.

Each journey fails on any Content-Security-Policy violation the browser reports (see conftest's `page`).
"""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from certif.roles import Role, roles_of
from tests.browser.conftest import log_in, watch_content_security_policy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

User = get_user_model()
ROOT_PASSWORD = "Mot-de-passe-racine-2026"


@pytest.mark.parametrize("width", [1280, 390])
def test_the_admin_s_own_scripts_run_under_the_policy(page, live_server, width, president_user):
    page.set_viewport_size({"width": width, "height": 900})
    User.objects.create_superuser("root", "root@irup.example", ROOT_PASSWORD)
    page.goto(f"{live_server.url}/admin/login/")
    page.locator("#id_username").fill("root")
    page.locator("#id_password").fill(ROOT_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.get_by_role("heading", name="Administration de l'application").wait_for()

    page.goto(f"{live_server.url}/admin/auth/user/{president_user.pk}/change/")
    # Built by the admin's JavaScript: the two-list group chooser (SelectFilter2) and the date shortcuts.
    page.locator("#id_groups_from").wait_for()
    assert page.locator(".selector-chooseall").first.is_visible()
    assert page.locator(".datetimeshortcuts").get_by_text("Aujourd'hui").first.is_visible()
    page.locator(".datetimeshortcuts").get_by_text("Aujourd'hui").first.click()
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", page.locator("#id_date_joined_0").input_value())

    page.goto(f"{live_server.url}/admin/auth/user/")
    page.locator("#result_list").wait_for()
    page.locator("#action-toggle").check()  # actions.js ticks every row
    assert page.locator("input.action-select:checked").count() == User.objects.count()


@pytest.mark.parametrize("width", [1280, 390])
def test_staff_open_an_account_and_its_owner_chooses_the_password(page, browser, live_server, width, staff_user):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, staff_user.username)
    page.goto(f"{live_server.url}/admin/auth/user/add/")
    assert page.locator("input[name=password1]").count() == 0  # staff never type someone's password
    assert page.locator("input[name=is_superuser]").count() == 0
    page.locator("#id_username").fill("mfabre")
    page.locator("#id_first_name").fill("Mathilde")
    page.locator("#id_last_name").fill("Fabre")
    page.locator("#id_email").fill("mathilde.fabre@irup.example")
    page.get_by_label("Formateur").check()
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    page.get_by_text("Un lien pour choisir son mot de passe a été envoyé à mathilde.fabre@irup.example").wait_for()
    assert "/mot-de-passe/choisir/" not in page.content()

    [message] = mail.outbox
    link = re.search(r"https?://\S+/(mot-de-passe/choisir/\S+/)", message.body).group(1)
    owner = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    owner_page = owner.new_page()
    violations = watch_content_security_policy(owner_page)
    owner_page.set_viewport_size({"width": width, "height": 900})
    owner_page.goto(f"{live_server.url}/{link}")
    owner_page.get_by_role("heading", name="Choisir votre mot de passe").wait_for()
    owner_page.locator("#id_new_password1").fill("Grille-de-Mathilde-2026")
    owner_page.locator("#id_new_password2").fill("Grille-de-Mathilde-2026")
    owner_page.get_by_role("button", name="Enregistrer mon mot de passe").click()
    owner_page.get_by_role("heading", name="Mot de passe enregistré").wait_for()
    log_in(owner_page, live_server, "mfabre", "Grille-de-Mathilde-2026")
    assert owner_page.get_by_text("Mathilde Fabre · Formateur").is_visible()
    owner.close()
    assert not violations, violations
    assert roles_of(User.objects.get(username="mfabre")) == {Role.TRAINER}


@pytest.mark.parametrize("width", [1280, 390])
def test_guessing_a_password_meets_the_french_lockout_page(page, live_server, width, president_user):
    page.set_viewport_size({"width": width, "height": 900})
    for _ in range(5):
        page.goto(f"{live_server.url}/connexion/")
        page.get_by_label("Nom d’utilisateur").fill("presidente")
        page.get_by_label("Mot de passe").fill("au-hasard")
        page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name="Connexion temporairement bloquée").wait_for()
    assert page.get_by_role("alert").get_by_text(re.compile("Trop d'essais de mot de passe")).is_visible()

    page.goto(f"{live_server.url}/connexion/")
    page.get_by_label("Nom d’utilisateur").fill("presidente")
    page.get_by_label("Mot de passe").fill("mot-de-passe-de-test")  # the right one, refused during the lockout
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name="Connexion temporairement bloquée").wait_for()
    page.get_by_role("link", name=re.compile("Mot de passe oublié")).click()
    page.get_by_role("heading", name="Mot de passe oublié").wait_for()
