"""French alphabetical order for names and titles, the same on PostgreSQL and SQLite.

A byte order puts accented capitals after Z (« CHAMBON » before « CÉLESTIN », « ÉLOI » last). PostgreSQL compares
with an ICU collation created by a migration (candidates 0004); SQLite, which has no ICU, is given a collation of the
same name on each connection (certif.apps), whose comparison follows the same levels: letters without accents nor
case first, then accents, then case (lower case first, as ICU does).
"""

import functools
import unicodedata

from django.db.models import F
from django.db.models.expressions import Combinable
from django.db.models.functions import Collate

FRENCH_COLLATION = "french"

# Letters that ICU sorts as two (« Œ » as « OE ») but that Unicode does not decompose, and the punctuation of names
# in ICU's order (space, hyphen, full stop, apostrophes), all before digits and letters as there.
_ICU_EQUIVALENTS = str.maketrans(
    {"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", " ": "\x01", "-": "\x02", ".": "\x03", "'": "\x04", "’": "\x05"}
)


@functools.lru_cache(maxsize=4096)
def french_sort_key(text: str) -> tuple[str, str, str, str]:
    """The key by which Python sorts as the `french` collation does: primary (letters without accents, case
    folded), secondary (accents), tertiary (case, lower first), then the text itself."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_ICU_EQUIVALENTS))
    letters = "".join(char for char in decomposed if not unicodedata.combining(char))
    return letters.casefold(), decomposed.casefold(), decomposed.swapcase(), text


def compare_french(left: str, right: str) -> int:
    """SQLite's comparison function for the `french` collation (negative, zero, positive)."""
    left_key, right_key = french_sort_key(left), french_sort_key(right)
    return (left_key > right_key) - (left_key < right_key)


def french(field: str | Combinable) -> Collate:
    """`field` compared in French order: `order_by(french("birth_name"))`, `french("name").desc()`."""
    return Collate(F(field) if isinstance(field, str) else field, FRENCH_COLLATION)


def person_order(prefix: str = "") -> list[Collate]:
    """A candidate's name order — birth name, then first name — from a model that reaches `Candidate` through
    `prefix` (« candidate__ », « enrolment__candidate__ »); callers add their own last key for equal names."""
    return [french(f"{prefix}birth_name"), french(f"{prefix}first_name")]


def user_order(prefix: str = "") -> list[Collate]:
    """An account's name order (trainers, presidents): last name, then first name."""
    return [french(f"{prefix}last_name"), french(f"{prefix}first_name")]


def install_sqlite_collation(sender, connection, **kwargs) -> None:
    """`connection_created` receiver (certif.apps): every SQLite connection knows the `french` collation."""
    if connection.vendor == "sqlite":
        connection.connection.create_collation(FRENCH_COLLATION, compare_french)
