"""Notification writers. Other apps call ``notify`` inside their own transaction; the
message exists exactly when the change that caused it does. With ``email=True`` it is
also mailed, by the worker after that transaction commits, when an SMTP host is
configured (``JIFEN_SMTP_HOST``) and the recipient has an address."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from jifen.notifications.models import Notification


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
    if email and settings.JIFEN_MAIL_ENABLED and getattr(recipient, "email", ""):
        from jifen.notifications.tasks import send_notification_email

        transaction.on_commit(lambda: send_notification_email.enqueue(notification.pk))
    return notification


def email_notification(*, notification_id: int) -> bool:
    """Mail one notification to its recipient, once: a task run twice sends it once.
    Returns whether it was sent now. An SMTP failure raises (the task is marked failed
    and logged); the in-app notification is there either way."""
    with transaction.atomic():
        notification = (Notification.objects.select_for_update().select_related("recipient")
                        .filter(pk=notification_id, emailed_at__isnull=True).first())
        if notification is None or not notification.recipient.email:
            return False
        from jifen.core.selectors import site_settings

        link = notification.url
        if link.startswith("/"):
            link = settings.JIFEN_BASE_URL + link if settings.JIFEN_BASE_URL else ""
        text = "\n\n".join(part for part in (notification.body, link) if part)
        send_mail(subject=f"[{site_settings().platform_name}] {notification.title}",
                  message=text, from_email=None,
                  recipient_list=[notification.recipient.email])
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


def notify_many(*, recipients: Iterable[Any], **message: Any) -> int:
    return sum(1 for r in recipients if notify(recipient=r, **message) is not None)


@transaction.atomic
def mark_read(*, recipient: Any, ids: Iterable[int] | None = None) -> int:
    """Mark some (or all, when ``ids`` is None) of the recipient's notifications read."""
    unread = Notification.objects.filter(recipient=recipient, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())
