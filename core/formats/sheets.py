"""Excel workbooks (.xlsx) with openpyxl (MIT; the maintained reader of Office Open XML
spreadsheets, pure Python, read-only streaming mode): one page per sheet, the sheet's name as
its heading, its first non-empty row as the column names and every later row as a pipe row, so
the structure stage makes each row a table record with its column names (a participant list,
a schedule). Formulas give their last computed values; dates are written as ISO dates; hidden
sheets are skipped (hidden content is not what the author shows)."""
from __future__ import annotations

import datetime
import io

from .base import Format, LoadError, pipe_row

# A sheet's rows past this are not read (the archive limits bound the file; this bounds the text).
MAX_ROWS_PER_SHEET = 20_000


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(" ", "minutes")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _rows(sheet) -> list[list[str]]:
    rows = []
    for values in sheet.iter_rows(values_only=True, max_row=MAX_ROWS_PER_SHEET):
        cells = [_cell(v) for v in values]
        while cells and not cells[-1]:
            cells.pop()
        if any(cells):
            rows.append(cells)
    width = max((len(r) for r in rows), default=0)
    return [r + [""] * (width - len(r)) for r in rows]


def _workbook(data: bytes):
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, TypeError, OSError) as exc:
        raise LoadError(f"unreadable Excel file: {exc}") from None


def xlsx_to_text(data: bytes) -> str:
    """One page (form feed) per visible sheet: "# <sheet name>", then the header row and the
    data rows as pipe rows; a sheet with a single row is written as plain text."""
    book = _workbook(data)
    try:
        pages = []
        for sheet in book.worksheets:
            if getattr(sheet, "sheet_state", "visible") != "visible":
                continue
            rows = _rows(sheet)
            if not rows:
                continue
            body = "\n".join(pipe_row(r) for r in rows) if len(rows) > 1 else " ".join(c for c in rows[0] if c)
            pages.append(f"# {' '.join(sheet.title.split())}\n\n{body}")
        return "\n\f".join(pages)
    finally:
        book.close()


def _naive(data: bytes) -> str:
    book = _workbook(data)
    try:
        return "\n".join("\t".join(_cell(v) for v in row) for sheet in book.worksheets
                         for row in sheet.iter_rows(values_only=True))
    finally:
        book.close()


XLSX = Format("xlsx", (".xlsx",), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
              "an Excel (.xlsx) workbook", lambda data: (xlsx_to_text(data), "xlsx"), _naive,
              unit="sheet", zip_part="xl/workbook.xml")
