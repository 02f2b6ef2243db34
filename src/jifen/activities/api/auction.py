"""Activities API: the auction part. Admins (``manage_activities``; API keys with the
``admin`` scope) create, change, publish and cancel auctions; employees list and read them,
bid (``Idempotency-Key``) and see their own bids. Reading an auction past its end closes it
first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from jifen.activities.models import ActivityStatus, Auction, Bid
from jifen.activities.selectors import auction as selectors
from jifen.activities.selectors.auction import minimum_bid
from jifen.activities.services import auction as services
from jifen.core import errors
from jifen.core.apiauth import Principal, principal
from jifen.core.idempotency import idempotent, ledger_key
from jifen.core.pagination import paginate
from jifen.core.roles import Cap, user_can
from jifen.core.schema_types import (
    INT32_MAX,
    RowId,
    SiteDateTime,
    StrictBool,
    StrictInt,
    UrlInt,
    UrlRowId,
)
from jifen.ledger.amounts import PointsIn, PointsOut
from jifen.people.models import Department
from jifen.people.selectors import departments_by_codes

router = Router(tags=["activities"])


def _require_manager(caller: Principal) -> None:
    allowed = (user_can(caller.user, Cap.MANAGE_ACTIVITIES) if caller.kind == "employee"
               else caller.can("admin"))
    if not allowed:
        raise errors.PermissionDenied(_("Only those who run activities may do this."),
                                      code=errors.ErrorCode.FORBIDDEN)


def _is_manager(caller: Principal) -> bool:
    try:
        _require_manager(caller)
    except errors.PermissionDenied:
        return False
    return True


class AuctionIn(Schema):
    title: str = Field(min_length=1, max_length=120)
    description: str = Field("", max_length=5000)
    item_id: RowId
    starting_price: PointsIn = Field(examples=[100])
    min_increment: PointsIn = Field(1, examples=[10])
    reserve_price: PointsIn | None = Field(None, description="null means no reserve.")
    starts_at: SiteDateTime
    ends_at: SiteDateTime
    extend_minutes: StrictInt = Field(5, ge=0, le=services.MAX_EXTEND_MINUTES,
                                      description="A bid this close to the end extends it "
                                      "by as much; 0 turns anti-sniping off.")
    latest_end: SiteDateTime | None = Field(None, description="Anti-sniping never moves "
                                            "the end past this; null means no limit.")
    min_balance: PointsIn = Field(0, description="Spendable points needed to bid.")
    eligible_grades: list[str] = Field([], max_length=50)
    min_tenure_days: StrictInt = Field(0, ge=0, le=INT32_MAX)
    department_codes: list[str] = Field([], max_length=200,
                                        description="Only these departments (and their "
                                        "sub-departments); empty means everyone.")
    publish: StrictBool = Field(False, description="Publish at once.")


class BidOut(Schema):
    id: int
    auction_id: int
    amount: PointsOut
    status: str = Field(description="`leading`, `outbid`, `won` or `released` (returned).")
    bidder: str = Field(description="The bidder's name; masked unless it is the caller.")
    mine: bool
    created_at: datetime


class AuctionOut(Schema):
    id: int
    title: str
    description: str
    status: str
    phase: str = Field(description="`draft`, `upcoming`, `running`, `finished` or "
                       "`cancelled`, from status and times.")
    item_id: int
    item_name: str
    starting_price: PointsOut
    min_increment: PointsOut
    reserve_price: PointsOut | None = Field(description="Shown to those who run activities "
                                            "only; null for others.")
    reserve_met: bool | None
    price: PointsOut | None = Field(description="The leading bid; null before any bid.")
    minimum_bid: PointsOut
    bid_count: int
    starts_at: datetime
    ends_at: datetime
    latest_end: datetime | None
    extend_minutes: int
    leading: bool = Field(description="The caller's bid leads.")
    outcome: str = Field(description="Once finished: `won`, `reserve_not_met`, `no_bids`.")
    won_by_me: bool
    order_id: int | None = Field(description="The winner's order: shown to the winner and "
                                 "to those who run activities.")
    cancel_reason: str


def _auction_out(auction: Auction, caller: Principal) -> dict[str, Any]:
    manager = _is_manager(caller)
    me = getattr(caller.user, "employee", None) if caller.kind == "employee" else None
    won_by_me = bool(me is not None and auction.outcome == "won"
                     and auction.leader_id == me.pk)
    reserve_met = (None if auction.reserve_price is None or auction.leader_id is None
                   else auction.price >= auction.reserve_price)
    return {
        "id": auction.pk, "title": auction.title, "description": auction.description,
        "status": auction.status, "phase": auction.phase, "item_id": auction.item_id,
        "item_name": auction.item.name, "starting_price": auction.starting_price,
        "min_increment": auction.min_increment,
        "reserve_price": auction.reserve_price if manager else None,
        "reserve_met": reserve_met,
        "price": auction.price if auction.leader_id else None,
        "minimum_bid": minimum_bid(auction), "bid_count": auction.bid_count,
        "starts_at": auction.starts_at, "ends_at": auction.ends_at,
        "latest_end": auction.latest_end, "extend_minutes": auction.extend_minutes,
        "leading": bool(me is not None and auction.leader_id == me.pk
                        and auction.status == ActivityStatus.PUBLISHED),
        "outcome": auction.outcome, "won_by_me": won_by_me,
        "order_id": auction.order_id if (manager or won_by_me) else None,
        "cancel_reason": auction.cancel_reason,
    }


def _bid_out(bid: Bid, viewer_id: int | None, bidder: str | None = None) -> dict[str, Any]:
    mine = bid.employee_id == viewer_id
    return {"id": bid.pk, "auction_id": bid.auction_id, "amount": bid.amount,
            "status": bid.status, "mine": mine, "created_at": bid.created_at,
            "bidder": bidder if bidder is not None else (
                bid.employee.name if mine else selectors.mask_name(bid.employee.name))}


def _departments(codes: list[str]) -> list[Department]:
    wanted = {c.strip() for c in codes if c.strip()}
    found = departments_by_codes(wanted)
    missing = wanted - {d.code for d in found}
    if missing:
        raise errors.ValidationError(_("Unknown department %s.") % ", ".join(sorted(missing)),
                                     code=errors.ErrorCode.VALIDATION_ERROR,
                                     details={"department_codes": sorted(missing)})
    return found


def _fields(payload: AuctionIn) -> dict[str, Any]:
    data = payload.model_dump(exclude={"department_codes", "publish", "eligible_grades"})
    data["eligible_grades"] = ",".join(g.strip() for g in payload.eligible_grades if g.strip())
    return data


def _visible(caller: Principal, auction_id: int) -> Auction:
    """The auction, closed first when its end has passed; drafts only for managers."""
    services.close_if_due(auction_id, quiet=True)
    auction = selectors.auction_by_id(auction_id)
    if auction is None or (auction.status == ActivityStatus.DRAFT and not _is_manager(caller)):
        raise errors.NotFound(_("Auction not found."))
    return auction


@router.post("/auctions", response={201: AuctionOut})
def create_auction(request: HttpRequest, payload: AuctionIn):
    """Create an auction of a mall item (a draft, or published at once with ``publish``).
    422 when prices or times do not fit; 409 ``out_of_stock`` when publishing finds no item
    to set aside for the winner."""
    caller = principal(request)
    _require_manager(caller)

    def handler() -> tuple[int, dict]:
        auction = services.create_auction(actor=caller.actor,
                                          departments=_departments(payload.department_codes),
                                          **_fields(payload))
        if payload.publish:
            auction = services.publish_auction(auction=auction, actor=caller.actor)
        return 201, AuctionOut(**_auction_out(selectors.auction_by_id(auction.pk),  # type: ignore[arg-type]
                                              caller)).model_dump()

    return idempotent(request, caller.id, handler)


@router.put("/auctions/{auction_id}", response=AuctionOut)
def update_auction(request: HttpRequest, auction_id: UrlRowId, payload: AuctionIn) -> dict:
    """Change a draft auction (409 ``invalid_transition`` once published); ``publish``
    publishes it after the change."""
    caller = principal(request)
    _require_manager(caller)
    auction = _visible(caller, auction_id)
    services.update_auction(auction=auction, actor=caller.actor,
                            departments=_departments(payload.department_codes),
                            **_fields(payload))
    if payload.publish:
        services.publish_auction(auction=auction, actor=caller.actor)
    return _auction_out(_visible(caller, auction_id), caller)


@router.post("/auctions/{auction_id}/publish", response=AuctionOut)
def publish_auction(request: HttpRequest, auction_id: UrlRowId) -> dict:
    """Publish a draft: one of its item is set aside for the winner."""
    caller = principal(request)
    _require_manager(caller)
    services.publish_auction(auction=_visible(caller, auction_id), actor=caller.actor)
    return _auction_out(_visible(caller, auction_id), caller)


class AuctionCancelIn(Schema):
    reason: str = Field(min_length=1, max_length=200)


@router.post("/auctions/{auction_id}/cancel", response=AuctionOut)
def cancel_auction(request: HttpRequest, auction_id: UrlRowId, payload: AuctionCancelIn) -> dict:
    """Cancel a draft or running auction: every held point goes back, bidders are told."""
    caller = principal(request)
    _require_manager(caller)
    services.cancel_auction(auction=_visible(caller, auction_id), actor=caller.actor,
                            reason=payload.reason)
    return _auction_out(_visible(caller, auction_id), caller)


class AuctionFilters(Schema):
    status: str | None = Field(None, description="`published`, `finished`, `cancelled`, "
                               "or `draft` (for those who run activities).")
    cursor: str | None = None
    limit: UrlInt = Field(20, ge=1, le=100)


class AuctionPage(Schema):
    items: list[AuctionOut]
    next_cursor: str | None


@router.get("/auctions", response=AuctionPage)
def list_auctions(request: HttpRequest, filters: Query[AuctionFilters]) -> dict:
    """Auctions, newest first (drafts only for those who run activities). Those past their
    end are closed first."""
    caller = principal(request)
    services.close_due_auctions()
    rows = selectors.console_auctions() if _is_manager(caller) else selectors.visible_auctions()
    if filters.status:
        rows = rows.filter(status=filters.status)
    page = paginate(rows, cursor=filters.cursor, limit=filters.limit, descending=True)
    return {"items": [_auction_out(a, caller) for a in page["items"]],
            "next_cursor": page["next_cursor"]}


@router.get("/auctions/{auction_id}", response=AuctionOut)
def get_auction(request: HttpRequest, auction_id: UrlRowId) -> dict:
    """One auction; the caller's own standing in ``leading`` and ``won_by_me``."""
    caller = principal(request)
    return _auction_out(_visible(caller, auction_id), caller)


class BidIn(Schema):
    amount: PointsIn = Field(examples=[120])


@router.post("/auctions/{auction_id}/bids", response={201: BidOut})
def place_bid(request: HttpRequest, auction_id: UrlRowId, payload: BidIn):
    """Bid on a running auction: the points are held at once and the bid it beats gets its
    points back. 409 ``bid_too_low`` (``details.price``, ``details.minimum``),
    ``activity_not_open``, ``activity_closed``, ``not_eligible``, ``insufficient_points``.
    Send an ``Idempotency-Key`` header: a replay answers with the first bid."""
    caller = principal(request)
    employee = caller.require_employee()
    _visible(caller, auction_id)

    def handler() -> tuple[int, dict]:
        bid = services.place_bid(auction=auction_id, employee=employee, amount=payload.amount,
                                 idempotency_key=ledger_key(caller.id, request),
                                 actor=caller.actor)
        bid.employee = employee
        return 201, BidOut(**_bid_out(bid, employee.pk)).model_dump()

    return idempotent(request, caller.id, handler)


class BidFilters(Schema):
    cursor: str | None = None
    limit: UrlInt = Field(20, ge=1, le=100)


class BidPage(Schema):
    items: list[BidOut]
    next_cursor: str | None


@router.get("/auctions/{auction_id}/bids", response=BidPage)
def list_bids(request: HttpRequest, auction_id: UrlRowId, filters: Query[BidFilters]) -> dict:
    """An auction's bids, newest first; bidders' names masked except the caller's own
    (those who run activities see every name)."""
    caller = principal(request)
    auction = _visible(caller, auction_id)
    me = getattr(caller.user, "employee", None) if caller.kind == "employee" else None
    manager = _is_manager(caller)
    rows = selectors.bids_on(auction)
    page = paginate(rows, cursor=filters.cursor, limit=filters.limit, descending=True)
    return {"items": [_bid_out(b, me.pk if me else None,
                               b.employee.name if manager else None)
                      for b in page["items"]],
            "next_cursor": page["next_cursor"]}


@router.get("/me/bids", response=BidPage, tags=["me"])
def my_bids(request: HttpRequest, filters: Query[BidFilters]) -> dict:
    """The caller's own bids on every auction, newest first."""
    employee = principal(request).require_employee()
    rows = selectors.employee_bids(employee)
    page = paginate(rows, cursor=filters.cursor, limit=filters.limit, descending=True)
    return {"items": [_bid_out(b, employee.pk) for b in page["items"]],
            "next_cursor": page["next_cursor"]}
