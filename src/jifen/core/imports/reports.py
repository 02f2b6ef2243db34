"""The error reports of an import (the bad rows with their reasons, as xlsx and csv, written
by the worker beside the upload) and the blank templates handed out. Every sheet goes
through ``jifen.core.exports``, which neutralises formulas."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from pathlib import PurePath
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from jifen.core.exports import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, csv_bytes, xlsx_bytes
from jifen.core.imports.importer import Importer
from jifen.core.imports.readers import cell_text, data_rows
from jifen.core.models import ImportJob

logger = logging.getLogger(__name__)

REPORT_FORMATS = {"xlsx": XLSX_CONTENT_TYPE, "csv": CSV_CONTENT_TYPE}


def error_messages_by_row(job: ImportJob, importer: Importer) -> dict[int, str]:
    """Row number → its problems as one line ("E-mail: … ; Name: …")."""
    lines: dict[int, list[str]] = {}
    for error in job.error_rows:
        label = importer.field_label(error["field"]) if error["field"] else ""
        lines.setdefault(error["row"], []).append(
            f"{label}: {error['message']}" if label else error["message"]
        )
    return {row: "; ".join(parts) for row, parts in lines.items()}


def report_name(job: ImportJob, fmt: str) -> str:
    return f"{PurePath(job.original_name).stem}-errors.{fmt}"


def _build_reports(job: ImportJob, importer: Importer, formats: Iterable[str],
                   ) -> dict[str, bytes]:
    """The bad rows with their original columns plus the row number and the reason, in
    each of ``formats``, from one streamed reading of the stored file. Every cell goes
    through ``jifen.core.exports``, so what the upload held as a formula comes back as
    text. Fix the rows in it and upload it again: the extra columns are ignored."""
    messages = error_messages_by_row(job, importer)
    rows = data_rows(job)
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


def write_reports(job: ImportJob, importer: Importer) -> dict[str, str]:
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
        delete_files(storage, names.values())
        return {}
    return names



def delete_files(storage: Any, names: Iterable[str]) -> None:
    for name in names:
        if name:
            try:
                storage.delete(name)
            except OSError:
                logger.warning("could not delete %s", name)


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
