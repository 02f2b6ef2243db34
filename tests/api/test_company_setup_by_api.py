"""Acceptance for issue #16 part 4: a new company is set up and run through its first
redemption with nothing but an API key and employee tokens — departments, employees, a
category, items, a rule, events that earn points, an address, an order of a shipped item
to it, approval, shipping and delivery — and the books balance."""

from __future__ import annotations

import json

import pytest

from jifen.integrations.services import create_api_key
from tests.conftest import assert_ledger_sound

pytestmark = pytest.mark.django_db

PASSWORD = "Gaoxin-2026-setup!"


class Api:
    def __init__(self, client, token: str) -> None:
        self.client, self.token = client, token

    def __call__(self, method: str, path: str, body: dict | None = None, *,
                 expect: int = 200, key: str = "") -> dict:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}
        if key:
            headers["HTTP_IDEMPOTENCY_KEY"] = key
        call = getattr(self.client, method)
        response = (call(f"/api/v1{path}", **headers) if method == "get" else
                    call(f"/api/v1{path}", data=json.dumps(body or {}),
                         content_type="application/json", **headers))
        assert response.status_code == expect, (method, path, response.content)
        return response.json() if response.content else {}


def test_a_company_is_set_up_and_ships_its_first_redemption_by_api(client):
    # The only thing done outside the API: the integrations service issues the key.
    system = Api(client, create_api_key(name="setup", scopes=[
        "employees:write", "catalog:write", "admin", "events:write", "orders:write",
        "orders:read"])[1])

    system("put", "/departments/HQ", {"name": "总部"}, expect=201)
    system("put", "/departments/RD", {"name": "研发部", "parent_code": "HQ"}, expect=201)
    for no, name, dept in [("G001", "王芳", "RD"), ("G002", "李娜", "HQ")]:
        system("put", f"/employees/{no}", {
            "name": name, "department_code": dept, "username": no.lower(),
            "initial_password": PASSWORD}, expect=201)

    category = system("post", "/categories", {"name": "数码电子"}, expect=201, key="cat-1")
    headphones = system("post", "/items", {
        "name": "无线蓝牙耳机", "category": category["slug"], "points": 300, "stock": 5,
        "fulfilment": "shipped"}, expect=201)
    system("post", "/items", {"name": "咖啡券", "category": str(category["id"]),
                              "points": 50, "fulfilment": "service"}, expect=201)

    system("post", "/rules", {"name": "全勤", "event_type": "attendance_full_month",
                              "category": "attendance",
                              "formula": {"kind": "fixed", "points": 200}}, expect=201)
    events = [{"source": "att", "id": f"{no}-{month}", "type": "attendance_full_month",
               "employee_no": no, "occurred_at": f"2026-{month:02d}-28T18:00:00+08:00",
               "payload": {"month": f"2026-{month:02d}"}}
              for no in ("G001", "G002") for month in (9, 10)]
    earned = system("post", "/events", {"events": events})
    assert {r["status"] for r in earned["results"]} == {"credited"}

    wang = Api(client, Api(client, "")("post", "/auth/token",
                                       {"username": "g001", "password": PASSWORD})["token"])
    address = wang("post", "/me/addresses", {
        "recipient": "王芳", "phone": "13800000000", "region": "上海市",
        "address": "徐汇区漕溪北路1号"}, expect=201, key="addr-1")
    placed = wang("post", "/orders", {"item_id": headphones["id"],
                                      "address_id": address["id"]}, expect=201, key="order-1")
    assert placed["address"]["address"] == "徐汇区漕溪北路1号"
    assert wang("get", "/me/balance")["spendable"] == 100

    order_id = placed["id"]
    system("post", f"/orders/{order_id}/approve")
    system("post", f"/orders/{order_id}/ship", {"carrier": "顺丰", "tracking_no": "SF100"})
    delivered = system("post", f"/orders/{order_id}/deliver")
    assert delivered["status"] == "delivered"
    assert [e["action"] for e in delivered["events"]][-3:] == ["approve", "ship", "deliver"]

    assert system("get", "/employees/G001/balance")["spendable"] == 100
    assert system("get", "/employees/G002/balance")["spendable"] == 400
    assert system("get", f"/items/{headphones['id']}")["stock"] == 4
    assert_ledger_sound()
