"""100 simultaneous bids on one auction, in real threads: exactly one leader, every other
bidder's hold released, ``jifen ledger verify`` clean. Runs on PostgreSQL and MariaDB
(SQLite has one writer at a time: nothing to race there)."""

from __future__ import annotations

import os
import threading
from collections import Counter

import pytest
from django.db import OperationalError, close_old_connections, connection, connections

from jifen.activities.models import Auction, Bid, BidStatus
from jifen.activities.services import auction as auctions
from jifen.core import errors
from tests.activities.auction_fixtures import *  # noqa: F403 - the auction fixtures
from tests.activities.auction_fixtures import held, make_bidders, spendable
from tests.conftest import assert_ledger_sound

BIDDERS = int(os.environ.get("JIFEN_AUCTION_BIDDERS", "100"))
POINTS = 2000

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.usefixtures("many_connections"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _needs_a_real_server():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has one writer at a time; the race needs PostgreSQL or MariaDB")


def _connection_cap() -> int:
    # PostgreSQL's default limit is 100 connections for the whole server (the test's own
    # connection included): the 100 bids start together, at most 80 of them inside the
    # database at once. MariaDB allows 151: all 100 at once.
    default = 80 if connection.vendor == "postgresql" else BIDDERS
    return int(os.environ.get("JIFEN_AUCTION_CONNECTIONS", str(default)))


def _race(auction: Auction, bidders: list, amount_of) -> Counter:
    outcomes: Counter = Counter()
    lock = threading.Lock()
    start = threading.Barrier(len(bidders))
    inside = threading.BoundedSemaphore(_connection_cap())

    def bid(person, index: int) -> None:
        try:
            start.wait()
            with inside:
                try:
                    auctions.place_bid(auction=auction.pk, employee=person,
                                       amount=amount_of(index),
                                       idempotency_key=f"race:{person.pk}:{index}")
                    result = "ok"
                except errors.Conflict as exc:
                    result = str(exc.code)
                except OperationalError as exc:  # a deadlock would be a bug: count it
                    result = f"db:{exc.args[0] if exc.args else exc}"
                finally:
                    connections.close_all()
            with lock:
                outcomes[result] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=bid, args=(p, i)) for i, p in enumerate(bidders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    close_old_connections()
    return outcomes


def _assert_one_leader(auction: Auction, bidders: list) -> None:
    auction.refresh_from_db()
    leading = list(Bid.objects.filter(auction=auction, status=BidStatus.LEADING))
    assert len(leading) == 1
    leader = leading[0]
    assert (auction.leader_id, auction.price) == (leader.employee_id, leader.amount)
    # Accepted bids rose strictly, in the order they were placed.
    amounts = list(Bid.objects.filter(auction=auction).order_by("id")
                   .values_list("amount", flat=True))
    assert amounts == sorted(set(amounts)) and auction.bid_count == len(amounts)
    for person in bidders:
        expected = leader.amount if person.pk == leader.employee_id else 0
        assert (held(person), spendable(person)) == (expected, POINTS - expected)
    assert_ledger_sound()


def test_a_hundred_simultaneous_bids_leave_one_leader(make_auction, department):
    auction = make_auction(starting_price=100, min_increment=10)
    bidders = make_bidders(department, BIDDERS, points=POINTS)
    # Pairs of equal bids: of two equal bids the later one is too low (ties go to the
    # earlier bid).
    outcomes = _race(auction, bidders, lambda i: 100 + (i // 2) * 10)
    assert sum(outcomes.values()) == BIDDERS
    assert set(outcomes) <= {"ok", "bid_too_low"}, outcomes
    assert outcomes["ok"] >= 1
    _assert_one_leader(auction, bidders)
    top = Bid.objects.get(auction=auction, status=BidStatus.LEADING)
    assert top.amount <= 100 + ((BIDDERS - 1) // 2) * 10


def test_everyone_bidding_the_same_amount_gives_it_to_one(make_auction, department):
    auction = make_auction(starting_price=100, min_increment=10)
    bidders = make_bidders(department, BIDDERS, points=POINTS)
    outcomes = _race(auction, bidders, lambda i: 500)
    assert outcomes == Counter({"ok": 1, "bid_too_low": BIDDERS - 1})
    _assert_one_leader(auction, bidders)
