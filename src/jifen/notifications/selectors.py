"""Reads of notifications and of the preferences that route them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.db.models import QuerySet
from django.utils import timezone

from jifen.notifications.channels import IM, channel_ready
from jifen.notifications.kinds import (
    CHANNELS,
    IMMEDIATE,
    IN_APP,
    NotificationKind,
    registered_kinds,
)
from jifen.notifications.models import (
    DeliverySettings,
    KindDefault,
    Notification,
    Preference,
)


def notifications_for(user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def unread_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


# --- preferences ------------------------------------------------------------------------


def im_available() -> bool:
    """Whether an IM platform is set up for direct messages (else the IM column of the
    settings is shown disabled)."""
    return channel_ready(IM)


def site_defaults() -> dict[tuple[str, str], bool]:
    """The admins' overrides of the registered defaults: (kind, channel) → on."""
    return {(d.kind, d.channel): d.enabled for d in KindDefault.objects.all()}


def default_on(kind: NotificationKind, channel: str,
               overrides: dict[tuple[str, str], bool] | None = None) -> bool:
    """Whether ``channel`` is on for ``kind`` for a person without a choice of their own."""
    if channel == IN_APP and kind.mandatory:
        return True
    overrides = site_defaults() if overrides is None else overrides
    return overrides.get((kind.name, channel), channel in kind.channels)


def own_choices(user_ids: Iterable[int], kind: str | None = None
                ) -> dict[int, dict[tuple[str, str], bool]]:
    """The people's own choices (rows that differ from the defaults), per user."""
    rows = Preference.objects.filter(user_id__in=list(user_ids))
    if kind is not None:
        rows = rows.filter(kind=kind)
    found: dict[int, dict[tuple[str, str], bool]] = {}
    for user_id, name, channel, enabled in rows.values_list("user_id", "kind", "channel",
                                                            "enabled"):
        found.setdefault(user_id, {})[(name, channel)] = enabled
    return found


def channels_on(kind: NotificationKind, *, own: dict[tuple[str, str], bool],
                overrides: dict[tuple[str, str], bool]) -> set[str]:
    """The channels ``kind`` goes out on for a person with these own choices."""
    on = set()
    for channel in CHANNELS:
        if channel == IN_APP and kind.mandatory:
            on.add(channel)
            continue
        value = own.get((kind.name, channel))
        if value is None:
            value = default_on(kind, channel, overrides)
        if value:
            on.add(channel)
    return on


@dataclass(frozen=True)
class Delivery:
    """A person's delivery mode and quiet hours (the defaults when they chose none)."""

    mode: str = IMMEDIATE
    digest_hour: int = 8
    digest_weekday: int = 0
    quiet_start: time | None = None
    quiet_end: time | None = None

    def quiet_until(self, now: datetime) -> datetime | None:
        """The end of the quiet hours ``now`` falls in (aware), or None outside them."""
        if self.quiet_start is None or self.quiet_end is None or \
                self.quiet_start == self.quiet_end:
            return None
        local = timezone.localtime(now)
        at = local.time()
        if self.quiet_start < self.quiet_end:
            inside = self.quiet_start <= at < self.quiet_end
        else:  # over midnight
            inside = at >= self.quiet_start or at < self.quiet_end
        if not inside:
            return None
        end = local.replace(hour=self.quiet_end.hour, minute=self.quiet_end.minute,
                            second=0, microsecond=0)
        if end <= local:
            end = end + timedelta(days=1)
        # Through the wall clock again: a day that changes offset keeps the site's hour.
        return timezone.make_aware(end.replace(tzinfo=None))


def delivery_for(user_ids: Iterable[int]) -> dict[int, Delivery]:
    found = {}
    for row in DeliverySettings.objects.filter(user_id__in=list(user_ids)):
        found[row.user_id] = Delivery(mode=row.mode, digest_hour=row.digest_hour,
                                      digest_weekday=row.digest_weekday,
                                      quiet_start=row.quiet_start, quiet_end=row.quiet_end)
    return found


def delivery_of(user: Any) -> Delivery:
    return delivery_for([user.pk]).get(user.pk, Delivery())


@dataclass(frozen=True)
class KindRow:
    """One line of a settings grid: a kind and whether each channel is on."""

    kind: NotificationKind
    on: dict[str, bool]
    area: str

    @property
    def name(self) -> str:
        return self.kind.name

    @property
    def area_label(self) -> str:
        """The sending app's name, in the active language."""
        try:
            return str(apps.get_app_config(self.area).verbose_name)
        except LookupError:
            return self.area


def _area(kind: NotificationKind) -> str:
    return kind.name.split(".", 1)[0]


def preference_grid(user: Any | None) -> list[KindRow]:
    """Every registered kind with its channels on or off for ``user`` (or, with None, the
    site defaults), grouped by the app (area) that sends it."""
    overrides = site_defaults()
    own = own_choices([user.pk]).get(user.pk, {}) if user is not None else {}
    rows = []
    for kind in registered_kinds():
        on = channels_on(kind, own=own, overrides=overrides)
        rows.append(KindRow(kind=kind, on={c: c in on for c in CHANNELS}, area=_area(kind)))
    return sorted(rows, key=lambda row: (row.area, row.name))


def pending_digest(user: Any, channel: str) -> QuerySet[Notification]:
    """What waits for ``user``'s next digest on ``channel`` (e-mail or IM), oldest first."""
    rows = Notification.objects.filter(recipient=user)
    if channel == IM:
        rows = rows.filter(im_via="digest", im_sent_at__isnull=True)
    else:
        rows = rows.filter(email_via="digest", emailed_at__isnull=True)
    return rows.order_by("created_at", "id")
