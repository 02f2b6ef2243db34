"""Spreadsheets we hand out (xlsx and csv), and the ONE place where text that a
spreadsheet program would run as a formula is neutralised (DESIGN.md §7).

Every export, report, import template and import error report writes its cells through
``xlsx_bytes`` / ``csv_bytes`` (or ``spreadsheet_response``, which wraps them), so a name,
reason or uploaded cell such as ``=HYPERLINK(…)`` or ``=cmd|' /C calc'!A0`` reaches the
reader as text. ``unquote_cell`` undoes our quoting when one of our own files comes back
as an upload (the import error report is meant to be fixed and uploaded again).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.http import Http404, HttpResponse
from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

# What makes Excel, LibreOffice or Google Sheets evaluate a cell (OWASP "CSV injection"):
# = + - @ at the start, or a tab / CR / LF before them; the fullwidth and small forms
# (＝ ＋ － ＠ ﹦ ﹢ ﹣ ﹫) are read as the ASCII ones by Chinese-locale spreadsheet programs.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b")
QUOTE = "'"
# A plain decimal number ("-5", "+12.5", "1e3") is data, not a formula: it stays as it is.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
# Control characters an xlsx file cannot hold (openpyxl refuses the whole file). They are
# dropped from every cell BEFORE it is judged: "\x01=1+1" must be judged as "=1+1".
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Characters a reader does not see and a spreadsheet program may skip before a formula:
# Unicode format characters (category Cf: BOM U+FEFF, zero-width space U+200B, word joiner,
# direction marks…) and the control characters an xlsx can hold (Cc, e.g. DEL).
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc"})


def _first_visible(text: str) -> int:
    """Index of the first character of ``text`` that is neither whitespace nor invisible
    (``len(text)`` when there is none)."""
    for index, char in enumerate(text):
        if not char.isspace() and unicodedata.category(char) not in _INVISIBLE_CATEGORIES:
            return index
    return len(text)


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet program could take ``text`` for a formula: its first
    character, or its first character after leading whitespace (spaces, the ideographic
    space, tabs, line breaks) and invisible characters (``_INVISIBLE_CATEGORIES``), is one
    of ``FORMULA_TRIGGERS`` — unless it is a plain number."""
    if not text:
        return False
    stripped = text[_first_visible(text):]
    if text[0] not in FORMULA_TRIGGERS and (not stripped or stripped[0] not in FORMULA_TRIGGERS):
        return False
    return not _NUMBER.fullmatch(stripped.rstrip())


def safe_cell(value: Any) -> Any:
    """The cell as we write it: text that a spreadsheet would run as a formula gets a
    leading apostrophe, so an employee's message like ``=HYPERLINK(…)`` stays text when HR
    opens the export. Numbers, dates, None, and text that is just a number such as "-5",
    are left alone (a real number stays a number). Control characters no xlsx can hold
    are dropped first, so what is judged is what the reader gets."""
    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, str):
        value = _ILLEGAL_XML.sub("", value)
        if is_formula_like(value):
            return QUOTE + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in row]


def unquote_cell(value: Any) -> Any:
    """The inverse of ``safe_cell`` for a cell read from an upload: "'=x" (our quoting,
    come back in a fixed error report or export) reads as "=x"; anything else unchanged."""
    if (isinstance(value, str) and value.startswith(QUOTE)
            and is_formula_like(value[len(QUOTE):])):
        return value[len(QUOTE):]
    return value


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
XLSX_CONTENT_TYPE = CONTENT_TYPES["xlsx"]
CSV_CONTENT_TYPE = CONTENT_TYPES["csv"]


def xlsx_bytes(header: list[Any], rows: Iterable[Iterable[Any]], *, sheet_title: str = "",
               widths: list[int] | None = None, styled_header: bool = False,
               fixed_time: datetime | None = None) -> bytes:
    """An xlsx workbook (written streaming, in openpyxl's write-only mode) of ``header``
    and ``rows``, every cell through ``safe_cell``, and every text cell written as a string
    cell, never a formula (openpyxl makes any text starting with "=" a formula).

    With ``fixed_time`` the file holds no trace of "now": the document's created and
    modified times and every zip member's time are ``fixed_time``, so the same rows give
    the same bytes on every call (a closed payroll period's export)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=str(sheet_title)[:31] or None)
    for index, width in enumerate(widths or [], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    if styled_header:
        sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def text_cell(text: str) -> Any:  # ``text`` has been through ``safe_cell``
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"
        return cell

    def cells(values: Iterable[Any], header_row: bool = False) -> list[Any]:
        out = []
        for value in safe_row(values):
            if isinstance(value, str):
                cell = text_cell(value)
            else:
                try:  # numbers stay numbers, dates dates
                    cell = WriteOnlyCell(sheet, value=value)
                except (TypeError, ValueError):  # a type openpyxl cannot store: its text
                    cell = text_cell(safe_cell(str(value)))
            if header_row and styled_header:
                cell.font = bold
            out.append(cell)
        return out

    sheet.append(cells(header, header_row=True))
    for row in rows:
        sheet.append(cells(row))
    buffer = io.BytesIO()
    book.save(buffer)
    if fixed_time is not None:
        return _pinned_to(buffer.getvalue(), fixed_time)
    return buffer.getvalue()


_CORE_TIMES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _pinned_to(data: bytes, moment: datetime) -> bytes:
    """The xlsx ``data`` rewritten with ``moment`` as its only time: openpyxl stamps the
    save time into docProps/core.xml and zip stamps each member's write time."""
    stamp = moment.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    iso = stamp.isoformat().encode() + b"Z"
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _CORE_TIMES.sub(lambda m: m.group(1) + iso + m.group(2), content)
            member = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = info.external_attr
            target.writestr(member, content)
    return out.getvalue()


def csv_bytes(header: list[Any], rows: Iterable[Iterable[Any]]) -> bytes:
    """CSV in UTF-8 with a BOM (Excel then reads Chinese; every other program too), every
    cell through ``safe_cell``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(safe_row(header))
    writer.writerows(safe_row(row) for row in rows)
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def spreadsheet_response(
    *,
    fmt: str,
    filename: str,
    header: list[Any],
    rows: Iterable[list[Any]],
    sheet_title: str = "Sheet1",
    widths: list[int] | None = None,
) -> HttpResponse:
    """``rows`` under ``header`` as a download: xlsx (bold, frozen header row; column
    ``widths`` if given) or csv (UTF-8 with a BOM, so Excel reads Chinese). Every cell goes
    through ``safe_cell``. ``filename`` is without its extension."""
    if fmt not in CONTENT_TYPES:
        raise Http404
    if fmt == "xlsx":
        body = xlsx_bytes(header, rows, sheet_title=sheet_title, widths=widths,
                          styled_header=True)
    else:
        body = csv_bytes(header, rows)
    return download(body, CONTENT_TYPES[fmt], f"{filename}.{fmt}")


def download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
