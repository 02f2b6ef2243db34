"""Reads of the system's state: workers, the queue, periodic jobs, migrations, the
database — for ``/metrics``, the readiness check, ``jifen status`` and the status page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Count, Max, Min
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

import jifen
from jifen.core import periodic
from jifen.core.db import database_reachable
from jifen.core.models import PeriodicRun, WorkerHeartbeat
from jifen.core.observability import sql

T = TypeVar("T")
# A worker beats every HEARTBEAT_SECONDS; one silent for STALE_AFTER is stopped.
HEARTBEAT_SECONDS = 15
STALE_AFTER = timedelta(seconds=60)


def workers(now: datetime | None = None) -> list[dict[str, Any]]:
    """Every worker heard from in the last week, with ``alive`` (heard within a minute)."""
    now = now or timezone.now()
    rows = WorkerHeartbeat.objects.filter(last_seen__gte=now - timedelta(days=7))
    return [{"worker_id": w.worker_id, "host": w.host, "pid": w.pid,
             "started_at": w.started_at, "last_seen": w.last_seen,
             "alive": now - w.last_seen <= STALE_AFTER} for w in rows]


def queue_depth(now: datetime | None = None) -> dict[str, int]:
    """Tasks ready to run now, by task path."""
    rows = (DBTaskResult.objects.ready().values("task_path")
            .annotate(n=Count("id")).order_by("task_path"))
    return {row["task_path"]: row["n"] for row in rows}


def oldest_ready_age(now: datetime | None = None) -> float:
    """Seconds the oldest ready task has waited; 0 when none waits."""
    now = now or timezone.now()
    oldest = DBTaskResult.objects.ready().aggregate(t=Min("enqueued_at"))["t"]
    return max((now - oldest).total_seconds(), 0.0) if oldest else 0.0


def task_results() -> dict[tuple[str, str], int]:
    rows = DBTaskResult.objects.values("task_path", "status").annotate(n=Count("id"))
    return {(row["task_path"], row["status"]): row["n"] for row in rows}


def failed_tasks(limit: int = 50) -> list[DBTaskResult]:
    """The latest failed runs, newest first (what the status page offers to retry)."""
    return list(DBTaskResult.objects.failed()
                .defer("return_value", "args_kwargs").order_by("-finished_at")[:limit])


def failed_task(task_id: str) -> DBTaskResult | None:
    return DBTaskResult.objects.failed().filter(pk=task_id).first()


def periodic_jobs() -> list[dict[str, Any]]:
    """Each periodic job with when it was last started and last finished well or badly."""
    paths = [job.task for job in periodic.JOBS]
    finished = (DBTaskResult.objects.filter(task_path__in=paths)
                .values("task_path", "status").annotate(at=Max("finished_at")))
    last: dict[tuple[str, str], datetime | None] = {
        (row["task_path"], row["status"]): row["at"] for row in finished}
    started = dict(PeriodicRun.objects.values_list("job").annotate(at=Max("enqueued_at")))
    return [{"name": job.name, "task": job.task,
             "every_minutes": job.every_minutes, "at_hour": job.at_hour,
             "last_started": started.get(job.name),
             "last_success": last.get((job.task, TaskResultStatus.SUCCESSFUL)),
             "last_failure": last.get((job.task, TaskResultStatus.FAILED))}
            for job in periodic.JOBS]


_migrations_complete = False


def migration_plan() -> list[tuple[str, str]]:
    """(app, migration) not yet applied to the database."""
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    return [(m.app_label, m.name) for m, _backwards in executor.migration_plan(targets)]


def pending_migrations() -> list[tuple[str, str]]:
    """``migration_plan``, remembered once empty: the files cannot change under a running
    process and applied migrations stay applied, so a ready server asks only once."""
    global _migrations_complete
    if _migrations_complete:
        return []
    pending = migration_plan()
    _migrations_complete = not pending
    return pending


def _readable(read: Callable[[], T], empty: Any) -> T:
    """What ``read`` finds, or ``empty`` when its table is not there yet (a database whose
    migrations are pending): the status must say so, not fail."""
    try:
        with transaction.atomic():  # a savepoint inside a request's transaction
            return read()
    except DatabaseError:
        return empty


def readiness(now: datetime | None = None) -> dict[str, Any]:
    """``{status, database, migrations, worker}``: status ``ready`` when the database
    answers, every migration is applied and a worker was heard from within a minute;
    ``not_ready`` otherwise."""
    if not database_reachable():
        return {"status": "not_ready", "database": "unavailable", "migrations": "unknown",
                "worker": "unknown"}
    pending = pending_migrations()
    live = [w for w in _readable(lambda: workers(now), []) if w["alive"]]
    result = {"database": "ok",
              "migrations": "ok" if not pending else f"{len(pending)} pending",
              "worker": "ok" if live else "stopped"}
    result["status"] = "ready" if not pending and live else "not_ready"
    return result


def metrics_snapshot(now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    return {"queue": queue_depth(now), "oldest_age": oldest_ready_age(now),
            "results": task_results(), "workers": workers(now),
            "jobs": {job["name"]: job["last_success"] for job in periodic_jobs()},
            "connections": sql.connections()}


def system_status(now: datetime | None = None) -> dict[str, Any]:
    """Everything the status page and ``jifen status`` show."""
    now = now or timezone.now()
    pending = pending_migrations()
    return {
        "now": now,
        "readiness": readiness(now),
        "version": jifen.__version__,
        "workers": _readable(lambda: workers(now), []),
        "queue": _readable(lambda: queue_depth(now), {}),
        "oldest_age": _readable(lambda: oldest_ready_age(now), 0.0),
        "failed": _readable(failed_tasks, []),
        "jobs": _readable(periodic_jobs, []),
        "database": {"vendor": connections[DEFAULT_DB_ALIAS].vendor,
                     "size": sql.database_size(), "largest": sql.largest_tables()},
        "pending_migrations": pending,
        "applied_migrations": _readable(_applied_count, 0),
    }


def _applied_count() -> int:
    return MigrationRecorder(connections[DEFAULT_DB_ALIAS]).migration_qs.count()
