"""Demo accounts, one per role. Only `seed_demo` (run by `make run`) calls this: never in production."""

import datetime
from contextlib import nullcontext
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from certif import clock
from certif.roles import Role

DEMO_PASSWORD = "mpes-demo-2026"

DEMO_ACCOUNTS: list[dict[str, Any]] = [
    {"username": "gestionnaire", "first_name": "Claire", "last_name": "Moulin", "role": Role.STAFF, "is_staff": True},
    {"username": "formateur", "first_name": "Karim", "last_name": "Benali", "role": Role.TRAINER, "is_staff": False},
    {
        "username": "president",
        "first_name": "Hélène",
        "last_name": "Garnier",
        "role": Role.PRESIDENT,
        "is_staff": False,
    },
]


def create_demo_accounts() -> dict:
    """Create (or reset) the three demo accounts; returns them by role."""
    User = get_user_model()
    accounts = {}
    for spec in DEMO_ACCOUNTS:
        user, _ = User.objects.update_or_create(
            username=spec["username"],
            defaults={
                "first_name": spec["first_name"],
                "last_name": spec["last_name"],
                "email": f"{spec['username']}@demo.irup.invalid",
                "is_staff": spec["is_staff"],
                "is_active": True,
            },
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        user.groups.set([Group.objects.get(name=spec["role"])])
        accounts[spec["role"]] = user
    return accounts


def history_at(day: datetime.date, hour: int = 9, minute: int = 0):
    """Date what the block writes as if done on `day` at `hour`:`minute` (Paris time), through the services' own
    clock (certif.clock). An instant that is not yet past is written at the real time."""
    instant = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))
    if instant >= timezone.now():
        return nullcontext()
    return clock.replaying_history(at=instant)
