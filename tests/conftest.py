import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from certif.models import Block, Certification
from certif.roles import Role


@pytest.fixture
def certification(db):
    """RNCP 16204 as `migrate` installs it (post-migrate install of certif/data/rncp-16204.json)."""
    return Certification.objects.get(rncp_code="16204")


@pytest.fixture
def blocks(certification):
    return {block.number: block for block in Block.objects.filter(certification=certification)}


def make_user(username: str, role: str | None, **extra):
    user = get_user_model().objects.create_user(
        username=username, password="mot-de-passe-de-test", first_name=username.capitalize(), **extra
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def staff_user(db):
    return make_user("gestion", Role.STAFF, is_staff=True)


@pytest.fixture
def trainer_user(db):
    return make_user("formatrice", Role.TRAINER)


@pytest.fixture
def president_user(db):
    return make_user("presidente", Role.PRESIDENT)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def trainer_client(client, trainer_user):
    client.force_login(trainer_user)
    return client


@pytest.fixture
def president_client(client, president_user):
    client.force_login(president_user)
    return client
