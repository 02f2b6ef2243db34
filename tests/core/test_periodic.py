"""The worker starts each daily job once a day, however many workers look at the clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from jifen.core import periodic
from jifen.core.models import PeriodicRun
from jifen.ledger import services as ledger
from jifen.ledger.models import Lot
from jifen.ledger.selectors import balance
from tests.ledger.test_concurrency import run_threads

TASK = "jifen.ledger.tasks.expire_points"


def local(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text))


def enqueued() -> int:
    return DBTaskResult.objects.filter(task_path=TASK).count()


def daily(started: list[str]) -> list[str]:
    return [name for name in started if name not in FREQUENT]


FREQUENT = {job.name for job in periodic.JOBS if job.every_minutes}


@pytest.mark.django_db
def test_the_daily_tick_starts_once_a_day_from_its_hour():
    assert daily(periodic.enqueue_due(local("2026-11-24T00:30"))) == []  # before 01:00
    assert daily(periodic.enqueue_due(local("2026-11-24T01:00"))) == [
        "ledger.expiry", "activities.lottery_draws"]
    assert daily(periodic.enqueue_due(local("2026-11-24T08:59"))) == [
        "core.purge_import_files", "insights.recommendations"]
    reminders = ["earning.approval_reminder", "mall.order_reminder"]
    assert daily(periodic.enqueue_due(local("2026-11-24T23:59"))) == reminders  # from 09:00
    assert daily(periodic.enqueue_due(local("2026-11-25T09:00"))) == [
        "ledger.expiry", "core.purge_import_files", "insights.recommendations", *reminders,
        "activities.lottery_draws"]
    assert enqueued() == 2  # the expiry sweep, once a day
    assert list(PeriodicRun.objects.filter(job="ledger.expiry").order_by("period")
                .values_list("period", flat=True)) == ["2026-11-24", "2026-11-25"]


@pytest.mark.django_db
def test_the_rollup_fold_runs_once_a_minute_and_old_slots_are_forgotten():
    assert {"insights.fold", "integrations.im_resend", "integrations.webhooks",
            "integrations.suppliers", "notifications.digests"} == FREQUENT
    assert "insights.fold" in periodic.enqueue_due(local("2026-11-24T10:00:05"))
    assert "insights.fold" not in periodic.enqueue_due(local("2026-11-24T10:00:50"))
    assert "insights.fold" in periodic.enqueue_due(local("2026-11-24T10:01:00"))
    assert periodic.enqueue_due(local("2026-11-25T10:02:00"))  # a day later
    assert list(PeriodicRun.objects.filter(job="insights.fold").order_by("period")
                .values_list("period", flat=True)) == ["2026-11-25 10:02"]


@pytest.mark.django_db(transaction=True)  # the worker closes its connection when done
def test_a_batch_worker_runs_the_due_expiry_sweep(monkeypatch):
    from tests.factories import EmployeeFactory

    ledger.ensure_company_accounts()  # a flush between transactional tests removed them
    employee = EmployeeFactory()
    # Due from midnight, so the test does not depend on the hour it runs at.
    monkeypatch.setattr(periodic, "JOBS", (periodic.PeriodicJob("ledger.expiry", TASK),))
    ledger.credit(employee=employee, amount=40, category="performance",
                  idempotency_key="old-points", cause=("test", 1),
                  expires_at=timezone.now() - timedelta(days=1))
    ledger.credit(employee=employee, amount=7, category="performance",
                  idempotency_key="new-points", cause=("test", 2))
    assert Lot.objects.filter(wallet__employee=employee, remaining__gt=0).count() == 2

    call_command("worker", batch=True, interval=0.01, verbosity=0)

    assert DBTaskResult.objects.get(task_path=TASK).status == "SUCCESSFUL"
    assert list(Lot.objects.filter(wallet__employee=employee, remaining__gt=0)
                .values_list("amount", flat=True)) == [7]  # the 40 expired points are gone
    assert balance(employee=employee).spendable == 7


@pytest.mark.concurrency
@pytest.mark.skipif(connection.vendor == "sqlite",
                    reason="needs PostgreSQL or MariaDB (JIFEN_DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_eight_workers_looking_at_once_start_the_job_once():
    moment = local("2026-11-24T02:00")
    results, failures = run_threads(8, lambda _i: periodic.enqueue_due(moment))
    assert not failures
    started = [name for names in results for name in names]
    assert sorted(started) == ["activities.lottery_draws", "core.purge_import_files",
                               "insights.fold", "integrations.im_resend",
                               "integrations.suppliers", "integrations.webhooks",
                               "ledger.expiry", "notifications.digests"]
    assert enqueued() == 1
