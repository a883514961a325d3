"""The certifier's duty to declare every holder to the Caisse des Dépôts within three months of the award (article
L.6113-8 du Code du travail): the deadline, a holder's standing against it, and how the rooms above read who was
declared when.

The deadline and the standing are pure functions of dates. Who counts as declared belongs to the declarations room;
reporting, which may not import it, reads it through the expression that room registers at start-up
(`register_first_declared_at`), so that « declared » has one definition for every page.
"""

import calendar
import datetime
from collections.abc import Callable

from django.db import models
from django.db.models import Value
from django.utils.formats import date_format

DECLARATION_MONTHS = 3
DUE_SOON_DAYS = 15


def declaration_deadline(day: datetime.date) -> datetime.date:
    """The last day to declare a certification awarded on `day`: the same day three calendar months later, or the
    last day of that month when it has no such day (30 November → 28 or 29 February)."""
    month_index = day.month - 1 + DECLARATION_MONTHS
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class DutyStatus(models.TextChoices):
    # Declaration order on a page: the most urgent first.
    OVERDUE = "overdue", "en retard"
    DUE_SOON = "due_soon", f"sous {DUE_SOON_DAYS} jours"
    TO_DECLARE = "to_declare", "à déclarer"
    DECLARED_LATE = "declared_late", "déclaré après l’échéance"
    DECLARED_ON_TIME = "declared_on_time", "déclaré dans le délai"


URGENCY = {status: index for index, status in enumerate(DutyStatus)}
UNDECLARED = frozenset({DutyStatus.OVERDUE, DutyStatus.DUE_SOON, DutyStatus.TO_DECLARE})


def duty_status(*, awarded_on: datetime.date, declared_on: datetime.date | None, today: datetime.date) -> DutyStatus:
    """A holder's standing: declared (on time when the first declaration is dated by the deadline), else overdue
    once the deadline has passed, due soon when at most `DUE_SOON_DAYS` days are left."""
    deadline = declaration_deadline(awarded_on)
    if declared_on is not None:
        return DutyStatus.DECLARED_ON_TIME if declared_on <= deadline else DutyStatus.DECLARED_LATE
    if today > deadline:
        return DutyStatus.OVERDUE
    if (deadline - today).days <= DUE_SOON_DAYS:
        return DutyStatus.DUE_SOON
    return DutyStatus.TO_DECLARE


def long_date(day: datetime.date) -> str:
    """« 21 juin 2023 », « 1er juin 2023 »."""
    text = date_format(day, "j F Y")
    return "1er" + text[1:] if day.day == 1 else text


# — Who was declared when, as the declarations room defines it —

_first_declared_at: list[Callable[[], models.Expression | models.Subquery]] = []


def register_first_declared_at(expression: Callable[[], models.Expression | models.Subquery]) -> None:
    """`expression()` → an annotation of CertificationAward: when the award was first declared (a datetime), or
    NULL. Registered once, by the declarations room."""
    _first_declared_at[:] = [expression]


def first_declared_at():
    """The annotation registered by the declarations room; NULL (nobody declared) when the room is not installed."""
    if not _first_declared_at:
        return Value(None, output_field=models.DateTimeField())
    return _first_declared_at[0]()
