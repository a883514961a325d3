"""Reads: what the pages, documents and services show or check, never a write."""

import datetime
from dataclasses import dataclass

from django.db.models import Q

from candidates.models import (
    AcquiredBlock,
    Candidate,
    CertificationAward,
    EnrolmentStatus,
)

CANDIDATE_AUDITED_FIELDS = [
    "birth_name",
    "usage_name",
    "first_name",
    "second_first_name",
    "third_first_name",
    "sex",
    "birth_date",
    "birth_commune",
    "birth_insee_code",
    "birth_postal_code",
    "birth_country",
    "email",
    "phone",
    "address",
    "postal_code",
    "city",
    "employer_name",
    "employer_kind",
    "job_title",
]


def audit_value(value):
    """A value as the audit trace stores it (JSON: a date as ISO text)."""
    return value.isoformat() if isinstance(value, datetime.date) else value


def candidate_snapshot(candidate: Candidate) -> dict:
    return {field: audit_value(getattr(candidate, field)) for field in CANDIDATE_AUDITED_FIELDS}


class BlockStatus:
    ACQUIRED = "acquired"
    WITHDRAWN = "withdrawn"
    IN_PROGRESS = "in_progress"
    NOT_STARTED = "not_started"


def block_statuses(candidate: Candidate, blocks) -> list[dict]:
    """For each block of the certification: acquired (when, how), withdrawn, in progress, or not started; with
    `withdrawn_acquisitions`, the earlier acquisitions of that block withdrawn by a withdrawal (kept in view).

    Uses the candidate's prefetched `acquired_blocks` (with `withdrawn__withdrawal`) and `enrolments`.
    """
    held, withdrawn = {}, {}
    for item in candidate.acquired_blocks.all():
        if item.is_withdrawn:
            withdrawn.setdefault(item.block_id, []).append(item)
        else:
            held[item.block_id] = item
    in_training = any(enrolment.status == EnrolmentStatus.IN_PROGRESS for enrolment in candidate.enrolments.all())
    statuses = []
    for block in blocks:
        if block.pk in held:
            status = BlockStatus.ACQUIRED
        elif block.pk in withdrawn:
            status = BlockStatus.WITHDRAWN
        elif in_training:
            status = BlockStatus.IN_PROGRESS
        else:
            status = BlockStatus.NOT_STARTED
        statuses.append(
            {
                "block": block,
                "status": status,
                "acquired": held.get(block.pk),
                "withdrawn_acquisitions": withdrawn.get(block.pk, []),
                "in_training": in_training,
            }
        )
    return statuses


@dataclass
class WithdrawalOptions:
    """What a withdrawal can take away from a candidate in one certification, as the form lists it."""

    award: CertificationAward | None
    blocks: list[AcquiredBlock]


def withdrawal_options(*, candidate: Candidate, certification) -> WithdrawalOptions:
    award = CertificationAward.objects.in_force().filter(candidate=candidate, certification=certification).first()
    blocks = list(
        AcquiredBlock.objects.held()
        .filter(candidate=candidate, block__certification=certification)
        .select_related("block", "jury_decision__presentation__session")
        .order_by("block__number")
    )
    return WithdrawalOptions(award=award, blocks=blocks)


def documents_stating(*, candidate: Candidate, award: CertificationAward | None, blocks: list[AcquiredBlock]):
    """The valid documents of the candidate that state a result about to be withdrawn: the certificate of `award`,
    and every results statement or attestation of a session held on or after the day a block of `blocks` was
    acquired (such a document lists that block among the blocks held, or reports the decision that gave it)."""
    from juries.models import DocumentKind, DocumentStatus, IssuedDocument

    condition = Q(pk__in=[])
    if award is not None:
        condition |= Q(kind=DocumentKind.CERTIFICATE, award=award)
    if blocks:
        first_day = min(item.acquired_on for item in blocks)
        condition |= Q(kind__in=[DocumentKind.RESULTS, DocumentKind.ATTESTATION], session__date__gte=first_day)
    return (
        IssuedDocument.objects.filter(condition, candidate=candidate, status=DocumentStatus.VALID)
        .defer("pdf")
        .order_by("session__date", "kind", "pk")
    )
