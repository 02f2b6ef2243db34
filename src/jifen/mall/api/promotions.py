"""Redemption windows and discount campaigns by API: twins of the console's windows and
campaigns pages (list, create, change with the whole body, as the page's form saves it).
Writes need ``catalog:write``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Schema

from jifen.core import errors
from jifen.core.apiauth import principal
from jifen.core.idempotency import idempotent
from jifen.core.schema_types import INT32_MAX, RowId, StrictBool, StrictInt, UrlRowId
from jifen.mall import selectors, services
from jifen.mall.api import router
from jifen.mall.models import Campaign, RedemptionWindow


class PeriodIO(Schema):
    starts_at: datetime
    ends_at: datetime


class WindowIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    mode: Literal["always", "monthly", "periods"] = "always"
    day_from: StrictInt | None = Field(None, ge=1, le=31)
    day_to: StrictInt | None = Field(None, ge=1, le=31)
    is_default: StrictBool = Field(False, description="The mall's window (only one is).")
    periods: list[PeriodIO] = Field([], max_length=200)


class WindowOut(WindowIn):
    id: int


def _window_out(window: RedemptionWindow) -> dict[str, Any]:
    return {"id": window.pk, "name": window.name, "mode": window.mode,
            "day_from": window.day_from, "day_to": window.day_to,
            "is_default": window.is_default,
            "periods": [{"starts_at": p.starts_at, "ends_at": p.ends_at}
                        for p in window.periods.all()]}


@router.get("/redemption-windows", response=list[WindowOut])
def list_windows(request: HttpRequest) -> list[dict]:
    """Every redemption window with its periods."""
    principal(request).require("catalog:write")
    return [_window_out(w) for w in selectors.windows_with_periods()]


def _write_window(request: HttpRequest, payload: WindowIn,
                  window: RedemptionWindow | None) -> RedemptionWindow:
    caller = principal(request)
    return services.save_window(
        actor=caller.actor, window=window, name=payload.name, mode=payload.mode,
        day_from=payload.day_from, day_to=payload.day_to, is_default=payload.is_default,
        periods=[(p.starts_at, p.ends_at) for p in payload.periods])


@router.post("/redemption-windows", response={201: WindowOut})
def create_window(request: HttpRequest, payload: WindowIn):
    """Add a redemption window (``catalog:write``). 422 ``invalid_days`` (monthly without
    days 1–31), ``invalid_period`` (a period ending before it starts). Idempotency-Key."""
    caller = principal(request)
    caller.require("catalog:write")

    def handle() -> tuple[int, Any]:
        return 201, _window_out(_write_window(request, payload, None))

    return idempotent(request, caller.id, handle)


@router.put("/redemption-windows/{window_id}", response=WindowOut)
def update_window(request: HttpRequest, window_id: UrlRowId, payload: WindowIn) -> dict:
    """Change a window: the whole body, as the console's form saves it (periods replaced)."""
    principal(request).require("catalog:write")
    window = selectors.window_by_id(window_id)
    if window is None:
        raise errors.NotFound(_("Unknown redemption window."))
    return _window_out(_write_window(request, payload, window))


class CampaignIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["percent", "fixed"] = Field(description="A percentage off, or points off.")
    value: StrictInt = Field(ge=1, le=INT32_MAX)
    starts_at: datetime
    ends_at: datetime
    item_ids: list[RowId] = Field([], max_length=1000)
    category_ids: list[RowId] = Field([], max_length=1000)
    is_active: StrictBool = True


class CampaignOut(CampaignIn):
    id: int


def _campaign_out(campaign: Campaign) -> dict[str, Any]:
    return {"id": campaign.pk, "name": campaign.name, "kind": campaign.kind,
            "value": campaign.value, "starts_at": campaign.starts_at,
            "ends_at": campaign.ends_at, "is_active": campaign.is_active,
            "item_ids": sorted(i.pk for i in campaign.items.all()),
            "category_ids": sorted(c.pk for c in campaign.categories.all())}


def _write_campaign(request: HttpRequest, payload: CampaignIn,
                    campaign: Campaign | None) -> Campaign:
    caller = principal(request)
    items = selectors.items_by_ids(payload.item_ids)
    categories = selectors.categories_by_ids(payload.category_ids)
    if len(items) != len(set(payload.item_ids)):
        raise errors.ValidationError(_("Unknown item."), details={"field": "item_ids"})
    if len(categories) != len(set(payload.category_ids)):
        raise errors.ValidationError(_("Unknown category."),
                                     code=errors.ErrorCode.UNKNOWN_CATEGORY,
                                     details={"field": "category_ids"})
    return services.save_campaign(
        actor=caller.actor, campaign=campaign, name=payload.name, kind=payload.kind,
        value=payload.value, starts_at=payload.starts_at, ends_at=payload.ends_at,
        items=items, categories=categories, is_active=payload.is_active)


@router.get("/campaigns", response=list[CampaignOut])
def list_campaigns(request: HttpRequest) -> list[dict]:
    """Every discount campaign."""
    principal(request).require("catalog:write")
    return [_campaign_out(c) for c in selectors.campaigns()]


@router.post("/campaigns", response={201: CampaignOut})
def create_campaign(request: HttpRequest, payload: CampaignIn):
    """Add a discount campaign on items and/or categories (``catalog:write``), as the
    console's campaigns page does. Idempotency-Key."""
    caller = principal(request)
    caller.require("catalog:write")

    def handle() -> tuple[int, Any]:
        return 201, _campaign_out(_write_campaign(request, payload, None))

    return idempotent(request, caller.id, handle)


@router.put("/campaigns/{campaign_id}", response=CampaignOut)
def update_campaign(request: HttpRequest, campaign_id: UrlRowId, payload: CampaignIn) -> dict:
    """Change a campaign: the whole body, as the console's form saves it."""
    principal(request).require("catalog:write")
    campaign = selectors.campaign_by_id(campaign_id)
    if campaign is None:
        raise errors.NotFound(_("Unknown campaign."))
    return _campaign_out(_write_campaign(request, payload, campaign))
