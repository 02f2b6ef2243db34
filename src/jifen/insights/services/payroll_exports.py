"""A payroll month's xlsx built by ``jifen worker``: the period page asks for it
(``start_export``), shows the job's progress, and offers the file once it is ready. At
tens of thousands of employees the file takes tens of seconds, too long for a request.

A closed month's file is the same bytes as ever (``payroll.export_xlsx``); an open month's
is the live figures at the moment the worker reads them."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from jifen.core.actors import Actor
from jifen.insights.models import PayrollExport, PayrollExportStatus
from jifen.insights.services import payroll

log = logging.getLogger(__name__)
# A job queued or building for longer than this is taken as lost (the worker stopped):
# asking again starts a new one instead of waiting on it.
STALE_AFTER = timedelta(minutes=15)
KEEP_FILES = timedelta(days=7)


def latest_export(month: date) -> PayrollExport | None:
    return PayrollExport.objects.filter(month=month).order_by("-created_at", "-id").first()


def export_by_id(month: date, pk: int) -> PayrollExport | None:
    return PayrollExport.objects.filter(pk=pk, month=month).first()


def start_export(*, month: date, actor: Actor, now: Any = None) -> PayrollExport:
    """Queue the month's export for the worker, or return the one already under way."""
    now = now or timezone.now()
    running = (PayrollExport.objects
               .filter(month=month, created_at__gte=now - STALE_AFTER,
                       status__in=(PayrollExportStatus.QUEUED, PayrollExportStatus.RUNNING))
               .order_by("-created_at").first())
    if running is not None:
        return running
    purge_old_exports(now=now)
    user: Any = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        job = PayrollExport.objects.create(month=month, requested_by=user)
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from jifen.insights.tasks import payroll_export_task  # tasks import the services

    payroll_export_task.enqueue(job_id)


def run_export(*, job_id: int) -> PayrollExport:
    """Build the file (the worker's side), reporting the lines read as it goes."""
    job = PayrollExport.objects.get(pk=job_id)
    if job.finished:
        return job
    total = payroll.count_lines(job.month)
    PayrollExport.objects.filter(pk=job.pk).update(status=PayrollExportStatus.RUNNING,
                                                   total=total, done=0)

    def progress(done: int) -> None:
        PayrollExport.objects.filter(pk=job.pk).update(done=done)

    try:
        content = payroll.export_xlsx(month=job.month, on_progress=progress)
    except Exception as exc:  # reported on the page; the worker carries on
        log.exception("payroll export %s failed", job.pk)
        PayrollExport.objects.filter(pk=job.pk).update(
            status=PayrollExportStatus.FAILED, failure_reason=str(exc)[:300],
            finished_at=timezone.now())
        job.refresh_from_db()
        return job
    job.refresh_from_db()
    job.file.save(f"payroll-{job.month:%Y-%m}.xlsx", ContentFile(content), save=False)
    job.status, job.done, job.finished_at = PayrollExportStatus.DONE, total, timezone.now()
    job.save(update_fields=["file", "status", "done", "finished_at"])
    return job


def purge_old_exports(*, now: Any = None) -> int:
    """Files older than ``KEEP_FILES`` are deleted with their jobs (when a new one is
    asked for)."""
    old = PayrollExport.objects.filter(created_at__lt=(now or timezone.now()) - KEEP_FILES)
    count = 0
    for job in old:
        if job.file:
            job.file.delete(save=False)
        job.delete()
        count += 1
    return count
