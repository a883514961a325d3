"""French wording shared by every message, page and document.

French rule for plurals: 0 and 1 take the singular (« 0 compétence », « 1 écart », « 2 écarts »); Django's
`pluralize` follows the English rule (« 0 compétences »), hence this module and its `fr_plural` filter.
Dates: « 9 avril 2018 », « 1er juin 2026 » (`french_date`, filter `fr_date`); elision before a name: « d'Hélène »,
« de Paul » (`de_name`, filter `de_name`).
"""

import datetime
import re

from django.utils import timezone
from django.utils.formats import number_format


def french_number(value: int) -> str:
    """« 3 762 »: grouped the French way (a no-break space)."""
    return number_format(value, force_grouping=True)


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


# — Dates —

FRENCH_MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
_DATE_IN_TEXT = re.compile(r"\b0?([1-9]|[12]\d|3[01])(?:er)? (" + "|".join(FRENCH_MONTHS) + r")\b")


def french_date(day) -> str:
    """« 9 avril 2018 », « 1er juin 2026 »: the day without a leading zero, the first of the month « 1er ». A moment
    (datetime) gives its day in the local time zone."""
    if day is None or day == "":
        return ""
    if isinstance(day, datetime.datetime):
        day = timezone.localdate(day) if timezone.is_aware(day) else day.date()
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {FRENCH_MONTHS[day.month - 1]} {day.year}"


def lower_first(text: str) -> str:
    """« Décision de France compétences » inside a sentence: « décision de France compétences » (a proper name keeps
    its capitals, which Django's `lower` would take)."""
    return text[:1].lower() + text[1:] if text else text


def french_dates_in(text: str) -> str:
    """The dates inside a text written elsewhere (« Arrêté du 9 avril 2018 », « du 1 juin ») in the same form."""
    if not text:
        return text

    def day(match):
        number = int(match[1])
        return f"{'1er' if number == 1 else number} {match[2]}"

    return _DATE_IN_TEXT.sub(day, text)


# — Elision —

# « de » becomes « d' » before a vowel sound: a, e, i, o, u and their accented forms (à â ä é è ê ë î ï ô ö ù û ü,
# æ, œ); before y when it sounds as a vowel, i.e. followed by a consonant (« d'Yves », « d'Yvonne ») but not before
# a vowel (« de Yann », « de Yasmine », « de Yolande »); before h, mute in French first names (« d'Hélène »,
# « d'Henri », « d'Hugo »), except the names below, whose h is pronounced (« de Harry »).
VOWELS = set("aeiouàâäéèêëîïôöùûüæœ")
ASPIRATED_H_NAMES = {"hans", "harry", "heinz", "helmut", "hugh", "howard", "heidi"}


def elides(word: str) -> bool:
    """Whether « de », « le », « que »… elide before `word` (a name)."""
    word = word.strip().lower()
    if not word:
        return False
    first, rest = word[0], word[1:]
    if first in VOWELS:
        return True
    if first == "y":
        return bool(rest) and rest[0] not in VOWELS | {"y"}
    if first == "h":
        return re.split(r"[\s\-']", word)[0] not in ASPIRATED_H_NAMES
    return False


def de_name(name: str) -> str:
    """« d'Hélène Rousseau », « de Paul Martin »: the preposition « de » before a person's name."""
    name = (name or "").strip()
    return f"d'{name}" if elides(name) else f"de {name}"
