"""Withdrawal (retrait) of a certificate or of blocks obtained by fraud: a new, reasoned act of the certifier.

Nothing is deleted and nothing that was signed is changed. The act (`Withdrawal`) points at what it withdraws — the
certificate (`award`) and/or acquired blocks (`WithdrawnBlock`) — and every other part of the application reads
"withdrawn" from its existence: a withdrawn block is no longer held (the candidate may be evaluated and presented
again for it), a withdrawn certificate no longer makes a holder. The documents that state a withdrawn result — the
certificate, and the results statements and attestations that report a withdrawn block as held — are revoked through
the ordinary revocation by the documents room, which receives `candidates.signals.results_withdrawn` and lists them
on the act (`documents.WithdrawnDocument`), so that the public verification page answers « retiré ».

A certificate rests on every block: withdrawing a block of a certified candidate withdraws the certificate too (the
staff tick both, the service refuses otherwise). Withdrawing the certificate alone keeps the blocks.
"""

import datetime
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from candidates.models import (
    Candidate,
    Withdrawal,
    WithdrawnBlock,
)
from candidates.selectors import withdrawal_options
from candidates.signals import results_withdrawn
from certif.audit import AuditAction, record_audit
from certif.models import Certification
from certif.permissions import is_staff

REFERENCE_MAX_LENGTH = 255
REASON_MAX_LENGTH = 2000


def _d(day: datetime.date) -> str:
    return date_format(day, "j F Y")


def _validate(*, reference: str, decided_on, reason: str, award, blocks) -> dict:
    errors = {}
    if not reference:
        errors["reference"] = (
            "Indiquez la référence de la décision de retrait (par exemple « Décision du directeur général "
            "n° 2026-14 du 20 novembre 2026 »)."
        )
    elif len(reference) > REFERENCE_MAX_LENGTH:
        errors["reference"] = f"La référence compte {len(reference)} caractères ; {REFERENCE_MAX_LENGTH} au plus."
    if not reason:
        errors["reason"] = "Indiquez le motif du retrait."
    elif len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = f"Le motif compte {len(reason)} caractères ; {REASON_MAX_LENGTH} au plus."
    if decided_on is None:
        errors["decided_on"] = "Indiquez la date de la décision de retrait."
    elif decided_on > timezone.localdate():
        errors["decided_on"] = "La décision de retrait ne peut pas être datée dans le futur."
    else:
        dates = [item.acquired_on for item in blocks] + ([award.awarded_on] if award else [])
        if dates and decided_on < min(dates):
            errors["decided_on"] = (
                f"La décision de retrait ne peut pas précéder le résultat qu'elle retire ({_d(min(dates))})."
            )
    return errors


@transaction.atomic(durable=True)
def withdrawal_record(
    *,
    candidate: Candidate,
    certification: Certification,
    withdraw_award: bool,
    acquired_block_ids: Iterable[int],
    reference: str,
    decided_on: datetime.date | None,
    reason: str,
    actor: User,
) -> Withdrawal:
    """Withdraw the candidate's certificate (`withdraw_award`) and/or the acquired blocks `acquired_block_ids`.

    Validate → write the act → revoke the documents that state what it withdraws → audit, in one transaction.
    The candidate row is locked first: a sign-off (which locks its candidates too) cannot add a block or award the
    certification to this candidate in between.
    """
    if not is_staff(actor):
        raise PermissionDenied("Seuls les gestionnaires peuvent retirer un certificat ou un bloc.")
    candidate = Candidate.objects.select_for_update(of=("self",)).get(pk=candidate.pk)
    options = withdrawal_options(candidate=candidate, certification=certification)
    held = {item.pk: item for item in options.blocks}
    wanted = {int(pk) for pk in acquired_block_ids or ()}
    unknown = wanted - set(held)
    if unknown:
        raise ValidationError(
            {"blocks": "Un des blocs choisis n'est plus détenu par le candidat (déjà retiré ?) : rechargez la page."}
        )
    blocks = [held[pk] for pk in sorted(wanted, key=lambda pk: held[pk].block.number)]
    award = options.award if withdraw_award else None
    reference, reason = (reference or "").strip(), (reason or "").strip()
    errors = _validate(reference=reference, decided_on=decided_on, reason=reason, award=award, blocks=blocks)
    if withdraw_award and options.award is None:
        errors["award"] = "Le candidat ne détient pas de certificat en vigueur : rien à retirer."
    elif blocks and options.award is not None and award is None:
        errors["award"] = (
            f"Le certificat n° {options.award.number} repose sur tous les blocs : retirer un bloc retire aussi le "
            "certificat. Cochez-le."
        )
    elif not award and not blocks:
        errors["blocks"] = "Choisissez ce qui est retiré : le certificat, un ou plusieurs blocs, ou les deux."
    if errors:
        raise ValidationError(errors)
    assert decided_on is not None  # _validate refuses a missing date

    withdrawal = Withdrawal.objects.create(
        candidate=candidate,
        certification=certification,
        award=award,
        reference=reference,
        decided_on=decided_on,
        reason=reason,
        recorded_by=actor,
    )
    WithdrawnBlock.objects.bulk_create(WithdrawnBlock(withdrawal=withdrawal, acquired_block=item) for item in blocks)
    what = _describe(award, blocks)
    answers = results_withdrawn.send(
        sender=Withdrawal,
        withdrawal=withdrawal,
        candidate=candidate,
        award=award,
        blocks=blocks,
        revocation_reason=f"Retrait ({what}) — {reference} : {reason}"[:REASON_MAX_LENGTH],
        actor=actor,
    )
    revoked = [label for _receiver, labels in answers for label in (labels or ())]
    record_audit(
        actor=actor,
        action=AuditAction.CANDIDATE_RESULTS_WITHDRAWN,
        target=candidate,
        after={
            "summary": f"Retrait {what}, {reference}, décidé le {_d(decided_on)} : {reason}",
            "withdrawal": withdrawal.pk,
            "reference": reference,
            "decided_on": decided_on.isoformat(),
            "reason": reason,
            "certificate": award.number if award else None,
            "blocks": [item.block.number for item in blocks],
            "documents_revoked": revoked,
        },
    )
    return withdrawal


def _describe(award, blocks) -> str:
    """« du certificat n° MPES-2022-0001 et des blocs 1 et 2 »."""
    parts = []
    if award is not None:
        parts.append(f"du certificat n° {award.number}")
    if blocks:
        numbers = [str(item.block.number) for item in blocks]
        listed = numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " et " + numbers[-1]
        parts.append(("du bloc " if len(numbers) == 1 else "des blocs ") + listed)
    return " et ".join(parts)
