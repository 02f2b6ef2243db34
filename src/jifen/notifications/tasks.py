"""Background work of notifications, for `jifen worker`."""

from __future__ import annotations

from django_tasks import task


@task()
def send_notification_email(notification_id: int) -> bool:
    """Mail a notification that asked for it (after the change that caused it committed)."""
    from jifen.notifications.services import email_notification

    return email_notification(notification_id=notification_id)
