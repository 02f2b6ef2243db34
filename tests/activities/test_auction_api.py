"""The auction API: create, list, read, bid (Idempotency-Key), bids, my bids."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from jifen.activities.models import Auction, Bid
from jifen.integrations.services import create_api_key
from jifen.people.services import issue_access_token
from tests.activities.auction_fixtures import *  # noqa: F403 - the auction fixtures
from tests.activities.auction_fixtures import held

pytestmark = pytest.mark.django_db


def token_for(employee) -> str:
    return issue_access_token(user=employee.user)[1]


def call(client, method: str, path: str, token: str, body: dict | None = None, **headers):
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token}", **headers}
    if method == "get":
        return client.get(path, body or {}, **extra)
    return getattr(client, method)(path, data=json.dumps(body or {}),
                                   content_type="application/json", **extra)


def _new(prize_item, **extra) -> dict:
    now = timezone.now()
    return {"title": "竞拍：机械键盘", "item_id": prize_item.pk, "starting_price": 100,
            "min_increment": 10, "starts_at": (now - timedelta(minutes=5)).isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat(), "publish": True, **extra}


def test_an_admin_creates_and_publishes_an_auction(client, activities_admin, prize_item,
                                                   department):
    answer = call(client, "post", "/api/v1/auctions", token_for(activities_admin),
                  _new(prize_item, reserve_price=300, department_codes=[department.code]))
    assert answer.status_code == 201, answer.content
    created = answer.json()
    assert (created["status"], created["phase"], created["minimum_bid"]) == (
        "published", "running", 100)
    assert created["reserve_price"] == 300
    auction = Auction.objects.get(pk=created["id"])
    assert list(auction.eligible_departments.all()) == [department]


def test_a_system_key_needs_the_admin_scope(client, prize_item):
    weak = create_api_key(name="erp", scopes=["catalog:write"])[1]
    assert call(client, "post", "/api/v1/auctions", weak, _new(prize_item)).status_code == 403
    strong = create_api_key(name="hr", scopes=["admin"])[1]
    assert call(client, "post", "/api/v1/auctions", strong, _new(prize_item)).status_code == 201


def test_employees_cannot_create_auctions(client, bidders, prize_item):
    answer = call(client, "post", "/api/v1/auctions", token_for(bidders[0]), _new(prize_item))
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("change, status", [
    ({"starting_price": 0}, 422), ({"starting_price": -5}, 422),
    ({"ends_at": "2000-01-01T00:00:00+08:00"}, 422), ({"extend_minutes": -1}, 422),
    ({"item_id": 999999}, 422), ({"department_codes": ["NOPE"]}, 422),
    ({"starting_price": "many"}, 422),
])
def test_bad_auctions_are_refused_without_a_500(client, activities_admin, prize_item, change,
                                                 status):
    answer = call(client, "post", "/api/v1/auctions", token_for(activities_admin),
                  _new(prize_item, **change))
    assert answer.status_code in (status, 400, 409), answer.content
    assert "error" in answer.json()
    assert not Auction.objects.exists()


def test_bidding_through_the_api_with_an_idempotency_key(client, make_auction, bidders):
    auction = make_auction()
    a, b, _c = bidders
    path = f"/api/v1/auctions/{auction.pk}/bids"
    first = call(client, "post", path, token_for(a), {"amount": 120},
                 HTTP_IDEMPOTENCY_KEY="bid-1")
    assert first.status_code == 201, first.content
    again = call(client, "post", path, token_for(a), {"amount": 120},
                 HTTP_IDEMPOTENCY_KEY="bid-1")
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert Bid.objects.count() == 1 and held(a) == 120
    low = call(client, "post", path, token_for(b), {"amount": 125})
    assert low.status_code == 409
    assert low.json()["error"] == {"code": "bid_too_low", "message": low.json()["error"]["message"],
                                   "details": {"price": 120, "minimum": 130}}
    poor = call(client, "post", path, token_for(b), {"amount": 99999})
    assert poor.status_code == 409 and poor.json()["error"]["code"] == "insufficient_points"
    assert call(client, "post", path, token_for(b), {"amount": 1.5}).status_code == 422


def test_reading_an_auction_shows_ones_standing_and_masks_others(client, make_auction, bidders):
    auction = make_auction()
    a, b, _c = bidders
    call(client, "post", f"/api/v1/auctions/{auction.pk}/bids", token_for(a), {"amount": 100})
    call(client, "post", f"/api/v1/auctions/{auction.pk}/bids", token_for(b), {"amount": 150})
    shown = call(client, "get", f"/api/v1/auctions/{auction.pk}", token_for(a)).json()
    assert (shown["price"], shown["leading"], shown["minimum_bid"]) == (150, False, 160)
    assert shown["reserve_price"] is None
    bids = call(client, "get", f"/api/v1/auctions/{auction.pk}/bids", token_for(a)).json()
    names = [(row["bidder"], row["mine"]) for row in bids["items"]]
    assert names == [(b.name[0] + "*" * (len(b.name) - 1), False), (a.name, True)]
    mine = call(client, "get", "/api/v1/me/bids", token_for(a)).json()["items"]
    assert [(row["amount"], row["status"]) for row in mine] == [(100, "outbid")]


def test_drafts_are_hidden_from_employees(client, make_auction, bidders, activities_admin):
    draft = make_auction(publish=False)
    assert call(client, "get", f"/api/v1/auctions/{draft.pk}",
                token_for(bidders[0])).status_code == 404
    assert call(client, "get", "/api/v1/auctions", token_for(bidders[0])).json()["items"] == []
    listed = call(client, "get", "/api/v1/auctions", token_for(activities_admin)).json()
    assert [row["id"] for row in listed["items"]] == [draft.pk]


def test_reading_an_auction_past_its_end_closes_it(client, make_auction, bidders):
    now = timezone.now()
    auction = make_auction(ends_at=now + timedelta(minutes=30))
    call(client, "post", f"/api/v1/auctions/{auction.pk}/bids", token_for(bidders[0]),
         {"amount": 100})
    Auction.objects.filter(pk=auction.pk).update(ends_at=now - timedelta(seconds=1))
    shown = call(client, "get", f"/api/v1/auctions/{auction.pk}", token_for(bidders[0])).json()
    assert (shown["status"], shown["outcome"], shown["won_by_me"]) == ("finished", "won", True)
    assert shown["order_id"] is not None


def test_cancelling_through_the_api(client, make_auction, bidders, activities_admin):
    auction = make_auction()
    call(client, "post", f"/api/v1/auctions/{auction.pk}/bids", token_for(bidders[0]),
         {"amount": 100})
    answer = call(client, "post", f"/api/v1/auctions/{auction.pk}/cancel",
                  token_for(activities_admin), {"reason": "商品停产"})
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    assert held(bidders[0]) == 0
    again = call(client, "post", f"/api/v1/auctions/{auction.pk}/cancel",
                 token_for(activities_admin), {"reason": "再次"})
    assert again.status_code == 409
