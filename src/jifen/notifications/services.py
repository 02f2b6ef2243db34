"""Notification writers. Other apps call ``notify`` inside their own transaction; the
message exists exactly when the change that caused it does. A notification stores its
kind and parameters; it is worded when read, in the reader's language
(``jifen.notifications.kinds``). A kind whose channels include e-mail (or a call with
``email=True``) is also mailed, by the worker after that transaction commits, when an SMTP
host is configured (``JIFEN_SMTP_HOST``) and the recipient has an address."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from jifen.core.db import insert_rows
from jifen.core.roles import user_can
from jifen.notifications.kinds import EMAIL, NotificationKind, get_kind
from jifen.notifications.mail import email_notification
from jifen.notifications.models import Notification
from jifen.notifications.tasks import send_notification_email

# Mailing runs in the worker (tasks → mail); importable from here as before.
__all__ = ["Message", "email_notification", "mark_read", "notify", "notify_bulk",
           "notify_many", "notify_tally"]


def _checked(kind: NotificationKind, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parameters as stored, once they are known to fill the kind's texts."""
    stored = dict(params or {})
    kind.render(stored, strict=True)
    return stored


def _check_audience(kind: NotificationKind, recipient: Any) -> None:
    if kind.audience is not None and not user_can(recipient, kind.audience):
        raise ValueError(f"{kind.name} goes only to holders of {kind.audience}")


def _mail_after_commit(notification: Notification, recipient: Any, email: bool) -> None:
    address = getattr(recipient, "email", "")
    if email and settings.JIFEN_MAIL_ENABLED and address:
        transaction.on_commit(lambda: send_notification_email.enqueue(notification.pk))


def notify(
    *,
    recipient: Any,
    kind: NotificationKind | str,
    params: Mapping[str, Any] | None = None,
    url: str = "",
    dedupe_key: str = "",
    email: bool | None = None,
) -> Notification | None:
    """Send one in-app notification of a registered ``kind`` to ``recipient`` (a user),
    with the ``params`` its title and body take (JSON values), and by mail too when
    ``email`` — by default when the kind's channels include e-mail (see the module doc).
    With ``dedupe_key`` the same notification is sent at most once; a repeat returns
    None. A recipient outside the kind's audience, or params that do not fill the kind's
    texts, are programming errors."""
    kind = get_kind(kind)
    if recipient is None:
        return None
    _check_audience(kind, recipient)
    stored = _checked(kind, params)
    if email is None:
        email = EMAIL in kind.channels
    if dedupe_key and Notification.objects.filter(
        recipient=recipient, dedupe_key=dedupe_key
    ).exists():
        return None
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient, kind=kind.name, params=stored, url=url[:300],
                dedupe_key=dedupe_key[:200],
            )
    except IntegrityError:
        if dedupe_key:
            return None
        raise
    _mail_after_commit(notification, recipient, email)
    return notification


def notify_many(*, recipients: Iterable[Any], **message: Any) -> int:
    return sum(1 for r in recipients if notify(recipient=r, **message) is not None)


@dataclass(frozen=True)
class Message:
    """One notification of a bulk send: to the user with ``recipient_id``."""

    recipient_id: int
    params: Mapping[str, Any] = field(default_factory=dict)
    url: str = ""
    dedupe_key: str = ""


def notify_bulk(*, kind: NotificationKind | str, messages: Iterable[Message],
                batch_size: int = 1000) -> int:
    """Many notifications of one in-app kind about each recipient's own affairs (no
    audience, no e-mail), in multi-row inserts: what a batch of 10,000 events sends. A
    message whose (recipient, dedupe_key) was sent before is skipped; give keys no
    concurrent caller can send at the same time (derived from the rows being written),
    since a race on one fails the insert. Returns how many were written."""
    kind = get_kind(kind)
    if kind.audience is not None or EMAIL in kind.channels:
        raise ValueError(f"{kind.name}: bulk sends are for in-app notices to employees")
    rows = [(m.recipient_id, m.dedupe_key[:200], _checked(kind, m.params), m.url[:300])
            for m in messages]
    keys = {row[1] for row in rows if row[1]}
    if keys:
        # The keys already sent are looked up (MySQL has no partial unique index).
        sent: set[tuple[int, str]] = set()
        key_list = sorted(keys)
        for start in range(0, len(key_list), batch_size):
            chunk = key_list[start:start + batch_size]
            sent |= set(Notification.objects.filter(dedupe_key__in=chunk)
                        .values_list("recipient_id", "dedupe_key"))
        seen: set[tuple[int, str]] = set()
        fresh = []
        for row in rows:
            pair = (row[0], row[1])
            if row[1] and (pair in sent or pair in seen):
                continue
            seen.add(pair)
            fresh.append(row)
        rows = fresh
    now = timezone.now()
    # Multi-row INSERTs without the ORM's per-object work (core.db.insert_rows): a batch
    # of events tells hundreds of people.
    insert_rows(Notification, ["recipient", "dedupe_key", "params", "url", "kind",
                               "stored_title", "stored_body", "created_at"],
                [(*row, kind.name, "", "", now) for row in rows])
    return len(rows)


def notify_tally(*, recipient: Any, kind: NotificationKind | str, count: int,
                 params: Mapping[str, Any] | None = None, url: str = "",
                 dedupe_key: str) -> Notification | None:
    """A notification that counts: the first call for (recipient, ``dedupe_key``) sends
    one with ``count`` in its params; later calls add to that count and mark it unread
    again, so a run of arrivals (an hour of imports) is one message that grows instead of
    a message each. Never mailed."""
    kind = get_kind(kind)
    if recipient is None or count <= 0:
        return None
    _check_audience(kind, recipient)
    key = dedupe_key[:200]
    found = (Notification.objects.filter(recipient=recipient, dedupe_key=key)
             .values_list("pk", flat=True).first())
    if found is None:
        # The unique key makes a concurrent twin insert a no-op (its count is lost;
        # the daily reminder still counts everything).
        return notify(recipient=recipient, kind=kind, params={**(params or {}), "count": count},
                      url=url, dedupe_key=key, email=False)
    with transaction.atomic():
        # Locked by primary key only: a lock on a row not there yet would be a gap lock on
        # MySQL, and two of those deadlock.
        existing = Notification.objects.select_for_update().get(pk=found)
        stored = dict(existing.params or {})
        stored.update(params or {})
        stored["count"] = int(stored.get("count", 0)) + count
        existing.params = _checked(kind, stored)
        existing.read_at = None
        existing.save(update_fields=["params", "read_at"])
        return existing


@transaction.atomic
def mark_read(*, recipient: Any, ids: Iterable[int] | None = None) -> int:
    """Mark some (or all, when ``ids`` is None) of the recipient's notifications read."""
    unread = Notification.objects.filter(recipient=recipient, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())
