"""Background work of the IM channels, for `jifen worker`."""

from __future__ import annotations

from django_tasks import task

from jifen.integrations.im import services


@task()
def send_im_message_task(message_id: int) -> str:
    """Send one queued robot message when its rate-limit slot has come (enqueued with
    ``run_after``; it re-enqueues itself while it waits)."""
    return services.send_robot_message(message_id)


@task()
def resend_overdue_im_task() -> int:
    """Catch-up for lost send tasks (to run every few minutes as a periodic job)."""
    return services.resend_overdue()
