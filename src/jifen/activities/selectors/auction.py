"""Reads of auctions: one auction as an employee sees it (the minimum bid, whether they
lead, the bid history with other bidders' names masked), lists for the console and an
employee's own bids. Callers close an auction past its end first
(``services.auction.close_if_due``): a selector never writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from jifen.activities.models import ActivityStatus, Auction, Bid, BidStatus
from jifen.people.models import Employee


def mask_name(name: str) -> str:
    """"张伟" → "张*", "欧阳娜娜" → "欧***", "Li" → "L*": enough to tell bids apart."""
    name = (name or "").strip()
    if not name:
        return "*"
    return name[0] + "*" * max(1, len(name) - 1)


@dataclass(frozen=True)
class BidRow:
    id: int
    amount: int
    status: str
    bidder: str
    mine: bool
    at: datetime


@dataclass(frozen=True)
class AuctionState:
    """What an employee's page shows, read afresh on every poll."""

    auction: Auction
    phase: str
    minimum: int
    leading: bool
    outbid: bool  # bid here, and someone else leads now
    my_best: int | None
    seconds_left: int
    bids: list[BidRow]


def auction_by_id(pk: int) -> Auction | None:
    return (Auction.objects.select_related("item", "leader").filter(pk=pk).first())


def bid_rows(auction: Auction, *, viewer: Employee | None, limit: int = 20) -> list[BidRow]:
    """The latest bids, newest first; names masked except the viewer's own."""
    bids = (Bid.objects.filter(auction=auction).select_related("employee")
            .order_by("-created_at", "-id")[:limit])
    viewer_id = viewer.pk if viewer is not None else None
    return [BidRow(b.pk, b.amount, b.status,
                   b.employee.name if b.employee_id == viewer_id else mask_name(b.employee.name),
                   b.employee_id == viewer_id, b.created_at) for b in bids]


def minimum_bid(auction: Auction) -> int:
    """The lowest bid the auction takes now: the starting price until someone bids, then
    the leading price plus the minimum raise (an equal bid is too low: ties go to the
    earlier bid)."""
    if auction.leader_id is None:
        return auction.starting_price
    return max(auction.starting_price, auction.price + auction.min_increment)


def auction_state(auction: Auction, *, viewer: Employee | None,
                  now: datetime | None = None) -> AuctionState:
    now = now or timezone.now()
    mine = None
    if viewer is not None:
        mine = (Bid.objects.filter(auction=auction, employee=viewer)
                .order_by("-amount").values_list("amount", flat=True).first())
    leading = viewer is not None and auction.leader_id == viewer.pk
    return AuctionState(
        auction=auction, phase=auction.phase_at(now), minimum=minimum_bid(auction),
        leading=leading, outbid=mine is not None and not leading, my_best=mine,
        seconds_left=max(0, int((auction.ends_at - now).total_seconds())),
        bids=bid_rows(auction, viewer=viewer))


def console_auctions() -> QuerySet[Auction]:
    return Auction.objects.select_related("item", "leader").order_by("-created_at", "-id")


def visible_auctions() -> QuerySet[Auction]:
    """What employees may see: everything published, running or over (not drafts)."""
    return (Auction.objects.exclude(status=ActivityStatus.DRAFT)
            .select_related("item").order_by("-starts_at", "-id"))


def bids_of(employee: Employee) -> QuerySet[Bid]:
    """An employee's bids, newest first, with their auctions."""
    return (Bid.objects.filter(employee=employee).select_related("auction")
            .order_by("-created_at", "-id"))


def leading_bids_count(employee: Employee) -> int:
    return Bid.objects.filter(employee=employee, status=BidStatus.LEADING).count()


def latest_bids(auction: Auction, limit: int = 50) -> list[Bid]:
    """The console's bid list: the newest first, with their bidders."""
    return list(Bid.objects.filter(auction=auction).select_related("employee")
                .order_by("-created_at", "-id")[:limit])


def bids_on(auction: Auction) -> QuerySet[Bid]:
    return Bid.objects.filter(auction=auction).select_related("employee")


def employee_bids(employee: Employee) -> QuerySet[Bid]:
    """An employee's bids with the bidder (the API's page of them)."""
    return Bid.objects.filter(employee=employee).select_related("employee")
