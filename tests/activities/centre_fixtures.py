"""Builders for the centre's tests: lotteries, auctions, entries and bids written straight
to the models (the lottery and auction services belong to their own parts), with real
ledger movements behind entries (a debit into the activities sink) and bids (a hold), so
``jifen ledger verify`` stays meaningful. Imported by the test modules; not a conftest."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from jifen.activities.models import (
    ActivityStatus,
    Auction,
    AuctionOutcome,
    Bid,
    BidStatus,
    Entry,
    Lottery,
    PrizeTier,
    Win,
)
from jifen.core.roles import Role
from jifen.ledger import services as ledger
from jifen.ledger.models import AccountKind, Transaction
from jifen.mall import services as mall
from jifen.mall.models import Fulfilment, ItemStatus
from tests.ledger.helpers import fund  # noqa: F401 (tests import them from here)

_keys = itertools.count(1)
HOUR = timedelta(hours=1)


def make_lottery(*, title: str = "年会抽奖", starts_at: datetime | None = None,
                 ends_at: datetime | None = None, status: str = ActivityStatus.PUBLISHED,
                 entry_cost: int = 10, tiers: tuple[tuple[str, int], ...] = (("一等奖", 1),),
                 **fields: Any) -> Lottery:
    now = timezone.now()
    starts_at = starts_at or now - HOUR
    lottery = Lottery.objects.create(
        title=title, starts_at=starts_at, ends_at=ends_at or starts_at + 48 * HOUR,
        status=status, entry_cost=entry_cost, entry_limit=fields.pop("entry_limit", 5),
        **fields)
    for rank, (name, quantity) in enumerate(tiers, start=1):
        PrizeTier.objects.create(lottery=lottery, rank=rank, name=name, quantity=quantity,
                                 remaining=quantity)
    return lottery


def enter(lottery: Lottery, employee: Any, *, at: datetime | None = None) -> Entry:
    entry = Entry.objects.create(lottery=lottery, employee=employee,
                                 created_at=at or timezone.now())
    if lottery.entry_cost:
        ledger.debit(employee=employee, amount=lottery.entry_cost,
                     idempotency_key=f"centre-test-entry-{entry.pk}", cause=entry,
                     sink=AccountKind.ACTIVITIES)
    Lottery.objects.filter(pk=lottery.pk).update(entries_count=lottery.entries.count())
    return entry


def draw(lottery: Lottery, entries: list[Entry]) -> list[Win]:
    """Mark ``entries`` as the winners in order (tier by tier) and finish the lottery."""
    tiers = [t for t in lottery.tiers.order_by("rank") for _ in range(t.quantity)]
    wins = [Win.objects.create(lottery=lottery, tier=tier, entry=entry, draw_index=k,
                               value=f"{k:064x}")
            for k, (tier, entry) in enumerate(zip(tiers, entries, strict=False))]
    Lottery.objects.filter(pk=lottery.pk).update(status=ActivityStatus.FINISHED,
                                                 drawn_at=timezone.now())
    lottery.refresh_from_db()
    return wins


def make_item(admin_user: Any, name: str = "降噪耳机") -> Any:
    category = mall.save_category(actor=admin_user, name=f"拍品{next(_keys)}")
    return mall.create_item(actor=admin_user, name=name, points=500, category=category,
                            status=ItemStatus.LISTED, fulfilment=Fulfilment.SERVICE)


def make_auction(item: Any, *, title: str = "耳机竞拍", starts_at: datetime | None = None,
                 ends_at: datetime | None = None, status: str = ActivityStatus.PUBLISHED,
                 starting_price: int = 100, **fields: Any) -> Auction:
    now = timezone.now()
    starts_at = starts_at or now - HOUR
    return Auction.objects.create(
        title=title, item=item, starts_at=starts_at, ends_at=ends_at or starts_at + 48 * HOUR,
        status=status, starting_price=starting_price, **fields)


def bid(auction: Auction, employee: Any, amount: int, *, at: datetime | None = None) -> Bid:
    """A new leading bid: its points held, the previous leader's hold released."""
    previous = auction.bids.filter(status=BidStatus.LEADING).first()
    new = Bid.objects.create(auction=auction, employee=employee, amount=amount,
                             created_at=at or timezone.now())
    txn = ledger.hold(employee=employee, amount=amount,
                      idempotency_key=f"centre-test-bid-{new.pk}", cause=new)
    new.hold_txn_id = txn.pk
    new.save(update_fields=["hold_txn_id"])
    if previous is not None:
        ledger.release(hold=Transaction.objects.get(pk=previous.hold_txn_id),
                       idempotency_key=f"centre-test-outbid-{previous.pk}")
        previous.status = BidStatus.OUTBID
        previous.save(update_fields=["status"])
    Auction.objects.filter(pk=auction.pk).update(price=amount, leader=employee,
                                                 bid_count=auction.bids.count())
    auction.refresh_from_db()
    return new


def sell(auction: Auction) -> None:
    """Close ``auction`` to its leader: the leading hold captured into the activities sink."""
    leading = auction.bids.get(status=BidStatus.LEADING)
    ledger.capture(hold=Transaction.objects.get(pk=leading.hold_txn_id),
                   idempotency_key=f"centre-test-capture-{leading.pk}",
                   sink=AccountKind.ACTIVITIES)
    leading.status = BidStatus.WON
    leading.save(update_fields=["status"])
    Auction.objects.filter(pk=auction.pk).update(status=ActivityStatus.FINISHED,
                                                 outcome=AuctionOutcome.WON,
                                                 closed_at=timezone.now())
    auction.refresh_from_db()


@pytest.fixture
def activities_admin(make_role_employee):
    return make_role_employee(Role.MALL_ADMIN, name="活动管理员", employee_no="A900")
