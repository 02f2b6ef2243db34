"""Notification writers. Other apps call ``notify`` inside their own transaction; the
message exists exactly when the change that caused it does. A notification stores its
kind and parameters; it is worded when read, in the reader's language
(``jifen.notifications.kinds``).

Every notification is routed by its recipient's preferences (docs/decisions/0030): the
centre always stores it (the record), unread unless the person turned the kind off in the
app (then it is stored read). E-mail (when an SMTP host is configured and the person has an
address) and IM (when a platform registered a sender) go out by the worker after the
transaction commits — at once, after the person's quiet hours, or collected for their
daily or weekly digest (``send_digests``)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from jifen.core import errors
from jifen.core.db import insert_rows
from jifen.core.roles import user_can
from jifen.core.services import record_audit
from jifen.notifications import selectors
from jifen.notifications.channels import IM, channel_ready, sender_for
from jifen.notifications.kinds import (
    CHANNELS,
    DAILY,
    EMAIL,
    IMMEDIATE,
    IN_APP,
    MODES,
    WEEKLY,
    NotificationKind,
    find_kind,
    get_kind,
)
from jifen.notifications.mail import email_notification, mail_digest
from jifen.notifications.models import (
    DeliverySettings,
    DigestRun,
    KindDefault,
    Notification,
    Preference,
    Via,
)
from jifen.notifications.notices import DIGEST
from jifen.notifications.tasks import send_notification_email, send_notification_im

logger = logging.getLogger(__name__)

# Mailing runs in the worker (tasks → mail); importable from here as before.
__all__ = ["Message", "email_notification", "mark_read", "notify", "notify_bulk",
           "notify_many", "notify_tally", "save_preferences", "save_site_defaults",
           "send_digests"]


def _checked(kind: NotificationKind, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parameters as stored, once they are known to fill the kind's texts."""
    stored = dict(params or {})
    kind.render(stored, strict=True)
    return stored


def _check_audience(kind: NotificationKind, recipient: Any) -> None:
    if kind.audience is not None and not user_can(recipient, kind.audience):
        raise ValueError(f"{kind.name} goes only to holders of {kind.audience}")


@dataclass(frozen=True)
class Route:
    """Where one notification goes: unread in the centre or not, and how e-mail and IM go
    out ("now", "digest" or "" — ``Via``), the "now" ones not before ``after``."""

    unread: bool
    email: str
    im: str
    after: datetime | None


def _route(kind: NotificationKind, recipient: Any, *, email: bool | None,
           own: dict[tuple[str, str], bool], overrides: dict[tuple[str, str], bool],
           delivery: selectors.Delivery, now: datetime) -> Route:
    on = selectors.channels_on(kind, own=own, overrides=overrides)
    if email is False:
        on.discard(EMAIL)
    elif email and (kind.name, EMAIL) not in own:
        on.add(EMAIL)  # a sender asking for mail: on unless the person said no
    urgent = kind.mandatory or not kind.digest or delivery.mode == IMMEDIATE
    via = Via.NOW if urgent else Via.DIGEST
    mail_via = via if (EMAIL in on and settings.JIFEN_MAIL_ENABLED
                       and bool(getattr(recipient, "email", ""))) else Via.NONE
    im_via = via if IM in on and channel_ready(IM) else Via.NONE
    after = None
    if Via.NOW in (mail_via, im_via) and not kind.mandatory:
        after = delivery.quiet_until(now)
    return Route(unread=IN_APP in on, email=str(mail_via), im=str(im_via), after=after)


def _enqueue(task: Any, notification_id: int, after: datetime | None) -> None:
    """Run ``task`` for the notification after the transaction commits (and not before
    ``after`` — the end of quiet hours — on a backend that can wait; the immediate backend
    of development cannot, and sends at once)."""
    if after is not None and task.get_backend().supports_defer:
        task = task.using(run_after=after)
    transaction.on_commit(lambda: task.enqueue(notification_id))


def _dispatch(notification_id: int, route: Route) -> None:
    if route.email == Via.NOW:
        _enqueue(send_notification_email, notification_id, route.after)
    if route.im == Via.NOW:
        _enqueue(send_notification_im, notification_id, route.after)


def _route_one(kind: NotificationKind, recipient: Any, email: bool | None) -> Route:
    own = selectors.own_choices([recipient.pk], kind.name).get(recipient.pk, {})
    return _route(kind, recipient, email=email, own=own, overrides=selectors.site_defaults(),
                  delivery=selectors.delivery_of(recipient), now=timezone.now())


def notify(
    *,
    recipient: Any,
    kind: NotificationKind | str,
    params: Mapping[str, Any] | None = None,
    url: str = "",
    dedupe_key: str = "",
    email: bool | None = None,
) -> Notification | None:
    """Send one notification of a registered ``kind`` to ``recipient`` (a user), with the
    ``params`` its title and body take (JSON values), on the channels the recipient's
    preferences choose (see the module doc); ``email=True`` turns mail on unless the person
    turned it off, ``email=False`` keeps the notice off mail.
    With ``dedupe_key`` the same notification is sent at most once; a repeat returns
    None. A recipient outside the kind's audience, or params that do not fill the kind's
    texts, are programming errors."""
    kind = get_kind(kind)
    if recipient is None:
        return None
    _check_audience(kind, recipient)
    stored = _checked(kind, params)
    if dedupe_key and Notification.objects.filter(
        recipient=recipient, dedupe_key=dedupe_key
    ).exists():
        return None
    route = _route_one(kind, recipient, email)
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient, kind=kind.name, params=stored, url=url[:300],
                dedupe_key=dedupe_key[:200], email_via=route.email, im_via=route.im,
                read_at=None if route.unread else timezone.now(),
            )
    except IntegrityError:
        if dedupe_key:
            return None
        raise
    _dispatch(notification.pk, route)
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
    audience, not mailed by default), in multi-row inserts: what a batch of 10,000 events
    sends. Each is routed by its recipient's preferences like ``notify``'s. A
    message whose (recipient, dedupe_key) was sent before is skipped; give keys no
    concurrent caller can send at the same time (derived from the rows being written),
    since a race on one fails the insert. Returns how many were written."""
    kind = get_kind(kind)
    if kind.audience is not None or EMAIL in kind.channels or IM in kind.channels:
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
    ids = {row[0] for row in rows}
    own = selectors.own_choices(ids, kind.name)
    overrides = selectors.site_defaults()
    # Only people who chose something of their own, or a site default that turns another
    # channel on, need more than the plain in-app row.
    plain = Route(unread=True, email="", im="", after=None)
    widened = any(enabled for (name, channel), enabled in overrides.items()
                  if name == kind.name and channel != IN_APP)
    special = ids if widened else set(own)
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=special)}
    deliveries = selectors.delivery_for(special)
    routes = {pk: _route(kind, user, email=None, own=own.get(pk, {}), overrides=overrides,
                         delivery=deliveries.get(pk, selectors.Delivery()), now=now)
              for pk, user in users.items()}
    # Multi-row INSERTs without the ORM's per-object work (core.db.insert_rows): a batch
    # of events tells hundreds of people.
    columns = ["recipient", "dedupe_key", "params", "url", "kind", "stored_title",
               "stored_body", "created_at", "read_at", "email_via", "im_via"]
    values = []
    for row in rows:
        route = routes.get(row[0], plain)
        values.append((*row, kind.name, "", "", now, None if route.unread else now,
                       route.email, route.im))
    insert_rows(Notification, columns, values)
    outgoing = {pk for pk, route in routes.items() if Via.NOW in (route.email, route.im)}
    if outgoing:
        for pk, recipient_id in Notification.objects.filter(
                kind=kind.name, created_at=now, recipient_id__in=outgoing,
        ).values_list("pk", "recipient_id"):
            _dispatch(pk, routes[recipient_id])
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
        # Unread again, unless the person turned this kind off in the app.
        on = selectors.channels_on(
            kind, own=selectors.own_choices([existing.recipient_id], kind.name).get(
                existing.recipient_id, {}), overrides=selectors.site_defaults())
        existing.read_at = None if IN_APP in on else timezone.now()
        existing.save(update_fields=["params", "read_at"])
        return existing


@transaction.atomic
def mark_read(*, recipient: Any, ids: Iterable[int] | None = None) -> int:
    """Mark some (or all, when ``ids`` is None) of the recipient's notifications read."""
    unread = Notification.objects.filter(recipient=recipient, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


# --- preferences ------------------------------------------------------------------------


def _checked_choices(choices: Mapping[str, Mapping[str, bool]]
                     ) -> list[tuple[NotificationKind, str, bool]]:
    """(kind, channel, on) for each choice, once every kind and channel is known."""
    checked = []
    for name, channels in choices.items():
        kind = find_kind(name)
        if kind is None:
            raise errors.ValidationError(
                f"unknown notification kind {name!r}", code=errors.ErrorCode.UNKNOWN_VALUE,
                details={"field": "kinds", "value": name})
        for channel, on in channels.items():
            if channel not in CHANNELS:
                raise errors.ValidationError(
                    f"unknown channel {channel!r}", code=errors.ErrorCode.UNKNOWN_VALUE,
                    details={"field": "channels", "value": channel})
            if channel == IN_APP and kind.mandatory and not on:
                raise errors.ValidationError(
                    _mandatory_message(), code=errors.ErrorCode.MANDATORY_NOTIFICATION,
                    details={"field": "kinds", "value": name})
            checked.append((kind, channel, bool(on)))
    return checked


def _mandatory_message() -> str:
    return gettext("This notice cannot be turned off in the app.")


@transaction.atomic
def save_preferences(
    *,
    user: Any,
    choices: Mapping[str, Mapping[str, bool]] | None = None,
    mode: str | None = None,
    digest_hour: int | None = None,
    digest_weekday: int | None = None,
    quiet_start: time | None = None,
    quiet_end: time | None = None,
    quiet: bool | None = None,
) -> None:
    """Store ``user``'s choices: ``choices`` maps kind names to {channel: on} (only the
    kinds given change; a choice equal to the default is stored as no choice), the digest
    ``mode`` with its hour and weekday, and quiet hours (``quiet=False`` clears them)."""
    checked = _checked_choices(choices or {})
    if mode is not None and mode not in MODES:
        raise errors.ValidationError(f"unknown mode {mode!r}",
                                     code=errors.ErrorCode.UNKNOWN_VALUE,
                                     details={"field": "mode", "value": mode})
    if (digest_hour is not None and not 0 <= digest_hour <= 23) or \
            (digest_weekday is not None and not 0 <= digest_weekday <= 6):
        raise errors.ValidationError("hour 0-23, weekday 0-6",
                                     code=errors.ErrorCode.OUT_OF_RANGE,
                                     details={"field": "digest_hour"})
    for name, value in (("quiet_start", quiet_start), ("quiet_end", quiet_end)):
        if value is not None and value.tzinfo is not None:
            raise errors.ValidationError(
                gettext("Quiet hours are in the site's time, without an offset."),
                details={"fields": {name: ["site time, no offset"]}})
    overrides = selectors.site_defaults()
    for kind, channel, on in checked:
        if on == selectors.default_on(kind, channel, overrides):
            Preference.objects.filter(user=user, kind=kind.name, channel=channel).delete()
        else:
            Preference.objects.update_or_create(user=user, kind=kind.name, channel=channel,
                                                defaults={"enabled": on})
    settings_row, _created = DeliverySettings.objects.select_for_update().get_or_create(
        user=user)
    if mode is not None:
        settings_row.mode = mode
    if digest_hour is not None:
        settings_row.digest_hour = digest_hour
    if digest_weekday is not None:
        settings_row.digest_weekday = digest_weekday
    if quiet is False:
        settings_row.quiet_start = settings_row.quiet_end = None
    elif quiet_start is not None and quiet_end is not None:
        settings_row.quiet_start, settings_row.quiet_end = quiet_start, quiet_end
    settings_row.save()


@transaction.atomic
def save_site_defaults(*, actor: Any, choices: Mapping[str, Mapping[str, bool]]) -> int:
    """Set the site's default channels per kind (an admin's choice for everyone without
    one of their own); a default equal to the registered one is stored as none. Audited.
    Returns how many defaults changed."""
    checked = _checked_choices(choices)
    before = selectors.site_defaults()
    for kind, channel, on in checked:
        if on == (channel in kind.channels):
            KindDefault.objects.filter(kind=kind.name, channel=channel).delete()
        else:
            KindDefault.objects.update_or_create(kind=kind.name, channel=channel,
                                                 defaults={"enabled": on})
    after = selectors.site_defaults()
    if before == after:
        return 0
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    record_audit(
        actor=actor, action="notifications.defaults.update",
        object_type="notifications.kinddefault", object_repr="Notification defaults",
        before={f"{k}/{c}": before.get((k, c)) for k, c in sorted(changed)},
        after={f"{k}/{c}": after.get((k, c)) for k, c in sorted(changed)})
    return len(changed)


# --- digests ----------------------------------------------------------------------------


def digest_slot(delivery: selectors.Delivery, now: datetime) -> tuple[str, datetime]:
    """The person's latest digest time at or before ``now`` (site time) and its period
    name ("d:2026-12-04", "w:2026-12-07"): the digest of that period holds what was
    collected up to that time; later arrivals wait for the next one. A person back on
    immediate gets what was still collected at the next run ("i:2026-12-04 09")."""
    local = timezone.localtime(now)
    if delivery.mode not in (DAILY, WEEKLY):
        return f"i:{local:%Y-%m-%d %H}", now
    day = local.date()
    if delivery.mode == WEEKLY:
        day -= timedelta(days=(day.weekday() - delivery.digest_weekday) % 7)
    step = timedelta(days=7 if delivery.mode == WEEKLY else 1)
    slot = timezone.make_aware(datetime.combine(day, time(delivery.digest_hour)))
    if slot > now:
        slot = timezone.make_aware(datetime.combine(day - step, time(delivery.digest_hour)))
    prefix = "w" if delivery.mode == WEEKLY else "d"
    return f"{prefix}:{timezone.localtime(slot):%Y-%m-%d}", slot


def send_digests(*, now: datetime | None = None) -> int:
    """Send every digest due now: per person and channel one e-mail (or one IM message)
    listing exactly the notifications collected for it, oldest first, then marked sent.
    Idempotent per person × channel × period; a failed send leaves them for the next run.
    Returns how many digests went out."""
    now = now or timezone.now()
    waiting = set(Notification.objects.filter(email_via=Via.DIGEST, emailed_at__isnull=True)
                  .values_list("recipient_id", flat=True).distinct())
    waiting_im = set(Notification.objects.filter(im_via=Via.DIGEST, im_sent_at__isnull=True)
                     .values_list("recipient_id", flat=True).distinct())
    deliveries = selectors.delivery_for(waiting | waiting_im)
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=waiting | waiting_im)}
    sent = 0
    for pk, user in sorted(users.items()):
        delivery = deliveries.get(pk, selectors.Delivery())
        period, cutoff = digest_slot(delivery, now)
        for channel, has in ((EMAIL, pk in waiting), (IM, pk in waiting_im)):
            if not has:
                continue
            try:
                sent += send_digest(user=user, channel=channel, period=period,
                                    mode=delivery.mode, cutoff=cutoff, now=now)
            except Exception:  # one person's failed send must not hold up the others
                logger.exception("digest for user %s on %s failed", pk, channel)
    return sent


@transaction.atomic
def send_digest(*, user: Any, channel: str, period: str, mode: str, cutoff: datetime,
                now: datetime) -> int:
    """One person's digest on ``channel`` for ``period``, of what was collected up to
    ``cutoff``: 1 when sent now, 0 when there was nothing, it went out already, or the
    person cannot be reached."""
    rows = list(selectors.pending_digest(user, channel).filter(created_at__lte=cutoff)
                .select_for_update())
    if not rows:
        return 0
    try:
        with transaction.atomic():
            DigestRun.objects.create(user=user, channel=channel, period=period,
                                     count=len(rows))
    except IntegrityError:
        return 0  # this period's digest went out already; the rest waits for the next
    ids = [row.pk for row in rows]
    variant = mode if mode in (DAILY, WEEKLY) else ""
    if channel == EMAIL:
        if not (settings.JIFEN_MAIL_ENABLED and user.email):
            transaction.set_rollback(True)
            return 0
        mail_digest(user=user, notifications=rows, variant=variant)
        Notification.objects.filter(pk__in=ids).update(emailed_at=now)
        return 1
    sender = sender_for(IM)
    if sender is None:
        transaction.set_rollback(True)
        return 0
    digest = Notification.objects.create(
        recipient=user, kind=DIGEST.name, params={"count": len(rows), "variant": variant},
        url=_centre_url(), read_at=now, im_via=Via.NOW)
    if sender(digest.pk):
        Notification.objects.filter(pk__in=[*ids, digest.pk]).update(im_sent_at=now)
        return 1
    # Not reachable on IM (no account linked): they stay in the centre, off IM.
    Notification.objects.filter(pk__in=ids).update(im_via=Via.NONE)
    DigestRun.objects.filter(user=user, channel=channel, period=period).delete()
    digest.delete()
    return 0


def _centre_url() -> str:
    return reverse("portal:notifications")
