"""Notification writers. Other apps call ``notify`` inside their own transaction; the
message exists exactly when the change that caused it does. With ``email=True`` it is
also mailed, by the worker after that transaction commits, when an SMTP host is
configured (``JIFEN_SMTP_HOST``) and the recipient has an address."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from jifen.notifications.mail import email_notification
from jifen.notifications.models import Notification
from jifen.notifications.tasks import send_notification_email

# Mailing runs in the worker (tasks → mail); importable from here as before.
__all__ = ["email_notification", "mark_read", "notify", "notify_many"]


def notify(
    *,
    recipient: Any,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    dedupe_key: str = "",
    email: bool = False,
) -> Notification | None:
    """Send one in-app notification to ``recipient`` (a user), and with ``email`` by mail
    too (see the module doc). With ``dedupe_key`` the same notification is sent at most
    once; a repeat returns None."""
    if recipient is None:
        return None
    if dedupe_key and Notification.objects.filter(
        recipient=recipient, dedupe_key=dedupe_key
    ).exists():
        return None
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient, kind=kind, title=title[:200], body=body, url=url[:300],
                dedupe_key=dedupe_key[:200],
            )
    except IntegrityError:
        if dedupe_key:
            return None
        raise
    address = getattr(recipient, "email", "")
    if email and settings.JIFEN_MAIL_ENABLED and address:
        transaction.on_commit(lambda: send_notification_email.enqueue(notification.pk))
    return notification


def notify_many(*, recipients: Iterable[Any], **message: Any) -> int:
    return sum(1 for r in recipients if notify(recipient=r, **message) is not None)


@transaction.atomic
def mark_read(*, recipient: Any, ids: Iterable[int] | None = None) -> int:
    """Mark some (or all, when ``ids`` is None) of the recipient's notifications read."""
    unread = Notification.objects.filter(recipient=recipient, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())
