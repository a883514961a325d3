"""No one takes another's role: staff manage accounts and give the three roles, and nothing more.

Through the admin (the posts a gestionnaire would forge), the pages (jury composition, password links) and the ORM.
"""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from django.urls import reverse

from certif.models import AuditEvent
from certif.roles import Role, roles_of
from juries import services as juries
from juries.models import JuryMember, JurySession, JurySessionStatus
from tests.conftest import make_user
from tests.factories import decide_all, evaluated_cohort, make_jury, present_all

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "mot-de-passe-de-test"
NEW_PASSWORD = "Un-nouveau-mot-de-passe-2026"


def change_url(account):
    return reverse("admin:auth_user_change", args=[account.pk])


def account_post(account, **overrides):
    data = {
        "username": account.username,
        "first_name": account.first_name,
        "last_name": account.last_name,
        "email": account.email or f"{account.username}@irup.example",
        "is_active": "on",
        "roles": sorted(roles_of(account)),
        "_save": "Enregistrer",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def can_log_in(username, password) -> bool:
    client = Client()
    client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR="10.9.9.9")
    return "_auth_user_id" in client.session


def link_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/mot-de-passe/choisir/\S+/)", message.body).group(1)


@pytest.fixture
def other_staff(db):
    return make_user("collegue", Role.STAFF, is_staff=True, email="collegue@irup.example")


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@irup.example", "Mot-de-passe-racine-2026")


class TestStaffCannotEscalate:
    def test_the_change_page_offers_no_superuser_staff_permission_or_password_field(self, staff_client, president_user):
        html = staff_client.get(change_url(president_user)).content.decode()
        for field in ("is_superuser", "is_staff", "user_permissions", "groups", "password", "password1"):
            assert f'name="{field}"' not in html, field
        assert 'name="roles"' in html and "Président de jury" in html
        assert "/password/" not in html  # no link to Django's password page

    def test_own_account_posted_with_superuser_president_and_permissions_stays_as_it_was(
        self, staff_client, staff_user
    ):
        president_group = Group.objects.get(name=Role.PRESIDENT)
        delete_user = Permission.objects.get(codename="delete_user")
        response = staff_client.post(
            change_url(staff_user),
            account_post(
                staff_user,
                first_name="Gestion",
                is_superuser="on",
                is_staff="on",
                groups=[president_group.pk],
                user_permissions=[delete_user.pk],
                roles=[Role.STAFF, Role.PRESIDENT],
            ),
        )
        assert response.status_code == 302
        staff_user = User.objects.get(pk=staff_user.pk)
        assert staff_user.first_name == "Gestion"  # names are theirs to fix
        assert not staff_user.is_superuser
        assert roles_of(staff_user) == {Role.STAFF}
        assert not staff_user.user_permissions.exists()
        assert not staff_user.has_perm("auth.delete_user")

    def test_own_roles_cannot_change(self, staff_client, staff_user):
        page = staff_client.get(change_url(staff_user)).content.decode()
        assert re.search(r'<input[^>]*name="roles"[^>]*disabled', page)
        staff_client.post(change_url(staff_user), account_post(staff_user, roles=[Role.TRAINER], is_active=None))
        staff_user = User.objects.get(pk=staff_user.pk)
        assert roles_of(staff_user) == {Role.STAFF} and staff_user.is_active

    def test_a_superuser_account_is_read_only_for_staff(self, staff_client, superuser):
        assert staff_client.get(change_url(superuser)).status_code == 200  # readable
        response = staff_client.post(change_url(superuser), account_post(superuser, roles=[], is_active=None))
        assert response.status_code == 403
        superuser.refresh_from_db()
        assert superuser.is_active and superuser.is_superuser

    def test_staff_and_president_never_on_one_account(self, staff_client, other_staff, president_user):
        response = staff_client.post(
            change_url(other_staff), account_post(other_staff, roles=[Role.STAFF, "president"])
        )
        assert response.status_code == 200
        assert "à la fois « Gestionnaire IRUP » et « Président de jury »" in response.content.decode()
        assert roles_of(User.objects.get(pk=other_staff.pk)) == {Role.STAFF}

        response = staff_client.post(
            change_url(president_user), account_post(president_user, roles=[Role.STAFF, "president"])
        )
        assert "à la fois « Gestionnaire IRUP » et « Président de jury »" in response.content.decode()
        president = User.objects.get(pk=president_user.pk)
        assert roles_of(president) == {Role.PRESIDENT} and not president.is_staff

    def test_an_unknown_role_is_refused(self, staff_client, president_user):
        response = staff_client.post(change_url(president_user), account_post(president_user, roles=["superuser"]))
        assert response.status_code == 200
        assert roles_of(User.objects.get(pk=president_user.pk)) == {Role.PRESIDENT}


class TestPasswordsAreTheirOwn:
    def test_the_admin_password_page_is_refused_to_staff(self, staff_client, president_user):
        url = reverse("admin:auth_user_password_change", args=[president_user.pk])
        assert staff_client.get(url).status_code == 403
        response = staff_client.post(
            url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
        )
        assert response.status_code == 403
        assert not can_log_in(president_user.username, NEW_PASSWORD)
        assert can_log_in(president_user.username, PASSWORD)

    def test_a_password_posted_in_the_change_form_is_ignored(self, staff_client, president_user):
        before = User.objects.get(pk=president_user.pk).password
        staff_client.post(
            change_url(president_user), account_post(president_user, password=NEW_PASSWORD, password1=NEW_PASSWORD)
        )
        assert User.objects.get(pk=president_user.pk).password == before

    def test_a_new_account_chooses_its_password_from_the_mailed_link(self, staff_client, staff_user):
        response = staff_client.post(
            reverse("admin:auth_user_add"),
            {
                "username": "jlefevre",
                "first_name": "Jeanne",
                "last_name": "Lefèvre",
                "email": "jeanne.lefevre@fondation.example",
                "is_active": "on",
                "roles": ["president"],
                "password1": "choisi-par-le-gestionnaire",
                "password2": "choisi-par-le-gestionnaire",
                "_save": "Enregistrer",
            },
            follow=True,
        )
        html = response.content.decode()
        account = User.objects.get(username="jlefevre")
        assert not account.has_usable_password()  # nothing staff typed became a password
        assert roles_of(account) == {Role.PRESIDENT} and not account.is_staff
        assert "Un lien pour choisir son mot de passe a été envoyé à jeanne.lefevre@fondation.example" in html
        [message] = mail.outbox
        assert message.to == ["jeanne.lefevre@fondation.example"]
        path = link_path(message)
        assert path not in html and "/mot-de-passe/choisir/" not in html  # staff never see the link

        person = Client()
        form_page = person.get(path, follow=True)
        assert "Choisir votre mot de passe" in form_page.content.decode()
        done = person.post(
            form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
        )
        assert "Votre mot de passe est enregistré" in done.content.decode()
        assert can_log_in("jlefevre", NEW_PASSWORD)
        again = Client().get(path, follow=True)
        assert "Ce lien n'est plus valable" in again.content.decode()

        created = AuditEvent.objects.get(action="account.created")
        assert created.actor == staff_user and created.before is None
        assert created.after["roles"] == ["president"] and created.after["is_staff"] is False
        sent = AuditEvent.objects.get(action="account.password_link_sent")
        assert sent.actor == staff_user and sent.after["email"] == "jeanne.lefevre@fondation.example"

    def test_staff_resend_a_link_to_the_address_on_the_account(self, staff_client, president_user):
        president_user.email = "helene.garnier@fondation.example"
        president_user.save()
        response = staff_client.post(
            reverse("admin:auth_user_changelist"),
            {"action": "send_password_link", "_selected_action": [president_user.pk]},
            follow=True,
        )
        assert "envoyé à helene.garnier@fondation.example" in response.content.decode()
        [message] = mail.outbox
        assert message.to == ["helene.garnier@fondation.example"]
        assert link_path(message) not in response.content.decode()

    def test_the_address_of_an_activated_account_is_not_staff_s_to_change(self, staff_client, president_user):
        """Otherwise staff would redirect the president's links to themselves, then choose the password."""
        president_user.email = "helene.garnier@fondation.example"
        president_user.save()
        staff_client.post(change_url(president_user), account_post(president_user, email="gestion@irup.example"))
        assert User.objects.get(pk=president_user.pk).email == "helene.garnier@fondation.example"
        from certif import accounts

        president_user.email = "gestion@irup.example"
        with pytest.raises(ValidationError, match="que par un superutilisateur"):
            accounts.account_save(
                account=president_user, roles={Role.PRESIDENT}, actor=User.objects.get(username="gestion")
            )

    def test_forgotten_password_goes_to_the_person_not_to_who_asks(self, staff_client, president_user):
        president_user.email = "helene.garnier@fondation.example"
        president_user.save()
        response = staff_client.post(
            reverse("password_reset"), {"email": "helene.garnier@fondation.example"}, follow=True
        )
        assert "Lien envoyé" in response.content.decode()
        [message] = mail.outbox
        assert message.to == ["helene.garnier@fondation.example"]
        assert link_path(message) not in response.content.decode()


class TestStaffStatusFollowsTheRole:
    def test_giving_and_removing_the_gestionnaire_role(self, staff_client, staff_user, trainer_user):
        trainer_user.email = "formatrice@irup.example"
        trainer_user.save()
        staff_client.post(change_url(trainer_user), account_post(trainer_user, roles=[Role.TRAINER, Role.STAFF]))
        account = User.objects.get(pk=trainer_user.pk)
        assert account.is_staff and roles_of(account) == {Role.TRAINER, Role.STAFF}
        staff_client.post(change_url(account), account_post(account, roles=[Role.TRAINER]))
        account = User.objects.get(pk=trainer_user.pk)
        assert not account.is_staff and roles_of(account) == {Role.TRAINER}

        given, removed = AuditEvent.objects.filter(action="account.roles_changed").order_by("occurred_at", "pk")
        assert given.actor == staff_user
        assert (given.before["roles"], given.after["roles"]) == (["formateur"], ["formateur", "gestionnaire"])
        assert (given.before["is_staff"], given.after["is_staff"]) == (False, True)
        assert (removed.before["roles"], removed.after["roles"]) == (["formateur", "gestionnaire"], ["formateur"])

    def test_role_changes_are_readable_by_staff(self, staff_client, trainer_user):
        trainer_user.email = "formatrice@irup.example"
        trainer_user.save()
        staff_client.post(change_url(trainer_user), account_post(trainer_user, roles=[Role.TRAINER, "president"]))
        listing = staff_client.get(reverse("admin:certif_auditevent_changelist") + "?action=account.roles_changed")
        assert "account.roles_changed" in listing.content.decode()
        history = staff_client.get(change_url(trainer_user)).content.decode()
        assert "Historique du compte" in history
        assert "rôles modifiés : rôles : Formateur → Formateur, Président de jury" in history


class TestSuperusersKeepFullPower:
    def test_superuser_uses_django_s_full_pages(self, client, superuser, president_user):
        client.force_login(superuser)
        html = client.get(change_url(president_user)).content.decode()
        assert 'name="is_superuser"' in html and 'name="user_permissions"' in html
        url = reverse("admin:auth_user_password_change", args=[president_user.pk])
        assert client.get(url).status_code == 200

    def test_even_a_superuser_cannot_make_a_president_staff(self, client, superuser, president_user):
        client.force_login(superuser)
        president_group = Group.objects.get(name=Role.PRESIDENT)
        response = client.post(
            change_url(president_user),
            {
                "username": president_user.username,
                "is_active": "on",
                "is_staff": "on",
                "groups": [president_group.pk],
                "date_joined_0": "2026-01-05",
                "date_joined_1": "09:00:00",
                "_save": "Enregistrer",
            },
        )
        assert response.status_code == 200
        assert "à la fois « Gestionnaire IRUP » et « Président de jury »" in response.content.decode()
        assert not User.objects.get(pk=president_user.pk).is_staff

    def test_superuser_role_changes_are_audited(self, client, superuser, trainer_user):
        client.force_login(superuser)
        staff_group = Group.objects.get(name=Role.STAFF)
        trainer_group = Group.objects.get(name=Role.TRAINER)
        response = client.post(
            change_url(trainer_user),
            {
                "username": trainer_user.username,
                "is_active": "on",
                "is_staff": "on",
                "groups": [staff_group.pk, trainer_group.pk],
                "date_joined_0": "2026-01-05",
                "date_joined_1": "09:00:00",
                "_save": "Enregistrer",
            },
        )
        assert response.status_code == 302
        event = AuditEvent.objects.get(action="account.roles_changed")
        assert event.actor == superuser and event.after["roles"] == ["formateur", "gestionnaire"]


class TestEveryDoor:
    def test_the_orm_refuses_staff_and_president_together(self, staff_user, president_user):
        president_group = Group.objects.get(name=Role.PRESIDENT)
        staff_group = Group.objects.get(name=Role.STAFF)

        def give_staff_status():
            president_user.is_staff = True
            president_user.save()

        for attempt in (
            lambda: staff_user.groups.add(president_group),
            lambda: president_group.user_set.add(staff_user),
            lambda: president_user.groups.add(staff_group),
            give_staff_status,
        ):
            with pytest.raises(ValidationError, match="à la fois"), transaction.atomic():
                attempt()
        assert roles_of(User.objects.get(pk=staff_user.pk)) == {Role.STAFF}
        president = User.objects.get(pk=president_user.pk)
        assert roles_of(president) == {Role.PRESIDENT} and not president.is_staff


@pytest.fixture
def ready_jury(staff_user, trainer_user, president_user):
    _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=2, name="Promotion des comptes")
    session = make_jury(staff_user, president_user)
    present_all(session, enrolments, staff_user)
    decide_all(session, president_user)
    return session


class TestStaffNeverPreside:
    def test_the_member_page_offers_and_accepts_only_president_accounts(self, staff_client, staff_user, ready_jury):
        url = reverse("juries:member_add", args=[ready_jury.pk])
        form_html = staff_client.get(url).content.decode()
        assert f'<option value="{staff_user.pk}"' not in form_html
        president = ready_jury.members.get(is_president=True)
        response = staff_client.post(
            reverse("juries:member_edit", args=[ready_jury.pk, president.pk]),
            {
                "name": president.name,
                "organisation": president.organisation,
                "category": president.category,
                "is_president": "on",
                "user": staff_user.pk,
            },
        )
        assert response.status_code == 400
        assert ready_jury.members.get(is_president=True).user.username == "presidente"

    def test_the_service_refuses_an_account_with_staff_power(self, staff_user, president_user, ready_jury):
        president = ready_jury.members.get(is_president=True)
        president.user = staff_user
        with pytest.raises(ValidationError, match="rôle « Président de jury »"):
            juries.jury_member_save(member=president, actor=staff_user)
        # An account given staff status by a door that skips every check (a bulk UPDATE) is refused too.
        User.objects.filter(pk=president_user.pk).update(is_staff=True)
        president = JuryMember.objects.get(pk=president.pk)
        with pytest.raises(ValidationError, match="compte de gestion"):
            juries.jury_member_save(member=president, actor=staff_user)

    def test_signing_is_refused_to_an_account_that_gained_staff_power(
        self, ready_jury, president_user, president_client
    ):
        User.objects.filter(pk=president_user.pk).update(is_staff=True)
        response = president_client.post(reverse("juries:sign_off", args=[ready_jury.pk]), {"password": PASSWORD})
        assert response.status_code == 400
        assert "le seul rôle « Président de jury »" in response.content.decode()
        assert JurySession.objects.get(pk=ready_jury.pk).status == JurySessionStatus.PREPARED

    def test_signing_is_refused_once_the_president_role_is_taken_away(self, ready_jury, president_user, staff_user):
        from certif import accounts

        president_user.email = "presidente@fondation.example"
        president_user.save()
        accounts.account_save(account=president_user, roles=set(), actor=staff_user)
        president = User.objects.get(pk=president_user.pk)
        with pytest.raises(ValidationError, match="le seul rôle « Président de jury »"):
            juries.jury_session_sign_off(session=ready_jury, signed_by=president)

    def test_the_observed_takeover_fails_at_every_step(self, staff_client, staff_user, president_user, ready_jury):
        """As observed: make oneself superuser and president, set the president's password, sign as them."""
        president_group = Group.objects.get(name=Role.PRESIDENT)
        staff_client.post(
            change_url(staff_user),
            account_post(staff_user, is_superuser="on", groups=[president_group.pk], roles=[Role.STAFF, "president"]),
        )
        staff_client.post(
            reverse("admin:auth_user_password_change", args=[president_user.pk]),
            {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
        )
        response = staff_client.post(reverse("juries:sign_off", args=[ready_jury.pk]), {"password": PASSWORD})
        assert response.status_code == 403
        assert not can_log_in(president_user.username, NEW_PASSWORD)
        staff_user = User.objects.get(pk=staff_user.pk)
        assert not staff_user.is_superuser and roles_of(staff_user) == {Role.STAFF}
        assert JurySession.objects.get(pk=ready_jury.pk).status == JurySessionStatus.PREPARED
