"""Bulk import: the one mechanism every spreadsheet importer reuses (NetBox style).

An upload goes through **reading → preview → per-row errors → commit**, all of the work
in ``jifen worker`` (django-tasks); a request only stores the file or changes the job's
state and enqueues, and the pages poll the job (htmx) for its progress:

1. ``create_import_job`` judges what it can without reading a row (size, kind of file, a
   workbook's zip directory), stores the file privately and enqueues ``check_import_task``.
2. ``run_import_check`` (the worker) streams the file — xlsx in openpyxl's read-only mode,
   csv in UTF-8 with or without BOM or in GB18030 as Chinese Excel saves it — refusing at
   once a sheet that declares more rows or cells than allowed and stopping at the first
   row past the limits otherwise; finds the header row, maps columns to the importer's
   fields by their Chinese and English header aliases, checks every row and leaves the job
   ``previewed`` with the counts, the per-row errors and the error reports. Nothing else
   is written.
3. The admin may change the mapping (``remap_import_job``: checked again in the worker),
   download the error report and fix the sheet.
4. ``start_import_commit`` moves the job to ``committing`` once and enqueues
   ``commit_import_task``; ``run_import_commit`` (the worker) reads and checks the file
   again and commits all rows (only when none has an error) or only the valid rows. The
   importer writes every row in ONE transaction, so a database error leaves nothing
   half-done and the job says ``failed`` with the reason — unless it declares
   ``atomic = False``: an importer whose rows are idempotent (events, unique by source and
   id) commits chunk by chunk, so the progress bar moves and no lock is held for the whole
   file; a failure leaves whole chunks applied and running the import again finishes the
   rest (rows already in are duplicates).

An importer is a subclass of ``Importer`` in ``<app>/imports.py`` decorated with
``@register``; ``get_importer`` finds it by ``kind`` (in a worker too, by importing every
app's ``imports`` module). ``ImportPages`` gives an importer its web pages; an app's
``import_urls.py`` mounts ``ImportPages(...).urlpatterns()``. Every sheet handed out
(templates, error reports) is written by ``jifen.core.exports``, which neutralises formulas.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import operator
import re
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import chain, islice, repeat
from pathlib import PurePath
from typing import IO, Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tasks import task

from jifen.core import errors
from jifen.core.exports import (
    CSV_CONTENT_TYPE,
    XLSX_CONTENT_TYPE,
    csv_bytes,
    download,
    unquote_cell,
    xlsx_bytes,
)
from jifen.core.models import ImportJob
from jifen.core.permissions import htmx_partial, require_capability

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
HEADER_SCAN_ROWS = 20  # the header row is looked for among the first rows that hold data
PREVIEW_ROWS = 10  # good rows shown on the preview page
PREVIEW_KEEP = 100  # rows whose cells are kept while checking, to find those good rows
ERRORS_SHOWN = 200  # bad rows listed on the preview page; the report has them all
PROGRESS_EVERY = 500  # rows between two progress updates
# A job reading or committing whose progress has not moved for this long may have lost its
# worker (stopped, or killed mid-task: the task is not run again): the page says so.
# Honest only as a hint — a one-transaction commit shows no progress while it writes.
STALLED_AFTER = timedelta(minutes=10)
XLSX_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".txt")
ALLOWED_SUFFIXES = XLSX_SUFFIXES + CSV_SUFFIXES

# How the result page names the counts an importer's ``commit`` returns.
RESULT_LABELS = {
    "imported": gettext_lazy("Rows imported"),
    "skipped": gettext_lazy("Rows skipped (errors)"),
    "created": gettext_lazy("Created"),
    "updated": gettext_lazy("Updated"),
    "unchanged": gettext_lazy("Unchanged"),
    "accounts_created": gettext_lazy("Accounts created"),
}

Row = tuple[int, list[Any]]  # (row number as the spreadsheet shows it, cell values)
Problem = tuple[str, str]  # (field name, or "" for the whole row; message)



# --- importer declaration ---------------------------------------------------------------


@dataclass(frozen=True)
class ImportField:
    """A column an importer understands. ``aliases`` are the header texts that map to it
    automatically (Chinese first: the first one heads the Chinese template); the field's
    name and its translated label always match too."""

    name: str
    label: Any
    aliases: tuple[str, ...] = ()
    required: bool = False
    help_text: Any = ""

    def template_header(self, language: str | None) -> str:
        if (language or "").startswith("zh") and self.aliases:
            return self.aliases[0]
        return self.name


@dataclass
class RowResult:
    """One data row after parsing and checking. ``item`` is what the importer's ``commit``
    receives; it is written only when ``problems`` is empty."""

    row: int
    cells: list[Any]
    item: Any = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, field_name: str, message: str) -> None:
        """Add a problem unless this field already has one (the first reason is the useful
        one; "unknown department" then "a department is required" is noise)."""
        if field_name and any(f == field_name for f, _m in self.problems):
            return
        if (field_name, message) not in self.problems:
            self.problems.append((field_name, message))


class Importer:
    """Subclass per kind of import; declare ``kind``, ``verbose_name``, ``fields`` and
    ``example_row``, implement ``parse`` and ``commit``."""

    kind: ClassVar[str] = ""
    verbose_name: ClassVar[Any] = ""
    fields: ClassVar[tuple[ImportField, ...]] = ()
    example_row: ClassVar[dict[str, Any]] = {}
    # False: ``commit`` manages its own transactions, one per chunk of rows, and a re-run
    # of the same file must apply only what is missing (see the module doc).
    atomic: ClassVar[bool] = True

    def field(self, name: str) -> ImportField | None:
        return next((f for f in self.fields if f.name == name), None)

    def field_label(self, name: str) -> str:
        found = self.field(name)
        return str(found.label) if found else (name or _("Row"))

    def mapping_problems(self, mapping: dict[str, int | None], columns: int) -> list[str]:
        """Why this mapping cannot be used (empty when it can)."""
        problems = []
        for f in self.fields:
            if f.required and mapping.get(f.name) is None:
                problems.append(_("Choose the column for %s.") % f.label)
        used: dict[int, str] = {}
        for name, index in mapping.items():
            if index is None:
                continue
            if not 0 <= index < columns:
                problems.append(_("The column chosen for %s does not exist.")
                                % self.field_label(name))
            elif index in used:
                problems.append(_("%(a)s and %(b)s use the same column.")
                                % {"a": self.field_label(used[index]),
                                   "b": self.field_label(name)})
            else:
                used[index] = name
        return problems

    def begin(self) -> Any:
        """Load what checking every row needs (e.g. all departments) once; the result is
        passed to ``parse`` and ``check_batch`` as ``context``."""
        return None

    def parse(self, values: dict[str, Any], context: Any) -> tuple[Any, list[Problem]]:
        """Turn one row's mapped cell values (field name → raw cell value) into an item
        and the problems found in it."""
        raise NotImplementedError

    def check_batch(self, results: list[RowResult], context: Any) -> None:
        """Checks across rows (duplicates within the file, database look-ups in bulk);
        adds problems to ``results`` in place."""

    def check_actor(self, results: list[RowResult], context: Any, actor: Any) -> None:
        """Checks that depend on who imports: ``actor`` is the user previewing (or, at the
        commit, committing; None for the system). Adds problems to ``results`` in place, so
        a row the commit would refuse for this user is a row error in the preview."""

    def commit(self, items: list[Any], *, actor: Any, job: ImportJob,
               progress: Callable[[int], None]) -> dict[str, int]:
        """Write ``items`` (every one valid). Runs inside one transaction; returns counts
        for the result page (e.g. {"created": 3, "updated": 1})."""
        raise NotImplementedError


_REGISTRY: dict[str, type[Importer]] = {}


def register(importer: type[Importer]) -> type[Importer]:
    """Class decorator: make an importer reachable by its ``kind``."""
    if not importer.kind:
        raise ValueError(f"{importer.__name__} has no kind")
    _REGISTRY[importer.kind] = importer
    return importer


def get_importer(kind: str) -> Importer:
    if kind not in _REGISTRY:
        # A worker process has not imported the apps' importers yet.
        autodiscover_modules("imports")
    if kind not in _REGISTRY:
        raise errors.NotFound(_("Unknown kind of import: %s") % kind, code="unknown_import")
    return _REGISTRY[kind]()


# --- reading files --------------------------------------------------------------------
# --- reading files: streamed, judged before the work starts ------------------------------


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _too_large(message: str) -> errors.ValidationError:
    return errors.ValidationError(message, code="file_too_large")


def _too_many_rows() -> errors.ValidationError:
    return _too_large(_("The file has more than %(rows)s rows; split it into smaller files.")
                      % {"rows": f"{MAX_ROWS:,}"})


def _too_many_cells() -> errors.ValidationError:
    return _too_large(_("The file has more than %(cells)s cells; split it into smaller files.")
                      % {"cells": f"{MAX_CELLS:,}"})


def _unreadable_workbook() -> errors.ValidationError:
    return errors.ValidationError(_("This file could not be read as an Excel workbook."),
                                  code="unreadable_file")


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
            code="unsupported_file",
        )
    raise errors.ValidationError(_("Upload an .xlsx or .csv file."), code="unsupported_file")


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
        raise _too_large(_("This workbook is too large once unpacked; split it into smaller "
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
    from openpyxl import load_workbook

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
        code="unreadable_file",
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
                _("This file could not be read as CSV: %s") % exc, code="unreadable_file"
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
    from openpyxl.utils.datetime import from_excel

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


def header_keys(importer: Importer) -> dict[str, str]:
    """Normalized header text → field name."""
    keys: dict[str, str] = {}
    for f in importer.fields:
        for text in (f.name, str(f.label), *f.aliases):
            keys.setdefault(normalize_header(text), f.name)
    return keys


def detect_header(rows: list[Row], importer: Importer) -> int:
    """Index (in ``rows``) of the header row: among the first rows, the one naming the most
    fields; the first row when none names any."""
    keys = header_keys(importer)
    best, best_score = 0, 0
    for index, (_number, cells) in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = len({keys[k] for k in map(normalize_header, cells) if k in keys})
        if score > best_score:
            best, best_score = index, score
    return best


def auto_mapping(headers: list[str], importer: Importer) -> dict[str, int | None]:
    keys = header_keys(importer)
    mapping: dict[str, int | None] = {f.name: None for f in importer.fields}
    for index, header in enumerate(headers):
        name = keys.get(normalize_header(header))
        if name and mapping[name] is None:
            mapping[name] = index
    return mapping


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def column_labels(headers: list[str]) -> list[str]:
    """What the mapping form shows for each column: its header, or "Column C"."""
    return [
        f"{_column_letter(i)} · {h}" if h else _("Column %s") % _column_letter(i)
        for i, h in enumerate(headers)
    ]


# --- checking rows ----------------------------------------------------------------------


def validate_rows(
    importer: Importer,
    rows: Iterable[Row],
    mapping: dict[str, int | None],
    *,
    actor: Any,
    on_progress: Callable[[int], None] | None = None,
) -> list[RowResult]:
    """Parse and check every data row, for ``actor`` (who previews or commits); nothing
    is written. The rows may be a stream: only the cells of the first valid rows are kept
    (for the preview), the rest go once parsed."""
    context = importer.begin()
    columns = [(name, index) for name, index in mapping.items() if index is not None]
    results = []
    kept = 0
    for count, (number, cells) in enumerate(rows, start=1):
        values = {name: cells[index] if index < len(cells) else None for name, index in columns}
        item, problems = importer.parse(values, context)
        result = RowResult(row=number, cells=cells, item=item)
        for field_name, message in problems:
            result.add(field_name, message)
        if result.ok and kept < PREVIEW_KEEP:
            kept += 1
        else:
            result.cells = []
        results.append(result)
        if on_progress and count % PROGRESS_EVERY == 0:
            on_progress(count)
    importer.check_batch(results, context)
    importer.check_actor(results, context, actor)
    return results


def _data_rows(job: ImportJob, on_estimate: Callable[[int], None] | None = None, *,
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


def _apply_results(job: ImportJob, importer: Importer, results: list[RowResult] | None,
                   total: int) -> None:
    job.total_rows = total
    if results is None:  # the mapping is incomplete: nothing could be checked
        job.valid_rows = job.error_count = 0
        job.error_rows, job.preview_rows = [], []
        return
    job.error_rows = [
        {"row": r.row, "field": f, "message": m} for r in results for f, m in r.problems
    ]
    job.error_count = sum(1 for r in results if r.problems)
    job.valid_rows = total - job.error_count
    mapped = [job.mapping[name] for name in mapped_fields(importer, job.mapping)]
    job.preview_rows = [
        {"row": r.row, "values": [cell_text(r.cells[i]) if i < len(r.cells) else ""
                                  for i in mapped]}
        for r in results if r.ok and r.cells
    ][:PREVIEW_ROWS]


def mapped_fields(importer: Importer, mapping: dict[str, int | None]) -> list[str]:
    """The importer's fields that have a column, in the importer's order (a JSON column may
    not keep the mapping's key order)."""
    return [f.name for f in importer.fields if mapping.get(f.name) is not None]


def _last_filled(cells: list[Any]) -> int:
    """How many columns the row spans up to its last non-blank cell."""
    return next((i + 1 for i in range(len(cells) - 1, -1, -1) if not _is_blank(cells[i])), 0)


# --- services: the life of an import job -------------------------------------------------


class _Stopped(Exception):
    """The job left the state its task works in (cancelled meanwhile): stop quietly."""


def _actor_id(actor: Any) -> int | None:
    return actor.pk if getattr(actor, "pk", None) else None


@transaction.atomic
def create_import_job(*, importer: Importer, upload: Any, actor: Any) -> ImportJob:
    """Keep an uploaded sheet and enqueue its reading and checking for ``jifen worker``
    (``run_import_check``). No row is read here: only what ``check_container`` judges from
    the file's name and zip directory. Returns the job, ``reading``. Raises ValidationError
    for a file that is too big or not a spreadsheet we read."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise _too_large(_("The file is larger than 20 MB."))
    check_container(upload, upload.name)
    job = ImportJob(
        kind=importer.kind, original_name=PurePath(upload.name).name[:255],
        status=ImportJob.Status.READING, created_by=actor if _actor_id(actor) else None,
    )
    upload.seek(0)
    job.file.save(job.original_name, upload, save=False)
    job.save()
    actor_id = _actor_id(actor)
    transaction.on_commit(lambda: check_import_task.enqueue(job.pk, actor_id))
    return job


@transaction.atomic
def remap_import_job(*, job: ImportJob, mapping: dict[str, int | None], actor: Any,
                     ) -> ImportJob:
    """Use another column mapping: the job goes back to ``reading`` and the worker checks
    every row again. Only a previewed job can be remapped."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.PREVIEWED:
        raise errors.Conflict(_("This import has already been started or cancelled."),
                              code="import_not_previewed")
    importer = get_importer(job.kind)
    job.mapping = {f.name: mapping.get(f.name) for f in importer.fields}
    job.status = ImportJob.Status.READING
    job.processed_rows = 0
    job.save()
    actor_id = _actor_id(actor)
    transaction.on_commit(lambda: check_import_task.enqueue(job.pk, actor_id))
    return job


def _set_progress(job_id: int, count: int, status: str) -> None:
    if not ImportJob.objects.filter(pk=job_id, status=status).update(
            processed_rows=count, updated_at=timezone.now()):
        raise _Stopped


def _set_estimate(job_id: int, rows: int) -> None:
    ImportJob.objects.filter(pk=job_id).update(total_rows=rows, updated_at=timezone.now())


def run_import_check(*, job_id: int, actor_id: int | None = None) -> ImportJob:
    """Read and check a ``reading`` job's file for the preview (in the worker): on the
    first reading find the header row and map the columns; check every row for the user
    ``actor_id``; write the error reports; leave the job ``previewed`` — or ``failed`` with
    the reason when the file cannot be read or is beyond the limits. A job in any other
    state is left alone (a retried task does nothing; a cancelled one stops)."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status != ImportJob.Status.READING:
        return job
    importer = get_importer(job.kind)
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    first_read = not job.headers
    try:
        source = _data_rows(job, on_estimate=lambda n: _set_estimate(job.pk, n),
                            below=0 if first_read else None)
        rows: Iterator[Row] = source
        try:
            if first_read:
                head = list(islice(rows, HEADER_SCAN_ROWS))
                if not head:
                    raise errors.ValidationError(_("The file is empty."), code="empty_file")
                index = detect_header(head, importer)
                job.header_row, header_cells = head[index]
                job.headers = [cell_text(c) for c in header_cells]
                job.mapping = auto_mapping(job.headers, importer)
                rows = chain(head[index + 1:], rows)
            width = _last_filled(job.headers)

            def measured(stream: Iterable[Row]) -> Iterator[Row]:
                nonlocal width
                for row in stream:
                    width = max(width, _last_filled(row[1]))
                    yield row

            progress = lambda n: _set_progress(job.pk, n, ImportJob.Status.READING)  # noqa: E731
            data = measured(rows) if first_read else rows
            if importer.mapping_problems(job.mapping, len(job.headers)):
                results, total = None, 0
                for total, _row in enumerate(data, start=1):
                    if total % PROGRESS_EVERY == 0:
                        progress(total)
            else:
                results = validate_rows(importer, data, job.mapping, actor=actor,
                                        on_progress=progress)
                total = len(results)
        finally:
            source.close()
        if first_read:
            if not total:
                raise errors.ValidationError(
                    _("The file has a header row but no data below it."), code="empty_file")
            # As many columns as the last one holding anything (formatting alone adds
            # empty cells).
            job.headers = (job.headers + [""] * width)[:width]
        _apply_results(job, importer, results, total)
        old_reports, job.reports = job.reports, _write_reports(job, importer)
    except _Stopped:
        return ImportJob.objects.get(pk=job.pk)
    except errors.JifenError as exc:
        return _fail_reading(job, exc.message)
    except Exception as exc:
        logger.exception("import job %s could not be read", job.pk)
        return _fail_reading(job, _("This file could not be read: unexpected error (%s).")
                             % exc)
    with transaction.atomic():
        current = ImportJob.objects.select_for_update().get(pk=job.pk)
        if current.status != ImportJob.Status.READING:  # cancelled meanwhile
            _delete_files(job.file.storage, job.reports.values())
            return current
        job.status = ImportJob.Status.PREVIEWED
        job.processed_rows = 0
        job.save()
    _delete_files(job.file.storage, set(old_reports.values()) - set(job.reports.values()))
    return job


def _fail_reading(job: ImportJob, reason: str) -> ImportJob:
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.READING).update(
        status=ImportJob.Status.FAILED, failure_reason=reason[:2000], finished_at=now,
        updated_at=now)
    return ImportJob.objects.get(pk=job.pk)


def start_import_commit(*, job: ImportJob, mode: str, actor: Any) -> ImportJob:
    """Commit a previewed job: ``all`` rows (refused while any row has an error) or
    ``valid_only``. The job moves to ``committing`` exactly once (a second click gets a
    Conflict) and the commit is enqueued for ``jifen worker`` (``run_import_commit``)."""
    importer = get_importer(job.kind)
    if mode not in ImportJob.Mode.values:
        raise errors.ValidationError(_("Unknown import mode."), code="invalid_mode")
    if job.status == ImportJob.Status.READING:
        raise errors.Conflict(_("The file is still being read; wait for the preview."),
                              code="import_not_previewed")
    if problems := importer.mapping_problems(job.mapping, len(job.headers)):
        raise errors.ValidationError(problems[0], code="incomplete_mapping")
    if mode == ImportJob.Mode.ALL and job.error_count:
        raise errors.Conflict(
            ngettext(
                "%(count)d row has an error: fix it, or import only the valid rows.",
                "%(count)d rows have errors: fix them, or import only the valid rows.",
                job.error_count,
            ) % {"count": job.error_count},
            code="import_has_errors",
        )
    if not job.valid_rows:
        raise errors.Conflict(_("There are no valid rows to import."), code="nothing_to_import")
    now = timezone.now()
    with transaction.atomic():
        started = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEWED).update(
            status=ImportJob.Status.COMMITTING, mode=mode, started_at=now, updated_at=now,
            committed_by=actor if _actor_id(actor) else None, processed_rows=0,
        )
        if not started:
            raise errors.Conflict(_("This import has already been started or cancelled."),
                                  code="import_not_previewed")
        transaction.on_commit(lambda: commit_import_task.enqueue(job.pk))
    job.refresh_from_db()
    return job


def _fail(job: ImportJob, reason: str) -> ImportJob:
    job.status = ImportJob.Status.FAILED
    job.failure_reason = reason[:2000]
    job.finished_at = timezone.now()
    job.save()
    return job


def _stopped(importer: Importer, cause: str, nothing_imported: str) -> str:
    """Why a commit failed: for a one-transaction importer, that nothing was imported;
    for one that commits chunk by chunk, that it stopped and how to finish it."""
    if importer.atomic:
        return nothing_imported
    return _("The import stopped: %s. The chunks of rows before the failure are imported; "
             "fix the problem and run the same file again to import the rest (rows "
             "already imported are skipped as duplicates).") % cause


def run_import_commit(*, job_id: int) -> ImportJob:
    """The commit itself (in the worker). Streams the stored file again and checks every
    row again (the data may have changed since the preview), reporting progress as it goes,
    then hands the valid rows to the importer in one transaction, and rewrites the error
    reports. A job that is not ``committing`` is left alone, so a retried task does
    nothing."""
    job = ImportJob.objects.select_related("committed_by").get(pk=job_id)
    if job.status != ImportJob.Status.COMMITTING:
        return job
    importer = get_importer(job.kind)
    job = _commit(job, importer)
    old_reports = job.reports
    reports = _write_reports(job, importer)
    ImportJob.objects.filter(pk=job.pk).update(reports=reports)
    job.reports = reports
    _delete_files(job.file.storage, set(old_reports.values()) - set(reports.values()))
    return job


def _commit(job: ImportJob, importer: Importer) -> ImportJob:
    try:
        rows = _data_rows(job)
        try:
            results = validate_rows(
                importer, rows, job.mapping, actor=job.committed_by,
                on_progress=lambda n: _set_progress(job.pk, n, ImportJob.Status.COMMITTING))
        finally:
            rows.close()
        _apply_results(job, importer, results, len(results))
        if job.mode == ImportJob.Mode.ALL and job.error_count:
            return _fail(job, ngettext(
                "Nothing was imported: since the preview %(count)d row has an error.",
                "Nothing was imported: since the preview %(count)d rows have errors.",
                job.error_count) % {"count": job.error_count})
        items = [r.item for r in results if r.ok]
        del results
        if not items:
            return _fail(job, _("Nothing was imported: no row is valid."))
        with transaction.atomic() if importer.atomic else nullcontext():
            counts = importer.commit(
                items, actor=job.committed_by, job=job,
                progress=lambda n: _set_progress(job.pk, n, ImportJob.Status.COMMITTING))
    except errors.JifenError as exc:
        return _fail(job, _stopped(importer, exc.message,
                                   _("Nothing was imported: %s") % exc.message))
    except DatabaseError as exc:
        logger.warning("import job %s failed: %s", job.pk, exc)
        return _fail(job, _stopped(
            importer, _("the database refused the data (%s)") % exc,
            _("Nothing was imported: the database refused the data (%s).") % exc))
    except Exception as exc:
        logger.exception("import job %s failed", job.pk)
        return _fail(job, _stopped(
            importer, _("unexpected error (%s)") % exc,
            _("Nothing was imported: unexpected error (%s).") % exc))
    job.status = ImportJob.Status.DONE
    job.result = {"imported": len(items), "skipped": job.error_count, **counts}
    job.processed_rows = job.total_rows
    job.finished_at = timezone.now()
    job.save()
    return job


def _delete_files(storage: Any, names: Iterable[str]) -> None:
    for name in names:
        if name:
            try:
                storage.delete(name)
            except OSError:
                logger.warning("could not delete %s", name)


def purge_import_files(*, days: int | None = None, now: datetime | None = None) -> int:
    """Delete the uploaded files, error reports and previews of imports untouched for
    ``days`` (``JIFEN_IMPORT_RETENTION_DAYS``, default 30); the jobs stay, with their counts
    and per-row errors. A preview never committed (or a reading never finished) is
    cancelled. Returns how many uploads went. A daily job of ``jifen worker``
    (``jifen.core.periodic``)."""
    days = settings.JIFEN_IMPORT_RETENTION_DAYS if days is None else days
    now = now or timezone.now()
    stale = (ImportJob.objects.filter(updated_at__lt=now - timedelta(days=days))
             .exclude(file="").exclude(status=ImportJob.Status.COMMITTING))
    unfinished = (ImportJob.Status.PREVIEWED, ImportJob.Status.READING)
    purged = 0
    for job in stale.iterator():
        name, storage, reports = job.file.name, job.file.storage, job.reports.values()
        with transaction.atomic():
            changed = ImportJob.objects.filter(pk=job.pk, updated_at=job.updated_at)
            if job.status in unfinished:
                changed = changed.filter(status=job.status)
                updates = {"status": ImportJob.Status.CANCELLED, "finished_at": now}
            else:
                updates = {}
            # Conditional: a job someone touched meanwhile is left for the next day.
            if not changed.update(file="", preview_rows=[], reports={}, **updates):
                continue
        _delete_files(storage, [name, *reports])
        purged += 1
    return purged


@task()
def purge_import_files_task() -> int:
    return purge_import_files()


@task()
def check_import_task(job_id: int, actor_id: int | None = None) -> None:
    """Background form of ``run_import_check``: every upload and remapping is read here."""
    run_import_check(job_id=job_id, actor_id=actor_id)


@task()
def rebuild_reports_task(job_id: int) -> None:
    """Background form of ``rebuild_import_reports``."""
    rebuild_import_reports(job_id=job_id)


@task()
def commit_import_task(job_id: int) -> None:
    """Background form of ``run_import_commit``."""
    run_import_commit(job_id=job_id)


@transaction.atomic
def cancel_import_job(*, job: ImportJob, actor: Any) -> ImportJob:
    """Drop a job still being read or previewed, its stored file and reports; nothing was
    imported (a reading in progress stops at its next progress report)."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in (ImportJob.Status.PREVIEWED, ImportJob.Status.READING):
        raise errors.Conflict(_("This import has already been started or cancelled."),
                              code="import_not_previewed")
    job.status = ImportJob.Status.CANCELLED
    job.finished_at = timezone.now()
    names, storage = [job.file.name, *job.reports.values()], job.file.storage
    job.reports = {}
    job.save()
    transaction.on_commit(lambda: _delete_files(storage, names))
    return job


# --- reads: reports and templates -----------------------------------------------------


def recent_import_jobs(kind: str, limit: int = 10) -> list[ImportJob]:
    return list(ImportJob.objects.filter(kind=kind).select_related("created_by")[:limit])


def error_messages_by_row(job: ImportJob, importer: Importer) -> dict[int, str]:
    """Row number → its problems as one line ("E-mail: … ; Name: …")."""
    lines: dict[int, list[str]] = {}
    for error in job.error_rows:
        label = importer.field_label(error["field"]) if error["field"] else ""
        lines.setdefault(error["row"], []).append(
            f"{label}: {error['message']}" if label else error["message"]
        )
    return {row: "; ".join(parts) for row, parts in lines.items()}


REPORT_FORMATS = {"xlsx": XLSX_CONTENT_TYPE, "csv": CSV_CONTENT_TYPE}


def _report_name(job: ImportJob, fmt: str) -> str:
    return f"{PurePath(job.original_name).stem}-errors.{fmt}"


def _build_reports(job: ImportJob, importer: Importer, formats: Iterable[str],
                   ) -> dict[str, bytes]:
    """The bad rows with their original columns plus the row number and the reason, in
    each of ``formats``, from one streamed reading of the stored file. Every cell goes
    through ``jifen.core.exports``, so what the upload held as a formula comes back as
    text. Fix the rows in it and upload it again: the extra columns are ignored."""
    messages = error_messages_by_row(job, importer)
    rows = _data_rows(job)
    try:
        bad = [(n, cells) for n, cells in rows if n in messages]
    finally:
        rows.close()
    width = max([len(job.headers)] + [len(cells) for _n, cells in bad])
    header = [*job.headers, *[""] * (width - len(job.headers)), _("Row"), _("Error")]
    body = [[*cells, *[None] * (width - len(cells)), n, messages[n]] for n, cells in bad]
    built = {}
    for fmt in formats:
        if fmt == "xlsx":
            built[fmt] = xlsx_bytes(header, body)
        else:
            built[fmt] = csv_bytes(header, ([cell_text(v) for v in row] for row in body))
    return built


def _write_reports(job: ImportJob, importer: Importer) -> dict[str, str]:
    """Write the job's error reports beside its file (in the worker, so that a download is
    a file, not a reading of the sheet); format → storage name. None without errors, and
    none when they cannot be written (logged; a download then asks the worker again)."""
    if not job.error_rows or not job.file:
        return {}
    storage, names = job.file.storage, {}
    try:
        for fmt, content in _build_reports(job, importer, REPORT_FORMATS).items():
            names[fmt] = storage.save(
                f"imports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}-errors.{fmt}",
                ContentFile(content))
    except Exception:
        logger.exception("the error reports of import job %s could not be written", job.pk)
        _delete_files(storage, names.values())
        return {}
    return names


def error_report(job: ImportJob, fmt: str) -> tuple[bytes, str, str] | None:
    """The error report the worker wrote, as (content, content type, file name) — or None
    when it is not there (a job from before the worker wrote reports, a storage error, a
    lost file): then the worker is asked to write it (``rebuild_reports_task``; a commit
    under way writes it when it ends) and the caller says it is being prepared. The sheet
    is never read here: a download is a request, and a sheet may hold 300,000 rows.
    Raises NotFound when the report cannot be made (no errors, the upload is gone)."""
    if not job.error_rows:
        raise errors.NotFound(_("This import has no rows with errors."), code="no_error_report")
    stored = (job.reports or {}).get(fmt)
    if stored:
        try:
            with job.file.storage.open(stored, "rb") as handle:
                return handle.read(), REPORT_FORMATS[fmt], _report_name(job, fmt)
        except OSError:
            logger.warning("error report %s of import job %s is missing", stored, job.pk)
    if not _upload_stored(job):
        raise errors.NotFound(
            _("The uploaded file is no longer stored, so the error report with its rows "
              "cannot be made; the errors are listed on this page."),
            code="import_file_gone")
    if job.status != ImportJob.Status.COMMITTING:
        rebuild_reports_task.enqueue(job.pk)
    return None


def _upload_stored(job: ImportJob) -> bool:
    if not job.file:
        return False
    try:
        return job.file.storage.exists(job.file.name)
    except OSError:
        return False


def _reports_stored(job: ImportJob) -> bool:
    storage = job.file.storage
    try:
        return all((job.reports or {}).get(fmt) and storage.exists(job.reports[fmt])
                   for fmt in REPORT_FORMATS)
    except OSError:
        return False


def rebuild_import_reports(*, job_id: int) -> ImportJob:
    """Write the error reports of a job that has lost them or never had them (in the
    worker; asked for by ``error_report``). A job being read or committed gets them when
    that work ends, and a job that has them, or has lost its upload, is left alone."""
    job = ImportJob.objects.get(pk=job_id)
    busy = (ImportJob.Status.READING, ImportJob.Status.COMMITTING, ImportJob.Status.CANCELLED)
    if job.status in busy or not job.error_rows or not job.file or _reports_stored(job):
        return job
    reports = _write_reports(job, get_importer(job.kind))
    if not reports:
        return job
    storage = job.file.storage
    with transaction.atomic():
        current = ImportJob.objects.select_for_update().get(pk=job.pk)
        if (current.status != job.status or current.reports != job.reports
                or current.file.name != job.file.name):  # changed meanwhile: theirs stands
            transaction.on_commit(lambda: _delete_files(storage, reports.values()))
            return current
        # Not ``save``: looking at a report is no reason to keep the upload longer.
        ImportJob.objects.filter(pk=job.pk).update(reports=reports)
    _delete_files(storage, set((job.reports or {}).values()) - set(reports.values()))
    job.reports = reports
    return job


def template_file(importer: Importer, fmt: str) -> tuple[bytes, str, str]:
    """A blank sheet to fill in: the header row (Chinese or English headers, by the UI
    language) and one example row."""
    language = get_language()
    header = [f.template_header(language) for f in importer.fields]
    example = [importer.example_row.get(f.name, "") for f in importer.fields]
    name = f"{importer.kind.replace('.', '-')}-template"
    if fmt == "xlsx":
        return xlsx_bytes(header, [example]), XLSX_CONTENT_TYPE, f"{name}.xlsx"
    return (csv_bytes(header, [[cell_text(v) for v in example]]), CSV_CONTENT_TYPE,
            f"{name}.csv")


# --- web pages --------------------------------------------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet"),
        help_text=gettext_lazy("An .xlsx or .csv file of at most 20 MB."),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".xlsx,.csv"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 20 MB."))
        if PurePath(upload.name).suffix.lower() not in ALLOWED_SUFFIXES:
            raise forms.ValidationError(_("Upload an .xlsx or .csv file."))
        return upload


class MappingForm(forms.Form):
    """One select per importer field: which column of the file holds it."""

    def __init__(self, *args: Any, importer: Importer, job: ImportJob, **kwargs: Any):
        super().__init__(*args, **kwargs)
        choices = [("", _("— not imported —"))] + [
            (str(i), label) for i, label in enumerate(column_labels(job.headers))
        ]
        for f in importer.fields:
            current = job.mapping.get(f.name)
            self.fields[f.name] = forms.TypedChoiceField(
                label=f.label, choices=choices, required=False, coerce=int, empty_value=None,
                initial="" if current is None else str(current), help_text=f.help_text,
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )


class ImportPages:
    """The web pages of one importer: upload → (reading) → mapping and preview → commit →
    result. Mount with ``urlpatterns = ImportPages(...).urlpatterns()`` under an
    ``app_name``."""

    def __init__(self, *, importer: type[Importer], capability: str, title: Any,
                 intro: Any = "", back_url_name: str = "", back_label: Any = ""):
        self.importer_class = importer
        self.capability = capability
        self.title = title
        self.intro = intro
        self.back_url_name = back_url_name
        self.back_label = back_label

    def urlpatterns(self) -> list[URLPattern]:
        guard = require_capability(self.capability)
        return [
            path("", guard(require_http_methods(["GET", "POST"])(self.start)), name="start"),
            path("template.<str:fmt>", guard(require_GET(self.template)), name="template"),
            path("<int:pk>/", guard(require_http_methods(["GET", "POST"])(self.preview)),
                 name="preview"),
            path("<int:pk>/commit/", guard(require_POST(self.commit)), name="commit"),
            path("<int:pk>/cancel/", guard(require_POST(self.cancel)), name="cancel"),
            path("<int:pk>/result/", guard(require_GET(self.result)), name="result"),
            path("<int:pk>/progress/", guard(require_GET(self.progress)), name="progress"),
            path("<int:pk>/errors.<str:fmt>", guard(require_GET(self.errors)), name="errors"),
        ]

    # helpers

    def _importer(self) -> Importer:
        return self.importer_class()

    def _job(self, pk: int) -> ImportJob:
        return get_object_or_404(ImportJob, pk=pk, kind=self.importer_class.kind)

    def _url(self, request: HttpRequest, name: str, *args: Any) -> str:
        namespace = request.resolver_match.namespace if request.resolver_match else ""
        return reverse(f"{namespace}:{name}" if namespace else name, args=args)

    def _context(self, request: HttpRequest, job: ImportJob | None = None, **extra: Any) -> dict:
        importer = self._importer()
        urls = {
            "start": self._url(request, "start"),
            "template_xlsx": self._url(request, "template", "xlsx"),
            "template_csv": self._url(request, "template", "csv"),
        }
        if job is not None:
            for name in ("preview", "commit", "cancel", "result", "progress"):
                urls[name] = self._url(request, name, job.pk)
            urls["errors_xlsx"] = self._url(request, "errors", job.pk, "xlsx")
            urls["errors_csv"] = self._url(request, "errors", job.pk, "csv")
        try:
            back_url = reverse(self.back_url_name) if self.back_url_name else ""
        except NoReverseMatch:
            back_url = ""
        stalled = (job is not None
                   and job.status in (ImportJob.Status.READING, ImportJob.Status.COMMITTING)
                   and job.updated_at < timezone.now() - STALLED_AFTER)
        counts = job.result if job is not None else {}
        order = list(RESULT_LABELS)
        result_items = [
            (RESULT_LABELS.get(key, key), counts[key])
            for key in sorted(counts, key=lambda k: (order.index(k) if k in order else 99, k))
        ]
        return {"importer": importer, "job": job, "urls": urls, "page_title": self.title,
                "intro": self.intro, "back_url": back_url, "back_label": self.back_label,
                "result_items": result_items, "stalled": stalled, **extra}

    # views

    def start(self, request: HttpRequest) -> HttpResponse:
        importer = self._importer()
        form = UploadForm(request.POST or None, request.FILES or None)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    job = create_import_job(importer=importer, upload=form.cleaned_data["file"],
                                            actor=request.user)
                except errors.JifenError as exc:
                    form.add_error("file", exc.message)
                else:
                    return redirect(self._url(request, "preview", job.pk))
            status = 422
        return render(request, "console/imports/start.html", self._context(
            request, form=form, recent=recent_import_jobs(importer.kind),
        ), status=status)

    def template(self, request: HttpRequest, fmt: str) -> HttpResponse:
        if fmt not in REPORT_FORMATS:
            return HttpResponse(status=404)
        return download(*template_file(self._importer(), fmt))

    def preview(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = self._job(pk)
        if job.status == ImportJob.Status.READING:
            if request.method == "POST":  # a mapping sent while the file is read again
                return redirect(self._url(request, "preview", job.pk))
            return render(request, "console/imports/reading.html", self._context(request, job))
        if job.status != ImportJob.Status.PREVIEWED:
            return redirect(self._url(request, "result", job.pk))
        importer = self._importer()
        form = MappingForm(request.POST or None, importer=importer, job=job)
        if request.method == "POST" and form.is_valid():
            try:
                job = remap_import_job(job=job, mapping=form.cleaned_data, actor=request.user)
            except errors.JifenError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect(self._url(request, "preview", job.pk))
        return self._render_preview(request, job, form)

    def _render_preview(self, request: HttpRequest, job: ImportJob, form: MappingForm,
                        refusal: str = "", status: int = 200) -> HttpResponse:
        importer = self._importer()
        mapped = mapped_fields(importer, job.mapping)
        shown = job.error_rows[:ERRORS_SHOWN]
        return render(request, "console/imports/preview.html", self._context(
            request, job,
            form=form,
            mapping_problems=importer.mapping_problems(job.mapping, len(job.headers)),
            errors_shown=[{**e, "label": importer.field_label(e["field"]) if e["field"] else ""}
                          for e in shown],
            errors_hidden=max(0, len(job.error_rows) - len(shown)),
            preview_labels=[importer.field_label(name) for name in mapped],
            refusal=refusal,
        ), status=status)

    def commit(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = self._job(pk)
        try:
            job = start_import_commit(job=job, mode=request.POST.get("mode", ""),
                                      actor=request.user)
        except errors.JifenError as exc:
            if job.status == ImportJob.Status.READING:
                return redirect(self._url(request, "preview", job.pk))
            if job.status != ImportJob.Status.PREVIEWED:
                return redirect(self._url(request, "result", job.pk))
            form = MappingForm(importer=self._importer(), job=job)
            return self._render_preview(request, job, form, refusal=exc.message,
                                        status=409 if isinstance(exc, errors.Conflict) else 422)
        return redirect(self._url(request, "result", job.pk))

    def cancel(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = self._job(pk)
        try:
            cancel_import_job(job=job, actor=request.user)
        except errors.JifenError:
            return redirect(self._url(request, "result", job.pk))
        return redirect(self._url(request, "start"))

    def result(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = self._job(pk)
        if job.status in (ImportJob.Status.PREVIEWED, ImportJob.Status.READING):
            return redirect(self._url(request, "preview", job.pk))
        return render(request, "console/imports/result.html", self._context(request, job))

    def progress(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The polled status card: the reading's while the worker reads, the commit's
        after; once a reading is done the page moves on to the preview."""
        job = self._job(pk)
        if job.status == ImportJob.Status.PREVIEWED:
            if not htmx_partial(request):
                return redirect(self._url(request, "preview", job.pk))
            response = HttpResponse(status=200)
            response["HX-Redirect"] = self._url(request, "preview", job.pk)
            return response
        if job.status == ImportJob.Status.READING:
            return render(request, "console/imports/reading.html#status",
                          self._context(request, job))
        return render(request, "console/imports/result.html#status", self._context(request, job))

    def errors(self, request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
        if fmt not in REPORT_FORMATS:
            return HttpResponse(status=404)
        job = self._job(pk)
        if job.status in (ImportJob.Status.CANCELLED, ImportJob.Status.READING):
            return HttpResponse(status=404)
        back = self._url(request, "preview" if job.status == ImportJob.Status.PREVIEWED
                         else "result", job.pk)
        if not job.file:
            messages.warning(request, _(
                "The uploaded file was deleted %(days)d days after the import, so the error "
                "report with its rows is no longer available; the errors are listed on "
                "this page.") % {"days": settings.JIFEN_IMPORT_RETENTION_DAYS})
            return redirect(back)
        try:
            report = error_report(job, fmt)
        except errors.JifenError as exc:
            messages.warning(request, exc.message)
            return redirect(back)
        if report is None:
            messages.info(request, _(
                "The error report is being prepared; download it again in a minute."))
            return redirect(back)
        return download(*report)
