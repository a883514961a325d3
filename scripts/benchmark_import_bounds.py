"""How long the candidate import takes to refuse (or read) hostile spreadsheets, and how much memory it uses.

    .venv/bin/python scripts/benchmark_import_bounds.py            # the import as it is
    .venv/bin/python scripts/benchmark_import_bounds.py --unbounded # openpyxl as the import used it before the bounds

Each file is built in memory: a workbook whose shared strings table holds a million strings (45 KB zipped), one
whose 2,000 rows each hold a cell in column XFD (every row widened to 16,384 cells), one that runs to Excel's last
row, one that decompresses to 26 MB of blanks, and an ordinary list of 2,000 candidates. Figures: wall time of
`read_table`, how much it raised the process's peak resident memory, and its answer. Each case runs in a child process, so that one case's
memory does not weigh on the next.
"""

import argparse
import io
import multiprocessing
import os
import resource
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

HEADER = ["Nom de naissance", "Prénom", "Sexe", "Date de naissance", "Commune de naissance", "Code INSEE"]
ROW = ["Dupont", "Léa", "F", "12/03/1985", "Lyon", "69123"]


def _workbook(fill) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    fill(workbook.active)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _replace(xlsx: bytes, name: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for item in source.infolist():
            if item.filename != name:
                target.writestr(item, source.read(item.filename))
        target.writestr(name, content)
    return buffer.getvalue()


def million_shared_strings() -> bytes:
    strings = b"<si><t>a</t></si>" * 1_000_000
    table = (
        b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        b' count="1000000" uniqueCount="1000000">' + strings + b"</sst>"
    )
    workbook = _workbook(lambda sheet: (sheet.append(HEADER), sheet.append(ROW)))
    return _replace(_declare_shared_strings(workbook), "xl/sharedStrings.xml", table)


def _declare_shared_strings(xlsx: bytes) -> bytes:
    """openpyxl writes inline strings: declare a shared strings part, as Excel's files do, so that it is read."""
    types = zipfile.ZipFile(io.BytesIO(xlsx)).read("[Content_Types].xml")
    override = (
        b'<Override PartName="/xl/sharedStrings.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    )
    return _replace(xlsx, "[Content_Types].xml", types.replace(b"</Types>", override))


def wide_rows() -> bytes:
    def fill(sheet):
        sheet.append(HEADER)
        for row in range(2, 2002):
            for column, value in enumerate(ROW, start=1):
                sheet.cell(row=row, column=column, value=value)
            sheet.cell(row=row, column=16384, value="x")

    return _workbook(fill)


def last_excel_row() -> bytes:
    def fill(sheet):
        sheet.append(HEADER)
        sheet.append(ROW)
        sheet.cell(row=1_048_576, column=1, value="fin")

    return _workbook(fill)


def decompresses_to_26_mb() -> bytes:
    return _replace(
        _workbook(lambda sheet: (sheet.append(HEADER), sheet.append(ROW))), "xl/padding.xml", b" " * (26 << 20)
    )


def ordinary_2000_candidates() -> bytes:
    def fill(sheet):
        sheet.append(HEADER)
        for number in range(2000):
            sheet.append([f"Nom{number}", "Léa", "F", "12/03/1985", "Lyon", "69123"])

    return _workbook(fill)


CASES = [million_shared_strings, wide_rows, last_excel_row, decompresses_to_26_mb, ordinary_2000_candidates]


def _unbounded_read(data: bytes):
    """What the import did before the bounds: openpyxl read-only, every row as wide as its last cell."""
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    rows = []
    for row in workbook.worksheets[0].iter_rows(values_only=True):
        rows.append(list(row))
        if len(rows) > 2001:
            break
    workbook.close()
    return rows


def _run(case_name: str, unbounded: bool, queue) -> None:
    import django

    django.setup()
    from candidates.imports import ImportFileError, read_table

    data = next(case for case in CASES if case.__name__ == case_name)()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux
    started = time.perf_counter()
    try:
        rows = _unbounded_read(data) if unbounded else read_table(data, "candidats.xlsx")
        answer = f"read: {len(rows)} rows, {max(len(row) for row in rows)} cells in the widest"
    except ImportFileError as error:
        answer = f"refused: {error}"
    elapsed = time.perf_counter() - started
    extra_peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) * 1024
    queue.put((len(data), elapsed, extra_peak, answer))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--unbounded", action="store_true", help="openpyxl as the import used it before the bounds")
    parser.add_argument("--timeout", type=int, default=300, help="seconds before a case is stopped")
    options = parser.parse_args()
    for case in CASES:
        queue = multiprocessing.Queue()
        process = multiprocessing.Process(target=_run, args=(case.__name__, options.unbounded, queue))
        process.start()
        process.join(options.timeout)
        if process.is_alive():
            process.terminate()
            print(f"{case.__name__:<26} stopped after {options.timeout} s")
            continue
        size, elapsed, peak, answer = queue.get()
        print(f"{case.__name__:<26} {size / 1024:8.0f} KB  {elapsed:7.2f} s  {peak / 2**20:7.1f} MB  {answer[:110]}")


if __name__ == "__main__":
    main()
