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

The package: ``readers`` (files → rows, cell values, limits), ``importer`` (the declaration,
the registry, checking rows), ``reports`` (error reports, templates), ``jobs`` (the life of
a job and its background tasks), ``forms`` and ``views`` (``ImportPages``). Its public names
are re-exported here; the tasks too, so a task enqueued under its old dotted path
(``jifen.core.imports.check_import_task``) still runs.
"""

from jifen.core.imports.forms import MappingForm, UploadForm
from jifen.core.imports.importer import (
    HEADER_SCAN_ROWS,
    PREVIEW_KEEP,
    PREVIEW_ROWS,
    PROGRESS_EVERY,
    Importer,
    ImportField,
    RowResult,
    apply_results,
    auto_mapping,
    detect_header,
    get_importer,
    header_keys,
    mapped_fields,
    register,
    validate_rows,
)
from jifen.core.imports.jobs import (
    STALLED_AFTER,
    cancel_import_job,
    check_import_task,
    commit_import_task,
    create_import_job,
    error_report,
    purge_import_files,
    purge_import_files_task,
    rebuild_import_reports,
    rebuild_reports_task,
    recent_import_jobs,
    remap_import_job,
    run_import_check,
    run_import_commit,
    start_import_commit,
)
from jifen.core.imports.readers import (
    ALLOWED_SUFFIXES,
    CSV_SUFFIXES,
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_SHARED_STRINGS_BYTES,
    MAX_UNPACKED_BYTES,
    MAX_UPLOAD_BYTES,
    XLSX_SUFFIXES,
    Problem,
    Row,
    cell_date,
    cell_text,
    check_container,
    column_labels,
    data_rows,
    normalize_header,
    read_rows,
    sheet_kind,
    stream_rows,
)
from jifen.core.imports.reports import (
    REPORT_FORMATS,
    error_messages_by_row,
    template_file,
)
from jifen.core.imports.views import ERRORS_SHOWN, RESULT_LABELS, ImportPages

__all__ = [
    "ALLOWED_SUFFIXES", "CSV_SUFFIXES", "ERRORS_SHOWN", "HEADER_SCAN_ROWS", "MAX_CELLS",
    "MAX_COLUMNS", "MAX_ROWS", "MAX_SHARED_STRINGS_BYTES", "MAX_UNPACKED_BYTES",
    "MAX_UPLOAD_BYTES", "PREVIEW_KEEP", "PREVIEW_ROWS", "PROGRESS_EVERY", "REPORT_FORMATS",
    "RESULT_LABELS", "STALLED_AFTER", "XLSX_SUFFIXES", "ImportField", "ImportPages",
    "Importer", "MappingForm", "Problem", "Row", "RowResult", "UploadForm", "apply_results",
    "auto_mapping", "cancel_import_job", "cell_date", "cell_text", "check_container",
    "check_import_task", "column_labels", "commit_import_task", "create_import_job",
    "data_rows", "detect_header", "error_messages_by_row", "error_report", "get_importer",
    "header_keys", "mapped_fields", "normalize_header", "purge_import_files",
    "purge_import_files_task", "read_rows", "rebuild_import_reports", "rebuild_reports_task",
    "recent_import_jobs", "register", "remap_import_job", "run_import_check",
    "run_import_commit", "sheet_kind", "start_import_commit", "stream_rows",
    "template_file", "validate_rows",
]
