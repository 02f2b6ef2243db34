"""One JSON log line per task run (``jifen.tasks``) and its count for ``/metrics``, from
django-tasks' ``task_started``/``task_finished`` signals; while the task runs its id is
the request id of every line it logs."""

from __future__ import annotations

import logging
from contextvars import Token
from typing import Any

from django.dispatch import receiver
from django_tasks.signals import task_finished, task_started

from jifen.core.observability import context, metrics

logger = logging.getLogger("jifen.tasks")

_tokens: dict[str, Token[str]] = {}


@receiver(task_started, dispatch_uid="jifen.observability.task_started")
def on_task_started(sender: Any, task_result: Any, **kwargs: Any) -> None:
    _tokens[str(task_result.id)] = context.request_id.set(f"task-{task_result.id}")


@receiver(task_finished, dispatch_uid="jifen.observability.task_finished")
def on_task_finished(sender: Any, task_result: Any, **kwargs: Any) -> None:
    name = task_result.task.module_path
    outcome = str(task_result.status).lower()
    started, finished = task_result.started_at, task_result.finished_at
    seconds = (finished - started).total_seconds() if started and finished else None
    metrics.observe_task(task=name, outcome=outcome, seconds=seconds)
    level = logging.WARNING if outcome == "failed" else logging.INFO
    logger.log(level, "task %s %s", name, outcome, extra={
        "task": name, "task_id": str(task_result.id), "outcome": outcome,
        "duration_ms": round(seconds * 1000, 1) if seconds is not None else None,
    })
    token = _tokens.pop(str(task_result.id), None)
    if token is not None:
        try:
            context.request_id.reset(token)
        except ValueError:  # set in another context (the immediate backend's thread)
            context.request_id.set("")
