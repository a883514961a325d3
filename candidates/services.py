"""Every change to a candidate's file goes through one of these functions: validate, write, audit, in one
transaction."""

import datetime
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict

from candidates.models import (
    AcquiredBlock,
    AcquiredBlockSource,
    Candidate,
    Cohort,
    Enrolment,
)
from candidates.selectors import CANDIDATE_AUDITED_FIELDS, audit_value, candidate_snapshot
from certif.audit import AuditAction, AuditChange, record_audit, record_audits
from certif.models import Block, PreparationPlace
from certif.validation import TEXT_MAX_LENGTH, check_text, event_date_problem, unique_violations_as_field_errors


def _strip(fields: dict) -> dict:
    fields = {key: value.strip() if isinstance(value, str) else value for key, value in fields.items()}
    if "birth_country" in fields and "birth_country_code" not in fields:
        fields["birth_country_code"] = ""  # a country given by its name: the model finds its code in the COG's list
    return fields


@transaction.atomic
def candidate_create(*, actor: User, **fields) -> Candidate:
    candidate = Candidate(**_strip(fields))
    candidate.full_clean()
    candidate.save()
    record_audit(
        actor=actor, action=AuditAction.CANDIDATE_CREATED, target=candidate, after=candidate_snapshot(candidate)
    )
    return candidate


@transaction.atomic
def candidate_update(*, candidate: Candidate, actor: User, **fields) -> Candidate:
    candidate = Candidate.objects.select_for_update(of=("self",)).get(pk=candidate.pk)
    before = candidate_snapshot(candidate)
    for name, value in _strip(fields).items():
        setattr(candidate, name, value)
    candidate.full_clean()
    after = candidate_snapshot(candidate)
    changed = [name for name in CANDIDATE_AUDITED_FIELDS if before[name] != after[name]]
    if not changed:
        return candidate
    candidate.save()
    record_audit(
        actor=actor,
        action=AuditAction.CANDIDATE_UPDATED,
        target=candidate,
        before={name: before[name] for name in changed},
        after={name: after[name] for name in changed},
    )
    return candidate


def _cohort_snapshot(cohort: Cohort) -> dict:
    data = model_to_dict(cohort, fields=["name", "pathway", "preparation_place", "start_date", "end_date"])
    data["trainers"] = sorted(cohort.trainers.values_list("username", flat=True)) if cohort.pk else []
    return {key: audit_value(value) for key, value in data.items()}


@transaction.atomic
def cohort_save(*, cohort: Cohort, trainers: Iterable[User], actor: User) -> Cohort:
    """Create or update a cohort (unsaved or changed instance) and set its trainers."""
    before = _cohort_snapshot(Cohort.objects.get(pk=cohort.pk)) if cohort.pk else None
    cohort.full_clean()
    with unique_violations_as_field_errors(cohort):
        cohort.save()
    cohort.trainers.set(trainers)
    record_audit(
        actor=actor,
        action=AuditAction.COHORT_UPDATED if before else AuditAction.COHORT_CREATED,
        target=cohort,
        before=before,
        after=_cohort_snapshot(cohort),
    )
    return cohort


def _enrolment_snapshot(enrolment: Enrolment) -> dict:
    return {
        "cohort": enrolment.cohort.name,
        "status": enrolment.status,
        "tutor_name": enrolment.tutor_name,
        "vae_accompanist": enrolment.vae_accompanist,
        "admissibility_date": audit_value(enrolment.admissibility_date),
        "admissibility_favourable": enrolment.admissibility_favourable,
        "admissibility_reason": enrolment.admissibility_reason,
    }


@transaction.atomic
def enrolment_create(
    *,
    candidate: Candidate,
    cohort: Cohort,
    actor: User,
    enrolled_on: datetime.date | None = None,
    tutor_name: str = "",
    vae_accompanist: str = "",
) -> Enrolment:
    """Enrol a candidate in a cohort. Refused on a pathway the fiche closes, or twice in the same cohort."""
    if not cohort.pathway.is_open:
        raise ValidationError({"cohort": cohort.pathway.closed_reason})
    if Enrolment.objects.filter(candidate=candidate, cohort=cohort).exists():
        raise ValidationError({"cohort": "Ce candidat est déjà inscrit dans cette promotion."})
    enrolment = Enrolment(
        candidate=candidate,
        cohort=cohort,
        tutor_name=tutor_name.strip(),
        vae_accompanist=vae_accompanist.strip(),
    )
    if enrolled_on:
        enrolment.enrolled_on = enrolled_on
    if enrolment.vae_accompanist and not enrolment.is_vae:
        raise ValidationError({"vae_accompanist": "Un accompagnateur VAE ne se désigne que sur la voie VAE."})
    enrolment.full_clean()
    with unique_violations_as_field_errors(enrolment):
        enrolment.save()
    record_audit(
        actor=actor, action=AuditAction.ENROLMENT_CREATED, target=enrolment, after=_enrolment_snapshot(enrolment)
    )
    return enrolment


def candidates_create_many(*, candidates: list[Candidate], cohort: Cohort | None, actor: User) -> list[Candidate]:
    """Create `candidates` (unsaved, each already through `full_clean`) and enrol them in `cohort` if given, as
    `candidate_create` and `enrolment_create` would one by one; a fixed number of writes whatever their number:
    candidates, enrolments and both kinds of audit rows each in one INSERT. Runs in the caller's transaction."""
    if cohort is not None and not cohort.pathway.is_open:
        raise ValidationError({"cohort": cohort.pathway.closed_reason})
    created = Candidate.objects.bulk_create(candidates)
    record_audits(
        actor=actor,
        action=AuditAction.CANDIDATE_CREATED,
        changes=[AuditChange(target=candidate, after=candidate_snapshot(candidate)) for candidate in created],
    )
    if cohort is None:
        return created
    enrolments = [Enrolment(candidate=candidate, cohort=cohort) for candidate in created]
    for enrolment in enrolments:
        # The candidate was just written and the cohort read: checking that they exist, and that a new candidate has
        # no enrolment yet, would each cost a query per row for nothing (the database holds both rules anyway).
        enrolment.full_clean(exclude=["candidate", "cohort"], validate_unique=False, validate_constraints=False)
    record_audits(
        actor=actor,
        action=AuditAction.ENROLMENT_CREATED,
        changes=[
            AuditChange(target=enrolment, after=_enrolment_snapshot(enrolment))
            for enrolment in Enrolment.objects.bulk_create(enrolments)
        ],
    )
    return created


@transaction.atomic
def enrolment_update(
    *, enrolment: Enrolment, actor: User, status: str, tutor_name: str = "", vae_accompanist: str = ""
) -> Enrolment:
    enrolment = Enrolment.objects.select_for_update(of=("self",)).select_related("cohort__pathway").get(pk=enrolment.pk)
    before = _enrolment_snapshot(enrolment)
    if vae_accompanist.strip() and not enrolment.is_vae:
        raise ValidationError({"vae_accompanist": "Un accompagnateur VAE ne se désigne que sur la voie VAE."})
    enrolment.status = status
    enrolment.tutor_name = tutor_name.strip()
    enrolment.vae_accompanist = vae_accompanist.strip()
    enrolment.full_clean()
    enrolment.save()
    record_audit(
        actor=actor,
        action=AuditAction.ENROLMENT_UPDATED,
        target=enrolment,
        before=before,
        after=_enrolment_snapshot(enrolment),
    )
    return enrolment


@transaction.atomic(durable=True)
def admissibility_record(
    *, enrolment: Enrolment, decided_on: datetime.date, favourable: bool, reason: str, actor: User
) -> Enrolment:
    """The VAE admissibility decision (recevabilité), dated the day it was taken (not in the future). An unfavourable
    decision must say why."""
    enrolment = Enrolment.objects.select_for_update(of=("self",)).select_related("cohort__pathway").get(pk=enrolment.pk)
    if not enrolment.is_vae:
        raise ValidationError("La recevabilité ne concerne que les candidats en VAE.")
    if problem := event_date_problem(decided_on):
        raise ValidationError({"decided_on": problem})
    reason = check_text(reason, field="reason", max_length=TEXT_MAX_LENGTH)
    if not favourable and not reason:
        raise ValidationError({"reason": "Une décision défavorable doit être motivée."})
    before = _enrolment_snapshot(enrolment)
    enrolment.admissibility_date = decided_on
    enrolment.admissibility_favourable = favourable
    enrolment.admissibility_reason = reason
    enrolment.save()
    record_audit(
        actor=actor,
        action=AuditAction.ENROLMENT_ADMISSIBILITY_DECIDED,
        target=enrolment,
        before=before,
        after=_enrolment_snapshot(enrolment),
    )
    return enrolment


def _acquired_snapshot(acquired: AcquiredBlock) -> dict:
    return {
        "block": acquired.block.number,
        "acquired_on": acquired.acquired_on.isoformat(),
        "source": acquired.source,
        "import_source": acquired.import_source,
    }


@transaction.atomic
def acquired_block_import(
    *, candidate: Candidate, block: Block, acquired_on: datetime.date, import_source: str, actor: User
) -> AcquiredBlock:
    """Record a block acquired before the application existed (history), with its source.

    Dated between the start of the fiche's first registration (no block of it existed before) and today."""
    import_source = check_text(import_source, field="import_source", max_length=255, multiline=False)
    if not import_source:
        raise ValidationError({"import_source": "Indiquez d'où vient ce bloc (procès-verbal, attestation…)."})
    first_registration = block.certification.registrations.order_by("in_force_from").first()
    if first_registration is None:
        problem = event_date_problem(acquired_on)
    else:
        problem = event_date_problem(
            acquired_on,
            earliest=first_registration.in_force_from,
            earliest_label="début du premier enregistrement de la fiche au RNCP",
        )
    if problem:
        raise ValidationError({"acquired_on": problem})
    acquisitions = AcquiredBlock.objects.filter(candidate=candidate, block=block)
    if acquisitions.held().exists():
        raise ValidationError({"block": f"Le bloc {block.number} est déjà acquis par ce candidat."})
    if acquisitions.exists():
        # A reprise would undo the withdrawal: a withdrawn block is acquired again only through a new jury decision.
        raise ValidationError(
            {
                "block": f"Le bloc {block.number} a été retiré à ce candidat : il ne s'acquiert de nouveau que par une "
                "nouvelle évaluation et une décision de jury."
            }
        )
    acquired = AcquiredBlock(
        candidate=candidate,
        block=block,
        acquired_on=acquired_on,
        source=AcquiredBlockSource.IMPORT,
        import_source=import_source,
        recorded_by=actor,
    )
    acquired.full_clean()
    with unique_violations_as_field_errors(acquired):
        acquired.save()
    record_audit(
        actor=actor, action=AuditAction.ACQUIRED_BLOCK_IMPORTED, target=acquired, after=_acquired_snapshot(acquired)
    )
    return acquired


@transaction.atomic(durable=True)
def preparation_place_create(*, place: PreparationPlace, actor: User) -> PreparationPlace:
    place.full_clean()
    with unique_violations_as_field_errors(place):
        place.save()
    record_audit(
        actor=actor,
        action=AuditAction.PREPARATION_PLACE_CREATED,
        target=place,
        after={"name": place.name, "address": place.address},
    )
    return place
