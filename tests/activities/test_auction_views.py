"""Auction pages: the portal page, its live fragment and bid form; the console form."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, override

from jifen.activities.models import ActivityStatus, Auction, Bid
from jifen.activities.services import auction as auctions
from jifen.core.models import AuditEntry
from tests.activities.auction_fixtures import *  # noqa: F403 - the auction fixtures
from tests.activities.auction_fixtures import held

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return response.content.decode()


def test_the_page_shows_the_price_the_minimum_and_a_polling_fragment(client, make_auction,
                                                                     bidders):
    auction = make_auction()
    a, b, _c = bidders
    auctions.place_bid(auction=auction, employee=a, amount=150)
    client.force_login(b.user)
    page = _text(client.get(reverse("portal:auction", args=[auction.pk])))
    assert 'data-testid="auction-price">150<' in page
    assert f'hx-get="{reverse("portal:auction_live", args=[auction.pk])}"' in page
    assert 'value="160"' in page  # the minimum, prefilled
    assert a.name not in page  # other bidders are masked


def test_bidding_on_the_page_and_seeing_one_leads(client, make_auction, bidders):
    auction = make_auction()
    a, b, _c = bidders
    client.force_login(a.user)
    response = client.post(reverse("portal:auction_bid", args=[auction.pk]),
                           {"amount": "120", "key": "k1"}, follow=True)
    assert 'data-testid="you-lead"' in _text(response)
    # The same form sent twice (a double click) places one bid.
    client.post(reverse("portal:auction_bid", args=[auction.pk]), {"amount": "120", "key": "k1"})
    assert Bid.objects.count() == 1 and held(a) == 120
    auctions.place_bid(auction=auction, employee=b, amount=130)
    live = _text(client.get(reverse("portal:auction_live", args=[auction.pk])))
    assert 'data-testid="you-outbid"' in live and ">130<" in live


@pytest.mark.parametrize("amount", ["", "abc", "-5", "1.5", "9" * 30, "99"])
def test_a_bad_bid_is_a_message_not_an_error(client, make_auction, bidders, amount):
    auction = make_auction()
    client.force_login(bidders[0].user)
    response = client.post(reverse("portal:auction_bid", args=[auction.pk]),
                           {"amount": amount}, follow=True)
    assert response.status_code == 200
    assert 'class="alert alert-danger' in _text(response)
    assert not Bid.objects.exists()


def test_the_live_fragment_reloads_the_page_once_it_is_over(client, make_auction, bidders):
    now = timezone.now()
    auction = make_auction(ends_at=now + timedelta(minutes=30))
    auctions.place_bid(auction=auction, employee=bidders[0], amount=100, now=now)
    Auction.objects.filter(pk=auction.pk).update(ends_at=now - timedelta(seconds=1))
    client.force_login(bidders[0].user)
    response = client.get(reverse("portal:auction_live", args=[auction.pk]))
    assert response["HX-Refresh"] == "true"
    assert 'data-testid="auction-result"' in _text(response)
    assert Auction.objects.get(pk=auction.pk).status == ActivityStatus.FINISHED


def test_drafts_are_not_shown_to_employees(client, make_auction, bidders):
    draft = make_auction(publish=False)
    client.force_login(bidders[0].user)
    assert client.get(reverse("portal:auction", args=[draft.pk])).status_code == 404


def test_an_admin_creates_publishes_and_cancels_in_the_console(client, activities_admin,
                                                               prize_item, bidders):
    client.force_login(activities_admin.user)
    assert client.get(reverse("console:activities_auction_new")).status_code == 200
    now = timezone.localtime()
    response = client.post(reverse("console:activities_auction_new"), {
        "title": "竞拍：机械键盘", "item": prize_item.pk, "starting_price": 100,
        "min_increment": 10, "starts_at": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "extend_minutes": 5, "min_balance": 0, "min_tenure_days": 0,
    })
    auction = Auction.objects.get()
    assert response.status_code == 302 and auction.status == ActivityStatus.DRAFT
    url = reverse("console:activities_auction", args=[auction.pk])
    client.post(url, {"action": "publish"})
    assert Auction.objects.get().status == ActivityStatus.PUBLISHED
    auctions.place_bid(auction=auction, employee=bidders[0], amount=100)
    client.post(url, {"action": "cancel", "reason": "商品停产"})
    assert Auction.objects.get().status == ActivityStatus.CANCELLED
    assert held(bidders[0]) == 0
    assert AuditEntry.objects.filter(action__startswith="activities.auction.").count() == 3


def test_the_console_form_says_what_is_wrong(client, activities_admin, prize_item):
    client.force_login(activities_admin.user)
    now = timezone.localtime()
    response = client.post(reverse("console:activities_auction_new"), {
        "title": "坏的", "item": prize_item.pk, "starting_price": 100, "min_increment": 10,
        "reserve_price": 50, "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "extend_minutes": 5, "min_balance": 0, "min_tenure_days": 0,
    })
    assert response.status_code == 200
    with override(response.wsgi_request.LANGUAGE_CODE):
        said = gettext("The reserve price cannot be below the starting price.")
    assert said in _text(response)
    assert not Auction.objects.exists()


def test_employees_cannot_open_the_console_form(client, bidders):
    client.force_login(bidders[0].user)
    assert client.get(reverse("console:activities_auction_new")).status_code == 403
