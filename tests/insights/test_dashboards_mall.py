"""The mall, activity and heatmap dashboards on small data sets placed through the real
services: redemptions per item and the "needs attention" list, activity participation and
points collected, check-ins and redemptions by weekday × hour."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from jifen.activities.services import auction as auctions
from jifen.activities.services import lottery as lotteries
from jifen.core.roles import Role
from jifen.insights.selectors import dashboards
from jifen.insights.services import rollups
from jifen.library.services.engagement import check_in
from jifen.mall import services as mall
from jifen.mall.models import Fulfilment, ItemStatus
from tests.factories import DepartmentFactory, EmployeeFactory
from tests.ledger.helpers import fund

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
_keys = itertools.count(1)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def november(department: str | None = None):
    return dashboards.filters_for(user=None, start="2026-11", end="2026-11",
                                  department=department)


@pytest.fixture
def shop(db):
    admin = EmployeeFactory(roles=[Role.MALL_ADMIN])
    category = mall.save_category(actor=admin.user, name="生活")

    def item(name: str, points: int, market: str, stock: int | None, threshold: int = 0):
        return mall.create_item(actor=admin.user, name=name, points=points,
                                market_value=Decimal(market), stock=stock,
                                low_stock_threshold=threshold, status=ItemStatus.LISTED,
                                fulfilment=Fulfilment.SERVICE, category=category,
                                auto_approve=True)

    return admin, item


def buy(employee, item, when):
    return mall.create_order(employee=employee, item=item, now=when,
                             idempotency_key=f"insights-order-{next(_keys)}")


def test_redemptions_per_item_and_what_needs_attention(shop):
    _admin, item = shop
    # At ¥0.10 a point: 耳机 100 points = ¥10 for a ¥10 item (fine); 台灯 500 = ¥50 for a
    # ¥20 item (2.5×: too dear), one in stock; 水杯 50 = ¥5 for a ¥10 item (0.5×: cheap).
    earphones = item("耳机", 100, "10.00", 10, threshold=2)
    lamp = item("台灯", 500, "20.00", 1)
    item("水杯", 50, "10.00", None)  # no orders at all
    people = [EmployeeFactory() for _ in range(3)]
    for person in people:
        fund(person, 1000)
    for day, person in enumerate(people, start=2):
        buy(person, earphones, at(11, day, 10))
    buy(people[0], lamp, at(11, 9, 15))  # the last lamp: out of stock now
    rollups.fold_pending()
    chart = dashboards.items(november(), rate=Decimal("0.10"))
    rows = {r["item"]: r for r in chart.rows}
    assert (rows["耳机"]["redemptions"], rows["耳机"]["points"]) == (3, 300)
    assert (rows["台灯"]["redemptions"], rows["台灯"]["points"]) == (1, 500)
    assert rows["水杯"]["redemptions"] == 0
    assert rows["台灯"]["price_cny"] == Decimal("50.00")
    attention = {r["item"]: r["attention"] for r in chart.facts["attention"]}
    assert set(attention) == {"台灯", "水杯"}
    assert "缺货" in attention["台灯"] or "out of stock" in attention["台灯"]
    assert attention["台灯"].count(",") == 1  # out of stock, priced above
    assert attention["水杯"].count(",") == 1  # rarely redeemed, priced below
    # Over two months (Oct–Nov) one lamp is less than one a month: rarely redeemed too.
    two = dashboards.filters_for(user=None, start="2026-10", end="2026-11")
    rows = {r["item"]: r for r in dashboards.items(two, rate=Decimal("0.10")).rows}
    assert rows["台灯"]["attention"].count(",") == 2
    assert rows["耳机"]["per_month"] == 1.5


def test_activity_participation_and_points_collected(db):
    admin = EmployeeFactory(roles=[Role.HR_ADMIN])
    sales = DepartmentFactory(code="S", name="销售部")
    inside = [EmployeeFactory(department=sales) for _ in range(2)]
    outside = EmployeeFactory()
    for person in (*inside, outside):
        fund(person, 1000)
    now = timezone.now()
    lottery = lotteries.publish_lottery(actor=admin.user, lottery=lotteries.save_lottery(
        actor=admin.user, data={"title": "年会抽奖", "description": "",
                                "starts_at": now - timedelta(hours=1),
                                "ends_at": now + timedelta(days=1), "entry_cost": 10,
                                "entry_limit": 2},
        tiers=[{"name": "纪念品", "kind": "custom", "quantity": 1}]))
    for person in (inside[0], inside[0], inside[1], outside):
        lotteries.enter_lottery(lottery=lottery, employee=person,
                                idempotency_key=f"insights-entry-{next(_keys)}")
    month = f"{timezone.localtime(now):%Y-%m}"
    everyone = dashboards.filters_for(user=None, start=month, end=month)
    chart = dashboards.activities(everyone)
    assert [(r["activity"], r["participants"], r["entries"], r["collected"])
            for r in chart.rows] == [("年会抽奖", 3, 4, 40)]
    only_sales = dashboards.filters_for(user=None, start=month, end=month, department="S")
    assert [(r["participants"], r["entries"], r["collected"])
            for r in dashboards.activities(only_sales).rows] == [(2, 3, 30)]
    # A lottery of another month is not in the period.
    earlier = dashboards.filters_for(user=None, start="2025-01", end="2025-02")
    assert dashboards.activities(earlier).rows == []


def test_auctions_count_bids_and_bidders(db):
    admin = EmployeeFactory(roles=[Role.HR_ADMIN])
    category = mall.save_category(actor=admin.user, name="奖品")
    prize = mall.create_item(actor=admin.user, name="机械键盘", points=300,
                             status=ItemStatus.LISTED, fulfilment=Fulfilment.SERVICE,
                             category=category, stock=1)
    now = timezone.now()
    auction = auctions.publish_auction(auction=auctions.create_auction(
        actor=admin.user, title="竞拍：机械键盘", item_id=prize.pk, starting_price=100,
        min_increment=10, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1),
        extend_minutes=0), actor=admin.user)
    first, second = EmployeeFactory(), EmployeeFactory()
    for person in (first, second):
        fund(person, 1000)
    auctions.place_bid(auction=auction, employee=first, amount=100)
    auctions.place_bid(auction=auction, employee=second, amount=110)
    auctions.place_bid(auction=auction, employee=first, amount=120)
    month = f"{timezone.localtime(now):%Y-%m}"
    chart = dashboards.activities(dashboards.filters_for(user=None, start=month, end=month))
    # Still running: nothing collected yet.
    assert [(r["participants"], r["entries"], r["collected"]) for r in chart.rows] == [(2, 3, 0)]


def test_check_ins_and_redemptions_by_weekday_and_hour(shop):
    _admin, item = shop
    lamp = item("台灯", 10, "1.00", None)
    sales = DepartmentFactory(code="S", name="销售部")
    alice = EmployeeFactory(department=sales)
    bob = EmployeeFactory()
    fund(alice, 100)
    fund(bob, 100)
    # 2 Nov 2026 is a Monday. 08:10 and 08:50 Shanghai on Monday, 09:05 Tuesday.
    check_in(employee=alice, now=at(11, 2, 8, 10))
    check_in(employee=bob, now=at(11, 2, 8, 50))
    check_in(employee=alice, now=at(11, 3, 9, 5))
    # 23:30 UTC on Sunday 1 Nov is 07:30 on Monday in Shanghai.
    buy(alice, lamp, datetime(2026, 11, 1, 23, 30, tzinfo=ZoneInfo("UTC")))
    buy(bob, lamp, at(11, 8, 21))  # Sunday 21:00
    chart = dashboards.heatmap(november())
    assert chart.rows == [
        {"weekday": chart.series["weekdays"][0], "hour": 7, "checkins": 0, "orders": 1},
        {"weekday": chart.series["weekdays"][0], "hour": 8, "checkins": 2, "orders": 0},
        {"weekday": chart.series["weekdays"][1], "hour": 9, "checkins": 1, "orders": 0},
        {"weekday": chart.series["weekdays"][6], "hour": 21, "checkins": 0, "orders": 1},
    ]
    assert chart.series["checkins"] == [[8, 0, 2], [9, 1, 1]]
    assert chart.facts == {"checkins": 3, "orders": 2}
    assert dashboards.heatmap(november(department="S")).facts == {"checkins": 2, "orders": 1}
