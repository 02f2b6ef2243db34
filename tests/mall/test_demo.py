"""The mall part of the demo company: believable catalogue, orders in every state, sound
books."""

from __future__ import annotations

import itertools
import random
from datetime import date

import pytest
from django.utils import timezone

from jifen.demo.builder import DemoContext
from jifen.demo.mall import _icon_glyphs, build_mall
from jifen.demo.people import create_people
from jifen.demo.recommendations import build_recommendations
from jifen.insights.selectors import recommend
from jifen.mall.models import Category, Fulfilment, Item, ItemView, Order, OrderStatus
from tests.mall.conftest import assert_ledger_sound

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_mall(tmp_path, settings):
    ctx = DemoContext(seed=7, today=date.today())
    ctx.rng = random.Random("7/people")
    create_people(ctx)
    ctx.rng = random.Random("7/mall")
    build_mall(ctx)
    return ctx


def test_the_demo_mall_has_a_catalogue_and_orders_in_every_state(demo_mall):
    assert 55 <= Item.objects.count() <= 70
    assert Category.objects.filter(parent=None).count() == 3
    cup = Item.objects.get(name="304 不锈钢保温杯")
    assert (cup.points, int(cup.market_value)) == (100, 20)
    assert Item.objects.get(name="带薪假 1 天").points == 2000
    assert Item.objects.get(name="京东 E 卡 100 元").points == 500
    states = set(Order.objects.values_list("status", flat=True))
    assert states == set(OrderStatus.values)
    me = demo_mall.logins["employee"]
    assert Order.objects.filter(employee=me, status=OrderStatus.SHIPPED).exists()
    assert Order.objects.filter(employee=me, status=OrderStatus.FULFILLED).get().code
    if _icon_glyphs()[0] is not None:  # pictures need the front-end assets (make setup)
        cup_pictures = list(cup.images.all())
        assert len(cup_pictures) == 2 and all(p.thumbnail for p in cup_pictures)
    assert_ledger_sound()


def test_every_demo_order_timeline_runs_forward(demo_mall):
    """Each step of a demo order comes strictly after the one before it, so the timeline an
    employee reads is in the order things happened (it once showed an order shipped before
    it was approved). Only steps the system takes as part of the one before share its
    moment: an automatic approval, and the code handed out when a code order is approved."""
    now = timezone.now()
    checked = 0
    for placed in Order.objects.prefetch_related("events"):
        events = sorted(placed.events.all(), key=lambda e: e.pk)  # the order they happened
        assert list(placed.events.all()) == events, placed.number  # as the page lists them
        assert [e.from_status for e in events] == ["", *[e.to_status for e in events[:-1]]]
        assert events[-1].to_status == placed.status
        for before, after in itertools.pairwise(events):
            same_act = after.actor_id is None or (placed.fulfilment == Fulfilment.CODE
                                                  and after.action == "fulfil")
            if same_act and after.created_at == before.created_at:
                continue
            assert after.created_at > before.created_at, (
                f"{placed.number}: {after.to_status} at {after.created_at} is not after "
                f"{before.to_status} at {before.created_at}")
        assert events[-1].created_at <= now
        checked += len(events) > 2
    assert checked > 50  # many orders went through several steps


def test_the_demo_login_looked_around_and_gets_recommendations_at_once(demo_mall):
    me = demo_mall.logins["employee"]
    build_recommendations(demo_mall)

    assert ItemView.objects.filter(employee=me).count() >= 5
    assert ItemView.objects.values("employee").distinct().count() > 20
    found = recommend.for_employee(me, limit=8)
    assert len(found) == 8
    # Something they did is the reason for some of them, not popularity alone.
    assert {s.why.code for s in found} - {recommend.Reason.POPULAR}
