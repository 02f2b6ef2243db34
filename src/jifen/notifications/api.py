"""Notification endpoints of /api/v1: the signed-in employee's notifications (list, mark
read) and their notification preferences; the site's default channels per kind (admins)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from jifen.core.apiauth import principal
from jifen.core.pagination import CursorPage, paginate
from jifen.core.roles import Cap
from jifen.core.schema_types import UrlInt
from jifen.notifications import selectors, services
from jifen.notifications.kinds import CHANNELS, MODES, registered_kinds
from jifen.notifications.models import Notification

router = Router(tags=["me"])


def _me(request: HttpRequest) -> Any:
    return principal(request).require_employee().user


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str
    created_at: datetime
    read: bool

    @staticmethod
    def resolve_read(obj: Notification) -> bool:
        return obj.read_at is not None


class NotificationFilters(Schema):
    unread: bool = Field(default=False, description="Only the unread ones.")
    cursor: str | None = None
    limit: UrlInt = Field(default=50, ge=1, le=200)


@router.get("/me/notifications", response=CursorPage[NotificationOut])
def my_notifications(request: HttpRequest, filters: Query[NotificationFilters]) -> dict:
    """The signed-in employee's notifications, newest first, in their language."""
    rows = selectors.notifications_for(_me(request))
    if filters.unread:
        rows = rows.filter(read_at__isnull=True)
    return paginate(rows, cursor=filters.cursor, limit=filters.limit, key="pk",
                    descending=True)


class MarkReadIn(Schema):
    ids: list[int] | None = Field(default=None, max_length=500,
                                  description="Which to mark read; none given: all.")


class MarkReadOut(Schema):
    marked: int


@router.post("/me/notifications/read", response=MarkReadOut)
def mark_my_notifications_read(request: HttpRequest, payload: MarkReadIn) -> dict:
    """Mark some (``ids``) or all of the employee's notifications read (repeatable: a
    second call marks nothing more)."""
    return {"marked": services.mark_read(recipient=_me(request), ids=payload.ids)}


class KindPreferenceOut(Schema):
    kind: str
    label: str
    mandatory: bool
    channels: dict[str, bool]


class PreferencesOut(Schema):
    mode: str = Field(description="immediate, daily or weekly.")
    digest_hour: int
    digest_weekday: int = Field(description="0 = Monday.")
    quiet_start: time | None
    quiet_end: time | None
    im_available: bool = Field(description="Whether an IM platform is connected.")
    kinds: list[KindPreferenceOut]


class KindPreferenceIn(Schema):
    kind: str = Field(max_length=60)
    channels: dict[str, bool] = Field(description=f"Any of {', '.join(CHANNELS)}.")


class PreferencesIn(Schema):
    mode: str | None = Field(default=None, description=f"One of {', '.join(MODES)}.",
                             max_length=10)
    digest_hour: int | None = Field(default=None, ge=0, le=23)
    digest_weekday: int | None = Field(default=None, ge=0, le=6)
    quiet_start: time | None = None
    quiet_end: time | None = None
    quiet: bool | None = Field(default=None, description="false clears the quiet hours.")
    kinds: list[KindPreferenceIn] = Field(default_factory=list, max_length=200)


def _preferences(user: Any) -> dict:
    delivery = selectors.delivery_of(user)
    return {
        "mode": delivery.mode, "digest_hour": delivery.digest_hour,
        "digest_weekday": delivery.digest_weekday, "quiet_start": delivery.quiet_start,
        "quiet_end": delivery.quiet_end, "im_available": selectors.im_available(),
        "kinds": [{"kind": row.name, "label": str(row.kind.label),
                   "mandatory": row.kind.mandatory, "channels": row.on}
                  for row in selectors.preference_grid(user)],
    }


@router.get("/me/notification-preferences", response=PreferencesOut)
def my_notification_preferences(request: HttpRequest) -> dict:
    """Per kind which channels are on, the digest mode and the quiet hours."""
    return _preferences(_me(request))


@router.put("/me/notification-preferences", response=PreferencesOut)
def update_my_notification_preferences(request: HttpRequest, payload: PreferencesIn) -> dict:
    """Change some of them: only the kinds listed (and the fields given) change."""
    user = _me(request)
    services.save_preferences(
        user=user, choices={k.kind: k.channels for k in payload.kinds}, mode=payload.mode,
        digest_hour=payload.digest_hour, digest_weekday=payload.digest_weekday,
        quiet_start=payload.quiet_start, quiet_end=payload.quiet_end, quiet=payload.quiet)
    return _preferences(user)


# --- the site's defaults (console: notification_defaults) ---------------------------------


class KindDefaultOut(Schema):
    kind: str
    label: str
    mandatory: bool
    channels: dict[str, bool] = Field(description="Whether each channel is on for people "
                                      "without a choice of their own.")


class DefaultsOut(Schema):
    kinds: list[KindDefaultOut]


class DefaultsIn(Schema):
    kinds: list[KindPreferenceIn] = Field(max_length=200, description="Only the kinds and "
                                          "channels listed change.")


def _require_defaults_admin(request: HttpRequest) -> Any:
    caller = principal(request)
    caller.require_scope_or_capability(
        "admin", Cap.MANAGE_PEOPLE, Cap.MANAGE_SETTINGS,
        message=_("Notification defaults are for HR and super admins."))
    return caller


def _defaults() -> dict:
    overrides = selectors.site_defaults()
    return {"kinds": [{"kind": kind.name, "label": str(kind.label),
                       "mandatory": kind.mandatory,
                       "channels": {channel: selectors.default_on(kind, channel, overrides)
                                    for channel in CHANNELS}}
                      for kind in registered_kinds()]}


@router.get("/notification-defaults", response=DefaultsOut, tags=["notifications"])
def notification_defaults(request: HttpRequest) -> dict:
    """The site's default channels per notification kind (HR, super admins, `admin` keys)."""
    _require_defaults_admin(request)
    return _defaults()


@router.put("/notification-defaults", response=DefaultsOut, tags=["notifications"])
def update_notification_defaults(request: HttpRequest, payload: DefaultsIn) -> dict:
    """Change the site's defaults (the console's defaults grid; audited). A mandatory kind's
    in-app channel cannot be turned off (422 `mandatory_notification`)."""
    caller = _require_defaults_admin(request)
    services.save_site_defaults(actor=caller.actor,
                                choices={k.kind: k.channels for k in payload.kinds})
    return _defaults()
