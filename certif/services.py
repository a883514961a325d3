"""Every change to the referential goes through one of these functions: validate, write, audit, in one
transaction."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from certif.audit import record_audit
from certif.models import Block, Certification, Competence, Grid, RatingScale, Registration, ScaleLevel
from certif.validation import check_text

COMPETENCE_LABEL_MAX_LENGTH = 500


def _grid_snapshot(grid: Grid) -> dict:
    return {"version": grid.version, "competences": [c.label for c in grid.competences.order_by("position")]}


def _editable_grid(*, block: Block) -> Grid:
    """The grid staff may change now: the current version, or a fresh copy of it when it is frozen."""
    grid = Grid.objects.select_for_update().filter(block=block).order_by("-version").first()
    if not grid.is_frozen:
        return grid
    new_grid = Grid.objects.create(block=block, version=grid.version + 1)
    Competence.objects.bulk_create(
        Competence(grid=new_grid, position=competence.position, label=competence.label)
        for competence in grid.competences.order_by("position")
    )
    return new_grid


def _check_label_free(*, grid: Grid, label: str, exclude_position: int | None = None) -> str:
    label = " ".join(check_text(label, field="label", max_length=COMPETENCE_LABEL_MAX_LENGTH, multiline=False).split())
    if not label:
        raise ValidationError({"label": "L'intitulé de la compétence ne peut pas être vide."})
    others = grid.competences.exclude(position=exclude_position) if exclude_position else grid.competences.all()
    if any(other.label.casefold() == label.casefold() for other in others):
        raise ValidationError({"label": "Cette compétence figure déjà dans la grille du bloc."})
    return label


@transaction.atomic
def competence_add(*, block: Block, label: str, actor) -> Competence:
    grid = _editable_grid(block=block)
    before = _grid_snapshot(grid)
    label = _check_label_free(grid=grid, label=label)
    if grid.competences.count() >= block.declared_competence_count:
        raise ValidationError(
            {
                "label": f"La grille compte déjà les {block.declared_competence_count} compétences que le bloc "
                "déclare : renommez une compétence existante ou modifiez le nombre de compétences du bloc."
            }
        )
    last = grid.competences.order_by("-position").first()
    competence = Competence.objects.create(grid=grid, label=label, position=(last.position + 1) if last else 1)
    record_audit(
        actor=actor, action="referential.competence_added", target=grid, before=before, after=_grid_snapshot(grid)
    )
    return competence


@transaction.atomic
def competence_rename(*, block: Block, position: int, label: str, actor) -> Competence:
    grid = _editable_grid(block=block)
    competence = grid.competences.filter(position=position).first()
    if competence is None:
        raise ValidationError(f"Aucune compétence au rang {position} dans la grille du bloc {block.number}.")
    before = _grid_snapshot(grid)
    competence.label = _check_label_free(grid=grid, label=label, exclude_position=position)
    competence.save(update_fields=["label"])
    record_audit(
        actor=actor, action="referential.competence_renamed", target=grid, before=before, after=_grid_snapshot(grid)
    )
    return competence


@transaction.atomic
def competence_move(*, block: Block, position: int, offset: int, actor) -> None:
    """Swap the competence at `position` with its neighbour above (offset -1) or below (+1)."""
    grid = _editable_grid(block=block)
    competences = {c.position: c for c in grid.competences.all()}
    other_position = position + offset
    if position not in competences or other_position not in competences:
        return
    before = _grid_snapshot(grid)
    moved, other = competences[position], competences[other_position]
    # Park one row outside the range so that the unique (grid, position) constraint holds at each step.
    moved.position = 0
    moved.save(update_fields=["position"])
    other.position = position
    other.save(update_fields=["position"])
    moved.position = other_position
    moved.save(update_fields=["position"])
    record_audit(
        actor=actor, action="referential.competence_moved", target=grid, before=before, after=_grid_snapshot(grid)
    )


def _block_snapshot(block: Block) -> dict:
    return {
        "threshold_kind": block.threshold_kind,
        "threshold_value": str(block.threshold_value),
        "declared_competence_count": block.declared_competence_count,
    }


@transaction.atomic
def block_threshold_update(
    *, block: Block, threshold_kind: str, threshold_value, declared_competence_count: int, actor
):
    block = Block.objects.select_for_update().get(pk=block.pk)
    if block.grids.filter(frozen_at__isnull=False).exists():
        raise ValidationError(
            "Une évaluation est ouverte ou des résultats ont été signés sur ce bloc : son seuil ne peut plus être "
            "modifié (chaque résultat doit rester jugé sur la règle en vigueur quand il a été établi)."
        )
    defined = block.grids.order_by("-version").first().competences.count()
    if declared_competence_count < defined:
        raise ValidationError(
            {
                "declared_competence_count": f"La grille compte déjà {defined} compétences : "
                "retirez-en avant de réduire ce nombre."
            }
        )
    before = _block_snapshot(block)
    block.threshold_kind = threshold_kind
    block.threshold_value = threshold_value
    block.declared_competence_count = declared_competence_count
    block.full_clean()
    block.save(update_fields=["threshold_kind", "threshold_value", "declared_competence_count"])
    record_audit(
        actor=actor, action="referential.threshold_changed", target=block, before=before, after=_block_snapshot(block)
    )
    return block


def _registration_snapshot(registration: Registration) -> dict:
    return {
        "act": registration.act,
        "publication": registration.publication,
        "in_force_from": registration.in_force_from.isoformat(),
        "in_force_until": registration.in_force_until.isoformat(),
    }


@transaction.atomic
def registration_create(*, registration: Registration, actor) -> Registration:
    """Record a registration (a renewal of the certification in the RNCP). `registration` is unsaved."""
    Certification.objects.select_for_update().get(pk=registration.certification_id)  # serialise overlap checks
    registration.full_clean()
    registration.save()
    record_audit(
        actor=actor,
        action="referential.registration_added",
        target=registration,
        after=_registration_snapshot(registration),
    )
    return registration


def _scale_snapshot(scale: RatingScale) -> dict:
    return {
        "version": scale.version,
        "levels": [
            {"position": level.position, "code": level.code, "label": level.label, "validates": level.validates}
            for level in scale.levels.order_by("position")
        ],
    }


def validate_scale_levels(levels: list[dict]) -> None:
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


@transaction.atomic
def rating_scale_update(*, scale: RatingScale, levels: list[dict], actor) -> RatingScale:
    """Replace the levels of an unused scale. `levels`: dicts with position, code, label, validates."""
    scale = RatingScale.objects.select_for_update().get(pk=scale.pk)
    if scale.is_in_use:
        raise ValidationError(
            f"L'échelle version {scale.version} est utilisée depuis le {timezone.localtime(scale.first_used_at):%d/%m/%Y} : "
            "elle ne peut plus être modifiée. Créez une nouvelle version."
        )
    validate_scale_levels(levels)
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
        actor=actor, action="referential.scale_changed", target=scale, before=before, after=_scale_snapshot(scale)
    )
    return scale


@transaction.atomic
def rating_scale_new_version(*, certification: Certification, actor) -> RatingScale:
    """A copy of the current scale, editable, for results to come; used versions stay as they were."""
    current = RatingScale.objects.select_for_update().filter(certification=certification).order_by("-version").first()
    if not current.is_in_use:
        return current
    scale = RatingScale.objects.create(certification=certification, version=current.version + 1)
    ScaleLevel.objects.bulk_create(
        ScaleLevel(scale=scale, position=level.position, code=level.code, label=level.label, validates=level.validates)
        for level in current.levels.all()
    )
    record_audit(actor=actor, action="referential.scale_versioned", target=scale, after=_scale_snapshot(scale))
    return scale
