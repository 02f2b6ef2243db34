"""The life of an import job: stored and enqueued by a request, read and checked, committed
and cancelled in ``jifen worker`` (django-tasks), its files purged after the retention
period. A request only changes the job's state and enqueues; the work is in the tasks.

The tasks are reached by the queue through their dotted path: a task enqueued before the
module was split names ``jifen.core.imports.<task>``, which the package re-exports."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from datetime import datetime, timedelta
from itertools import chain, islice
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tasks import task

from jifen.core import errors
from jifen.core.actors import NamedActor, actor_label
from jifen.core.imports.importer import (
    HEADER_SCAN_ROWS,
    PROGRESS_EVERY,
    Importer,
    apply_results,
    auto_mapping,
    detect_header,
    get_importer,
    validate_rows,
)
from jifen.core.imports.readers import (
    MAX_UPLOAD_BYTES,
    Row,
    cell_text,
    check_container,
    data_rows,
    last_filled,
    too_large,
)
from jifen.core.imports.reports import REPORT_FORMATS, delete_files, report_name, write_reports
from jifen.core.models import ImportJob

logger = logging.getLogger(__name__)

# A job reading or committing whose progress has not moved for this long may have lost its
# worker (stopped, or killed mid-task: the task is not run again): the page says so.
# Honest only as a hint — a one-transaction commit shows no progress while it writes.
STALLED_AFTER = timedelta(minutes=10)


class _Stopped(Exception):
    """The job left the state its task works in (cancelled meanwhile): stop quietly."""


def _actor_id(actor: Any) -> int | None:
    return actor.pk if getattr(actor, "pk", None) else None


def _named(actor: Any) -> str:
    """The name kept for an actor that is not a user (an API key), else ''."""
    return actor_label(actor) if actor is not None and not _actor_id(actor) else ""


def _acting(user: Any, label: str) -> Any:
    """Whom the worker acts for: the user, the named non-user actor, or None (the
    system)."""
    if user is not None:
        return user
    return NamedActor(label) if label else None


@transaction.atomic
def create_import_job(*, importer: Importer, upload: Any, actor: Any) -> ImportJob:
    """Keep an uploaded sheet and enqueue its reading and checking for ``jifen worker``
    (``run_import_check``). No row is read here: only what ``check_container`` judges from
    the file's name and zip directory. Returns the job, ``reading``. Raises ValidationError
    for a file that is too big or not a spreadsheet we read."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise too_large(_("The file is larger than 20 MB."))
    check_container(upload, upload.name)
    job = ImportJob(
        kind=importer.kind, original_name=PurePath(upload.name).name[:255],
        status=ImportJob.Status.READING, created_by=actor if _actor_id(actor) else None,
        checked_for_label=_named(actor),
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
                              code=errors.ErrorCode.IMPORT_NOT_PREVIEWED)
    importer = get_importer(job.kind)
    job.mapping = {f.name: mapping.get(f.name) for f in importer.fields}
    job.status = ImportJob.Status.READING
    job.processed_rows = 0
    job.checked_for_label = _named(actor)
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
    actor = _acting(get_user_model().objects.filter(pk=actor_id).first() if actor_id else None,
                    job.checked_for_label)
    first_read = not job.headers
    try:
        source = data_rows(job, on_estimate=lambda n: _set_estimate(job.pk, n),
                            below=0 if first_read else None)
        rows: Iterator[Row] = source
        try:
            if first_read:
                head = list(islice(rows, HEADER_SCAN_ROWS))
                if not head:
                    raise errors.ValidationError(_("The file is empty."),
                                                 code=errors.ErrorCode.EMPTY_FILE)
                index = detect_header(head, importer)
                job.header_row, header_cells = head[index]
                job.headers = [cell_text(c) for c in header_cells]
                job.mapping = auto_mapping(job.headers, importer)
                rows = chain(head[index + 1:], rows)
            width = last_filled(job.headers)

            def measured(stream: Iterable[Row]) -> Iterator[Row]:
                nonlocal width
                for row in stream:
                    width = max(width, last_filled(row[1]))
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
                    _("The file has a header row but no data below it."),
                    code=errors.ErrorCode.EMPTY_FILE)
            # As many columns as the last one holding anything (formatting alone adds
            # empty cells).
            job.headers = (job.headers + [""] * width)[:width]
        apply_results(job, importer, results, total)
        old_reports, job.reports = job.reports, write_reports(job, importer)
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
            delete_files(job.file.storage, job.reports.values())
            return current
        job.status = ImportJob.Status.PREVIEWED
        job.processed_rows = 0
        job.save()
    delete_files(job.file.storage, set(old_reports.values()) - set(job.reports.values()))
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
        raise errors.ValidationError(_("Unknown import mode."), code=errors.ErrorCode.INVALID_MODE)
    if job.status == ImportJob.Status.READING:
        raise errors.Conflict(_("The file is still being read; wait for the preview."),
                              code=errors.ErrorCode.IMPORT_NOT_PREVIEWED)
    if problems := importer.mapping_problems(job.mapping, len(job.headers)):
        raise errors.ValidationError(problems[0], code=errors.ErrorCode.INCOMPLETE_MAPPING)
    if mode == ImportJob.Mode.ALL and job.error_count:
        raise errors.Conflict(
            ngettext(
                "%(count)d row has an error: fix it, or import only the valid rows.",
                "%(count)d rows have errors: fix them, or import only the valid rows.",
                job.error_count,
            ) % {"count": job.error_count},
            code=errors.ErrorCode.IMPORT_HAS_ERRORS,
        )
    if not job.valid_rows:
        raise errors.Conflict(_("There are no valid rows to import."),
                              code=errors.ErrorCode.NOTHING_TO_IMPORT)
    now = timezone.now()
    with transaction.atomic():
        started = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEWED).update(
            status=ImportJob.Status.COMMITTING, mode=mode, started_at=now, updated_at=now,
            committed_by=actor if _actor_id(actor) else None, processed_rows=0,
            committed_by_label=_named(actor),
        )
        if not started:
            raise errors.Conflict(_("This import has already been started or cancelled."),
                                  code=errors.ErrorCode.IMPORT_NOT_PREVIEWED)
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
    reports = write_reports(job, importer)
    ImportJob.objects.filter(pk=job.pk).update(reports=reports)
    job.reports = reports
    delete_files(job.file.storage, set(old_reports.values()) - set(reports.values()))
    return job


def _commit(job: ImportJob, importer: Importer) -> ImportJob:
    actor = _acting(job.committed_by, job.committed_by_label)
    try:
        rows = data_rows(job)
        try:
            results = validate_rows(
                importer, rows, job.mapping, actor=actor,
                on_progress=lambda n: _set_progress(job.pk, n, ImportJob.Status.COMMITTING))
        finally:
            rows.close()
        apply_results(job, importer, results, len(results))
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
                items, actor=actor, job=job,
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
        delete_files(storage, [name, *reports])
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
                              code=errors.ErrorCode.IMPORT_NOT_PREVIEWED)
    job.status = ImportJob.Status.CANCELLED
    job.finished_at = timezone.now()
    names, storage = [job.file.name, *job.reports.values()], job.file.storage
    job.reports = {}
    job.save()
    transaction.on_commit(lambda: delete_files(storage, names))
    return job


# --- reads ------------------------------------------------------------------------------


def import_job_by_id(pk: int) -> ImportJob | None:
    return ImportJob.objects.filter(pk=pk).first()


def recent_import_jobs(kind: str, limit: int = 10) -> list[ImportJob]:
    return list(ImportJob.objects.filter(kind=kind).select_related("created_by")[:limit])


def error_report(job: ImportJob, fmt: str) -> tuple[bytes, str, str] | None:
    """The error report the worker wrote, as (content, content type, file name) — or None
    when it is not there (a job from before the worker wrote reports, a storage error, a
    lost file): then the worker is asked to write it (``rebuild_reports_task``; a commit
    under way writes it when it ends) and the caller says it is being prepared. The sheet
    is never read here: a download is a request, and a sheet may hold 300,000 rows.
    Raises NotFound when the report cannot be made (no errors, the upload is gone)."""
    if not job.error_rows:
        raise errors.NotFound(_("This import has no rows with errors."),
                              code=errors.ErrorCode.NO_ERROR_REPORT)
    stored = (job.reports or {}).get(fmt)
    if stored:
        try:
            with job.file.storage.open(stored, "rb") as handle:
                return handle.read(), REPORT_FORMATS[fmt], report_name(job, fmt)
        except OSError:
            logger.warning("error report %s of import job %s is missing", stored, job.pk)
    if not _upload_stored(job):
        raise errors.NotFound(
            _("The uploaded file is no longer stored, so the error report with its rows "
              "cannot be made; the errors are listed on this page."),
            code=errors.ErrorCode.IMPORT_FILE_GONE)
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
    reports = write_reports(job, get_importer(job.kind))
    if not reports:
        return job
    storage = job.file.storage
    with transaction.atomic():
        current = ImportJob.objects.select_for_update().get(pk=job.pk)
        if (current.status != job.status or current.reports != job.reports
                or current.file.name != job.file.name):  # changed meanwhile: theirs stands
            transaction.on_commit(lambda: delete_files(storage, reports.values()))
            return current
        # Not ``save``: looking at a report is no reason to keep the upload longer.
        ImportJob.objects.filter(pk=job.pk).update(reports=reports)
    delete_files(storage, set((job.reports or {}).values()) - set(reports.values()))
    job.reports = reports
    return job

