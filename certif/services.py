"""Every change to the referential goes through one of these functions: validate, write, audit, in one
transaction."""

from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from certif.audit import AuditAction, record_audit
from certif.models import (
    BLOCK_RULE_FIELDS,
    Block,
    Certification,
    Competence,
    Grid,
    RatingScale,
    Registration,
    ScaleLevel,
    registration_delete_refused_message,
)
from certif.validation import check_text

COMPETENCE_LABEL_MAX_LENGTH = 500


def _grid_snapshot(grid: Grid) -> dict:
    return {"version": grid.version, "competences": [c.label for c in grid.competences.order_by("position")]}


def _current_grid(*, block: Block) -> Grid:
    """The block's latest grid version, locked: changes of one grid are serialised."""
    return Grid.objects.select_for_update(of=("self",)).filter(block=block).order_by("-version").first()  # type: ignore[return-value]  # every block is created with its first grid


def _writable(grid: Grid) -> Grid:
    """The grid itself while it is not frozen, else a new version copied from it.

    Called only once a change is known to change something: a request that changes nothing makes no version.
    """
    if not grid.is_frozen:
        return grid
    new_grid = Grid.objects.create(block=grid.block, version=grid.version + 1)
    Competence.objects.bulk_create(
        Competence(grid=new_grid, position=competence.position, label=competence.label)
        for competence in grid.competences.order_by("position")
    )
    return new_grid


def _record_grid_change(*, actor: User, action: AuditAction, before: dict, grid: Grid) -> None:
    # `before` is the grid as it was (the frozen version when a new one was made), `after` the grid as it is now.
    record_audit(actor=actor, action=action, target=grid, before=before, after=_grid_snapshot(grid))


def _check_label_free(*, grid: Grid, label: str, exclude_position: int | None = None) -> str:
    label = " ".join(check_text(label, field="label", max_length=COMPETENCE_LABEL_MAX_LENGTH, multiline=False).split())
    if not label:
        raise ValidationError({"label": "L'intitulé de la compétence ne peut pas être vide."})
    others = grid.competences.exclude(position=exclude_position) if exclude_position else grid.competences.all()
    if any(other.label.casefold() == label.casefold() for other in others):
        raise ValidationError({"label": "Cette compétence figure déjà dans la grille du bloc."})
    return label


@transaction.atomic(durable=True)
def competence_add(*, block: Block, label: str, actor: User) -> Competence:
    current = _current_grid(block=block)
    label = _check_label_free(grid=current, label=label)
    declared = current.block.declared_competence_count
    if current.competences.count() >= declared:
        raise ValidationError(
            {
                "label": f"La grille compte déjà les {declared} compétences que le bloc déclare : renommez une "
                "compétence existante ou modifiez le nombre de compétences du bloc."
            }
        )
    before = _grid_snapshot(current)
    grid = _writable(current)
    last = grid.competences.order_by("-position").first()
    competence = Competence.objects.create(grid=grid, label=label, position=(last.position + 1) if last else 1)
    _record_grid_change(actor=actor, action=AuditAction.REFERENTIAL_COMPETENCE_ADDED, before=before, grid=grid)
    return competence


@transaction.atomic(durable=True)
def competence_rename(*, block: Block, position: int, label: str, actor: User) -> Competence:
    """Rename the competence at `position`; the same label again changes nothing (no version, no audit)."""
    current = _current_grid(block=block)
    competence = current.competences.filter(position=position).first()
    if competence is None:
        raise ValidationError(f"Aucune compétence au rang {position} dans la grille du bloc {block.number}.")
    label = _check_label_free(grid=current, label=label, exclude_position=position)
    if label == competence.label:
        return competence
    before = _grid_snapshot(current)
    grid = _writable(current)
    competence = grid.competences.get(position=position)
    competence.label = label
    competence.save(update_fields=["label"])
    _record_grid_change(actor=actor, action=AuditAction.REFERENTIAL_COMPETENCE_RENAMED, before=before, grid=grid)
    return competence


@transaction.atomic(durable=True)
def competence_move(*, block: Block, position: int, offset: int, actor: User) -> Grid | None:
    """Swap the competence at `position` with its neighbour above (offset -1) or below (+1).

    Returns the grid changed, or None when there is no such neighbour (the first moved up, the last moved down):
    nothing is written then, not even a new version of a frozen grid.
    """
    current = _current_grid(block=block)
    other_position = position + offset
    positions = set(current.competences.values_list("position", flat=True))
    if offset not in (-1, 1) or position not in positions or other_position not in positions:
        return None
    before = _grid_snapshot(current)
    grid = _writable(current)
    competences = {c.position: c for c in grid.competences.filter(position__in=[position, other_position])}
    moved, other = competences[position], competences[other_position]
    # Park one row outside the range so that the unique (grid, position) constraint holds at each step.
    moved.position = 0
    moved.save(update_fields=["position"])
    other.position = position
    other.save(update_fields=["position"])
    moved.position = other_position
    moved.save(update_fields=["position"])
    _record_grid_change(actor=actor, action=AuditAction.REFERENTIAL_COMPETENCE_MOVED, before=before, grid=grid)
    return grid


@transaction.atomic(durable=True)
def competence_remove(*, block: Block, position: int, actor: User) -> Grid:
    """Take the competence at `position` off the grid (a new version when the grid is frozen); the competences
    after it move up one rank. This is how staff bring a grid holding too many competences back to the declared
    number."""
    current = _current_grid(block=block)
    current.competences.get(position=position)  # an unknown position is refused before anything is written
    before = _grid_snapshot(current)
    grid = _writable(current)
    grid.competences.get(position=position).delete()
    for competence in grid.competences.filter(position__gt=position).order_by("position"):
        competence.position -= 1
        competence.save(update_fields=["position"])
    _record_grid_change(actor=actor, action=AuditAction.REFERENTIAL_COMPETENCE_REMOVED, before=before, grid=grid)
    return grid


def _block_snapshot(block: Block) -> dict:
    return {
        "threshold_kind": block.threshold_kind,
        "threshold_value": str(block.threshold_value),
        "declared_competence_count": block.declared_competence_count,
    }


@transaction.atomic
def block_threshold_update(
    *,
    block: Block,
    threshold_kind: str,
    threshold_value: Decimal | int,
    declared_competence_count: int,
    actor: User,
) -> Block:
    """Change a block's rule while no evaluation has used it (Block.clean: valid, not frozen, never below the
    competences defined). Frozen afterwards: every result stays judged, and printed, by the rule applied to it."""
    block = Block.objects.select_for_update(of=("self",)).get(pk=block.pk)
    stored = {name: getattr(block, name) for name in BLOCK_RULE_FIELDS}
    before = _block_snapshot(block)
    block.threshold_kind = threshold_kind
    block.threshold_value = threshold_value
    block.declared_competence_count = declared_competence_count
    block.full_clean()
    if all(getattr(block, name) == stored[name] for name in BLOCK_RULE_FIELDS):
        return block  # 7 and 7.00 are one threshold: nothing changes, nothing is recorded
    block.save(update_fields=list(BLOCK_RULE_FIELDS))
    record_audit(
        actor=actor,
        action=AuditAction.REFERENTIAL_THRESHOLD_CHANGED,
        target=block,
        before=before,
        after=_block_snapshot(block),
    )
    return block


REGISTRATION_FIELDS = ["act", "publication", "publication_date", "in_force_from", "in_force_until", "level_note"]


def _registration_snapshot(registration: Registration) -> dict:
    return {
        "act": registration.act,
        "publication": registration.publication,
        "publication_date": registration.publication_date.isoformat() if registration.publication_date else None,
        "in_force_from": registration.in_force_from.isoformat(),
        "in_force_until": registration.in_force_until.isoformat(),
        "level_note": registration.level_note,
    }


@transaction.atomic
def registration_create(*, registration: Registration, actor: User) -> Registration:
    """Record a registration (a renewal of the certification in the RNCP). `registration` is unsaved."""
    Certification.objects.select_for_update(of=("self",)).get(
        pk=registration.certification_id
    )  # serialise overlap checks
    registration.full_clean()
    registration.save()
    record_audit(
        actor=actor,
        action=AuditAction.REFERENTIAL_REGISTRATION_ADDED,
        target=registration,
        after=_registration_snapshot(registration),
    )
    return registration


@transaction.atomic
def registration_update(*, registration: Registration, actor: User, **fields) -> Registration:
    """Correct a registration (act, publication, period). A signed jury held inside its period stays inside
    (Registration.clean); a change that changes nothing records nothing."""
    unknown = set(fields) - set(REGISTRATION_FIELDS)
    if unknown:
        raise TypeError(f"registration_update() ne modifie pas : {', '.join(sorted(unknown))}")
    Certification.objects.select_for_update(of=("self",)).get(
        pk=registration.certification_id
    )  # serialise overlap checks
    registration = Registration.objects.get(pk=registration.pk)
    before = _registration_snapshot(registration)
    for name, value in fields.items():
        setattr(registration, name, value.strip() if isinstance(value, str) else value)
    registration.full_clean()
    after = _registration_snapshot(registration)
    if after == before:
        return registration
    registration.save()
    changed = [name for name in after if after[name] != before[name]]
    record_audit(
        actor=actor,
        action=AuditAction.REFERENTIAL_REGISTRATION_CHANGED,
        target=registration,
        before={name: before[name] for name in changed},
        after={name: after[name] for name in changed},
    )
    return registration


@transaction.atomic
def registration_delete(*, registration: Registration, actor: User) -> None:
    """Delete a registration recorded by mistake; refused when a signed jury was held inside it."""
    Certification.objects.select_for_update(of=("self",)).get(pk=registration.certification_id)
    registration = Registration.objects.get(pk=registration.pk)
    sessions = list(registration.signed_sessions_resting_on())
    if sessions:
        raise ValidationError(registration_delete_refused_message(sessions))
    record_audit(
        actor=actor,
        action=AuditAction.REFERENTIAL_REGISTRATION_DELETED,
        target=registration,
        before=_registration_snapshot(registration),
    )
    registration.delete()


# What staff may change on a certification: its description. What the fiche registers and the documents print
# (code, title, levels, certifier, signatory, validity of blocks) comes with the fiche; another one is a new fiche.
CERTIFICATION_EDITABLE_FIELDS = [
    "summary",
    "sectors",
    "example_jobs",
    "regulation",
    "accessible_new_caledonia",
    "accessible_french_polynesia",
    "statistics",
    "website",
]


def _certification_snapshot(certification: Certification) -> dict:
    return {name: getattr(certification, name) for name in CERTIFICATION_EDITABLE_FIELDS}


@transaction.atomic
def certification_update(*, certification: Certification, actor: User, **fields) -> Certification:
    unknown = set(fields) - set(CERTIFICATION_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            "Ces données viennent de la fiche RNCP et ne se modifient pas ici (une autre fiche s'installe avec "
            f"load_fiche) : {', '.join(sorted(unknown))}."
        )
    certification = Certification.objects.select_for_update(of=("self",)).get(pk=certification.pk)
    before = _certification_snapshot(certification)
    for name, value in fields.items():
        setattr(certification, name, value.strip() if isinstance(value, str) else value)
    certification.full_clean()
    after = _certification_snapshot(certification)
    changed = [name for name in CERTIFICATION_EDITABLE_FIELDS if after[name] != before[name]]
    if not changed:
        return certification
    certification.save(update_fields=changed)
    record_audit(
        actor=actor,
        action=AuditAction.REFERENTIAL_CERTIFICATION_CHANGED,
        target=certification,
        before={name: before[name] for name in changed},
        after={name: after[name] for name in changed},
    )
    return certification


def _scale_snapshot(scale: RatingScale) -> dict:
    return {
        "version": scale.version,
        "levels": [
            {"position": level.position, "code": level.code, "label": level.label, "validates": level.validates}
            for level in scale.levels.order_by("position")
        ],
    }


def _validate_scale_levels(levels: list[dict]) -> None:
    """A scale is a strict order, best first, whose validating levels are the best ones."""
    if len(levels) < 2:
        raise ValidationError("Une échelle compte au moins deux niveaux.")
    ordered = sorted(levels, key=lambda level: level["position"])
    if len({level["position"] for level in levels}) != len(levels):
        raise ValidationError("Deux niveaux ne peuvent pas avoir le même rang.")
    if len({level["code"].strip().casefold() for level in levels}) != len(levels):
        raise ValidationError("Deux niveaux ne peuvent pas avoir le même code.")
    for level in levels:
        for name, limit in (("code", 5), ("label", 100)):
            try:
                check_text(level[name], field=name, max_length=limit, multiline=False)
            except ValidationError as error:
                raise ValidationError(f"Niveau de rang {level['position']} : {' '.join(error.messages)}") from None
    validates = [level["validates"] for level in ordered]
    if not any(validates):
        raise ValidationError("Au moins un niveau doit valider la compétence.")
    if all(validates):
        raise ValidationError("Au moins un niveau ne doit pas valider la compétence.")
    first_failing = validates.index(False)
    if any(validates[first_failing:]):
        raise ValidationError(
            "Les niveaux qui valident doivent être les meilleurs : un niveau moins bien classé "
            "qu'un niveau non validant ne peut pas valider."
        )


@transaction.atomic(durable=True)
def rating_scale_update(*, scale: RatingScale, levels: list[dict], actor: User) -> RatingScale:
    """Replace the levels of an unused scale. `levels`: dicts with position, code, label, validates."""
    scale = RatingScale.objects.select_for_update(of=("self",)).get(pk=scale.pk)
    if scale.is_in_use:
        raise ValidationError(
            f"L'échelle version {scale.version} est utilisée depuis le {timezone.localtime(scale.first_used_at):%d/%m/%Y} : "
            "elle ne peut plus être modifiée. Créez une nouvelle version."
        )
    _validate_scale_levels(levels)
    before = _scale_snapshot(scale)
    scale.levels.all().delete()
    ScaleLevel.objects.bulk_create(
        ScaleLevel(
            scale=scale,
            position=index,
            code=level["code"].strip(),
            label=level["label"].strip(),
            validates=level["validates"],
        )
        for index, level in enumerate(sorted(levels, key=lambda level: level["position"]), start=1)
    )
    record_audit(
        actor=actor,
        action=AuditAction.REFERENTIAL_SCALE_CHANGED,
        target=scale,
        before=before,
        after=_scale_snapshot(scale),
    )
    return scale


@transaction.atomic(durable=True)
def rating_scale_new_version(*, certification: Certification, actor: User) -> RatingScale:
    """A copy of the current scale, editable, for results to come; used versions stay as they were."""
    # A certification has a scale from its installation.
    current: RatingScale = (
        RatingScale.objects.select_for_update(of=("self",))  # type: ignore[assignment]
        .filter(certification=certification)
        .order_by("-version")
        .first()
    )
    if not current.is_in_use:
        return current
    scale = RatingScale.objects.create(certification=certification, version=current.version + 1)
    ScaleLevel.objects.bulk_create(
        ScaleLevel(scale=scale, position=level.position, code=level.code, label=level.label, validates=level.validates)
        for level in current.levels.all()
    )
    record_audit(
        actor=actor, action=AuditAction.REFERENTIAL_SCALE_VERSIONED, target=scale, after=_scale_snapshot(scale)
    )
    return scale
