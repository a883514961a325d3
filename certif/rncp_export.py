"""France Compétences' open-data export of RNCP fiches (« export-fiches-rncp-v4-1 »), read into typed fiches.

The export is one XML file of several hundred megabytes, published inside a ZIP: it is read as a stream
(`lxml.etree.iterparse`), each FICHE element cleared once read, and only the fiches asked for are kept. Nothing here
writes to the database; `certif.fiche_import` compares the fiches with what is installed and installs them.

The export's text fields are HTML fragments escaped inside the XML; they become plain text here. A block's
threshold is no field of the export: it is read from the words of MODALITES_EVALUATION, and when those words are
missing or ambiguous the threshold is left empty with the reason, for staff to enter.
"""

import datetime
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, BinaryIO

from django.core.exceptions import ValidationError
from lxml import etree

from certif import text as french_text

EXPECTED_VERSION = "4.1"
ZIP_MAGIC = b"PK\x03\x04"

# The pathways of the export's SI_JURY_* elements, with the codes and labels the shipped referential uses.
PATHWAYS = [
    ("SI_JURY_FI", "formation-initiale", "Après un parcours de formation sous statut d'élève ou d'étudiant"),
    ("SI_JURY_CA", "apprentissage", "En contrat d'apprentissage"),
    ("SI_JURY_FC", "formation-continue", "Après un parcours de formation continue"),
    ("SI_JURY_CQ", "professionnalisation", "En contrat de professionnalisation"),
    ("SI_JURY_CL", "candidature-individuelle", "Par candidature individuelle"),
    ("SI_JURY_VAE", "vae", "Par expérience dispositif VAE prévu en 2012"),
]

# The European level and its equivalent in the 1969 nomenclature (levels 7 and 8 were both « I »).
LEVEL_1969 = {3: "V", 4: "IV", 5: "III", 6: "II", 7: "I", 8: "I"}

DATE_FIELDS = {
    "decision_date": "DATE_DECISION",
    "effect_date": "DATE_EFFET",
    "end_date": "DATE_FIN_ENREGISTREMENT",
    "last_delivery_date": "DATE_LIMITE_DELIVRANCE",
    "last_jo_date": "DATE_DERNIER_JO",
}


# Registrations before France compétences existed (2019) were made by an arrêté; since, by its decision.
FRANCE_COMPETENCES_SINCE = datetime.date(2019, 1, 1)


class RncpExportError(ValidationError):
    """The export cannot be read as asked: the message says why, in French."""


@dataclass(frozen=True)
class ParsedThreshold:
    kind: str  # certif.rules.ThresholdKind values: "count" or "proportion"
    value: Decimal
    out_of: int


@dataclass(frozen=True)
class ParsedBlock:
    code: str
    number: int
    title: str
    competences: list[str]
    evaluation_modality: str
    threshold: ParsedThreshold | None
    threshold_problem: str = ""  # why no threshold was read, in French


@dataclass(frozen=True)
class ParsedPathway:
    code: str
    label: str
    is_open: bool
    composition: str  # the jury's composition as the fiche writes it for this pathway ("" when none)


@dataclass(frozen=True)
class ParsedJuryRule:
    professionals_percent: int
    trainers_percent: int
    president_is_professional: bool
    professionals_split_equally: bool
    applies_to: list[str]
    text: str


@dataclass(frozen=True)
class ParsedFiche:
    rncp_code: str  # "16204", as Certification.rncp_code holds it
    title: str
    is_active: bool
    level_eqf: int
    level_1969: str
    nsf_code: str
    nsf_label: str
    rome_codes: list[tuple[str, str]]
    certifier_name: str
    certifier_acronym: str
    decision_date: datetime.date | None
    effect_date: datetime.date | None
    end_date: datetime.date | None
    last_delivery_date: datetime.date | None
    last_jo_date: datetime.date | None
    summary: str
    sectors: str
    example_jobs: list[str]
    accessible_new_caledonia: bool
    accessible_french_polynesia: bool
    previous_rncp_codes: list[str]
    next_rncp_codes: list[str]
    website: str
    blocks: list[ParsedBlock]
    pathways: list[ParsedPathway]
    jury_rule: ParsedJuryRule | None
    jury_rule_problem: str = ""
    statistics: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def rncp_label(self) -> str:
        return f"RNCP{self.rncp_code}"

    @property
    def act(self) -> str:
        """The registration's act, named from DATE_DECISION (« Arrêté du 9 avril 2018 »)."""
        if self.decision_date is None:
            return "Enregistrement au RNCP"
        kind = "Arrêté" if self.decision_date < FRANCE_COMPETENCES_SINCE else "Décision de France compétences"
        return f"{kind} du {french_date(self.decision_date)}"

    @property
    def publication(self) -> str:
        return f"Journal Officiel du {french_date(self.last_jo_date)}" if self.last_jo_date else ""


def french_date(day: datetime.date) -> str:
    return french_text.french_date(day)


# — Codes —

_CODE = re.compile(r"^(?:RNCP)?\s*(\d{1,6})$", re.IGNORECASE)
_BLOCK_CODE = re.compile(r"^RNCP(\d{1,6})BC(\d{1,3})$", re.IGNORECASE)


def normalise_code(code: str) -> str:
    """« RNCP99901 » or « 99901 » → « RNCP99901 »."""
    match = _CODE.match(code.strip())
    if not match:
        raise RncpExportError(f"« {code} » n'est pas un code de fiche RNCP (par exemple RNCP99901 ou 99901).")
    return f"RNCP{match.group(1)}"


# — HTML fragments to text —


class _TextExtractor(HTMLParser):
    """Paragraphs, divs and line breaks become newlines; list items are kept apart as a list too."""

    BREAKS = {"p", "div", "br", "ul", "ol", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.items: list[str] = []
        self._item: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in self.BREAKS:
            self.parts.append("\n")
        if tag == "li":
            self._flush_item()
            self._item = []

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in self.BREAKS:
            self.parts.append("\n")
        if tag == "li":
            self._flush_item()

    def handle_data(self, data):
        self.parts.append(data)
        if self._item is not None:
            self._item.append(data)

    def _flush_item(self):
        if self._item is not None:
            text = " ".join("".join(self._item).split())
            if text:
                self.items.append(text)
        self._item = None

    def close(self):
        super().close()
        self._flush_item()


def html_to_text(fragment: str | None) -> tuple[str, list[str]]:
    """(plain text, list items) of an escaped HTML fragment: one line per paragraph, line break or item."""
    if not fragment:
        return "", []
    extractor = _TextExtractor()
    extractor.feed(fragment)
    extractor.close()
    lines = [" ".join(line.split()) for line in "".join(extractor.parts).split("\n")]
    return "\n".join(line for line in lines if line), extractor.items


def plain_text(fragment: str | None) -> str:
    return html_to_text(fragment)[0]


def _competence_label(item: str) -> str:
    # « le droit du travail… » keeps its ellipsis; the list's own punctuation (« , » « ; » « . ») goes.
    item = item.strip()
    if item.endswith(("…", "...")):
        return item
    return item.rstrip(",;.").rstrip()


# — Thresholds —

_COUNT = re.compile(
    r"(\d+)\s+(?:compétences\s+)?(?:des|sur\s+les|sur)\s+(\d+)(?:\s+compétences)?(?!\s*%)",
    re.IGNORECASE,
)
_PROPORTION = re.compile(r"(\d+(?:[.,]\d+)?)\s*%", re.IGNORECASE)


def parse_threshold(modality: str, listed: int) -> tuple[ParsedThreshold | None, str]:
    """The block's threshold read from its modality text, or (None, the reason in French)."""
    counts = {(int(a), int(b)) for a, b in _COUNT.findall(modality)}
    proportions = {Decimal(value.replace(",", ".")) for value in _PROPORTION.findall(modality)}
    found = len(counts) + len(proportions)
    if found == 0:
        return None, "aucun seuil n'est écrit dans les modalités d'évaluation"
    if found > 1:
        figures = [f"{a} sur {b}" for a, b in sorted(counts)] + [f"{_figure(p)} %" for p in sorted(proportions)]
        return None, f"plusieurs seuils dans les modalités d'évaluation ({', '.join(figures)}) : seuil ambigu"
    if counts:
        value, out_of = next(iter(counts))
        if value < 1 or out_of < 1 or value > out_of:
            return None, f"seuil illisible : {value} compétences sur {out_of}"
        if listed > out_of:
            return None, f"la fiche liste {listed} compétences pour {out_of} déclarées"
        return ParsedThreshold(kind="count", value=Decimal(value), out_of=out_of), ""
    proportion = next(iter(proportions))
    if not 0 < proportion <= 100:
        return None, f"proportion illisible : {_figure(proportion)} %"
    if listed == 0:
        return None, f"{_figure(proportion)} % de combien de compétences ? la fiche n'en liste aucune"
    return ParsedThreshold(kind="proportion", value=proportion, out_of=listed), ""


def _figure(value: Decimal) -> str:
    return str(int(value)) if value == int(value) else str(value).replace(".", ",")


# — Jury rule —

_PERCENT_LINE = re.compile(
    r"^(\d+)\s*%\s*(?:de\s+)?professionnels\s*[,;/et]*\s*(\d+)\s*%\s*(?:de\s+)?formateurs\.?$", re.IGNORECASE
)
_PRESIDENT_LINE = re.compile(r"^(?:le\s+)?président\s*:\s*un\s+professionnel\.?$", re.IGNORECASE)
_SPLIT_LINE = re.compile(
    r"^les\s+professionnels\s+composant\s+ce\s+jury\s+seront\s+des\s+salariés\s+et\s+des\s+employeurs\s*,?\s*à\s+parts"
    r"\s+égales\.?$",
    re.IGNORECASE,
)


def parse_jury_rule(pathways: list[ParsedPathway]) -> tuple[ParsedJuryRule | None, str]:
    with_text = [pathway for pathway in pathways if pathway.is_open and pathway.composition]
    if not with_text:
        return None, "aucune voie d'accès ouverte ne donne la composition du jury"
    texts = {pathway.composition for pathway in with_text}
    if len(texts) > 1:
        names = ", ".join(pathway.label for pathway in with_text)
        return None, f"la composition du jury diffère selon les voies d'accès ({names})"
    text = texts.pop()
    professionals = trainers = None
    president = split = False
    for line in text.split("\n"):
        line = line.strip()
        if match := _PERCENT_LINE.match(line):
            professionals, trainers = int(match.group(1)), int(match.group(2))
        elif _PRESIDENT_LINE.match(line):
            president = True
        elif _SPLIT_LINE.match(line):
            split = True
        else:
            return None, f"la composition du jury contient une phrase non reconnue : « {line} »"
    if professionals is None or trainers is None or professionals + trainers != 100:
        return None, "la composition du jury ne donne pas la part de professionnels et de formateurs"
    return (
        ParsedJuryRule(
            professionals_percent=professionals,
            trainers_percent=trainers,
            president_is_professional=president,
            professionals_split_equally=split,
            applies_to=[pathway.code for pathway in with_text],
            text=text,
        ),
        "",
    )


# — One fiche —

_CERTIFIER = re.compile(r"^(.*?)\s*\(([^()]{1,20})\)\s*$")


def _text(element, path: str) -> str:
    return (element.findtext(path) or "").strip()


def _yes(element, path: str) -> bool:
    return _text(element, path).casefold() == "oui"


def _date(element, tag: str, rncp_label: str) -> datetime.date | None:
    value = _text(element, tag)
    if not value:
        return None
    try:
        return datetime.datetime.strptime(value, "%d/%m/%Y").date()
    except ValueError:
        raise RncpExportError(
            f"Fiche {rncp_label} : la date {tag} « {value} » est illisible (attendu JJ/MM/AAAA)."
        ) from None


def _level(element, rncp_label: str) -> tuple[int, str]:
    value = _text(element, "NOMENCLATURE_EUROPE/NIVEAU")
    match = re.fullmatch(r"NIV(\d)", value, re.IGNORECASE)
    if not match or int(match.group(1)) not in LEVEL_1969:
        raise RncpExportError(f"Fiche {rncp_label} : niveau « {value} » inconnu (attendu NIV3 à NIV8).")
    level = int(match.group(1))
    return level, LEVEL_1969[level]


def _block(element, rncp_label: str, position: int) -> ParsedBlock:
    code = _text(element, "CODE")
    match = _BLOCK_CODE.match(code)
    if not match:
        label = _text(element, "LIBELLE") or f"n° {position}"
        if not code:
            raise RncpExportError(f"Fiche {rncp_label} : le bloc « {label} » n'a pas de code (CODE).")
        raise RncpExportError(f"Fiche {rncp_label} : le code de bloc « {code} » est illisible (attendu RNCPxxxxxBCnn).")
    if f"RNCP{match.group(1)}" != rncp_label:
        raise RncpExportError(f"Fiche {rncp_label} : le bloc {code} porte le code d'une autre fiche.")
    competences = [_competence_label(item) for item in html_to_text(element.findtext("LISTE_COMPETENCES"))[1]]
    competences = [label for label in competences if label]
    modality = plain_text(element.findtext("MODALITES_EVALUATION"))
    threshold, problem = parse_threshold(modality, len(competences))
    return ParsedBlock(
        code=code.upper(),
        number=int(match.group(2)),
        title=plain_text(element.findtext("LIBELLE")).replace("\n", " ").rstrip(".").rstrip(),
        competences=competences,
        evaluation_modality=modality,
        threshold=threshold,
        threshold_problem=problem,
    )


def parse_fiche(element) -> ParsedFiche:
    """A FICHE element as a ParsedFiche (raises RncpExportError naming the fiche and the field)."""
    rncp_label = normalise_code(_text(element, "NUMERO_FICHE"))
    level_eqf, level_1969 = _level(element, rncp_label)
    certifier = _text(element, "CERTIFICATEURS/CERTIFICATEUR/NOM_CERTIFICATEUR")
    match = _CERTIFIER.match(certifier)
    certifier_name, certifier_acronym = (match.group(1), match.group(2).strip()) if match else (certifier, "")
    blocks = [
        _block(block, rncp_label, position)
        for position, block in enumerate(element.iterfind("BLOCS_COMPETENCES/BLOC_COMPETENCES"), start=1)
    ]
    numbers = [block.number for block in blocks]
    if len(set(numbers)) != len(numbers):
        raise RncpExportError(f"Fiche {rncp_label} : deux blocs portent le même numéro.")
    pathways = [
        ParsedPathway(
            code=code,
            label=label,
            is_open=_yes(element, f"{tag}/ACTIF"),
            composition=plain_text(element.findtext(f"{tag}/COMPOSITION")),
        )
        for tag, code, label in PATHWAYS
    ]
    jury_rule, jury_problem = parse_jury_rule(pathways)
    jobs_text = plain_text(element.findtext("TYPE_EMPLOI_ACCESSIBLES"))
    jobs = [job.strip() for line in jobs_text.split("\n") for job in line.split(" - ") if job.strip()]
    return ParsedFiche(
        rncp_code=rncp_label.removeprefix("RNCP"),
        title=_text(element, "INTITULE"),
        is_active=_yes(element, "ACTIF"),
        level_eqf=level_eqf,
        level_1969=level_1969,
        nsf_code=_text(element, "CODES_NSF/NSF/CODE"),
        nsf_label=_text(element, "CODES_NSF/NSF/INTITULE"),
        rome_codes=[(_text(rome, "CODE"), _text(rome, "LIBELLE")) for rome in element.iterfind("CODES_ROME/ROME")],
        certifier_name=certifier_name,
        certifier_acronym=certifier_acronym,
        summary=plain_text(element.findtext("ACTIVITES_VISEES")),
        sectors=plain_text(element.findtext("SECTEURS_ACTIVITE")),
        example_jobs=jobs,
        accessible_new_caledonia=_yes(element, "ACCESSIBLE_NOUVELLE_CALEDONIE"),
        accessible_french_polynesia=_yes(element, "ACCESSIBLE_POLYNESIE_FRANCAISE"),
        previous_rncp_codes=_codes(element, "ANCIENNES_CERTIFICATIONS/ANCIENNE_CERTIFICATION"),
        next_rncp_codes=_codes(element, "NOUVELLES_CERTIFICATIONS/NOUVELLE_CERTIFICATION"),
        website=_text(element, "LIEN_URL_DESCRIPTION"),
        blocks=sorted(blocks, key=lambda block: block.number),
        pathways=pathways,
        jury_rule=jury_rule,
        jury_rule_problem=jury_problem,
        statistics=_statistics(element),
        decision_date=_date(element, DATE_FIELDS["decision_date"], rncp_label),
        effect_date=_date(element, DATE_FIELDS["effect_date"], rncp_label),
        end_date=_date(element, DATE_FIELDS["end_date"], rncp_label),
        last_delivery_date=_date(element, DATE_FIELDS["last_delivery_date"], rncp_label),
        last_jo_date=_date(element, DATE_FIELDS["last_jo_date"], rncp_label),
    )


def _statistics(element) -> str:
    """The latest year's figures (« 14 certifiés en 2025, dont 3 par la VAE »), or ""."""
    latest = None
    for row in element.iterfind("STATISTIQUES_PROMOTIONS/STATISTIQUES_PROMOTION"):
        year, certified = _text(row, "ANNEE"), _text(row, "NOMBRE_CERTIFIES")
        if year.isdigit() and certified.isdigit() and (latest is None or int(year) > int(latest[0])):
            latest = (year, certified, _text(row, "NOMBRE_CERTIFIES_VAE"))
    if latest is None:
        return ""
    year, certified, by_vae = latest
    text = f"{certified} certifié{'s' if int(certified) > 1 else ''} en {year}"
    return f"{text}, dont {by_vae} par la VAE" if by_vae.isdigit() and int(by_vae) else text


def _codes(element, path: str) -> list[str]:
    codes = []
    for node in element.iterfind(path):
        text = (node.text or "").strip()
        if text:
            code = normalise_code(text)
            if code not in codes:
                codes.append(code)
    return codes


# — The file —


def _open_xml(source: str | Path | BinaryIO) -> tuple[IO[bytes], list]:
    """The XML stream of `source` (an XML file or the ZIP as published), and what to close afterwards."""
    to_close: list = []
    if isinstance(source, (str, Path)):
        stream: IO[bytes] = open(source, "rb")  # noqa: SIM115 (closed by the caller through to_close)
        to_close.append(stream)
    else:
        stream = source
    head = stream.read(4)
    stream.seek(0)
    if head == ZIP_MAGIC:
        try:
            archive = zipfile.ZipFile(stream)
        except zipfile.BadZipFile:
            raise RncpExportError("Ce fichier ZIP est illisible (archive endommagée).") from None
        to_close.append(archive)
        members = [info for info in archive.infolist() if info.filename.lower().endswith(".xml") and not info.is_dir()]
        if not members:
            raise RncpExportError("Cette archive ZIP ne contient aucun fichier XML : ce n'est pas l'export des fiches.")
        if len(members) > 1:
            names = ", ".join(info.filename for info in members[:5])
            raise RncpExportError(f"Cette archive ZIP contient plusieurs fichiers XML ({names}) : un seul est attendu.")
        member = archive.open(members[0])
        to_close.append(member)
        return member, to_close
    start = stream.read(64)
    stream.seek(0)
    if not start.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        for item in to_close:
            item.close()
        raise RncpExportError(
            "Ce fichier n'est ni une archive ZIP ni un fichier XML : ce n'est pas l'export des fiches."
        )
    return stream, to_close


def read_fiches(source: str | Path | BinaryIO, codes: list[str] | None = None, *, limit: int | None = None) -> list:
    """The fiches of the export `source` whose codes are in `codes` (all of them when None), in the order asked.

    `limit`: with `codes` None, refuse a file holding more fiches than this (the whole export is not read at once).
    """
    wanted = [normalise_code(code) for code in codes] if codes is not None else None
    found: dict[str, ParsedFiche] = {}
    stream, to_close = _open_xml(source)
    version = None
    count = 0
    try:
        events = etree.iterparse(
            stream,
            events=("end",),
            tag=("VERSION_FLUX", "FICHE"),
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
            load_dtd=False,
        )
        for _, element in events:
            if element.tag == "VERSION_FLUX":
                version = (element.text or "").strip()
                if version != EXPECTED_VERSION:
                    raise RncpExportError(
                        f"Version du flux « {version} » trouvée, version {EXPECTED_VERSION} attendue "
                        "(export-fiches-rncp-v4-1)."
                    )
                continue
            if version is None:
                raise RncpExportError(
                    f"Le fichier ne donne pas sa version (VERSION_FLUX) avant ses fiches : version {EXPECTED_VERSION} "
                    "attendue."
                )
            count += 1
            number = (element.findtext("NUMERO_FICHE") or "").strip()
            code = normalise_code(number) if _CODE.match(number) else number
            if (wanted is None or code in wanted) and code not in found:
                found[code] = parse_fiche(element)
                if wanted is None and limit is not None and len(found) > limit:
                    raise RncpExportError(
                        f"Ce fichier contient plus de {limit} fiches : indiquez les codes des fiches à importer."
                    )
            # Memory stays bounded: the fiche read and the siblings before it go.
            element.clear()
            parent = element.getparent()
            if parent is not None:
                while element.getprevious() is not None:
                    del parent[0]
            if wanted is not None and len(found) == len(set(wanted)):
                break
    except etree.XMLSyntaxError as error:
        raise RncpExportError(f"Le fichier XML est mal formé : {error.msg} (ligne {error.lineno}).") from None
    finally:
        for item in reversed(to_close):
            item.close()
    if version is None:
        raise RncpExportError(
            f"Ce fichier XML n'est pas l'export des fiches RNCP : pas de VERSION_FLUX (version {EXPECTED_VERSION} "
            "attendue)."
        )
    if wanted is None:
        return list(found.values())
    missing = [code for code in wanted if code not in found]
    if missing:
        raise RncpExportError(
            f"{'Les fiches' if len(missing) > 1 else 'La fiche'} {', '.join(missing)} "
            f"{'ne figurent' if len(missing) > 1 else 'ne figure'} pas dans ce fichier.",
            code="absent_fiche",
        )
    return [found[code] for code in dict.fromkeys(wanted)]
