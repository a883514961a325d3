"""The rule engine (certif.rules) against the fiche's rules, as a jury reads them.

Fiche RNCP 16204, every block: « Toutes les compétences sont évaluées. Pour valider ce bloc, le candidat devra
valider <seuil> des compétences qui le constituent (au moins au niveau C). »
"""

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certif.rules import Outcome, Threshold, ThresholdKind, block_outcome

VALIDATING = frozenset({"A", "B", "C"})
FLOOR = "C"
# Best first; None (no level entered) is below every level.
ORDER = [None, "D", "C", "B", "A"]

# block number → (kind, value, declared competences, competences required), as the fiche writes it.
FICHE_BLOCKS = {
    1: (ThresholdKind.PROPORTION, 75, 4, 3),
    2: (ThresholdKind.COUNT, 7, 9, 7),
    3: (ThresholdKind.COUNT, 5, 7, 5),
    4: (ThresholdKind.COUNT, 7, 9, 7),
}


def outcome(levels, threshold):
    return block_outcome(levels=levels, threshold=threshold, validating_levels=VALIDATING, floor_label=FLOOR)


# --- the four real blocks, as installed --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("number", sorted(FICHE_BLOCKS))
def test_real_block_threshold_is_the_fiches(blocks, number):
    kind, value, out_of, required = FICHE_BLOCKS[number]
    threshold = blocks[number].threshold
    assert threshold.kind == kind
    assert threshold.value == value
    assert threshold.out_of == out_of
    assert threshold.required == required


@pytest.mark.django_db
def test_installed_scale_is_the_one_these_tests_use(certification):
    scale = certification.rating_scales.order_by("-version").first()
    assert scale.validating_codes == VALIDATING
    assert scale.floor_label == FLOOR


@pytest.mark.django_db
@pytest.mark.parametrize("number", sorted(FICHE_BLOCKS))
def test_exactly_at_threshold_validates(blocks, number):
    threshold = blocks[number].threshold
    required = FICHE_BLOCKS[number][3]
    levels = ["C"] * required + ["D"] * (threshold.out_of - required)
    result = outcome(levels, threshold)
    assert result.outcome == Outcome.VALIDATED
    assert result.is_validated
    assert result.validated_count == required
    assert result.explanation == (
        f"{required} compétences au niveau C ou mieux sur {threshold.out_of} ; {required} requises"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("number", sorted(FICHE_BLOCKS))
def test_mixed_validating_levels_at_threshold_validate(blocks, number):
    threshold = blocks[number].threshold
    required = FICHE_BLOCKS[number][3]
    validating = (["A", "B", "C"] * required)[:required]
    levels = ["D"] * (threshold.out_of - required) + validating
    assert outcome(levels, threshold).outcome == Outcome.VALIDATED


@pytest.mark.django_db
@pytest.mark.parametrize("number", sorted(FICHE_BLOCKS))
def test_one_below_threshold_is_not_validated(blocks, number):
    threshold = blocks[number].threshold
    required = FICHE_BLOCKS[number][3]
    levels = ["A"] * (required - 1) + ["D"] * (threshold.out_of - required + 1)
    result = outcome(levels, threshold)
    assert result.outcome == Outcome.NOT_VALIDATED
    assert not result.is_validated
    assert result.validated_count == required - 1
    assert result.missing_count == 0


@pytest.mark.django_db
@pytest.mark.parametrize("number", sorted(FICHE_BLOCKS))
def test_one_competence_without_level_is_incomplete_even_if_others_validate(blocks, number):
    threshold = blocks[number].threshold
    levels = ["A"] * (threshold.out_of - 1) + [None]
    result = outcome(levels, threshold)
    assert result.outcome == Outcome.INCOMPLETE
    assert result.missing_count == 1
    assert result.explanation == (
        f"1 compétence sans niveau sur {threshold.out_of} ; toutes les compétences doivent être évaluées"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("number", sorted(FICHE_BLOCKS))
def test_one_competence_without_level_is_incomplete_not_failed_when_others_fail(blocks, number):
    threshold = blocks[number].threshold
    levels = ["D"] * (threshold.out_of - 1) + [None]
    assert outcome(levels, threshold).outcome == Outcome.INCOMPLETE


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("number", "explanation"),
    [
        (2, "Grille incomplète : 6 compétences définies sur 9"),
        (3, "Grille incomplète : 3 compétences définies sur 7"),
        (4, "Grille incomplète : 5 compétences définies sur 9"),
    ],
)
def test_installed_grids_lacking_competences_are_incomplete(blocks, number, explanation):
    """The fiche lists 6, 3 and 5 competences for blocks declaring 9, 7 and 9: even all at A, no result."""
    block = blocks[number]
    levels = ["A"] * block.current_grid.defined_count
    result = outcome(levels, block.threshold)
    assert result.outcome == Outcome.INCOMPLETE
    assert result.explanation == explanation
    assert result.defined_count == len(levels)


@pytest.mark.django_db
def test_installed_grid_of_block_1_is_complete_and_can_validate(blocks):
    block = blocks[1]
    assert block.current_grid.defined_count == 4
    result = outcome(["A", "B", "C", "D"], block.threshold)
    assert result.outcome == Outcome.VALIDATED
    assert result.explanation == "3 compétences au niveau C ou mieux sur 4 ; 3 requises"


@pytest.mark.django_db
def test_incomplete_grid_wins_over_missing_levels(blocks):
    result = outcome(["A"] * 5 + [None], blocks[2].threshold)
    assert result.outcome == Outcome.INCOMPLETE
    assert result.explanation == "Grille incomplète : 6 compétences définies sur 9"


# --- explanation texts ----------------------------------------------------------------------------------------


def test_explanation_as_a_jury_reads_it():
    threshold = Threshold(ThresholdKind.COUNT, Decimal(7), 9)
    result = outcome(["A"] * 6 + ["D"] * 3, threshold)
    assert result.outcome == Outcome.NOT_VALIDATED
    assert result.explanation == "6 compétences au niveau C ou mieux sur 9 ; 7 requises"


def test_explanation_singular_validated_count():
    threshold = Threshold(ThresholdKind.PROPORTION, Decimal(75), 4)
    result = outcome(["B", "D", "D", "D"], threshold)
    assert result.outcome == Outcome.NOT_VALIDATED
    assert result.explanation == "1 compétence au niveau C ou mieux sur 4 ; 3 requises"


def test_explanation_zero_is_singular():
    threshold = Threshold(ThresholdKind.PROPORTION, Decimal(75), 4)
    assert outcome(["D"] * 4, threshold).explanation == "0 compétence au niveau C ou mieux sur 4 ; 3 requises"


def test_explanation_singular_required():
    threshold = Threshold(ThresholdKind.COUNT, Decimal(1), 1)
    result = outcome(["C"], threshold)
    assert result.outcome == Outcome.VALIDATED
    assert result.explanation == "1 compétence au niveau C ou mieux sur 1 ; 1 requise"


def test_explanation_missing_levels_plural():
    threshold = Threshold(ThresholdKind.COUNT, Decimal(7), 9)
    result = outcome(["A"] * 6 + [None] * 3, threshold)
    assert result.explanation == "3 compétences sans niveau sur 9 ; toutes les compétences doivent être évaluées"


def test_explanation_incomplete_grid_singular():
    threshold = Threshold(ThresholdKind.COUNT, Decimal(7), 9)
    assert outcome(["A"], threshold).explanation == "Grille incomplète : 1 compétence définie sur 9"


def test_explanation_uses_the_floor_label_given():
    threshold = Threshold(ThresholdKind.COUNT, Decimal(2), 3)
    result = block_outcome(
        levels=["TB", "AB", "I"],
        threshold=threshold,
        validating_levels={"TB", "B", "AB"},
        floor_label="Assez bien",
    )
    assert result.outcome == Outcome.VALIDATED
    assert result.explanation == "2 compétences au niveau Assez bien ou mieux sur 3 ; 2 requises"


def test_level_d_does_not_validate():
    threshold = Threshold(ThresholdKind.COUNT, Decimal(1), 1)
    result = outcome(["D"], threshold)
    assert result.outcome == Outcome.NOT_VALIDATED
    assert result.validated_count == 0


# --- Threshold.required and Threshold.describe --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "out_of", "required"),
    [
        (Decimal(75), 4, 3),
        (Decimal(75), 5, 4),  # 3.75 rounded up
        (Decimal(100), 4, 4),
        (Decimal(50), 3, 2),  # 1.5 rounded up
        (Decimal(50), 4, 2),
        (Decimal("75.00"), 4, 3),  # as the database stores it
        (Decimal("62.5"), 8, 5),
        (Decimal("0.01"), 9, 1),
    ],
)
def test_proportion_required_rounds_up(value, out_of, required):
    assert Threshold(ThresholdKind.PROPORTION, value, out_of).required == required


def test_count_required_is_the_count():
    assert Threshold(ThresholdKind.COUNT, Decimal("7.00"), 9).required == 7


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1, "valider 75 % des compétences qui le constituent, soit 3 sur 4, au moins au niveau C"),
        (2, "valider 7 des 9 compétences, au moins au niveau C"),
        (3, "valider 5 des 7 compétences, au moins au niveau C"),
        (4, "valider 7 des 9 compétences, au moins au niveau C"),
    ],
)
def test_describe_real_blocks_in_the_fiches_words(blocks, number, text):
    assert blocks[number].threshold.describe("C") == text


@pytest.mark.parametrize(
    ("value", "out_of", "text"),
    [
        (Decimal("100.00"), 4, "valider 100 % des compétences qui le constituent, soit 4 sur 4, au moins au niveau C"),
        (Decimal("62.50"), 8, "valider 62,5 % des compétences qui le constituent, soit 5 sur 8, au moins au niveau C"),
    ],
)
def test_describe_proportion_in_french_notation(value, out_of, text):
    assert Threshold(ThresholdKind.PROPORTION, value, out_of).describe("C") == text


# --- properties -------------------------------------------------------------------------------------------------


@st.composite
def thresholds(draw):
    out_of = draw(st.integers(min_value=1, max_value=12))
    if draw(st.sampled_from([ThresholdKind.PROPORTION, ThresholdKind.COUNT])) == ThresholdKind.PROPORTION:
        # A percentage in (0, 100] with two decimals, as Block.threshold_value stores it.
        value = Decimal(draw(st.integers(min_value=1, max_value=10_000))) / 100
        return Threshold(ThresholdKind.PROPORTION, value, out_of)
    return Threshold(ThresholdKind.COUNT, Decimal(draw(st.integers(min_value=1, max_value=out_of))), out_of)


@st.composite
def threshold_and_levels(draw):
    threshold = draw(thresholds())
    levels = draw(
        st.lists(st.sampled_from(ORDER), min_size=threshold.out_of, max_size=threshold.out_of),
    )
    return threshold, levels


@given(thresholds())
def test_property_required_is_ceil_and_within_the_block(threshold):
    if threshold.kind == ThresholdKind.PROPORTION:
        assert threshold.required == math.ceil(Fraction(threshold.value) * threshold.out_of / 100)
    else:
        assert threshold.required == int(threshold.value)
    assert 1 <= threshold.required <= threshold.out_of


@given(threshold_and_levels())
def test_property_incomplete_iff_a_level_is_missing(case):
    threshold, levels = case
    result = outcome(levels, threshold)
    assert (result.outcome == Outcome.INCOMPLETE) == (None in levels)


@given(threshold_and_levels())
def test_property_complete_grid_validated_iff_enough_at_floor_or_better(case):
    threshold, levels = case
    result = outcome(levels, threshold)
    if None in levels:
        assert result.outcome == Outcome.INCOMPLETE
        return
    enough = sum(level in VALIDATING for level in levels) >= threshold.required
    assert result.outcome == (Outcome.VALIDATED if enough else Outcome.NOT_VALIDATED)


@given(threshold_and_levels(), st.data())
def test_property_raising_a_level_never_unvalidates(case, data):
    threshold, levels = case
    before = outcome(levels, threshold)
    index = data.draw(st.integers(min_value=0, max_value=len(levels) - 1))
    rank = ORDER.index(levels[index])
    if rank == len(ORDER) - 1:
        return  # already A: nothing to raise
    raised = list(levels)
    raised[index] = data.draw(st.sampled_from(ORDER[rank + 1 :]))
    after = outcome(raised, threshold)
    assert after.validated_count >= before.validated_count
    if before.outcome == Outcome.VALIDATED:
        assert after.outcome == Outcome.VALIDATED


@given(threshold_and_levels())
def test_property_counts_are_consistent(case):
    threshold, levels = case
    result = outcome(levels, threshold)
    assert result.validated_count + result.missing_count <= result.defined_count
    assert result.defined_count == len(levels)
    assert result.required == threshold.required
    assert result.out_of == threshold.out_of


@given(threshold_and_levels(), st.data())
def test_property_grid_shorter_than_declared_is_always_incomplete(case, data):
    threshold, levels = case
    defined = data.draw(st.integers(min_value=0, max_value=threshold.out_of - 1))
    result = outcome(levels[:defined], threshold)
    assert result.outcome == Outcome.INCOMPLETE
    assert result.explanation.startswith(f"Grille incomplète : {defined} ")
    assert result.explanation.endswith(f" sur {threshold.out_of}")
