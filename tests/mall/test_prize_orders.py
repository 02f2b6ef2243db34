"""Prize orders (``jifen.core.prizes``): a won auction or a lottery's item becomes an order."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jifen.core import errors
from jifen.core.prizes import PrizeOrder, place_prize_order, reserve_prize_stock, return_prize_stock
from jifen.ledger import services as ledger
from jifen.mall import services
from jifen.mall.models import Fulfilment, Item, Order, OrderStatus
from tests.factories import EmployeeFactory
from tests.mall.conftest import fund, held, spendable

pytestmark = pytest.mark.django_db


def _bid_hold(employee, amount, key="bid-1"):
    """A hold caused by something other than an order, as an auction's bid is."""
    return ledger.hold(employee=employee, amount=amount, idempotency_key=f"test:{key}",
                       cause=("activities.bid", 1))


def _prize(employee, item, points=0, hold=None, key="auction:1", **extra):
    return PrizeOrder(employee_id=employee.pk, item_id=item.pk, points=points,
                      hold_txn_id=hold.pk if hold else None, key=key,
                      source="activities.auction:1", **extra)


def test_a_won_auction_becomes_an_order_paid_by_the_winning_bid(employee, make_item, mall_admin):
    fund(employee, 500)
    item = make_item(stock=3)
    hold = _bid_hold(employee, 120)
    order = Order.objects.get(pk=place_prize_order(_prize(employee, item, 120, hold)))
    assert (order.status, order.points, order.hold_txn_id) == (OrderStatus.SUBMITTED, 120, hold.pk)
    assert order.prize_kind == "auction"
    assert Item.objects.get(pk=item.pk).stock == 2
    services.approve_order(order=order, actor=mall_admin.user)
    assert (spendable(employee), held(employee)) == (380, 0)


def test_rejecting_a_prize_order_gives_the_bid_back(employee, make_item, mall_admin):
    fund(employee, 500)
    item = make_item(stock=1)
    order = Order.objects.get(pk=place_prize_order(
        _prize(employee, item, 200, _bid_hold(employee, 200))))
    services.reject_order(order=order, actor=mall_admin.user, reason="缺货")
    assert (spendable(employee), held(employee)) == (500, 0)
    assert Item.objects.get(pk=item.pk).stock == 1


def test_placing_the_same_prize_twice_makes_one_order(employee, make_item):
    item = make_item(stock=5)
    first = place_prize_order(_prize(employee, item, key="lottery:7:win:1"))
    assert place_prize_order(_prize(employee, item, key="lottery:7:win:1")) == first
    assert Order.objects.count() == 1
    assert Item.objects.get(pk=item.pk).stock == 4


def test_a_free_lottery_prize_moves_no_points_through_its_whole_life(employee, make_item,
                                                                     mall_admin):
    item = make_item(stock=2)
    order = Order.objects.get(pk=place_prize_order(_prize(employee, item, key="lottery:1:1")))
    assert (order.points, order.hold_txn_id) == (0, None)
    services.approve_order(order=order, actor=mall_admin.user)
    services.fulfil_order(order=order, actor=mall_admin.user)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.FULFILLED
    other = Order.objects.get(pk=place_prize_order(_prize(employee, item, key="lottery:1:2")))
    services.reject_order(order=other, actor=mall_admin.user, reason="重复")
    assert Item.objects.get(pk=item.pk).stock == 1


def test_a_prize_without_reserved_stock_meets_an_empty_shelf(employee, make_item):
    item = make_item(stock=0)
    with pytest.raises(errors.Conflict) as caught:
        place_prize_order(_prize(employee, item))
    assert caught.value.code == errors.ErrorCode.OUT_OF_STOCK
    assert not Order.objects.exists()


def test_reserved_stock_is_not_taken_twice_and_returns(employee, make_item):
    item = make_item(stock=1)
    reserve_prize_stock(item.pk, 1)
    assert Item.objects.get(pk=item.pk).stock == 0
    with pytest.raises(errors.Conflict):
        reserve_prize_stock(item.pk, 1)
    place_prize_order(_prize(employee, item, stock_reserved=True))
    assert Item.objects.get(pk=item.pk).stock == 0
    other = make_item(name="保温杯", stock=2)
    reserve_prize_stock(other.pk, 1)
    return_prize_stock(other.pk, 1)
    assert Item.objects.get(pk=other.pk).stock == 2


def test_a_shipped_prize_without_address_waits_for_one(employee, make_item, mall_admin, client):
    item = make_item(stock=1, fulfilment=Fulfilment.SHIPPED)
    order = Order.objects.get(pk=place_prize_order(_prize(employee, item)))
    assert order.needs_address
    services.approve_order(order=order, actor=mall_admin.user)
    with pytest.raises(errors.Conflict) as caught:
        services.ship_order(order=order, actor=mall_admin.user, carrier="顺丰速运",
                            tracking_no="SF1")
    assert caught.value.code == errors.ErrorCode.ADDRESS_REQUIRED
    client.force_login(employee.user)
    page = client.get(reverse("portal:order_detail", args=[order.pk])).content.decode()
    assert 'data-testid="address-needed"' in page and 'data-testid="prize-order"' in page
    address = services.add_address(employee=employee, recipient="李小明", phone="13800138000",
                                   region="上海市", address="张江路 88 号")
    client.post(reverse("portal:order_action", args=[order.pk, "address"]),
                {"address": address.pk})
    order.refresh_from_db()
    assert order.address["address"] == "张江路 88 号" and not order.needs_address
    services.ship_order(order=order, actor=mall_admin.user, carrier="顺丰速运", tracking_no="SF1")


def test_a_shipped_prize_uses_the_winners_address(employee, make_item):
    services.add_address(employee=employee, recipient="李小明", phone="13800138000",
                         region="上海市", address="张江路 88 号")
    item = make_item(stock=1, fulfilment=Fulfilment.SHIPPED)
    order = Order.objects.get(pk=place_prize_order(_prize(employee, item)))
    assert order.address["recipient"] == "李小明"


def test_nobody_sets_the_address_of_another_employees_order(employee, make_item, department):
    other = EmployeeFactory(department=department, name="王五")
    item = make_item(stock=1, fulfilment=Fulfilment.SHIPPED)
    order = Order.objects.get(pk=place_prize_order(_prize(employee, item)))
    theirs = services.add_address(employee=other, recipient="王五", phone="13900000000",
                                  region="北京", address="长安街 1 号")
    with pytest.raises(errors.NotFound):
        services.set_order_address(order=order, address=theirs, actor=other.user)


def test_a_code_prize_that_approves_itself_hands_out_a_code(employee, make_item, mall_admin):
    item = make_item(stock=None, fulfilment=Fulfilment.CODE, auto_approve=True)
    services.import_codes(item=item, codes=["CODE-1"], actor=mall_admin.user)
    order = Order.objects.get(pk=place_prize_order(_prize(employee, item)))
    assert order.status == OrderStatus.FULFILLED
    assert order.code.code == "CODE-1"


def test_the_api_gives_a_prize_order_its_address(employee, make_item, client, department):
    from tests.mall.test_api import post, token_for

    item = make_item(stock=1, fulfilment=Fulfilment.SHIPPED)
    order_id = place_prize_order(_prize(employee, item))
    token = token_for(employee)
    shown = client.get(f"/api/v1/orders/{order_id}", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert (shown["source"], shown["needs_address"]) == ("activities.auction:1", True)
    assert post(client, f"/api/v1/orders/{order_id}/address", {"address_id": 999999},
                token).json()["error"]["code"] == "unknown_address"
    address = services.add_address(employee=employee, recipient="李小明", phone="13800138000",
                                   region="上海市", address="张江路 88 号")
    answer = post(client, f"/api/v1/orders/{order_id}/address", {"address_id": address.pk}, token)
    assert answer.status_code == 200 and answer.json()["address"]["address"] == "张江路 88 号"
    other = EmployeeFactory(department=department, name="王五")
    assert post(client, f"/api/v1/orders/{order_id}/address", {"address_id": address.pk},
                token_for(other)).status_code == 404
