"""``POST /api/v1/system/tasks/{task_id}/retry``: the system status page's "retry" button
(super admins, or an API key with ``admin``), through the same service."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from jifen.core.apiauth import principal
from jifen.core.observability import services
from jifen.core.roles import Cap

router = Router(tags=["system"])


class RetryOut(Schema):
    task_id: str
    retried_as: str


@router.post("/system/tasks/{task_id}/retry", response=RetryOut)
def retry_task(request: HttpRequest, task_id: str) -> dict:
    """Enqueue a failed background task again with its arguments (audited as `task.retry`).
    The failed run is replaced, so a second call is 404 `not_found`."""
    caller = principal(request)
    caller.require_scope_or_capability("admin", Cap.MANAGE_SETTINGS,
                                       message=_("Retrying tasks is for super admins."))
    new_id = services.retry_task(task_id=task_id[:64], actor=caller.actor)
    return {"task_id": task_id, "retried_as": new_id}
