"""Periodic jobs, started by `jifen worker`: each due job is enqueued once per period as a
background task, however many workers run. A worker looks at the clock every minute; the
first to insert the (job, period) row enqueues the task in the same transaction, the others
hit the unique key and move on. A day when no worker ran is not made up for: the daily
jobs catch up by themselves (the expiry sweep expires every lot past its date).

No scheduler library: with a queue already in the database, all a schedule needs is a
clock and a unique key (docs/decisions/0008-periodic-jobs-in-the-worker.md).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from jifen.core.models import PeriodicRun

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: str  # dotted path of a django-tasks task taking no arguments
    at_hour: int = 0  # local hour from which the day's run is due
    # Run every N minutes instead of daily (N divides 60 or a day); at_hour is then unused.
    every_minutes: int | None = None


JOBS = (
    # Expiry sweep and 30-day expiry notices (the giving allowance needs no reset: it is
    # counted per calendar month).
    PeriodicJob("ledger.expiry", "jifen.ledger.tasks.expire_points", at_hour=1),
    # Uploaded spreadsheets are kept JIFEN_IMPORT_RETENTION_DAYS (30) days.
    PeriodicJob("core.purge_import_files", "jifen.core.imports.jobs.purge_import_files_task",
                at_hour=2),
    # Recommendations rebuilt from the day's redemptions, favourites and views.
    PeriodicJob("insights.recommendations",
                "jifen.insights.tasks.build_recommendations_task", at_hour=3),
    # Morning reminders of what waits, with its age: awards for approvers, orders for the
    # order desk (each deduplicated per person and day).
    PeriodicJob("earning.approval_reminder", "jifen.earning.tasks.remind_approvers_task",
                at_hour=9),
    PeriodicJob("mall.order_reminder", "jifen.mall.tasks.remind_order_desk_task", at_hour=9),
    # Lotteries are drawn by a task enqueued for their draw time and lazily when read; this
    # daily sweep catches any whose task was lost.
    PeriodicJob("activities.lottery_draws", "jifen.activities.tasks.draw_due_lotteries_task",
                at_hour=1),
    # What points did in the last minute, folded into the rankings and dashboards.
    PeriodicJob("insights.fold", "jifen.insights.tasks.fold_rollups_task", every_minutes=1),
    # IM group messages whose send task was lost with a worker.
    PeriodicJob("integrations.im_resend", "jifen.integrations.im.tasks.resend_overdue_im_task",
                every_minutes=5),
    # Webhook deliveries that are due (retries, and whatever a lost task left behind).
    PeriodicJob("integrations.webhooks", "jifen.integrations.webhooks.tasks.sweep_webhooks_task",
                every_minutes=1),
    # Supplier calls that are due (retries of approved supplier-item orders).
    PeriodicJob("integrations.suppliers",
                "jifen.integrations.suppliers.tasks.sweep_suppliers_task", every_minutes=1),
    # Notification digests: each person's daily (08:00 unless they chose another hour) or
    # weekly (Monday unless …) digest goes out at the first hourly run from its time.
    PeriodicJob("notifications.digests", "jifen.notifications.tasks.send_digests_task",
                every_minutes=60),
)


def period_of(job: PeriodicJob, now: datetime) -> str | None:
    """The day the job is due for at ``now`` (site time), or None before its hour; for a
    job run every N minutes, the start of the current N-minute slot."""
    local = timezone.localtime(now)
    if job.every_minutes:
        minute_of_day = (local.hour * 60 + local.minute) // job.every_minutes * job.every_minutes
        return local.strftime("%Y-%m-%d ") + f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"
    return local.strftime("%Y-%m-%d") if local.hour >= job.at_hour else None


def forget_old_slots(now: datetime) -> int:
    """Frequent jobs leave a row per slot; a day's worth is all the guard needs."""
    frequent = [job.name for job in JOBS if job.every_minutes]
    if not frequent:
        return 0
    cutoff = timezone.localtime(now - timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    return PeriodicRun.objects.filter(job__in=frequent, period__lt=cutoff).delete()[0]


def enqueue_due(now: datetime | None = None) -> list[str]:
    """Enqueue every job due now and not yet started for its period; returns their names."""
    now = now or timezone.now()
    started = []
    for job in JOBS:
        period = period_of(job, now)
        if period is None or PeriodicRun.objects.filter(job=job.name, period=period).exists():
            continue  # not yet due, or started already (the insert below guards a race)
        try:
            with transaction.atomic():
                PeriodicRun.objects.create(job=job.name, period=period)
                import_string(job.task).enqueue()
        except IntegrityError:
            continue  # another worker started it for this period
        logger.info("periodic job %s enqueued for %s", job.name, period)
        started.append(job.name)
    if started:
        forget_old_slots(now)
    return started


def run_forever(stop: threading.Event, interval: float = 60.0) -> None:
    """Check the clock every ``interval`` seconds until ``stop`` is set (a worker's
    background thread). A failed check is logged and tried again at the next one."""
    while not stop.is_set():
        try:
            close_old_connections()
            enqueue_due()
        except Exception:  # the worker must outlive a database hiccup
            logger.exception("periodic jobs: check failed")
        stop.wait(interval)
