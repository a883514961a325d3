"""The code lists of birth places, read from the files `make cog` vendors (candidates/data/cog/): communes of the
Code officiel géographique with their INSEE and postal codes, and the COG's countries (99xxx).

Held in memory (read once per process, a few megabytes): the lists change once a year with a new package version,
and a lookup or a search costs no query. The model validates against them (`Candidate.clean`), so every door that
cleans a candidate (form, admin, import, services) obeys them.
"""

import gzip
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data" / "cog"

# The COG codes France 99100 in its country list; the package the countries come from lists foreign countries only.
FRANCE_CODE = "99100"
FRANCE_LABEL = "France"
SEARCH_LIMIT = 20

COMMUNE_KINDS = {
    "C": "commune",
    "A": "arrondissement municipal",
    "D": "commune déléguée",
    "S": "commune associée",
    "O": "ancienne commune",
}

# ISO 3166 alpha-2 codes that name France or one of its overseas parts (typed as a country by mistake).
FRENCH_ISO_CODES = {"fr", "fx", "gp", "mq", "gf", "re", "yt", "pm", "bl", "mf", "wf", "pf", "nc", "tf"}


@dataclass(frozen=True)
class Commune:
    code: str
    name: str
    kind: str  # a key of COMMUNE_KINDS
    postal_codes: tuple[str, ...]
    parent: str  # the commune it merged into, or whose district it is

    @property
    def label(self) -> str:
        postal = f", {self.postal_codes[0]}" if len(self.postal_codes) == 1 else ""
        kind = "" if self.kind == "C" else f" — {COMMUNE_KINDS[self.kind]}"
        return f"{self.name} ({self.code}{postal}){kind}"


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    other_names: tuple[str, ...] = ()

    @property
    def cdc_code(self) -> str:
        """The 3 characters of codePaysNaissance: the COG code without its 99 prefix."""
        return self.code[2:]

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})"


def fold(text: str) -> str:
    """Accents, case, hyphens and apostrophes ignored: « Saint-Étienne » and « saint etienne » fold alike."""
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().casefold()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _read(name: str) -> list:
    return json.loads(gzip.decompress((DATA_DIR / name).read_bytes()))


@cache
def manifest() -> dict:
    return json.loads((DATA_DIR / "manifest.json").read_text())


def lists_version() -> str:
    """Which lists, for staff: « communes : @etalab/decoupage-administratif 6.0.0 du 09/03/2026 ; pays : … »."""

    def one(info: dict) -> str:
        date = ""
        if info.get("date"):
            year, month, day = info["date"].split("-")
            date = f" du {day}/{month}/{year}"
        return f"{info['package']} {info['version']}{date}"

    data = manifest()
    return f"communes : {one(data['communes'])} ; pays : {one(data['countries'])}"


@cache
def _communes() -> tuple[dict[str, tuple[Commune, ...]], frozenset[str], list[tuple[str, Commune]]]:
    by_code: dict[str, list[Commune]] = {}
    postal: set[str] = set()
    index = []
    for code, name, kind, postal_codes, parent in _read("communes.json.gz")["communes"]:
        commune = Commune(code, name, kind, tuple(postal_codes), parent)
        by_code.setdefault(code, []).append(commune)
        postal.update(postal_codes)
        if kind != "O":  # a former code carries its successor's name: found under that name already
            index.append((fold(name), commune))
    return {code: tuple(items) for code, items in by_code.items()}, frozenset(postal), index


@cache
def _countries() -> tuple[dict[str, Country], dict[str, Country]]:
    by_code = {FRANCE_CODE: Country(FRANCE_CODE, FRANCE_LABEL)}
    for code, name, others in _read("countries.json.gz"):
        by_code[code] = Country(code, name, tuple(others))
    by_name = {}
    for country in by_code.values():
        for name in (country.name, *country.other_names):
            by_name.setdefault(fold(name), country)
    return by_code, by_name


@cache
def _overseas() -> dict[str, str]:
    """Folded name of an overseas department or collectivity → its number (972…)."""
    return {fold(name): code for code, name in _read("communes.json.gz")["overseas"]}


def french_region_named(name: str) -> str:
    """The number of the overseas department or collectivity so named (« Martinique » → 972), else ''."""
    folded = fold(name)
    return _overseas().get(folded) or _overseas().get(fold(f"la {folded}"), "")


def communes_with_code(code: str) -> tuple[Commune, ...]:
    """Every commune the COG has written under this INSEE code (a merged commune shares its successor's code)."""
    return _communes()[0].get((code or "").strip().upper(), ())


def postal_code_exists(code: str) -> bool:
    return (code or "").strip() in _communes()[1]


def commune_named(code: str, name: str) -> Commune | None:
    """The commune of this code that bears this name (folded), else the current commune of the code."""
    candidates = communes_with_code(code)
    folded = fold(name)
    return next((item for item in candidates if fold(item.name) == folded), None) or next(iter(candidates), None)


def country(code: str) -> Country | None:
    return _countries()[0].get((code or "").strip())


def country_named(name: str) -> Country | None:
    """A country from its COG label or one of its other names, accents and case ignored; « FR » and the alpha-2
    codes of French overseas parts are France."""
    folded = fold(name)
    if folded in ("france", "france metropolitaine"):
        return country(FRANCE_CODE)
    return _countries()[1].get(folded)


def guess_country(name: str) -> Country | None:
    """For text typed before the lists: also « FR » and the alpha-2 codes of French overseas parts, and an
    overseas department or collectivity typed as a country, are France."""
    if found := country_named(name):
        return found
    if fold(name) in FRENCH_ISO_CODES or french_region_named(name):
        return country(FRANCE_CODE)
    return None


def communes_named(name: str, *, postal_code: str = "", region: str = "") -> list[Commune]:
    """The current communes that bear exactly this name (folded), with this postal code or in this overseas
    department when given: one when a typed name is enough to know the commune."""
    folded = fold(name)
    if not folded:
        return []
    return [
        commune
        for key, commune in _communes()[2]
        if key == folded
        and commune.kind in ("C", "A")
        and (not postal_code or postal_code in commune.postal_codes)
        and (not region or commune.code.startswith(region))
    ]


def commune_in_region(region: str, name: str) -> Commune | None:
    """The current commune of this name in an overseas department or collectivity (972, « Sainte-Marie »)."""
    folded = fold(name)
    return next(
        (c for c in search_communes(name, limit=50) if c.code.startswith(region) and fold(c.name) == folded), None
    )


def _rank(folded_query: str, folded_name: str) -> int | None:
    if folded_name == folded_query:
        return 0
    if folded_name.startswith(folded_query):
        return 1
    if f" {folded_query}" in f" {folded_name}":
        return 2
    return None


def search_communes(query: str, *, limit: int = SEARCH_LIMIT) -> list[Commune]:
    """Communes whose name holds the query (accents, case and hyphens ignored) or whose INSEE or postal code
    begins with it; exact names first, current communes before merged ones."""
    folded = fold(query)
    if len(folded) < 2:
        return []
    _by_code, _postal, index = _communes()
    found = []
    compact = folded.replace(" ", "").upper()
    for name, commune in index:
        if compact.isalnum() and any(c.isdigit() for c in compact):
            if commune.code.startswith(compact) or any(p.startswith(compact) for p in commune.postal_codes):
                found.append((0, commune))
            continue
        rank = _rank(folded, name)
        if rank is not None:
            found.append((rank, commune))
    found.sort(key=lambda item: (item[0], "CADSO".index(item[1].kind), item[1].name, item[1].code))
    return [commune for _rank_, commune in found[:limit]]


def search_countries(query: str, *, limit: int = SEARCH_LIMIT) -> list[Country]:
    folded = fold(query)
    if not folded:
        return []
    found = []
    for item in _countries()[0].values():
        if item.code.startswith(folded):
            found.append((0, item))
            continue
        ranks = [r for name in (item.name, *item.other_names) if (r := _rank(folded, fold(name))) is not None]
        if ranks:
            found.append((min(ranks), item))
    found.sort(key=lambda pair: (pair[0], pair[1].name))
    return [item for _rank_, item in found[:limit]]


@dataclass(frozen=True)
class MappedPlace:
    country_code: str  # '' when the country could not be read: the file is listed for staff
    country_name: str
    insee_code: str
    postal_code: str
    commune: str


def map_typed_place(*, country_text: str, commune: str, insee_code: str, postal_code: str) -> MappedPlace:
    """A birth place typed before the lists, mapped to them where it matches; what does not match keeps its text
    and an empty country code (listed for staff, never dropped)."""
    insee_code, postal_code = (insee_code or "").strip().upper(), (postal_code or "").strip()
    unmatched = MappedPlace("", country_text, insee_code, postal_code, commune)
    found = guess_country(country_text) if country_text.strip() else None
    if found is None and not country_text.strip() and (insee_code or postal_code):
        found = country(FRANCE_CODE)
    if found is None:
        return unmatched
    if found.code != FRANCE_CODE:
        if insee_code or postal_code:
            return unmatched  # a French code with a foreign country: someone must decide
        return MappedPlace(found.code, found.name, "", "", commune)
    if not insee_code:
        matches = communes_named(commune, postal_code=postal_code, region=french_region_named(country_text))
        if len(matches) == 1:
            insee_code = matches[0].code
    if insee_code:
        named = commune_named(insee_code, commune)
        if named is None:
            return unmatched
        if postal_code and named.postal_codes and postal_code not in named.postal_codes:
            return unmatched
        if not postal_code and len(named.postal_codes) == 1:
            postal_code = named.postal_codes[0]
        if fold(named.name) != fold(commune) and commune.strip():
            return unmatched  # the code says one commune, the name another
        return MappedPlace(FRANCE_CODE, FRANCE_LABEL, insee_code, postal_code, named.name)
    if postal_code and postal_code_exists(postal_code):
        return MappedPlace(FRANCE_CODE, FRANCE_LABEL, "", postal_code, commune)
    return unmatched
