"""Each order step checks the order's state before it does anything: a step that is not
allowed from the state the order is in is a 409 that changes nothing, never a 500 (issue
10, finding 8: fulfilling a completed code order assigned a second code first and hit the
unique constraint — schemathesis found it 394 times)."""

from __future__ import annotations

import json

import pytest

from jifen.integrations.services import create_api_key
from jifen.mall import services
from jifen.mall.models import Code, Fulfilment, Order, OrderEvent, OrderStatus
from tests.mall.conftest import order

pytestmark = pytest.mark.django_db


def step(client, order_id: int, action: str, body: dict | None = None):
    key = create_api_key(name="desk", scopes=["orders:write", "orders:read"])[1]
    return client.post(f"/api/v1/orders/{order_id}/{action}", data=json.dumps(body or {}),
                       content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def code_item(make_item, mall_admin):
    item = make_item(name="视频会员月卡", fulfilment=Fulfilment.CODE, stock=None)
    services.import_codes(item=item, codes=["CODE-1", "CODE-2", "CODE-3"], actor=mall_admin.user)
    return item


def _snapshot(placed: Order) -> tuple:
    placed.refresh_from_db()
    return (placed.status, list(Code.objects.filter(order__isnull=False)
                                .values_list("code", "order_id")),
            OrderEvent.objects.filter(order=placed).count())


@pytest.mark.parametrize("then", [[], ["complete"]])
def test_fulfilling_a_fulfilled_or_completed_code_order_is_a_409(client, buyer, code_item,
                                                                  mall_admin, then):
    placed = order(buyer, code_item)
    services.approve_order(order=placed, actor=mall_admin.user)  # fulfilled with CODE-1
    for action in then:
        services.perform(order=placed, action=action, actor=mall_admin.user)
    before = _snapshot(placed)

    response = step(client, placed.pk, "fulfil")

    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "invalid_transition"
    assert _snapshot(placed) == before
    assert before[1] == [("CODE-1", placed.pk)]


@pytest.mark.parametrize("status", [OrderStatus.SUBMITTED, OrderStatus.CANCELLED])
def test_fulfilling_a_code_order_that_is_not_approved_hands_out_no_code(client, buyer,
                                                                         code_item, mall_admin,
                                                                         status):
    placed = order(buyer, code_item)
    if status == OrderStatus.CANCELLED:
        services.cancel_order(order=placed, actor=buyer.user)
    response = step(client, placed.pk, "fulfil")
    assert response.status_code == 409, response.content
    assert not Code.objects.filter(order__isnull=False).exists()


@pytest.mark.parametrize("action, body", [
    ("approve", None), ("reject", {"reason": "no"}), ("ship", {"carrier": "SF",
                                                               "tracking_no": "1"}),
    ("deliver", None), ("fulfil", None), ("complete", None),
])
def test_every_step_on_a_completed_order_is_a_409_that_changes_nothing(
        client, buyer, code_item, mall_admin, action, body):
    placed = order(buyer, code_item)
    services.approve_order(order=placed, actor=mall_admin.user)
    services.complete_order(order=placed, actor=mall_admin.user)
    before = _snapshot(placed)
    response = step(client, placed.pk, action, body)
    assert response.status_code == 409, response.content
    assert _snapshot(placed) == before
