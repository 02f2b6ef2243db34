"""Insights API: recommendations — the caller's own (mall or library), the items like one
item, and the caller's switch to turn them off. The same selectors fill the pages' rows."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import StrictBool

from jifen.core import errors
from jifen.core.apiauth import principal
from jifen.core.schema_types import UrlRowId
from jifen.insights.selectors import recommend as selectors
from jifen.insights.services import recommend as services
from jifen.ledger import selectors as ledger_selectors
from jifen.ledger.amounts import PointsOut
from jifen.mall import selectors as mall_selectors
from jifen.mall.models import ItemStatus

router = Router(tags=["recommendations"])
MAX_LIMIT = 50


class RecommendationsQuery(Schema):
    catalogue: Literal["mall", "library"] = Field(
        "mall", description='"mall" (items) or "library" (documents and courses).')
    limit: int = Field(10, ge=1, le=MAX_LIMIT, description="How many, 1–50.")


class WhyOut(Schema):
    code: str = Field(description='Why it is shown: "redeemed", "favourited", "viewed", '
                                  '"downloaded" (like something you did; `params.name`), '
                                  '"department" (popular in your department; '
                                  '`params.department`), "leaning" (fits the earning '
                                  'category your recent points lean to; `params.category`), '
                                  '"also" (redeemed by those who redeemed `params.name`), '
                                  '"popular".')
    params: dict[str, Any]
    text: str = Field(description="The reason in the caller's language.")


class RecommendationOut(Schema):
    catalogue: str
    id: int
    name: str
    points: PointsOut = Field(description="Its price now (after any mall discount).")
    short_by: PointsOut = Field(description="Points still missing when it is nearly "
                                            "affordable (within 20%); 0 otherwise.")
    why: WhyOut
    url: str = Field(description="Its page.")


class RecommendationsOut(Schema):
    items: list[RecommendationOut]
    next_cursor: None = None


def _out(suggestion: selectors.Suggestion) -> dict[str, Any]:
    return {"catalogue": suggestion.catalogue, "id": suggestion.target_id,
            "name": suggestion.name, "points": suggestion.points,
            "short_by": suggestion.short_by,
            "why": {"code": suggestion.why.code, "params": suggestion.why.params,
                    "text": suggestion.why.text},
            "url": suggestion.url}


@router.get("/me/recommendations", response=RecommendationsOut)
def my_recommendations(request: HttpRequest,
                       query: Query[RecommendationsQuery]) -> dict[str, Any]:
    """Things picked for the caller, best first, each with why: only what they may take
    now (listed or published, in stock, eligible, not already redeemed or owned, not at
    its limit). Empty when they turned recommendations off."""
    employee = principal(request).require_employee()
    spendable = ledger_selectors.balance(employee=employee).spendable
    found = selectors.for_employee(employee, catalogue=query.catalogue, limit=query.limit,
                                   spendable=spendable)
    return {"items": [_out(s) for s in found]}


@router.get("/items/{item_id}/related", response=RecommendationsOut)
def related_items(request: HttpRequest, item_id: UrlRowId,
                  limit: int = Query(6, ge=1, le=MAX_LIMIT)) -> dict[str, Any]:
    """Items redeemed by those who redeemed this one (and kept or looked at it), that the
    caller may take. 404 when the item is not in the mall; empty when the caller turned
    recommendations off."""
    employee = principal(request).require_employee()
    item = mall_selectors.item_by_id(item_id)
    if item is None or item.status != ItemStatus.LISTED:
        raise errors.NotFound(_("Item not found."))
    return {"items": [_out(s) for s in selectors.also_redeemed(item, employee=employee,
                                                               limit=limit)]}


class RecommendationSettingsIn(Schema):
    enabled: StrictBool = Field(description="false hides every recommendation: on the mall "
                                            "and library pages, in the API and in digests.")


class RecommendationSettingsOut(Schema):
    enabled: bool


@router.get("/me/recommendation-settings", response=RecommendationSettingsOut)
def my_recommendation_settings(request: HttpRequest) -> dict[str, bool]:
    """Whether the caller gets recommendations (on unless they turned them off)."""
    employee = principal(request).require_employee()
    return {"enabled": selectors.enabled_for(employee)}


@router.put("/me/recommendation-settings", response=RecommendationSettingsOut)
def set_my_recommendation_settings(request: HttpRequest,
                                   payload: RecommendationSettingsIn) -> dict[str, bool]:
    """Turn the caller's recommendations on or off. The same value twice changes nothing,
    so a retry is safe."""
    employee = principal(request).require_employee()
    return {"enabled": services.set_recommendations(employee=employee,
                                                    enabled=payload.enabled)}
