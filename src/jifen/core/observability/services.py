"""The writes of operations: worker heartbeats and retrying a failed task."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta

from django.db import close_old_connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks_db.models import DBTaskResult

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.models import WorkerHeartbeat
from jifen.core.observability import selectors
from jifen.core.services import record_audit

logger = logging.getLogger(__name__)


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@transaction.atomic
def beat(*, worker_id: str, started_at: datetime, now: datetime | None = None) -> None:
    """Say this worker is alive now: one row per worker, its ``last_seen`` moved on."""
    now = now or timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id[:120],
        defaults={"host": socket.gethostname()[:255], "pid": os.getpid(),
                  "started_at": started_at, "last_seen": now})


@transaction.atomic
def forget_worker(*, worker_id: str) -> None:
    """A worker stopping cleanly takes its row away (one killed leaves it to go stale)."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


@transaction.atomic
def forget_old_workers(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return WorkerHeartbeat.objects.filter(last_seen__lt=now - timedelta(days=7)).delete()[0]


def beat_forever(stop: threading.Event, *, worker_id: str,
                 interval: float = selectors.HEARTBEAT_SECONDS) -> None:
    """A worker's heartbeat thread: beat every ``interval`` seconds until ``stop`` is set,
    then take the row away. A failed beat is logged and tried again at the next one."""
    started_at = timezone.now()
    first = True
    while not stop.is_set():
        try:
            close_old_connections()
            beat(worker_id=worker_id, started_at=started_at)
            if first:
                forget_old_workers()
                first = False
        except Exception:  # the worker must outlive a database hiccup
            logger.exception("worker heartbeat failed")
        stop.wait(interval)
    try:
        forget_worker(worker_id=worker_id)
    except Exception:  # stopping anyway
        logger.exception("worker heartbeat: could not remove the row")
    finally:
        close_old_connections()


@transaction.atomic
def retry_task(*, task_id: str, actor: Actor) -> str:
    """Enqueue a failed task again with its arguments, queue and priority; the failed run
    is replaced by the new one (so it cannot be retried twice) and the audit log keeps
    what failed. Returns the new task's id. 404 when there is no such failed task."""
    failed = (DBTaskResult.objects.select_for_update().failed().filter(pk=task_id).first()
              if _is_uuid(task_id) else None)
    if failed is None:
        raise errors.NotFound(_("No failed task with this id."), code=errors.ErrorCode.NOT_FOUND)
    try:
        task = failed.task.using(run_after=None)
    except Exception as exc:  # the task's code is gone or renamed
        raise errors.Conflict(_("This task can no longer be run."),
                              code=errors.ErrorCode.TASK_NOT_RETRYABLE,
                              details={"task": failed.task_path}) from exc
    args_kwargs = failed.args_kwargs or {}
    result = task.enqueue(*args_kwargs.get("args", []), **args_kwargs.get("kwargs", {}))
    record_audit(actor=actor, action="task.retry", object_type="django_tasks_db.dbtaskresult",
                 object_id=str(failed.pk), object_repr=failed.task_path[:200],
                 before={"status": failed.status, "exception": failed.exception_class_path},
                 after={"retried_as": str(result.id)})
    failed.delete()
    return str(result.id)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
