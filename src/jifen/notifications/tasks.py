"""Background work of notifications, for `jifen worker`."""

from __future__ import annotations

from django_tasks import task

from jifen.notifications.mail import email_notification


@task()
def send_notification_email(notification_id: int) -> bool:
    """Mail a notification that asked for it (after the change that caused it committed)."""
    return email_notification(notification_id=notification_id)
