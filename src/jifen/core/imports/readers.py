"""Reading spreadsheets: xlsx in openpyxl's read-only mode, csv in UTF-8 (with or without
BOM) or GB18030, streamed and judged against the limits before and while the rows come;
cell values turned into text and dates, header texts compared loosely."""

from __future__ import annotations

import codecs
import csv
import io
import logging
import operator
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import date, datetime
from itertools import repeat
from pathlib import PurePath
from typing import IO, Any

from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.exports import unquote_cell
from jifen.core.models import ImportJob

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# A small upload can unpack to gigabytes or millions of rows (a "zip bomb"): an xlsx is
# refused above this much unpacked; any sheet beyond MAX_ROWS rows or MAX_CELLS cells is
# refused as soon as it says so (an xlsx declares its size) or the reading gets there;
# columns past MAX_COLUMNS are not read (no import has nearly that many).
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_SHARED_STRINGS_BYTES = 32 * 1024 * 1024  # openpyxl holds the whole table in memory
MAX_ROWS = 300_000
MAX_CELLS = 5_000_000
MAX_COLUMNS = 100
XLSX_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".txt")
ALLOWED_SUFFIXES = XLSX_SUFFIXES + CSV_SUFFIXES

Row = tuple[int, list[Any]]  # (row number as the spreadsheet shows it, cell values)
Problem = tuple[str, str]  # (field name, or "" for the whole row; message)

# --- reading files: streamed, judged before the work starts ------------------------------


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def too_large(message: str) -> errors.ValidationError:
    return errors.ValidationError(message, code=errors.ErrorCode.FILE_TOO_LARGE)


def _too_many_rows() -> errors.ValidationError:
    return too_large(_("The file has more than %(rows)s rows; split it into smaller files.")
                     % {"rows": f"{MAX_ROWS:,}"})


def _too_many_cells() -> errors.ValidationError:
    return too_large(_("The file has more than %(cells)s cells; split it into smaller files.")
                     % {"cells": f"{MAX_CELLS:,}"})


def _unreadable_workbook() -> errors.ValidationError:
    return errors.ValidationError(_("This file could not be read as an Excel workbook."),
                                  code=errors.ErrorCode.UNREADABLE_FILE)


def sheet_kind(filename: str) -> str:
    """"xlsx" or "csv" by the file's name; ValidationError for anything else."""
    suffix = PurePath(filename or "").suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return "xlsx"
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix == ".xls":
        raise errors.ValidationError(
            _("Old .xls workbooks cannot be read; save the file as .xlsx or .csv."),
            code=errors.ErrorCode.UNSUPPORTED_FILE,
        )
    raise errors.ValidationError(_("Upload an .xlsx or .csv file."),
                                 code=errors.ErrorCode.UNSUPPORTED_FILE)


def check_container(handle: IO[bytes], filename: str) -> None:
    """What can be judged without reading a row: the kind of file and, for a workbook, its
    zip directory (what it unpacks to, how large its table of texts is). Cheap enough for
    the request that receives the upload; the worker checks again."""
    if sheet_kind(filename) != "xlsx":
        return
    try:
        handle.seek(0)
        entries = zipfile.ZipFile(handle).infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise _unreadable_workbook() from exc
    finally:
        handle.seek(0)
    shared_strings = sum(e.file_size for e in entries if e.filename.endswith("sharedStrings.xml"))
    if (sum(e.file_size for e in entries) > MAX_UNPACKED_BYTES
            or shared_strings > MAX_SHARED_STRINGS_BYTES):
        raise too_large(_("This workbook is too large once unpacked; split it into smaller "
                          "files."))


def stream_rows(handle: IO[bytes], filename: str, *,
                on_estimate: Callable[[int], None] | None = None) -> Iterator[Row]:
    """Every non-blank row of the file's first sheet, numbered as a spreadsheet program
    shows it (blank rows are skipped but still counted), read as a stream: the whole sheet
    is never held. ``handle`` must be seekable. Before the first row, a sheet that declares
    more than MAX_ROWS rows or MAX_CELLS cells is refused, and ``on_estimate`` hears how
    many rows the file seems to have (for a progress bar); while reading, the first row
    past either limit stops it (ValidationError ``file_too_large``)."""
    rows = (_xlsx_rows(handle, on_estimate) if sheet_kind(filename) == "xlsx"
            else _csv_rows(handle, on_estimate))
    cells_read = 0
    for number, cells in rows:
        if number > MAX_ROWS:
            raise _too_many_rows()
        if all(map(_is_blank, cells)):
            continue
        cells_read += len(cells)
        if cells_read > MAX_CELLS:
            raise _too_many_cells()
        yield number, [unquote_cell(value) for value in cells]


def read_rows(data: bytes, filename: str) -> list[Row]:
    """``stream_rows`` of a file in memory, as a list (for small files and tests)."""
    return list(stream_rows(io.BytesIO(data), filename))


def _xlsx_rows(handle: IO[bytes], on_estimate: Callable[[int], None] | None) -> Iterator[Row]:
    from openpyxl import load_workbook  # heavy; loaded only when a workbook is read

    check_container(handle, "sheet.xlsx")
    # Whatever a damaged or foreign workbook makes openpyxl raise (bad zip members, XML
    # parse errors, missing parts…) means the same to the uploader.
    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:
        logger.info("unreadable workbook: %r", exc)
        raise _unreadable_workbook() from exc
    try:
        sheet = workbook.active if hasattr(workbook.active, "iter_rows") else None
        sheet = sheet or next((ws for ws in workbook.worksheets if hasattr(ws, "iter_rows")),
                              None)
        if sheet is None:
            return
        # The size the sheet declares (its <dimension>), judged before any row is read.
        if sheet.max_row:
            if sheet.max_row > MAX_ROWS:
                raise _too_many_rows()
            columns = min(sheet.max_column or 1, MAX_COLUMNS)
            if (sheet.max_row - (sheet.min_row or 1) + 1) * columns > MAX_CELLS:
                raise _too_many_cells()
            if on_estimate:
                on_estimate(sheet.max_row)
        # Some programs write a wrong <dimension>; without this rows or columns go missing.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True)
        for number, values in enumerate(rows, start=1):
            yield number, _without_padding(values)
    except errors.JifenError:
        raise
    except Exception as exc:
        logger.info("unreadable workbook: %r", exc)
        raise _unreadable_workbook() from exc
    finally:
        workbook.close()


def _without_padding(values: tuple) -> list[Any]:
    """The row without the empty cells openpyxl pads it with up to ``max_col`` (found
    with C-speed built-ins: a large sheet has hundreds of thousands of rows)."""
    filled = list(map(operator.is_not, reversed(values), repeat(None)))
    padding = filled.index(True) if True in filled else len(values)
    return list(values[:len(values) - padding])


def _unknown_encoding() -> errors.ValidationError:
    return errors.ValidationError(
        _("The text encoding of this file is not recognised; save it as CSV UTF-8."),
        code=errors.ErrorCode.UNREADABLE_FILE,
    )


def _sniff_encoding(handle: IO[bytes]) -> tuple[str, int]:
    """The file's text encoding and about how many lines it has, from one pass over its
    bytes in chunks (nothing is kept): UTF-8 when every byte decodes as UTF-8."""
    handle.seek(0)
    head = handle.read(4)
    handle.seek(0)
    encoding = ("utf-8-sig" if head.startswith(codecs.BOM_UTF8) else
                "utf-16" if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
                else "")
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 0
    for chunk in iter(lambda: handle.read(1 << 20), b""):
        lines += chunk.count(b"\n")
        if not encoding and decoder is not None:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                decoder = None
    if not encoding:
        try:
            if decoder is not None:
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            decoder = None
        encoding = "utf-8" if decoder is not None else "gb18030"
    handle.seek(0)
    return encoding, lines


def _csv_rows(handle: IO[bytes], on_estimate: Callable[[int], None] | None) -> Iterator[Row]:
    encoding, lines = _sniff_encoding(handle)
    if on_estimate:
        on_estimate(lines)
    text = io.TextIOWrapper(handle, encoding=encoding, newline="")
    try:
        try:
            sample = text.read(64 * 1024)
        except UnicodeDecodeError as exc:
            raise _unknown_encoding() from exc
        first_line = next((line for line in sample.splitlines() if line.strip()), "")
        delimiter = max(",\t;", key=first_line.count) if first_line else ","
        if not first_line.count(delimiter):
            delimiter = ","
        text.seek(0)
        reader = csv.reader(text, delimiter=delimiter)
        try:
            for number, cells in enumerate(reader, start=1):
                yield number, cells[:MAX_COLUMNS]
        except csv.Error as exc:
            raise errors.ValidationError(
                _("This file could not be read as CSV: %s") % exc,
                code=errors.ErrorCode.UNREADABLE_FILE
            ) from exc
        except UnicodeDecodeError as exc:
            raise _unknown_encoding() from exc
    finally:
        with suppress(ValueError):  # ValueError: the caller has closed the file already
            text.detach()  # the caller closes the file


# --- cell values ----------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A cell as text: numbers without a spurious ".0" (Excel stores 1001 as 1001.0),
    dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


def cell_date(value: Any) -> date | None:
    """A date from an Excel date cell, an Excel serial number, or text such as 2024-03-01,
    2024/3/1, 2024.3.1, 2024年3月1日 or 20240301. ``None`` for an empty cell; ValueError
    for anything else."""
    if _is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _excel_serial(value)
    text = str(value).strip().split(" ")[0].split("T")[0]
    if text.isdigit() and len(text) == 5:
        return _excel_serial(int(text))
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _excel_serial(number: float) -> date:
    from openpyxl.utils.datetime import from_excel  # heavy; only for an Excel date serial

    # 1 = 1900-01-01; beyond 2958465 is past the year 9999.
    if not 1 <= number <= 2958465:
        raise ValueError(str(number))
    return from_excel(number).date()


def normalize_header(text: Any) -> str:
    """Header text compared loosely: case, spaces, underscores, dashes, asterisks (the
    "required" mark) and a trailing note in brackets are ignored."""
    value = cell_text(text).lower()
    value = re.sub(r"[（(\[【].*?[)）\]】]", "", value)
    return re.sub(r"[\s_\-*:：.·]+", "", value)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter  # heavy; only for the mapping form

    return get_column_letter(index + 1)


def column_labels(headers: list[str]) -> list[str]:
    """What the mapping form shows for each column: its header, or "Column C"."""
    return [
        f"{_column_letter(i)} · {h}" if h else _("Column %s") % _column_letter(i)
        for i, h in enumerate(headers)
    ]


def data_rows(job: ImportJob, on_estimate: Callable[[int], None] | None = None, *,
              below: int | None = None) -> Iterator[Row]:
    """The data rows of the job's stored file (those below its header row, or below row
    ``below``), streamed."""
    below = job.header_row if below is None else below
    with job.file.open("rb") as handle:
        rows = stream_rows(handle, job.original_name, on_estimate=on_estimate)
        try:
            yield from (row for row in rows if row[0] > below)
        finally:
            rows.close()


def last_filled(cells: list[Any]) -> int:
    """How many columns the row spans up to its last non-blank cell."""
    return next((i + 1 for i in range(len(cells) - 1, -1, -1) if not _is_blank(cells[i])), 0)

