"""The order desk's daily reminder: how many orders wait, by state, and the oldest's age."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from jifen.mall import services
from jifen.mall.models import Order
from jifen.mall.services.reminders import remind_order_desk
from jifen.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_mall_admins_hear_how_many_orders_wait_and_for_how_long_once_a_day(
        buyer, make_item, mall_admin, employee):
    item = make_item(points=10)
    orders = [services.create_order(employee=buyer, item=item, idempotency_key=f"o{n}")
              for n in range(4)]
    services.approve_order(order=orders[0], actor=mall_admin.user)
    Order.objects.filter(pk=orders[1].pk).update(created_at=timezone.now() - timedelta(days=3))
    now = timezone.now()

    assert remind_order_desk(now=now) == 1
    [note] = Notification.objects.filter(kind="mall.orders_waiting")
    assert note.recipient == mall_admin.user
    assert note.url == "/console/mall/?status=submitted"
    with translation.override("en"):
        assert note.title == "4 orders wait at the order desk"
        assert note.body == "3 to approve, 1 to ship or fulfil; the oldest has waited 3 days."
    with translation.override("zh-hans"):
        assert note.title == "订单台有 4 个订单待处理"
    assert remind_order_desk(now=now) == 0  # once a day
    assert not Notification.objects.filter(recipient=employee.user,
                                           kind="mall.orders_waiting").exists()


def test_no_reminder_when_no_order_waits(mall_admin):
    assert remind_order_desk() == 0
    assert not Notification.objects.filter(kind="mall.orders_waiting").exists()
