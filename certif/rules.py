"""The rule engine of the fiche: a block's outcome from the levels entered on its grid.

Pure functions, no database: the evaluation grid, the deliberation page and the documents
all call `block_outcome` so that a proposal is computed one way only.

Fiche RNCP 16204, every block: « Toutes les compétences sont évaluées. Pour valider ce bloc, le
candidat devra valider <seuil> des compétences qui le constituent (au moins au niveau C). »
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from django.db import models

from certif.text import counted


class ThresholdKind(models.TextChoices):
    PROPORTION = "proportion", "Proportion des compétences"
    COUNT = "count", "Nombre de compétences"


class Outcome(models.TextChoices):
    VALIDATED = "validated", "Validé"
    NOT_VALIDATED = "not_validated", "Non validé"
    INCOMPLETE = "incomplete", "Incomplet"


def format_decimal(value: Decimal) -> str:
    """75 → "75", 62.5 → "62,5" (French decimal comma, no trailing zeros)."""
    text = format(Decimal(value).normalize(), "f")
    return text.replace(".", ",")


@dataclass(frozen=True)
class Threshold:
    """How many competences of a block must reach the floor level.

    A proportion is a percentage of the competences the block declares (block 1: 75 % of 4 → 3);
    a count is "value out of out_of" (block 2: 7 of 9).
    """

    kind: str
    value: Decimal
    out_of: int

    @property
    def required(self) -> int:
        if self.kind == ThresholdKind.PROPORTION:
            exact = Decimal(self.value) * self.out_of / 100
            return int(exact.to_integral_value(rounding=ROUND_CEILING))
        return int(self.value)

    def describe(self, floor_label: str) -> str:
        """The rule in the fiche's words: « valider 7 des 9 compétences, au moins au niveau C »."""
        if self.kind == ThresholdKind.PROPORTION:
            return (
                f"valider {format_decimal(self.value)} % des compétences qui le constituent, "
                f"soit {self.required} sur {self.out_of}, au moins au niveau {floor_label}"
            )
        return f"valider {self.required} des {self.out_of} compétences, au moins au niveau {floor_label}"


class GridOverfullError(ValueError):
    """A grid holding more competences than its block declares: the fiche's rule counts exactly, so the engine
    refuses to judge it rather than count a surplus competence toward the threshold."""


@dataclass(frozen=True)
class BlockResult:
    outcome: str
    validated_count: int
    missing_count: int
    defined_count: int
    required: int
    out_of: int
    explanation: str

    @property
    def is_validated(self) -> bool:
        return self.outcome == Outcome.VALIDATED


def block_outcome(
    *,
    levels: Sequence[str | None],
    threshold: Threshold,
    validating_levels: Collection[str],
    floor_label: str,
) -> BlockResult:
    """Compute a block's outcome from one level (or None) per competence of its grid.

    `levels` holds one entry per competence defined on the grid; None means "no level entered".
    A block is incomplete, never failed, while its grid lacks competences or a competence lacks a level.
    A grid with more competences than the block declares raises GridOverfullError: it has no outcome.
    """
    defined = len(levels)
    if defined > threshold.out_of:
        raise GridOverfullError(
            f"La grille compte {defined} compétences alors que le bloc en déclare {threshold.out_of} : "
            "une grille n'est jugée que si elle compte exactement les compétences déclarées."
        )
    missing = sum(1 for level in levels if level is None)
    validated = sum(1 for level in levels if level is not None and level in validating_levels)
    required = threshold.required
    common = {
        "validated_count": validated,
        "missing_count": missing,
        "defined_count": defined,
        "required": required,
        "out_of": threshold.out_of,
    }
    if defined < threshold.out_of:
        return BlockResult(
            outcome=Outcome.INCOMPLETE,
            explanation=(
                f"Grille incomplète : {counted(defined, 'compétence définie', 'compétences définies')} "
                f"sur {threshold.out_of}"
            ),
            **common,
        )
    if missing:
        return BlockResult(
            outcome=Outcome.INCOMPLETE,
            explanation=(
                f"{counted(missing, 'compétence sans niveau', 'compétences sans niveau')} "
                f"sur {defined} ; toutes les compétences doivent être évaluées"
            ),
            **common,
        )
    explanation = (
        f"{counted(validated, 'compétence', 'compétences')} au niveau {floor_label} ou mieux "
        f"sur {defined} ; {counted(required, 'requise', 'requises')}"
    )
    outcome = Outcome.VALIDATED if validated >= required else Outcome.NOT_VALIDATED
    return BlockResult(outcome=outcome, explanation=explanation, **common)
