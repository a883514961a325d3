"""Reads of the referential that every room shares."""

import datetime
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from certif.models import Block, BlockCorrespondence, Certification, Registration


def certifications_with_registrations() -> QuerySet[Certification]:
    """Every installed certification, with what `in_force_on` / `force_label` read (one query more)."""
    return Certification.objects.prefetch_related(
        Prefetch("registrations", queryset=Registration.objects.order_by("in_force_from"))
    ).order_by("rncp_code")


def certifications_in_force_first(day: datetime.date | None = None) -> list[Certification]:
    """Every installed certification, those in force on `day` (today) first, then by code: the order of a choice."""
    day = day or timezone.localdate()
    certifications = list(certifications_with_registrations())
    return sorted(certifications, key=lambda certification: not certification.in_force_on(day))


def certification_choice_label(certification: Certification, day: datetime.date | None = None) -> str:
    """« RNCP99901 — title (en vigueur) » / « … (enregistrement terminé le 17/04/2023) », as choices read."""
    return f"{certification.display_name} ({certification.force_label(day or timezone.localdate())})"


def certification_filter(request) -> tuple[Certification | None, list[Certification]]:
    """The certification a list page is filtered by (`?certification=16204`, None for all of them) and every
    installed certification (the filter's choices), in one query."""
    certifications = list(Certification.objects.order_by("rncp_code"))
    code = request.GET.get("certification", "").strip().removeprefix("RNCP")
    chosen = next((item for item in certifications if item.rncp_code == code), None) if code else None
    return chosen, certifications


# — Renewals: which blocks of a previous fiche give which blocks of its successor —

NO_CORRESPONDENCE = "aucune correspondance"


def rncp_number(code: str) -> str:
    """« RNCP16204 » → « 16204 » (the codes the fiche lists carry the prefix, `Certification.rncp_code` does not)."""
    code = code.strip().upper()
    return code[4:] if code.startswith("RNCP") else code


def predecessors_of(certification: Certification) -> list[Certification]:
    """The fiches installed here that the certification's fiche names as previous ones."""
    codes = [rncp_number(code) for code in certification.previous_rncp_codes or []]
    return list(Certification.objects.filter(rncp_code__in=codes)) if codes else []


def successors_of(certification: Certification) -> list[Certification]:
    codes = [rncp_number(code) for code in certification.next_rncp_codes or []]
    return list(Certification.objects.filter(rncp_code__in=codes)) if codes else []


@dataclass
class CorrespondenceRow:
    """One block of the fiche and the blocks of the other fiche it is linked to (`others`: the previous blocks that
    give it, or the new blocks it contributes to); frozen once a candidate acquired a block through it."""

    block: Block
    others: list[Block]
    frozen: bool
    first_used_at: datetime.datetime | None

    @property
    def codes(self) -> str:
        return " + ".join(block.code for block in self.others) or NO_CORRESPONDENCE


@dataclass
class CorrespondenceTable:
    certification: Certification
    predecessors: list[Certification] = field(default_factory=list)
    successors: list[Certification] = field(default_factory=list)
    # This fiche's blocks, each with the previous blocks that give it (a successor's view).
    given_by: list[CorrespondenceRow] = field(default_factory=list)
    # This fiche's blocks, each with the new blocks it contributes to (a predecessor's view).
    gives: list[CorrespondenceRow] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.predecessors or self.successors)


def correspondence_table(certification: Certification) -> CorrespondenceTable:
    """The correspondence table as both fiches show it, in at most four queries."""
    table = CorrespondenceTable(
        certification=certification,
        predecessors=predecessors_of(certification),
        successors=successors_of(certification),
    )
    if table.is_empty:
        return table
    blocks = list(Block.objects.filter(certification=certification).select_related("certification").order_by("number"))
    rows = list(
        BlockCorrespondence.objects.filter(
            models.Q(block__certification=certification) | models.Q(previous_block__certification=certification)
        ).select_related("block__certification", "previous_block__certification")
    )
    if table.predecessors:
        for block in blocks:
            mine = [row for row in rows if row.block_id == block.pk]
            table.given_by.append(_row(block, mine, [row.previous_block for row in mine]))
    if table.successors:
        for block in blocks:
            mine = [row for row in rows if row.previous_block_id == block.pk]
            table.gives.append(_row(block, mine, [row.block for row in mine]))
    return table


def _row(block: Block, rows: list[BlockCorrespondence], others: list[Block]) -> CorrespondenceRow:
    used = [row.first_used_at for row in rows if row.first_used_at]
    return CorrespondenceRow(
        block=block,
        others=sorted(others, key=lambda other: (other.certification.rncp_code, other.number)),
        frozen=bool(used),
        first_used_at=min(used) if used else None,
    )
