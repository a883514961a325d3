"""Bulk import of candidates from the spreadsheets staff really keep (CSV or Excel .xlsx).

Three steps, kept apart so that the preview and the confirmation run exactly the same checks:

1. `parse_file` reads the file into rows of JSON-ready dicts keyed by model field (what the session keeps between
   the preview and the confirmation), with the conversion problems of each cell (a date that is not a date…);
2. `validate_rows` checks every row with the model itself (`Candidate.full_clean`, so the messages are the form's)
   and flags likely duplicates, of an existing candidate or of another row of the file;
3. `import_candidates` validates again and creates every candidate, or none, in one transaction.
"""

import csv
import datetime
import io
import re
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from candidates.models import Candidate, EmployerKind, Sex
from candidates.services import candidates_create_many

MAX_FILE_SIZE = 5 * 1024 * 1024
MAX_ROWS = 2000  # candidates (non-blank rows under the header)
MAX_LINES = 20 * MAX_ROWS  # lines read at most, blank ones included (a sheet formatted down to row 1,048,576…)
MAX_COLUMNS = 60  # columns read; the import knows 19, the rest are ignored columns
DATE_FORMAT = "%d/%m/%Y"

# An .xlsx is a zip of XML: what it holds once decompressed is checked before openpyxl reads any of it (a 45 KB
# file can hold a million shared strings, which openpyxl loads whole before the first row).
MAX_XLSX_MEMBERS = 500
MAX_XLSX_UNCOMPRESSED = 25 * 1024 * 1024  # 2,000 rows of 60 columns, with their strings and styles, fit in far less
MAX_XLSX_SHARED_STRINGS = 100_000
MAX_XLSX_READ_SECONDS = 15


@dataclass(frozen=True)
class Column:
    field: str
    header: str  # the header the export writes, and the name errors use when the file lacks the column
    aliases: tuple[str, ...] = ()
    required: bool = False


# The spreadsheet columns, in the export's order. Identity first, as on the candidate form.
COLUMNS = [
    Column("birth_name", "Nom de naissance", ("Nom", "Nom de famille", "Nom patronymique"), required=True),
    Column("usage_name", "Nom d'usage", ("Nom marital", "Nom d'épouse")),
    Column("first_name", "Prénom", ("Prénom 1", "Premier prénom"), required=True),
    Column("second_first_name", "Prénom 2", ("Deuxième prénom", "Second prénom")),
    Column("third_first_name", "Prénom 3", ("Troisième prénom",)),
    Column("sex", "Sexe", ("Genre", "Civilité"), required=True),
    Column("birth_date", "Date de naissance", ("Né le", "Née le", "Né(e) le"), required=True),
    Column("birth_commune", "Commune de naissance", ("Lieu de naissance", "Ville de naissance"), required=True),
    Column(
        "birth_insee_code",
        "Code INSEE",
        ("Code INSEE de naissance", "Code INSEE de la commune de naissance", "INSEE", "Code commune de naissance"),
    ),
    Column(
        "birth_postal_code",
        "Code postal de naissance",
        ("Code postal de la commune de naissance", "CP de naissance", "CP naissance", "Code postal naissance"),
    ),
    Column("birth_country", "Pays de naissance", ("Pays",)),
    Column("email", "Courriel", ("Email", "E-mail", "Mail", "Adresse électronique", "Adresse e-mail", "Mél")),
    Column("phone", "Téléphone", ("Tél", "Tel", "Portable", "Téléphone portable", "Mobile")),
    Column("address", "Adresse", ("Adresse postale",)),
    Column("postal_code", "Code postal", ("CP",)),
    Column("city", "Ville", ("Commune de résidence", "Ville de résidence")),
    Column("employer_name", "Employeur", ("Entreprise", "Structure", "Employeur (entreprise de l'ESS)")),
    Column("employer_kind", "Type d'employeur", ("Type de structure", "Statut de l'employeur")),
    Column("job_title", "Emploi", ("Poste", "Emploi occupé", "Fonction", "Poste occupé")),
]
COLUMN_BY_FIELD = {column.field: column for column in COLUMNS}
IMPORTED_FIELDS = [column.field for column in COLUMNS]


def normalize_header(text) -> str:
    """'  Prénom 2 ' → 'prenom2', "Nom d’usage" → 'nomdusage', 'E-mail' → 'email'."""
    text = unicodedata.normalize("NFKD", str(text or "")).casefold()
    text = "".join(char for char in text if not unicodedata.combining(char))
    return re.sub(r"[^0-9a-z]", "", text)


HEADER_TO_FIELD = {
    normalize_header(name): column.field for column in COLUMNS for name in (column.header, *column.aliases)
}


SEX_VALUES = {
    **dict.fromkeys(["f", "femme", "feminin", "mme", "madame", "mlle", "mademoiselle"], Sex.FEMALE),
    **dict.fromkeys(["m", "h", "homme", "masculin", "monsieur", "mr"], Sex.MALE),
}
EMPLOYER_KIND_VALUES = {
    **{normalize_header(value): value for value in EmployerKind.values},
    **{normalize_header(label): value for value, label in EmployerKind.choices},
}


@dataclass(frozen=True)
class ImportIssue:
    """A reason a row cannot be imported: spreadsheet row number (header = 1), column header and message."""

    row: int
    column: str
    message: str


class ImportFileError(Exception):
    """The file as a whole cannot be read (format, encoding, missing columns…): nothing to preview."""

    def __init__(self, messages):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__(" ".join(self.messages))


class CandidateImportError(Exception):
    """Some rows are not valid: nothing was written."""

    def __init__(self, issues: list[ImportIssue]):
        self.issues = issues
        super().__init__(f"{len(issues)} erreur(s) dans le fichier.")


@dataclass
class ParsedFile:
    rows: list[dict]  # [{"row": 2, "fields": {field: str}, "errors": {field: message}}], JSON-serialisable
    columns: dict[str, str]  # field → the header as the file spells it
    ignored_columns: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------------------
# Reading the file


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(
        "Encodage du fichier non reconnu : enregistrez-le en « CSV UTF-8 » depuis votre tableur, puis recommencez."
    )


def _bounded_rows(rows, *, source: str):
    """The rows of a table, cut to `MAX_COLUMNS` cells, until `MAX_ROWS` + 1 non-blank rows past the header (enough
    for `parse_table` to say the file is too long) or `MAX_LINES` lines. `source` names the file in messages."""
    table = []
    filled = 0
    for row in rows:
        if len(table) >= MAX_LINES:
            raise ImportFileError(
                f"Le {source} compte plus de {MAX_LINES} lignes, vides comprises : ne gardez que les lignes des "
                "candidats, puis déposez-le à nouveau."
            )
        cells = list(row[:MAX_COLUMNS])
        if all(_is_blank(cell) for cell in cells):
            table.append(())  # kept for the numbering of the rows below, as one shared empty row
            continue
        table.append(cells)
        filled += 1
        if filled > MAX_ROWS + 1:
            break
    return table


def _read_csv(data: bytes) -> list[list]:
    text = _decode(data)
    lines = text.splitlines()
    forced_delimiter = None
    if lines and lines[0].lower().startswith("sep=") and len(lines[0]) == 5:
        # Excel's hint line ("sep=;"): not a row for the user, who sees the header as row 1.
        forced_delimiter = lines[0][4]
        text = text.split("\n", 1)[1] if "\n" in text else ""
        lines = lines[1:]
    if forced_delimiter:
        delimiter = forced_delimiter
    else:
        # Sniff on the header line: the separator that yields the most known column names wins
        # (addresses in the data rows often hold commas, so counting characters there misleads).
        header_line = next((line for line in lines if line.strip()), "")

        def score(candidate):
            cells = next(csv.reader([header_line], delimiter=candidate), [])
            return (sum(normalize_header(cell) in HEADER_TO_FIELD for cell in cells), len(cells))

        delimiter = max([";", ",", "\t"], key=score)
    # The csv module refuses a cell over 131,072 characters with a bare `_csv.Error`; a cell cannot be larger than
    # the file, and `convert_cell` tells which cell is too long for its column, with its line.
    if csv.field_size_limit() < MAX_FILE_SIZE:
        csv.field_size_limit(MAX_FILE_SIZE)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _bounded_rows(reader, source="fichier")
    except csv.Error as error:
        raise ImportFileError(
            f"Ligne {reader.line_num} : le fichier CSV est mal formé ({error}). Enregistrez-le à nouveau en "
            "« CSV UTF-8 » depuis votre tableur."
        ) from error


def check_xlsx_archive(data: bytes) -> None:
    """Refuse (ImportFileError) a workbook whose decompressed content is out of proportion with a candidate list,
    reading only the zip's directory and counting the shared strings as they are decompressed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise ImportFileError("Le classeur Excel n'a pas pu être lu : enregistrez-le au format .xlsx.") from error
    too_big = (
        f"Le classeur est trop volumineux une fois décompressé (plus de {MAX_XLSX_UNCOMPRESSED // (1024 * 1024)} Mo) "
        f"pour une liste de {MAX_ROWS} candidats au plus : enregistrez la seule feuille des candidats dans un "
        "nouveau classeur, ou en CSV."
    )
    if len(members) > MAX_XLSX_MEMBERS or sum(member.file_size for member in members) > MAX_XLSX_UNCOMPRESSED:
        raise ImportFileError(too_big)
    strings = 0
    for member in members:
        if not member.filename.lower().endswith(".xml"):
            continue
        try:
            strings += _count_shared_strings(archive, member)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as error:
            raise ImportFileError("Le classeur Excel n'a pas pu être lu : enregistrez-le au format .xlsx.") from error
        if strings > MAX_XLSX_SHARED_STRINGS:
            raise ImportFileError(
                f"Le classeur contient plus de {MAX_XLSX_SHARED_STRINGS} chaînes de texte différentes, bien plus "
                f"qu'une liste de {MAX_ROWS} candidats : enregistrez la seule feuille des candidats dans un nouveau "
                "classeur, ou en CSV."
            )


_SHARED_STRING = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")


def _count_shared_strings(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> int:
    """`<si>` elements of one XML part, read by 1 MB chunks (a part is at most its declared size: zipfile stops
    there). A tag never straddles two counts: each count stops before the chunk's last '<'."""
    count, tail = 0, b""
    with archive.open(member) as stream:
        while chunk := stream.read(1024 * 1024):
            data = tail + chunk
            cut = data.rfind(b"<")
            cut = len(data) if cut == -1 else cut
            count += len(_SHARED_STRING.findall(data, 0, cut))
            tail = data[cut:]
            if count > MAX_XLSX_SHARED_STRINGS:
                break
    return count + len(_SHARED_STRING.findall(tail))


def _read_xlsx(data: bytes) -> list[list]:
    import openpyxl

    check_xlsx_archive(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds of errors on a damaged or foreign file
        raise ImportFileError("Le classeur Excel n'a pas pu être lu : enregistrez-le au format .xlsx.") from error
    deadline = time.monotonic() + MAX_XLSX_READ_SECONDS

    def rows(sheet):
        for row in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
            if time.monotonic() > deadline:
                raise ImportFileError(
                    f"La lecture du classeur dépasse {MAX_XLSX_READ_SECONDS} secondes : enregistrez la seule feuille "
                    "des candidats dans un nouveau classeur, ou en CSV."
                )
            yield row

    try:
        return _bounded_rows(rows(workbook.worksheets[0]), source="classeur")
    except ImportFileError:
        raise
    except Exception as error:  # a damaged sheet is only found while reading it
        raise ImportFileError("Le classeur Excel n'a pas pu être lu : enregistrez-le au format .xlsx.") from error
    finally:
        workbook.close()


def read_table(data: bytes, filename: str = "") -> list[list]:
    """The file's first sheet as a list of rows of raw cell values (str for CSV; str, numbers, dates for XLSX)."""
    name = filename.lower()
    if len(data) > MAX_FILE_SIZE:
        raise ImportFileError(f"Le fichier dépasse {MAX_FILE_SIZE // (1024 * 1024)} Mo.")
    if name.endswith(".xls") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            "Les classeurs Excel 97-2003 (.xls) ne sont pas pris en charge : enregistrez le fichier au format .xlsx ou .csv."
        )
    if data.startswith(b"PK"):
        return _read_xlsx(data)
    if name.endswith((".xlsx", ".xlsm")):
        raise ImportFileError("Le classeur Excel n'a pas pu être lu : enregistrez-le au format .xlsx.")
    if b"\x00" in data[:4096]:
        raise ImportFileError("Format de fichier non reconnu : déposez un fichier CSV ou un classeur Excel (.xlsx).")
    return _read_csv(data)


# ---------------------------------------------------------------------------------------------------------------
# Cells → field values


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.strftime(DATE_FORMAT)
    text = str(value).strip()
    # The export escapes cells a spreadsheet would run as formulas ("'=…", "'+33…"): undo it.
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        text = text[1:]
    return text


def _parse_date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A date cell that lost its date format: Excel's serial number.
        from openpyxl.utils.datetime import from_excel

        if 1 <= value < 100000:
            result = from_excel(value)
            return result.date() if isinstance(result, datetime.datetime) else result
        raise ValueError(value)
    text = _text(value)
    match = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?", text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        return datetime.date(year, month, day)
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2})?)?", text)
    if match:
        year, month, day = (int(part) for part in match.groups())
        return datetime.date(year, month, day)
    raise ValueError(text)


def _restore_leading_zero(text: str) -> str:
    """Spreadsheets drop the leading zero of a code they take for a number (01000 → 1000): a 4-digit code that does
    not start with 0 gets it back. Nothing else is padded: "123" is no code, and the model's validators say so,
    as they do on the form."""
    if text.isdigit() and len(text) == 4 and text[0] != "0":
        return "0" + text
    return text


def _cell_limit(field_name: str) -> int:
    """The longest cell a column may hold: its field's length, or what a word or a date may take (« Coopérative »,
    « 12/03/1985 ») where the cell is converted."""
    model_field = Candidate._meta.get_field(field_name)
    return 100 if model_field.choices or not model_field.max_length else model_field.max_length


def convert_cell(field_name: str, value) -> tuple[str, str | None]:
    """(JSON-ready value for the model field, or an error message in French)."""
    if isinstance(value, str) and len(value.strip()) > _cell_limit(field_name):
        # Neither kept nor repeated in the message: a cell of 131,073 characters is no name.
        return "", f"La cellule compte {len(value.strip())} caractères ; {_cell_limit(field_name)} au plus."
    if field_name == "birth_date":
        if _is_blank(value):
            # The model's own message for an empty required field (rather than "ne peut pas être nul").
            return "", str(Candidate._meta.get_field("birth_date").error_messages["blank"])
        try:
            return _parse_date(value).isoformat(), None
        except (ValueError, OverflowError):
            return "", f"Date invalide : « {_text(value)} » (format attendu JJ/MM/AAAA)."
    text = _text(value)
    if not text:
        return "", None
    if field_name == "sex":
        sex = SEX_VALUES.get(normalize_header(text))
        if sex is None:
            return "", f"Valeur « {text} » non reconnue : F ou M attendu (Femme ou Homme)."
        return str(sex), None
    if field_name == "employer_kind":
        kind = EMPLOYER_KIND_VALUES.get(normalize_header(text))
        if kind is None:
            expected = ", ".join(str(label) for label in EmployerKind.labels)
            return "", f"Valeur « {text} » non reconnue ; valeurs attendues : {expected}."
        return kind, None
    if field_name in ("postal_code", "birth_postal_code"):
        return _restore_leading_zero(text), None
    if field_name == "birth_insee_code":
        return _restore_leading_zero(text.upper()), None
    if field_name == "phone" and text.isdigit() and len(text) == 9 and text[0] != "0":
        return "0" + text, None  # 612345678: the number cell that swallowed the 0 of 06 12 34 56 78
    return text, None


# ---------------------------------------------------------------------------------------------------------------
# Parsing


def map_headers(header: list) -> tuple[dict[int, str], dict[str, str], list[str]]:
    """(column index → field, field → header as spelt in the file, ignored headers). Raises ImportFileError."""
    index_to_field: dict[int, str] = {}
    columns: dict[str, str] = {}
    ignored: list[str] = []
    problems: list[str] = []
    for index, cell in enumerate(header):
        label = _text(cell)
        if not label:
            continue
        field_name = HEADER_TO_FIELD.get(normalize_header(label))
        if field_name is None:
            ignored.append(label)
        elif field_name in columns:
            problems.append(
                f"Les colonnes « {columns[field_name]} » et « {label} » (colonne {_column_letter(index)}) "
                f"désignent la même donnée ({COLUMN_BY_FIELD[field_name].header}) : n'en gardez qu'une."
            )
        else:
            index_to_field[index] = field_name
            columns[field_name] = label
    missing = [column.header for column in COLUMNS if column.required and column.field not in columns]
    if missing:
        problems.insert(
            0,
            ("Colonne obligatoire absente : " if len(missing) == 1 else "Colonnes obligatoires absentes : ")
            + ", ".join(f"« {name} »" for name in missing)
            + ". La première ligne du fichier doit porter les en-têtes de colonnes.",
        )
    if problems:
        raise ImportFileError(problems)
    return index_to_field, columns, ignored


def parse_table(table: list[list]) -> ParsedFile:
    if not table or all(_is_blank(cell) for cell in table[0]):
        raise ImportFileError(
            "Le fichier est vide ou sa première ligne ne porte pas les en-têtes de colonnes (Nom de naissance, Prénom…)."
        )
    index_to_field, columns, ignored = map_headers(table[0])
    rows = []
    for offset, cells in enumerate(table[1:]):
        if all(_is_blank(cell) for cell in cells):
            continue
        fields, errors = {}, {}
        for index, field_name in index_to_field.items():
            value, error = convert_cell(field_name, cells[index] if index < len(cells) else None)
            if field_name == "birth_country" and not value and not error:
                continue  # the model's default, France
            fields[field_name] = value
            if error:
                errors[field_name] = error
        rows.append({"row": offset + 2, "fields": fields, "errors": errors})
    if not rows:
        raise ImportFileError("Le fichier ne contient aucune ligne de candidat sous la ligne d'en-têtes.")
    if len(rows) > MAX_ROWS:
        raise ImportFileError(f"Le fichier compte plus de {MAX_ROWS} lignes : découpez-le en plusieurs fichiers.")
    return ParsedFile(rows=rows, columns=columns, ignored_columns=ignored)


def parse_file(uploaded_file) -> ParsedFile:
    """Read an uploaded CSV / XLSX file. Raises ImportFileError when the file as a whole is unusable."""
    if uploaded_file.size and uploaded_file.size > MAX_FILE_SIZE:
        raise ImportFileError(f"Le fichier dépasse {MAX_FILE_SIZE // (1024 * 1024)} Mo.")
    uploaded_file.seek(0)
    data = uploaded_file.read()
    return parse_table(read_table(data, getattr(uploaded_file, "name", "") or ""))


# ---------------------------------------------------------------------------------------------------------------
# Validation


def _column_name(field_name: str, columns: dict[str, str] | None) -> str:
    if columns and field_name in columns:
        return columns[field_name]
    if field_name in COLUMN_BY_FIELD:
        return COLUMN_BY_FIELD[field_name].header
    return "—"


def build_candidate(fields: dict) -> Candidate:
    """An unsaved Candidate from a row's JSON-ready fields (ISO date back to a date)."""
    values = {name: value for name, value in fields.items() if name in COLUMN_BY_FIELD}
    birth_date = values.get("birth_date")
    if isinstance(birth_date, str):
        try:
            values["birth_date"] = datetime.date.fromisoformat(birth_date) if birth_date else None
        except ValueError:
            values["birth_date"] = None
    if values.get("birth_country"):
        values["birth_country_code"] = ""  # the model reads the country from its name in the COG's list
    return Candidate(**{name: value.strip() if isinstance(value, str) else value for name, value in values.items()})


def _identity_key(candidate: Candidate):
    if not (candidate.birth_name and candidate.first_name and candidate.birth_date):
        return None
    return (candidate.birth_name.strip().casefold(), candidate.first_name.strip().casefold(), candidate.birth_date)


def validate_rows(rows: list[dict], columns: dict[str, str] | None = None):
    """([(row number, unsaved Candidate)], [ImportIssue]) — every row checked, every problem reported."""
    issues: list[ImportIssue] = []
    candidates: list[tuple[int, Candidate]] = []
    identity_columns = " / ".join(_column_name(name, columns) for name in ("birth_name", "first_name", "birth_date"))
    for row in rows:
        number = row["row"]
        conversion_errors = row.get("errors") or {}
        candidate = build_candidate(row["fields"])
        row_issues = [
            ImportIssue(number, _column_name(name, columns), message) for name, message in conversion_errors.items()
        ]
        try:
            candidate.full_clean()
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                if name in conversion_errors:
                    continue  # "Date invalide : « 31/02/1990 »" says more than "ce champ ne peut pas être nul"
                # The country's code is read from the « Pays de naissance » column.
                name = "birth_country" if name == "birth_country_code" else name
                column = "—" if name == NON_FIELD_ERRORS else _column_name(name, columns)
                row_issues.extend(ImportIssue(number, column, message) for message in messages)
        issues.extend(row_issues)
        candidates.append((number, candidate))

    # Likely duplicates: of another row of the file (the later row is flagged), then of an existing candidate.
    seen: dict[tuple, tuple[int, Candidate]] = {}
    to_check_in_database = []
    for number, candidate in candidates:
        key = _identity_key(candidate)
        if key is None:
            continue
        if key in seen:
            first_number, first = seen[key]
            issues.append(
                ImportIssue(number, identity_columns, f"Doublon probable de {first.full_name} (ligne {first_number}).")
            )
        else:
            seen[key] = (number, candidate)
            to_check_in_database.append((number, candidate))
    birth_dates = {candidate.birth_date for _, candidate in to_check_in_database}
    existing_dates = set(Candidate.objects.filter(birth_date__in=birth_dates).values_list("birth_date", flat=True))
    for number, candidate in to_check_in_database:
        if candidate.birth_date not in existing_dates:
            continue  # one query for the whole file instead of one per row
        existing = Candidate.objects.likely_duplicates_of(
            birth_name=candidate.birth_name, first_name=candidate.first_name, birth_date=candidate.birth_date
        ).first()
        if existing:
            issues.append(
                ImportIssue(
                    number,
                    identity_columns,
                    f"Doublon probable de {existing.full_name}, déjà enregistré(e) avec la même date de naissance "
                    f"({existing.birth_date:%d/%m/%Y}) : vérifiez la fiche existante plutôt que d'en créer une autre.",
                )
            )
    issues.sort(key=lambda issue: issue.row)
    return candidates, issues


# ---------------------------------------------------------------------------------------------------------------
# Import


def import_candidates(*, rows: list[dict], cohort, actor, columns: dict[str, str] | None = None) -> list[Candidate]:
    """Create every candidate of `rows` (and enrol them in `cohort` if given), or none: one transaction.

    Validates again (the database may have changed since the preview); raises CandidateImportError with every
    problem, or a ValidationError from the services (a cohort whose pathway has closed…), writing nothing.
    """
    with transaction.atomic():
        candidates, issues = validate_rows(rows, columns)
        if issues:
            raise CandidateImportError(issues)
        # Each row went through `full_clean` above: written as they are, in bulk.
        return candidates_create_many(
            candidates=[unsaved for _number, unsaved in candidates], cohort=cohort, actor=actor
        )
