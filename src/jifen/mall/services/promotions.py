"""Promotion writers: redemption windows (when the mall takes orders) and discount
campaigns (time-limited prices on items or categories)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.services import record_audit, snapshot
from jifen.mall.models import (
    Campaign,
    Category,
    DiscountKind,
    Item,
    RedemptionWindow,
    WindowMode,
    WindowPeriod,
)


@transaction.atomic
def save_window(*, actor: Actor, name: str, mode: str, day_from: int | None = None,
                day_to: int | None = None, is_default: bool = False,
                periods: list[tuple[datetime, datetime]] | None = None,
                window: RedemptionWindow | None = None) -> RedemptionWindow:
    """Create or change a redemption window. Only one window is the mall's default."""
    if mode not in WindowMode.values:
        raise errors.ValidationError(_("Unknown window mode."), code=errors.ErrorCode.INVALID_MODE)
    if mode == WindowMode.MONTHLY and not (
            day_from and day_to and 1 <= day_from <= 31 and 1 <= day_to <= 31):
        raise errors.ValidationError(_("Give the first and last day (1–31)."),
                                     code=errors.ErrorCode.INVALID_DAYS)
    for start, end in periods or []:
        if end <= start:
            raise errors.ValidationError(_("A period must end after it starts."),
                                         code=errors.ErrorCode.INVALID_PERIOD)
    fields = ("name", "mode", "day_from", "day_to", "is_default")
    before = snapshot(window, fields) if window is not None else None
    obj = window or RedemptionWindow()
    obj.name, obj.mode, obj.day_from, obj.day_to, obj.is_default = (
        name.strip() or _("Window"), mode, day_from, day_to, is_default)
    obj.save()
    if is_default:
        RedemptionWindow.objects.exclude(pk=obj.pk).update(is_default=False)
    if periods is not None:
        obj.periods.all().delete()
        WindowPeriod.objects.bulk_create(
            [WindowPeriod(window=obj, starts_at=s, ends_at=e) for s, e in periods])
    record_audit(actor=actor, action="mall.window.save", obj=obj, before=before,
                 after=snapshot(obj, fields))
    return obj


@transaction.atomic
def save_campaign(*, actor: Actor, name: str, kind: str, value: int, starts_at: datetime,
                  ends_at: datetime, items: list[Item] | None = None,
                  categories: list[Category] | None = None, is_active: bool = True,
                  campaign: Campaign | None = None) -> Campaign:
    """Create or change a discount campaign on items and/or categories."""
    if kind not in DiscountKind.values:
        raise errors.ValidationError(_("Unknown discount kind."),
                                     code=errors.ErrorCode.INVALID_KIND)
    if kind == DiscountKind.PERCENT and not 1 <= value <= 99:
        raise errors.ValidationError(_("A percentage discount is 1–99."),
                                     code=errors.ErrorCode.INVALID_VALUE)
    if value <= 0:
        raise errors.ValidationError(_("The discount must be positive."),
                                     code=errors.ErrorCode.INVALID_VALUE)
    if ends_at <= starts_at:
        raise errors.ValidationError(_("The campaign must end after it starts."),
                                     code=errors.ErrorCode.INVALID_PERIOD)
    if not items and not categories:
        raise errors.ValidationError(_("Choose items or categories for the campaign."),
                                     code=errors.ErrorCode.EMPTY_CAMPAIGN)
    fields = ("name", "kind", "value", "starts_at", "ends_at", "is_active")
    before = snapshot(campaign, fields) if campaign is not None else None
    obj = campaign or Campaign()
    obj.name, obj.kind, obj.value = name.strip() or _("Campaign"), kind, value
    obj.starts_at, obj.ends_at, obj.is_active = starts_at, ends_at, is_active
    obj.save()
    obj.items.set(items or [])
    obj.categories.set(categories or [])
    record_audit(actor=actor, action="mall.campaign.save", obj=obj, before=before,
                 after=snapshot(obj, fields))
    return obj
