"""Mall items as lottery prizes (through jifen.core.prizes): stock set aside when the
lottery is published, an order for each winner, what nobody won back on the shelf."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jifen.activities.models import Lottery, Win
from jifen.activities.services import lottery as services
from jifen.core import errors
from jifen.mall import services as mall
from jifen.mall.models import Fulfilment, Item, Order
from tests.activities.conftest import make_lottery
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(activities_admin):
    category = mall.save_category(actor=activities_admin.user, name="礼品")
    return mall.create_item(actor=activities_admin.user, name="保温杯", category=category,
                            points=100, stock=5, status="listed",
                            fulfilment=Fulfilment.SERVICE)


def item_lottery(admin, item, quantity):
    return make_lottery(admin.user, entry_cost=0, tiers=[
        {"name": "保温杯", "kind": "item", "item_id": item.pk, "quantity": quantity}])


def stock(item) -> int:
    return Item.objects.get(pk=item.pk).stock


def test_winners_get_orders_and_unwon_prizes_go_back(activities_admin, item):
    lottery = item_lottery(activities_admin, item, 2)
    assert stock(item) == 3  # set aside at publication
    winner = EmployeeFactory()
    services.enter_lottery(lottery=lottery, employee=winner)
    past = timezone.now() - timedelta(seconds=1)
    Lottery.objects.filter(pk=lottery.pk).update(ends_at=past, draw_at=past)
    services.draw_if_due(Lottery.objects.get(pk=lottery.pk))
    win = Win.objects.get(lottery=lottery)
    order = Order.objects.get(pk=win.order_id)
    assert (order.employee_id, order.points, order.item_id) == (winner.pk, 0, item.pk)
    assert stock(item) == 4  # one order, one prize back on the shelf


def test_cancelling_puts_the_reserved_items_back(activities_admin, item):
    lottery = item_lottery(activities_admin, item, 2)
    services.cancel_lottery(lottery=lottery, actor=activities_admin.user)
    assert stock(item) == 5


def test_publishing_more_prizes_than_stock_is_refused(activities_admin, item):
    with pytest.raises(errors.Conflict) as refused:
        item_lottery(activities_admin, item, 6)
    assert refused.value.code == errors.ErrorCode.OUT_OF_STOCK
    assert stock(item) == 5
    assert Lottery.objects.get().status == "draft"
