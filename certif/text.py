"""French wording shared by every message, page and document.

French rule for plurals: 0 and 1 take the singular (« 0 compétence », « 1 écart », « 2 écarts »); Django's
`pluralize` follows the English rule (« 0 compétences »), hence this module and its `fr_plural` filter.
"""


def is_plural(count: int) -> bool:
    return abs(count) > 1


def plural(count: int, singular: str, plural_form: str) -> str:
    """The word that agrees with `count`: plural(2, "décision manque", "décisions manquent")."""
    return plural_form if is_plural(count) else singular


def counted(count: int, singular: str, plural_form: str) -> str:
    """The count and its agreeing word: counted(3, "membre", "membres") → « 3 membres »."""
    return f"{count} {plural(count, singular, plural_form)}"


def plural_suffix(count, suffixes: str = "s") -> str:
    """The ending that agrees with `count`, as the template filter `fr_plural` gives it.

    `suffixes` is the plural ending (« s »), or « singular,plural » (« a,ont » for « sera » / « seront »).
    A value that is not a number takes the singular, as an empty text would.
    """
    singular, _, plural_ending = suffixes.rpartition(",")
    try:
        count = int(count)
    except (TypeError, ValueError):
        return singular
    return plural_ending if is_plural(count) else singular
