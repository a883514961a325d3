"""The candidate list as CSV (Excel-friendly: `;`, UTF-8 with BOM) or XLSX, with the importer's French headers so
that an exported file can be edited and imported again."""

import csv
import datetime
import io

from django.db.models import Prefetch

from candidates.imports import COLUMNS, DATE_FORMAT
from candidates.models import Enrolment, EnrolmentStatus

COHORTS_HEADER = "Promotion(s) en cours"
PATHWAYS_HEADER = "Voie(s) d'accès"
CERTIFICATIONS_HEADER = "Certification(s)"
HEADERS = [column.header for column in COLUMNS] + [COHORTS_HEADER, PATHWAYS_HEADER, CERTIFICATIONS_HEADER]
LIST_SEPARATOR = " | "

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): the CSV escapes it with a
# leading apostrophe, which the importer removes.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def export_queryset(queryset):
    """The candidates with their enrolments, cohorts and pathways in two queries, whatever their number."""
    return queryset.prefetch_related(
        Prefetch(
            "enrolments",
            queryset=Enrolment.objects.select_related("cohort__certification", "cohort__pathway").order_by(
                "-cohort__start_date", "pk"
            ),
        )
    )


def _current_enrolments(candidate):
    return [enrolment for enrolment in candidate.enrolments.all() if enrolment.status == EnrolmentStatus.IN_PROGRESS]


def _distinct(values):
    return list(dict.fromkeys(values))


def candidate_values(candidate) -> list:
    """One row: the identity fields (dates as dates, choices as their label), then current cohorts, pathways and
    certifications."""
    values = []
    for column in COLUMNS:
        value = getattr(candidate, column.field)
        if column.field == "employer_kind" and value:
            value = candidate.get_employer_kind_display()
        values.append(value)
    current = _current_enrolments(candidate)
    values.append(LIST_SEPARATOR.join(_distinct(enrolment.cohort.name for enrolment in current)))
    values.append(LIST_SEPARATOR.join(_distinct(enrolment.cohort.pathway.label for enrolment in current)))
    values.append(LIST_SEPARATOR.join(_distinct(enrolment.cohort.certification.rncp_label for enrolment in current)))
    return values


def csv_cell(value) -> str:
    """A cell as text for a CSV opened by a spreadsheet: dates as JJ/MM/AAAA, formulas escaped."""
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.strftime(DATE_FORMAT)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_bytes(rows) -> bytes:
    """Rows of cells as a CSV French Excel opens as it is: `;` separator, CRLF, UTF-8 with BOM."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def csv_lines(rows, *, every: int = 500):
    """The same CSV as `csv_bytes` (without its BOM), as text pieces of `every` rows: for a streamed response."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for count, row in enumerate(rows, start=1):
        writer.writerow([csv_cell(value) for value in row])
        if count % every == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def candidates_csv(queryset) -> bytes:
    return csv_bytes([HEADERS, *(candidate_values(candidate) for candidate in export_queryset(queryset))])


def fill_sheet(sheet, headers: list[str], rows, *, number_formats: dict[int, str] | None = None) -> None:
    """Write a bold, frozen, filterable header row and the rows: dates as dates, numbers as numbers, and text
    as text (a code postal or a téléphone keeps its leading zero, "=…" is not a formula). `number_formats`:
    {0-based column index: Excel number format} for numeric cells (e.g. "0.0 %")."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    number_formats = number_formats or {}
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [len(header) for header in headers]
    for row_number, values in enumerate(rows, start=2):
        for column_number, value in enumerate(values, start=1):
            if value in ("", None):
                continue
            cell = sheet.cell(row=row_number, column=column_number, value=value)
            if isinstance(value, datetime.date):
                cell.number_format = "DD/MM/YYYY"
                width = 10
            elif isinstance(value, int | float) and not isinstance(value, bool):
                if column_number - 1 in number_formats:
                    cell.number_format = number_formats[column_number - 1]
                width = 8
            else:
                cell.data_type = "s"
                width = len(str(value))
            widths[column_number - 1] = max(widths[column_number - 1], width)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, 60)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions


def workbook_bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def candidates_xlsx(queryset) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Candidats"
    fill_sheet(sheet, HEADERS, (candidate_values(candidate) for candidate in export_queryset(queryset)))
    return workbook_bytes(workbook)
