"""Activities API: the centre part — the list of lotteries and auctions, the caller's own
entries and bids, the notice to eligible employees, and an activity's statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from jifen.activities.models import Phase
from jifen.activities.selectors import centre as selectors
from jifen.activities.services import common as services
from jifen.core import errors
from jifen.core.apiauth import Principal, principal
from jifen.core.roles import Cap, user_can
from jifen.core.schema_types import UrlInt, UrlRowId
from jifen.ledger import selectors as ledger_selectors
from jifen.ledger.amounts import PointsOut

router = Router(tags=["activities"])

Kind = Literal["lottery", "auction"]


def _is_admin(caller: Principal) -> bool:
    """Who runs activities: employees with the capability, systems with the admin scope."""
    if caller.kind == "system":
        return caller.can("admin")
    return user_can(caller.user, Cap.MANAGE_ACTIVITIES)


def _require_admin(caller: Principal) -> None:
    if not _is_admin(caller):
        raise errors.PermissionDenied(
            _("Only those who run activities may do this."), code=errors.ErrorCode.FORBIDDEN,
            details={"required_scope": "admin"})


class CentreWinnerOut(Schema):
    name: str
    employee_no: str
    department: str
    prize: str
    amount: PointsOut | None = None


class ActivityOut(Schema):
    kind: Kind
    id: int
    title: str
    description: str
    status: str
    phase: str
    starts_at: datetime
    ends_at: datetime
    draw_at: datetime | None = Field(None, description="Lotteries: when the draw is due.")
    price: PointsOut = Field(description="Lotteries: the entry cost (0 free); auctions: the "
                                         "leading bid, or the starting price before any.")
    item: str | None = Field(None, description="Auctions: the item on sale.")
    eligible: bool | None = Field(None, description="Whether the calling employee may take "
                                                    "part (null for systems).")
    not_eligible_reason: str = ""
    notice_sent_at: datetime | None
    url: str
    winners: list[CentreWinnerOut] = []


def _activity_out(card: selectors.Card, *, employee: bool) -> dict[str, Any]:
    activity = card.activity
    lottery = card.kind == selectors.LOTTERY
    return {
        "kind": card.kind, "id": activity.pk, "title": activity.title,
        "description": activity.description, "status": activity.status, "phase": card.phase,
        "starts_at": activity.starts_at, "ends_at": activity.ends_at,
        "draw_at": activity.draw_at if lottery else None, "price": card.price,
        "item": None if lottery else activity.item.name,
        "eligible": card.eligible if employee else None,
        "not_eligible_reason": card.problem, "notice_sent_at": activity.notice_sent_at,
        "url": selectors.page_url(card.kind, activity.pk),
        "winners": [{k: w.get(k) for k in ("name", "employee_no", "department", "prize",
                                            "amount")} for w in card.winners],
    }


class ActivityFilters(Schema):
    kind: Kind | None = None
    phase: Literal["draft", "upcoming", "running", "drawing", "finished",
                   "cancelled"] | None = None
    cursor: str | None = None
    limit: UrlInt = Field(50, ge=1, le=200)


class ActivityPage(Schema):
    items: list[ActivityOut]
    next_cursor: str | None


@router.get("/activities", response=ActivityPage)
def list_activities(request: HttpRequest, filters: Query[ActivityFilters]) -> dict:
    """Lotteries and auctions, newest first; filters ``kind`` and ``phase``. Employees see
    published ones (and whether they may take part); drafts and cancelled ones only
    those who run activities. Cursor pagination."""
    caller = principal(request)
    admin = _is_admin(caller)
    if filters.phase in (Phase.DRAFT, Phase.CANCELLED) and not admin:
        return {"items": [], "next_cursor": None}
    rows, next_cursor = selectors.page_of_activities(
        kind=filters.kind or "", phase=filters.phase or "", everything=admin,
        cursor=filters.cursor, limit=filters.limit)
    employee = getattr(caller.user, "employee", None) if caller.kind == "employee" else None
    spendable = (ledger_selectors.balance(employee=employee).spendable
                 if employee is not None else None)
    cards = selectors.cards(rows, employee=employee, spendable=spendable)
    return {"items": [_activity_out(c, employee=employee is not None) for c in cards],
            "next_cursor": next_cursor}


class ActivitiesMineOut(Schema):
    kind: Kind
    id: int
    title: str
    phase: str
    count: int = Field(description="Your active entries, or your bids.")
    points: PointsOut = Field(description="Points your entries cost, or your highest bid.")
    status: str = Field(description="Lottery: entered, won, lost, refunded. Auction: "
                                    "leading, outbid, won, released.")
    prize: str
    url: str


class MinePage(Schema):
    items: list[ActivitiesMineOut]


@router.get("/me/activities", response=MinePage, tags=["me"])
def my_activities(request: HttpRequest) -> dict:
    """The lotteries the signed-in employee entered and the auctions they bid in, newest
    first (the latest 50 of each)."""
    employee = principal(request).require_employee()
    return {"items": [{
        "kind": m.kind, "id": m.pk, "title": m.activity.title, "phase": m.phase,
        "count": m.count, "points": m.points, "status": str(m.status), "prize": m.prize,
        "url": selectors.page_url(m.kind, m.pk),
    } for m in selectors.my_participation(employee)]}


class AnnounceIn(Schema):
    message: str = Field("", max_length=500)


class AnnounceOut(Schema):
    kind: Kind
    id: int
    recipients: int
    notice_sent_at: datetime


def _activity(kind: str, activity_id: int) -> Any:
    return selectors.get_activity(kind, activity_id)


@router.post("/activities/{kind}/{activity_id}/announce", response=AnnounceOut)
def announce(request: HttpRequest, kind: Kind, activity_id: UrlRowId,
             payload: AnnounceIn | None = None) -> dict:
    """Send the notice to every eligible active employee, once (409 ``already_announced``
    after that; 409 ``activity_closed`` once it is over; 409 ``conflict`` for a draft)."""
    caller = principal(request)
    _require_admin(caller)
    activity = _activity(kind, activity_id)
    sent = services.announce(activity=activity, actor=caller.actor,
                             message=payload.message if payload else "")
    return {"kind": kind, "id": activity.pk, "recipients": sent,
            "notice_sent_at": activity.notice_sent_at}


class BucketOut(Schema):
    at: str
    start: datetime
    count: int
    total: int
    points: PointsOut


class PrizeOut(Schema):
    name: str
    rank: int
    kind: str
    quantity: int
    given: int


class StatsOut(Schema):
    kind: Kind
    id: int
    participants: int
    actions: int = Field(description="Active entries (lottery) or bids (auction).")
    points_collected: PointsOut
    prizes_total: int
    prizes_given: int
    bucket: Literal["hour", "day"]
    timeline: list[BucketOut]
    prizes: list[PrizeOut]


@router.get("/activities/{kind}/{activity_id}/stats", response=StatsOut)
def stats(request: HttpRequest, kind: Kind, activity_id: UrlRowId) -> dict:
    """Participation and results for the console's charts (those who run activities)."""
    caller = principal(request)
    _require_admin(caller)
    found = selectors.activity_stats(_activity(kind, activity_id))
    return {**found.as_dict(), "timeline": found.timeline}
