"""Background work of notifications, for `jifen worker`."""

from __future__ import annotations

from django_tasks import task

from jifen.notifications.im import im_notification
from jifen.notifications.mail import email_notification


@task()
def send_notification_email(notification_id: int) -> bool:
    """Mail a notification that asked for it (after the change that caused it committed)."""
    return email_notification(notification_id=notification_id)


@task()
def send_notification_im(notification_id: int) -> bool:
    """Send a notification as an IM direct message (after the change committed)."""
    return im_notification(notification_id=notification_id)


@task()
def send_digests_task() -> int:
    """The periodic digest run: every person's daily or weekly digest that is due."""
    # The services import this module (to enqueue the tasks above): imported when run.
    from jifen.notifications.services import send_digests

    return send_digests()
