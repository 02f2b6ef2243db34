"""Auction services: bidding, anti-sniping, closing, cancelling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jifen.activities.models import ActivityStatus, Auction, AuctionOutcome, Bid, BidStatus
from jifen.activities.services import auction as auctions
from jifen.core import errors
from jifen.core.models import AuditEntry
from jifen.mall.models import Item, Order
from jifen.notifications.models import Notification
from tests.activities.auction_fixtures import *  # noqa: F403 - the auction fixtures
from tests.activities.auction_fixtures import held, spendable

pytestmark = pytest.mark.django_db


def _kinds(employee) -> list[str]:
    return list(Notification.objects.filter(recipient=employee.user)
                .order_by("id").values_list("kind", flat=True))


def test_a_bid_holds_points_and_outbidding_releases_them(make_auction, bidders):
    auction = make_auction()
    a, b, _c = bidders
    auctions.place_bid(auction=auction, employee=a, amount=100)
    assert (spendable(a), held(a)) == (900, 100)
    auctions.place_bid(auction=auction, employee=b, amount=110)
    assert (spendable(a), held(a)) == (1000, 0)
    assert (spendable(b), held(b)) == (890, 110)
    auction.refresh_from_db()
    assert (auction.price, auction.leader_id, auction.bid_count) == (110, b.pk, 2)
    assert list(Bid.objects.order_by("id").values_list("status", flat=True)) == [
        BidStatus.OUTBID, BidStatus.LEADING]
    assert _kinds(a) == ["activities.outbid"]


def test_a_bid_below_the_minimum_is_refused_with_the_minimum(make_auction, bidders):
    auction = make_auction()
    a, b, _c = bidders
    with pytest.raises(errors.Conflict) as caught:
        auctions.place_bid(auction=auction, employee=a, amount=99)
    assert caught.value.code == errors.ErrorCode.BID_TOO_LOW
    assert caught.value.details == {"price": None, "minimum": 100}
    auctions.place_bid(auction=auction, employee=a, amount=150)
    with pytest.raises(errors.Conflict) as caught:
        auctions.place_bid(auction=auction, employee=b, amount=159)
    assert caught.value.details == {"price": 150, "minimum": 160}
    assert (spendable(b), held(b)) == (1000, 0)


def test_a_tie_goes_to_the_earlier_bid(make_auction, bidders):
    auction = make_auction(min_increment=1)
    a, b, _c = bidders
    auctions.place_bid(auction=auction, employee=a, amount=200)
    with pytest.raises(errors.Conflict) as caught:
        auctions.place_bid(auction=auction, employee=b, amount=200)
    assert caught.value.code == errors.ErrorCode.BID_TOO_LOW
    auction.refresh_from_db()
    assert auction.leader_id == a.pk and held(b) == 0


def test_the_same_idempotency_key_places_one_bid(make_auction, bidders):
    auction = make_auction()
    a, b, _c = bidders
    first = auctions.place_bid(auction=auction, employee=a, amount=120, idempotency_key="k1")
    again = auctions.place_bid(auction=auction, employee=a, amount=120, idempotency_key="k1")
    assert again.pk == first.pk and Bid.objects.count() == 1 and held(a) == 120
    with pytest.raises(errors.Conflict) as caught:
        auctions.place_bid(auction=auction, employee=b, amount=500, idempotency_key="k1")
    assert caught.value.code == errors.ErrorCode.IDEMPOTENCY_KEY_REUSED


def test_raising_ones_own_leading_bid_holds_only_the_new_amount(make_auction, bidders):
    auction = make_auction()
    a, _b, _c = bidders
    auctions.place_bid(auction=auction, employee=a, amount=100)
    auctions.place_bid(auction=auction, employee=a, amount=150)
    assert (spendable(a), held(a)) == (850, 150)
    assert _kinds(a) == []
    assert list(Bid.objects.order_by("id").values_list("status", flat=True)) == [
        BidStatus.RELEASED, BidStatus.LEADING]


def test_a_bid_beyond_ones_points_changes_nothing(make_auction, bidders):
    auction = make_auction()
    a, _b, _c = bidders
    with pytest.raises(errors.InsufficientPoints):
        auctions.place_bid(auction=auction, employee=a, amount=5000)
    assert not Bid.objects.exists()
    auction.refresh_from_db()
    assert auction.leader_id is None and auction.bid_count == 0


def test_bids_before_opening_or_on_a_draft_are_refused(make_auction, bidders):
    now = timezone.now()
    later = make_auction(starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2))
    with pytest.raises(errors.Conflict) as caught:
        auctions.place_bid(auction=later, employee=bidders[0], amount=100)
    assert caught.value.code == errors.ErrorCode.ACTIVITY_NOT_OPEN
    draft = make_auction(publish=False)
    with pytest.raises(errors.Conflict) as caught:
        auctions.place_bid(auction=draft, employee=bidders[0], amount=100)
    assert caught.value.code == errors.ErrorCode.ACTIVITY_NOT_OPEN


def test_only_eligible_employees_bid(make_auction, bidders):
    auction = make_auction(eligible_grades="P7,P8")
    with pytest.raises(errors.Conflict) as caught:
        auctions.place_bid(auction=auction, employee=bidders[0], amount=100)
    assert caught.value.code == errors.ErrorCode.NOT_ELIGIBLE
    rich_only = make_auction(title="只限高余额", min_balance=5000)
    with pytest.raises(errors.Conflict) as caught:
        auctions.place_bid(auction=rich_only, employee=bidders[0], amount=100)
    assert caught.value.code == errors.ErrorCode.NOT_ELIGIBLE


class TestAntiSniping:
    def test_a_bid_in_the_last_minutes_extends_the_end(self, make_auction, bidders):
        now = timezone.now()
        auction = make_auction(ends_at=now + timedelta(minutes=3), extend_minutes=5)
        auctions.place_bid(auction=auction, employee=bidders[0], amount=100, now=now)
        auction.refresh_from_db()
        assert auction.ends_at == now + timedelta(minutes=8)

    def test_a_bid_well_before_the_end_does_not(self, make_auction, bidders):
        now = timezone.now()
        ends = now + timedelta(minutes=30)
        auction = make_auction(ends_at=ends, extend_minutes=5)
        auctions.place_bid(auction=auction, employee=bidders[0], amount=100, now=now)
        auction.refresh_from_db()
        assert auction.ends_at == ends

    def test_the_end_never_passes_the_latest_end(self, make_auction, bidders):
        now = timezone.now()
        auction = make_auction(ends_at=now + timedelta(minutes=2), extend_minutes=5,
                               latest_end=now + timedelta(minutes=9))
        a, b, _c = bidders
        auctions.place_bid(auction=auction, employee=a, amount=100, now=now)
        auction.refresh_from_db()
        assert auction.ends_at == now + timedelta(minutes=7)
        later = now + timedelta(minutes=6)
        auctions.place_bid(auction=auction, employee=b, amount=110, now=later)
        auction.refresh_from_db()
        assert auction.ends_at == now + timedelta(minutes=9)
        with pytest.raises(errors.Conflict) as caught:
            auctions.place_bid(auction=auction, employee=a, amount=200,
                               now=now + timedelta(minutes=9, seconds=1))
        assert caught.value.code == errors.ErrorCode.ACTIVITY_CLOSED

    def test_zero_minutes_turns_it_off(self, make_auction, bidders):
        now = timezone.now()
        ends = now + timedelta(minutes=1)
        auction = make_auction(ends_at=ends, extend_minutes=0)
        auctions.place_bid(auction=auction, employee=bidders[0], amount=100, now=now)
        auction.refresh_from_db()
        assert auction.ends_at == ends


class TestClosing:
    def test_the_winner_gets_an_order_paid_by_the_held_bid(self, make_auction, bidders,
                                                           prize_item):
        now = timezone.now()
        auction = make_auction(ends_at=now + timedelta(minutes=30))
        a, b, _c = bidders
        auctions.place_bid(auction=auction, employee=a, amount=100, now=now)
        auctions.place_bid(auction=auction, employee=b, amount=130, now=now)
        closed = auctions.close_if_due(auction.pk, now=now + timedelta(hours=1))
        assert closed is not None and closed.outcome == AuctionOutcome.WON
        order = Order.objects.get(pk=closed.order_id)
        assert (order.employee_id, order.points, order.source) == (
            b.pk, 130, f"activities.auction:{auction.pk}")
        assert (spendable(b), held(b)) == (870, 130)
        assert (spendable(a), held(a)) == (1000, 0)
        # Reserved at publishing (5 → 4), not taken again by the order.
        assert Item.objects.get(pk=prize_item.pk).stock == 4
        auction.refresh_from_db()
        assert (auction.status, auction.order_id) == (ActivityStatus.FINISHED, order.pk)
        assert "activities.auction_won" in _kinds(b)
        assert _kinds(a)[-1] == "activities.auction_ended"

    def test_closing_happens_once(self, make_auction, bidders):
        now = timezone.now()
        auction = make_auction(ends_at=now + timedelta(minutes=30))
        auctions.place_bid(auction=auction, employee=bidders[0], amount=100, now=now)
        later = now + timedelta(hours=1)
        assert auctions.close_if_due(auction.pk, now=later) is not None
        assert auctions.close_if_due(auction.pk, now=later) is None
        assert auctions.close_due_auctions(now=later) == []
        assert Order.objects.count() == 1

    def test_reserve_not_met_returns_every_point(self, make_auction, bidders, prize_item):
        now = timezone.now()
        auction = make_auction(ends_at=now + timedelta(minutes=30), reserve_price=500)
        a, b, _c = bidders
        auctions.place_bid(auction=auction, employee=a, amount=100, now=now)
        auctions.place_bid(auction=auction, employee=b, amount=300, now=now)
        closed = auctions.close_if_due(auction.pk, now=now + timedelta(hours=1))
        assert closed is not None and closed.outcome == AuctionOutcome.RESERVE_NOT_MET
        assert not Order.objects.exists()
        assert [held(a), held(b), spendable(a), spendable(b)] == [0, 0, 1000, 1000]
        assert Item.objects.get(pk=prize_item.pk).stock == 5
        ended = Notification.objects.filter(recipient=b.user, kind="activities.auction_ended")
        assert ended.get().params["variant"] == "reserve_not_met"

    def test_no_bids_returns_the_reserved_item(self, make_auction, prize_item):
        now = timezone.now()
        auction = make_auction(ends_at=now + timedelta(minutes=30))
        assert Item.objects.get(pk=prize_item.pk).stock == 4
        closed = auctions.close_if_due(auction.pk, now=now + timedelta(hours=1))
        assert closed is not None and closed.outcome == AuctionOutcome.NO_BIDS
        assert Item.objects.get(pk=prize_item.pk).stock == 5

    def test_the_worker_closes_what_is_due(self, make_auction, bidders):
        now = timezone.now()
        due = make_auction(ends_at=now + timedelta(minutes=10))
        running = make_auction(title="还在进行", ends_at=now + timedelta(hours=3))
        closed = auctions.close_due_auctions(now=now + timedelta(hours=1))
        assert [c.auction_id for c in closed] == [due.pk]
        assert Auction.objects.get(pk=running.pk).status == ActivityStatus.PUBLISHED

    def test_the_close_task_closes_the_auction(self, make_auction, bidders):
        from jifen.activities.auction_tasks import close_auction_task

        now = timezone.now()
        auction = make_auction(ends_at=now + timedelta(seconds=1))
        auctions.place_bid(auction=auction, employee=bidders[0], amount=100, now=now)
        Auction.objects.filter(pk=auction.pk).update(ends_at=now - timedelta(seconds=1))
        assert close_auction_task.call(auction.pk) == AuctionOutcome.WON


class TestCancelling:
    def test_cancelling_releases_every_hold_and_tells_every_bidder(self, make_auction, bidders,
                                                                   activities_admin, prize_item):
        auction = make_auction()
        a, b, c = bidders
        auctions.place_bid(auction=auction, employee=a, amount=100)
        auctions.place_bid(auction=auction, employee=b, amount=120)
        auctions.place_bid(auction=auction, employee=c, amount=140)
        auctions.cancel_auction(auction=auction, actor=activities_admin.user, reason="商品停产")
        assert [held(p) for p in bidders] == [0, 0, 0]
        assert [spendable(p) for p in bidders] == [1000, 1000, 1000]
        assert Item.objects.get(pk=prize_item.pk).stock == 5
        assert not Bid.objects.filter(status=BidStatus.LEADING).exists()
        for person in bidders:
            assert _kinds(person)[-1] == "activities.cancelled"
        refunded = Notification.objects.get(recipient=c.user, kind="activities.cancelled")
        assert refunded.params["points"] == 140
        assert AuditEntry.objects.filter(action="activities.auction.cancel").exists()
        with pytest.raises(errors.Conflict):
            auctions.place_bid(auction=auction, employee=a, amount=500)

    def test_a_finished_auction_cannot_be_cancelled(self, make_auction, activities_admin):
        now = timezone.now()
        auction = make_auction(ends_at=now + timedelta(minutes=1))
        auctions.close_if_due(auction.pk, now=now + timedelta(minutes=2))
        with pytest.raises(errors.Conflict) as caught:
            auctions.cancel_auction(auction=auction, actor=activities_admin.user, reason="x")
        assert caught.value.code == errors.ErrorCode.INVALID_TRANSITION

    def test_a_reason_is_required(self, make_auction, activities_admin):
        with pytest.raises(errors.ValidationError):
            auctions.cancel_auction(auction=make_auction(), actor=activities_admin.user,
                                    reason=" ")


class TestAdmin:
    def test_creating_and_publishing_are_audited(self, make_auction):
        make_auction()
        assert set(AuditEntry.objects.values_list("action", flat=True)) >= {
            "activities.auction.create", "activities.auction.publish"}

    @pytest.mark.parametrize("fields, code", [
        ({"starting_price": 0}, "invalid_amount"),
        ({"min_increment": 0}, "invalid_amount"),
        ({"reserve_price": 50}, "invalid_amount"),
        ({"extend_minutes": 5000}, "invalid_value"),
        ({"item_id": 999999}, "not_found"),
        ({"title": "  "}, "validation_error"),
    ])
    def test_an_auction_that_cannot_run_is_refused(self, make_auction, fields, code):
        with pytest.raises(errors.ValidationError) as caught:
            make_auction(publish=False, **fields)
        assert caught.value.code == code
        assert not Auction.objects.exists()

    def test_times_must_fit(self, make_auction):
        now = timezone.now()
        with pytest.raises(errors.ValidationError):
            make_auction(starts_at=now, ends_at=now - timedelta(minutes=1))
        with pytest.raises(errors.ValidationError):
            make_auction(ends_at=now + timedelta(hours=2), latest_end=now + timedelta(hours=1))

    def test_only_drafts_change(self, make_auction, activities_admin):
        draft = make_auction(publish=False)
        auctions.update_auction(auction=draft, actor=activities_admin.user, starting_price=150)
        assert Auction.objects.get(pk=draft.pk).starting_price == 150
        published = auctions.publish_auction(auction=draft, actor=activities_admin.user)
        with pytest.raises(errors.Conflict):
            auctions.update_auction(auction=published, actor=activities_admin.user,
                                    starting_price=10)
        with pytest.raises(errors.Conflict):
            auctions.publish_auction(auction=published, actor=activities_admin.user)

    def test_publishing_needs_the_item_in_stock(self, make_auction, prize_item):
        Item.objects.filter(pk=prize_item.pk).update(stock=0)
        with pytest.raises(errors.Conflict) as caught:
            make_auction()
        assert caught.value.code == errors.ErrorCode.OUT_OF_STOCK
        assert Auction.objects.get().status == ActivityStatus.DRAFT


def test_a_read_past_the_end_closes_it_first(make_auction, bidders, client):
    from django.urls import reverse

    now = timezone.now()
    auction = make_auction(ends_at=now + timedelta(minutes=30))
    auctions.place_bid(auction=auction, employee=bidders[0], amount=100, now=now)
    Auction.objects.filter(pk=auction.pk).update(ends_at=now - timedelta(seconds=1))
    client.force_login(bidders[1].user)
    response = client.get(reverse("portal:auction", args=[auction.pk]))
    assert response.status_code == 200
    auction.refresh_from_db()
    assert auction.status == ActivityStatus.FINISHED and auction.outcome == AuctionOutcome.WON
    assert Order.objects.filter(employee=bidders[0]).count() == 1


def test_bidding_past_the_end_closes_it_and_is_refused(make_auction, bidders):
    now = timezone.now()
    auction = make_auction(ends_at=now + timedelta(minutes=30))
    auctions.place_bid(auction=auction, employee=bidders[0], amount=100, now=now)
    with pytest.raises(errors.Conflict) as caught:
        auctions.place_bid(auction=auction, employee=bidders[1], amount=200,
                           now=now + timedelta(hours=1))
    assert caught.value.code == errors.ErrorCode.ACTIVITY_CLOSED
    assert Auction.objects.get(pk=auction.pk).status == ActivityStatus.FINISHED
    assert held(bidders[1]) == 0
