"""The three-month duty as the pages read it: each holder's deadline and standing, and the counts per certification
(« 3 titulaires à déclarer, dont 1 à déclarer sous 15 jours et 1 en retard »), in a bounded number of queries.

« Today » is the services' clock (`certif.clock.localdate()`), so that the demo's replayed history reads as it did.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from candidates.declaration_duty import (
    DUE_SOON_DAYS,
    UNDECLARED,
    URGENCY,
    DutyStatus,
    declaration_deadline,
    duty_status,
    long_date,
)
from candidates.models import CertificationAward
from certif.models import Certification
from certif.text import counted
from declarations.models import HolderDeclarationLine
from declarations.selectors import missing_data


def declared_lines() -> QuerySet[HolderDeclarationLine]:
    """The flux lines that make a holder « declared »: every line of a recorded flux but those the Caisse des Dépôts
    rejected in its processing report (a line without an answer yet counts: the flux was sent in time).

    The single definition every page, count and statistic follows (through `first_declared_at`, which the
    statistics read by way of `candidates.declaration_duty`): a rejected holder is to declare again, and on time
    only if a later flux reaches the CDC by the deadline.
    """
    return HolderDeclarationLine.objects.exclude(outcome__accepted=False)


def first_declared_at() -> Subquery:
    """Annotation of CertificationAward: the date and time of the first flux that declared it, or NULL."""
    return Subquery(
        declared_lines()
        .filter(award_id=OuterRef("pk"))
        .order_by("declaration__created_at", "declaration_id")
        .values("declaration__created_at")[:1]
    )


def declared_award_ids(certification: Certification) -> QuerySet:
    """The certification's awards counted as declared (a subquery, for filters)."""
    return declared_lines().filter(award__certification=certification).values("award_id")


@dataclass(frozen=True)
class HolderDuty:
    award_id: int
    awarded_on: datetime.date
    declared_on: datetime.date | None
    today: datetime.date
    award: CertificationAward | None = field(default=None, compare=False)  # with its candidate, where listed

    @property
    def deadline(self) -> datetime.date:
        return declaration_deadline(self.awarded_on)

    @property
    def status(self) -> DutyStatus:
        return duty_status(awarded_on=self.awarded_on, declared_on=self.declared_on, today=self.today)

    @property
    def is_declared(self) -> bool:
        return self.status not in UNDECLARED

    @property
    def is_overdue(self) -> bool:
        return self.status == DutyStatus.OVERDUE

    @property
    def is_due_soon(self) -> bool:
        return self.status == DutyStatus.DUE_SOON

    @property
    def deadline_text(self) -> str:
        return long_date(self.deadline)

    @property
    def sentence(self) -> str:
        """« à déclarer avant le 21 juin 2023 », or how the first declaration stood against the deadline."""
        if self.declared_on is None:
            return f"à déclarer avant le {self.deadline_text}"
        when = "dans le délai" if self.status == DutyStatus.DECLARED_ON_TIME else "après l’échéance"
        return f"déclaré le {long_date(self.declared_on)}, {when} du {self.deadline_text}"

    @property
    def sort_key(self) -> tuple:
        return (URGENCY[self.status], self.deadline, self.award_id)


@dataclass
class DutyCounts:
    """How many holders of a certification (certificates in force) stand where against the deadline."""

    to_declare: int = 0  # not declared, whatever the deadline (due soon and overdue included)
    due_soon: int = 0
    overdue: int = 0
    declared_on_time: int = 0
    declared_late: int = 0
    holders: list[HolderDuty] = field(default_factory=list, repr=False)

    def add(self, duty: HolderDuty) -> None:
        self.holders.append(duty)
        status = duty.status
        self.to_declare += status in UNDECLARED
        self.due_soon += status == DutyStatus.DUE_SOON
        self.overdue += status == DutyStatus.OVERDUE
        self.declared_on_time += status == DutyStatus.DECLARED_ON_TIME
        self.declared_late += status == DutyStatus.DECLARED_LATE

    @property
    def urgent(self) -> list[HolderDuty]:
        """Overdue then due soon, the most urgent first."""
        return sorted((d for d in self.holders if d.is_overdue or d.is_due_soon), key=lambda d: d.sort_key)

    @property
    def incomplete(self) -> list[HolderDuty]:
        """The holders still to declare whose file lacks what the flux needs, the most urgent first (reads each
        duty's award and candidate, as `counts_by_certification` gives them: no query)."""
        return sorted(
            (d for d in self.holders if not d.is_declared and d.award is not None and missing_data(d.award)),
            key=lambda d: d.sort_key,
        )

    @property
    def text(self) -> str:
        """« 3 titulaires à déclarer, dont 1 à déclarer sous 15 jours et 1 en retard »."""
        if not self.to_declare:
            return "Aucun titulaire à déclarer"
        head = f"{counted(self.to_declare, 'titulaire', 'titulaires')} à déclarer"
        parts = []
        if self.due_soon:
            parts.append(f"{self.due_soon} à déclarer sous {DUE_SOON_DAYS} jours")
        if self.overdue:
            parts.append(f"{self.overdue} en retard")
        return f"{head}, dont {' et '.join(parts)}" if parts else head


def _local_day(moment: datetime.datetime | None) -> datetime.date | None:
    return timezone.localdate(moment) if moment else None


def holder_duties(certification: Certification, today: datetime.date) -> dict[int, HolderDuty]:
    """Every holder of the certification (certificates in force), by award id: one query."""
    rows = (
        CertificationAward.objects.in_force()
        .filter(certification=certification)
        .annotate(first_declared_at=first_declared_at())
        .values("pk", "awarded_on", "first_declared_at")
    )
    return {
        row["pk"]: HolderDuty(
            award_id=row["pk"],
            awarded_on=row["awarded_on"],
            declared_on=_local_day(row["first_declared_at"]),
            today=today,
        )
        for row in rows
    }


def counts_for(certification: Certification, today: datetime.date) -> DutyCounts:
    counts = DutyCounts()
    for duty in holder_duties(certification, today).values():
        counts.add(duty)
    return counts


def counts_by_certification(today: datetime.date) -> dict[int, DutyCounts]:
    """Every certification's counts, by certification id (those without a holder are absent), each duty with its
    award and candidate: one query."""
    awards = (
        CertificationAward.objects.in_force()
        .select_related("candidate")
        .annotate(first_declared_at=first_declared_at())
        .order_by("certification_id", "awarded_on", "pk")
    )
    counts: dict[int, DutyCounts] = {}
    for award in awards:
        duty = HolderDuty(
            award_id=award.pk,
            awarded_on=award.awarded_on,
            declared_on=_local_day(award.first_declared_at),
            today=today,
            award=award,
        )
        counts.setdefault(award.certification_id, DutyCounts()).add(duty)
    return counts
