"""The mall's hand-written SQL (``jifen.mall.sql``), each vendor branch pinned on the
database the suite runs on (SQLite, PostgreSQL, MariaDB): where ``UPDATE … RETURNING``
exists and where it does not (forced here on every database), the statements must answer
the same."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from jifen.core.db import returning_update
from jifen.mall import services, sql
from jifen.mall.models import Item, Order, RedemptionWindow
from jifen.notifications.models import Notification
from tests.factories import DepartmentFactory
from tests.mall.conftest import order

pytestmark = pytest.mark.django_db

BRANCHES = ["returning", "fallback"]


@pytest.fixture
def branch(request, monkeypatch) -> str:
    """Run the test on one branch of ``take_stock``: the one-statement UPDATE … RETURNING
    (skipped where the database has none) or the decrement and read used elsewhere."""
    if request.param == "returning" and not returning_update():
        pytest.skip(f"{connection.vendor} has no UPDATE … RETURNING")
    if request.param == "fallback":
        monkeypatch.setattr(sql, "returning_update", lambda: False)
    return request.param


def test_returning_exists_where_the_vendor_has_it():
    if connection.vendor == "postgresql":
        assert returning_update()
    if connection.vendor == "mysql":
        assert not returning_update()


def test_the_stock_row_is_locked_last_only_on_postgresql():
    assert sql.stock_last() == (connection.vendor == "postgresql")


@pytest.mark.parametrize("branch", BRANCHES, indirect=True)
class TestTakingStock:
    def test_the_decrement_answers_the_row_after_it(self, branch, make_item):
        item = make_item(stock=10, low_stock_threshold=3)
        assert sql.take_stock(item.pk, 4) == sql.StockLeft(6, 3, False)
        item.refresh_from_db()
        assert (item.stock, item.sold_count) == (6, 4)

    def test_the_alert_flag_comes_back_as_a_boolean(self, branch, make_item):
        item = make_item(stock=5, low_stock_threshold=2)
        Item.objects.filter(pk=item.pk).update(low_stock_alerted=True)
        left = sql.take_stock(item.pk, 5)
        assert left == sql.StockLeft(0, 2, True)
        assert left.low_stock_alerted is True

    def test_more_than_is_left_takes_nothing(self, branch, make_item):
        item = make_item(stock=3)
        assert sql.take_stock(item.pk, 4) is None
        item.refresh_from_db()
        assert (item.stock, item.sold_count) == (3, 0)

    def test_an_unknown_item_takes_nothing(self, branch):
        assert sql.take_stock(987654, 1) is None

    def test_an_order_crossing_the_threshold_alerts_once(self, branch, buyer, make_item,
                                                         mall_admin):
        item = make_item(points=1, stock=3, low_stock_threshold=2)
        order(buyer, item)
        order(buyer, item)
        assert Notification.objects.filter(kind="mall.low_stock").count() == 1
        item.refresh_from_db()
        assert (item.stock, item.low_stock_alerted) == (1, True)


def test_unlimited_stock_is_only_counted_sold(make_item):
    item = make_item(stock=None)
    sql.count_sold(item.pk, 3)
    item.refresh_from_db()
    assert (item.stock, item.sold_count) == (None, 3)


def test_setting_the_hold_links_the_order_to_its_transaction(buyer, make_item):
    first, second = order(buyer, make_item()), order(buyer, make_item(name="保温杯"))
    sql.set_order_hold(first.pk, second.hold_txn_id)
    assert Order.objects.get(pk=first.pk).hold_txn_id == second.hold_txn_id
    sql.set_order_hold(first.pk, first.hold_txn_id)  # as it was, for the ledger check
    assert Order.objects.get(pk=first.pk).hold_txn_id == first.hold_txn_id


class TestTheOrderContext:
    def test_an_unknown_item_has_none(self):
        assert sql.order_context_row(987654, timezone.now()) is None

    def test_the_item_comes_with_its_categories_as_the_orm_reads_them(self, make_item,
                                                                      mall_admin, category):
        child = services.save_category(actor=mall_admin.user, name="耳机", parent=category)
        item = make_item(category=child, stock=7, auto_approve=True, market_value="12.50")
        row = sql.order_context_row(item.pk, timezone.now())
        fresh = Item.objects.get(pk=item.pk)
        assert row.item == fresh and row.category == child and row.parent == category
        for name in ("name", "stock", "points", "market_value", "auto_approve",
                     "low_stock_alerted", "created_at", "status", "fulfilment"):
            assert getattr(row.item, name) == getattr(fresh, name), name
        assert row.item.auto_approve is True and row.item.low_stock_alerted is False
        assert timezone.is_aware(row.item.created_at)
        assert (row.window, row.restricted, row.campaigns_running) == (None, False, False)

    def test_the_nearest_window_of_category_parent_or_the_mall_default(self, make_item,
                                                                       mall_admin, category):
        default = services.save_window(actor=mall_admin.user, name="默认", mode="always",
                                       is_default=True)
        child = services.save_category(actor=mall_admin.user, name="耳机", parent=category)
        item = make_item(category=child)
        assert sql.order_context_row(item.pk, timezone.now()).window == default
        parents = services.save_window(actor=mall_admin.user, name="上层", mode="always")
        services.save_category(actor=mall_admin.user, name=category.name, category=category,
                               window=parents)
        row = sql.order_context_row(item.pk, timezone.now())
        assert row.window == parents and isinstance(row.window, RedemptionWindow)
        own = services.save_window(actor=mall_admin.user, name="本类", mode="always")
        services.save_category(actor=mall_admin.user, name=child.name, category=child,
                               parent=category, window=own)
        assert sql.order_context_row(item.pk, timezone.now()).window == own

    def test_departments_and_running_campaigns_are_flagged(self, make_item, mall_admin):
        item = make_item(eligible_departments=[DepartmentFactory(code="SALES")])
        now = timezone.now()
        services.save_campaign(actor=mall_admin.user, name="限时", kind="percent", value=10,
                               starts_at=now - timedelta(hours=1),
                               ends_at=now + timedelta(hours=1), items=[make_item()])
        row = sql.order_context_row(item.pk, now)
        assert row.restricted and row.campaigns_running
        assert not sql.order_context_row(item.pk, now + timedelta(hours=2)).campaigns_running
        assert not sql.order_context_row(item.pk, now - timedelta(hours=2)).campaigns_running
