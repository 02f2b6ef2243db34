"""Notification writers. Other apps call ``notify`` inside their own transaction; the
message exists exactly when the change that caused it does. A kind whose channels include
e-mail (or a call with ``email=True``) is also mailed, by the worker after that transaction
commits, when an SMTP host is configured (``JIFEN_SMTP_HOST``) and the recipient has an
address."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from jifen.core.roles import user_can
from jifen.notifications.kinds import EMAIL, NotificationKind, get_kind
from jifen.notifications.mail import email_notification
from jifen.notifications.models import Notification
from jifen.notifications.tasks import send_notification_email

# Mailing runs in the worker (tasks → mail); importable from here as before.
__all__ = ["email_notification", "mark_read", "notify", "notify_many"]


def notify(
    *,
    recipient: Any,
    kind: NotificationKind | str,
    title: str,
    body: str = "",
    url: str = "",
    dedupe_key: str = "",
    email: bool | None = None,
) -> Notification | None:
    """Send one in-app notification of a registered ``kind`` to ``recipient`` (a user), and
    by mail too when ``email`` — by default when the kind's channels include e-mail (see
    the module doc). With ``dedupe_key`` the same notification is sent at most once; a
    repeat returns None. A recipient outside the kind's audience is a programming error."""
    kind = get_kind(kind)
    if recipient is None:
        return None
    if kind.audience is not None and not user_can(recipient, kind.audience):
        raise ValueError(f"{kind.name} goes only to holders of {kind.audience}")
    if email is None:
        email = EMAIL in kind.channels
    if dedupe_key and Notification.objects.filter(
        recipient=recipient, dedupe_key=dedupe_key
    ).exists():
        return None
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient, kind=kind.name, title=title[:200], body=body, url=url[:300],
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
