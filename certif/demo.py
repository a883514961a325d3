"""Demo accounts, one per role, and the demo's successor fiche. Only `seed_demo` (run by `make run`) calls this:
never in production.

The successor, RNCP99901, is the illustrative fiche of France Compétences' sample export kept in the project
(`certif/data/export-fiches-rncp-v4-1-exemple.xml`): not a real fiche, and flagged as such on every page. It is
installed through the same import staff use, on 6 January 2025 (after its registration of 20 December 2024), and its
correspondence table is recorded two days later, so that the blocks earned under RNCP 16204 carry over.
"""

import datetime
from contextlib import nullcontext
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from certif import clock
from certif.fiche_import import fiche_import_apply
from certif.models import Block, BlockCorrespondence, Certification
from certif.referential import DATA_DIR
from certif.rncp_export import read_fiches
from certif.roles import Role
from certif.services import block_correspondences_set

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


DEMO_FICHE = "16204"
DEMO_SUCCESSOR = "99901"
SUCCESSOR_EXPORT = DATA_DIR / "export-fiches-rncp-v4-1-exemple.xml"
SUCCESSOR_INSTALLED_ON = datetime.date(2025, 1, 6)
CORRESPONDENCES_RECORDED_ON = datetime.date(2025, 1, 8)
# New block → the RNCP 16204 blocks that give it together. The new block 3 adds risk prevention, social dialogue
# and budget to the old block 3: no correspondence, it is evaluated anew.
DEMO_CORRESPONDENCES: dict[int, tuple[int, ...]] = {1: (2,), 2: (1, 2), 3: (), 4: (4,)}


def create_demo_successor(*, staff) -> Certification:
    """Install the example successor fiche and its correspondence table (found again when present)."""
    successor = Certification.objects.filter(rncp_code=DEMO_SUCCESSOR).first()
    if successor is None:
        with history_at(SUCCESSOR_INSTALLED_ON, 11):
            fiches = read_fiches(SUCCESSOR_EXPORT, [f"RNCP{DEMO_SUCCESSOR}"])
            fiche_import_apply(fiches=fiches, thresholds=None, actor=staff, is_example=True)
        successor = Certification.objects.get(rncp_code=DEMO_SUCCESSOR)
    if not BlockCorrespondence.objects.filter(block__certification=successor).exists():
        previous = {block.number: block for block in Block.objects.filter(certification__rncp_code=DEMO_FICHE)}
        with history_at(CORRESPONDENCES_RECORDED_ON, 15):
            for block in Block.objects.filter(certification=successor).order_by("number"):
                numbers = DEMO_CORRESPONDENCES.get(block.number, ())
                if numbers:
                    block_correspondences_set(
                        block=block, previous_blocks=[previous[number] for number in numbers], actor=staff
                    )
    return successor
