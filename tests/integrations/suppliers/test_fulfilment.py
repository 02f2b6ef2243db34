"""Supplier fulfilment against a real fake supplier on 127.0.0.1 that verifies jifen's
signature with ``standardwebhooks`` and answers with a code — or fails."""

from __future__ import annotations

import json
import secrets
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection, connections
from django.utils import timezone
from standardwebhooks import Webhook

from jifen.core.roles import Role
from jifen.integrations.models import DeliveryStatus, SupplierRequest
from jifen.integrations.suppliers import services
from jifen.ledger import selectors as ledger_selectors
from jifen.ledger import services as ledger
from jifen.mall import services as mall
from jifen.mall.models import Fulfilment, ItemStatus, Order, OrderStatus
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db(transaction=True)


class FakeSupplier:
    def __init__(self) -> None:
        self.secret = ""
        self.answers: list[tuple[int, dict]] = []
        self.default: tuple[int, dict] = (200, {"code": "CINEMA-8812"})
        self.delay = 0.0  # seconds before answering
        self.seen: list[dict] = []
        supplier = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                event = Webhook(supplier.secret).verify(
                    body, {k.lower(): v for k, v in self.headers.items()})
                supplier.seen.append({"id": self.headers["webhook-id"], **event})
                time.sleep(supplier.delay)
                status, answer = supplier.answers.pop(0) if supplier.answers \
                    else supplier.default
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/fulfil"


@pytest.fixture
def supplier(settings):
    settings.JIFEN_OUTBOUND_ALLOW_HOSTS = ["127.0.0.1"]
    fake = FakeSupplier()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def approved_order(supplier, make_role_employee):
    admin = make_role_employee(Role.MALL_ADMIN)
    row, fake_secret = services.create_supplier(name="影城", url=supplier.url, actor=None)
    supplier.secret = fake_secret
    category = mall.save_category(actor=admin.user, name="票务")
    item = mall.create_item(actor=admin.user, name="电影票", points=30, category=category,
                            status=ItemStatus.LISTED, fulfilment=Fulfilment.SERVICE)
    services.link_item(supplier=row, item_id=item.pk, actor=None)
    buyer = EmployeeFactory()
    ledger.adjust(employee=buyer, amount=100, reason="test", actor=None,
                  idempotency_key=secrets.token_hex(8))
    order = mall.create_order(employee=buyer, item=item, idempotency_key="s-1")
    mall.approve_order(order=order, actor=admin.user)
    return order


def test_an_approved_order_is_fulfilled_by_the_suppliers_code(supplier, approved_order):
    request = SupplierRequest.objects.get(order=approved_order)  # written with the approval
    assert services.call_supplier(request_id=request.pk) == DeliveryStatus.SUCCEEDED
    order = Order.objects.get(pk=approved_order.pk)
    assert order.status == OrderStatus.FULFILLED
    assert "CINEMA-8812" in order.events.order_by("-id").first().note
    assert supplier.seen[0]["data"]["order_id"] == order.pk  # signed, verified
    assert supplier.seen[0]["data"]["employee_no"] == order.employee.employee_no


def test_failures_retry_then_wait_on_the_desk_with_the_answer(supplier, approved_order):
    supplier.default = (502, {"error": "ticket system down"})
    request = SupplierRequest.objects.get(order=approved_order)
    spendable = ledger_selectors.balance(employee=approved_order.employee).spendable
    for _ in range(len(services.RETRY_DELAYS) + 1):
        # Each retry waits out its own (jittered) delay, whatever it came to.
        request.refresh_from_db()
        status = services.call_supplier(request_id=request.pk, now=request.next_attempt_at)
    assert status == DeliveryStatus.FAILED
    request.refresh_from_db()
    assert request.attempts == len(services.RETRY_DELAYS) + 1
    assert "ticket system down" in request.last_answer
    # The order is still open on the order desk; the points were neither lost nor doubled.
    order = Order.objects.get(pk=approved_order.pk)
    assert order.status == OrderStatus.APPROVED
    flagged = order.events.order_by("-id").first()
    assert flagged.action == "supplier_failed" and "ticket system down" in flagged.note
    assert ledger_selectors.balance(employee=approved_order.employee).spendable == spendable
    assert len({s["id"] for s in supplier.seen}) == 1  # one request id across retries


def test_a_retry_after_a_failure_succeeds(supplier, approved_order):
    supplier.answers = [(503, {})]
    request = SupplierRequest.objects.get(order=approved_order)
    assert services.call_supplier(request_id=request.pk) == DeliveryStatus.PENDING
    assert services.call_supplier(request_id=request.pk,
                                  now=timezone.now() + timedelta(minutes=2)) == "succeeded"
    assert Order.objects.get(pk=approved_order.pk).status == OrderStatus.FULFILLED


@pytest.mark.concurrency
def test_two_workers_reaching_a_due_request_call_the_supplier_once(supplier, approved_order):
    # The task queued with the approval and the minute's sweep can meet on one request;
    # a supplier asked twice may ship twice.
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has one writer at a time; the race needs PostgreSQL or MariaDB")
    supplier.delay = 0.5  # the first call is still waiting when the second arrives
    request = SupplierRequest.objects.get(order=approved_order)
    start, results = threading.Barrier(2), []

    def worker() -> None:
        try:
            start.wait()
            results.append(services.call_supplier(request_id=request.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(supplier.seen) == 1
    assert sorted(results) == [DeliveryStatus.PENDING, DeliveryStatus.SUCCEEDED]
    order = Order.objects.get(pk=approved_order.pk)
    assert order.status == OrderStatus.FULFILLED
    assert order.events.filter(to_status=OrderStatus.FULFILLED).count() == 1


def test_the_api_registers_a_supplier_and_links_an_item(settings, make_role_employee):
    from django.test import Client

    from jifen.integrations import services as keys

    settings.JIFEN_OUTBOUND_ALLOW_HOSTS = ["127.0.0.1"]
    _key, plain = keys.create_api_key(name="x", scopes=["admin"])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {plain}")
    created = api.post("/api/v1/suppliers", {"name": "健身", "url": "http://127.0.0.1:9/f"},
                       content_type="application/json")
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    refused = api.post("/api/v1/suppliers", {"name": "x", "url": "http://10.0.0.9/f"},
                       content_type="application/json")
    assert refused.json()["error"]["code"] == "private_address"
    admin = make_role_employee(Role.MALL_ADMIN)
    item = mall.create_item(actor=admin.user, name="健身卡", points=50,
                            category=mall.save_category(actor=admin.user, name="健身"),
                            status=ItemStatus.LISTED, fulfilment=Fulfilment.SERVICE)
    sid = created.json()["id"]
    assert api.put(f"/api/v1/suppliers/{sid}/items/{item.pk}").status_code == 204
    assert api.put(f"/api/v1/suppliers/{sid}/items/999999").status_code == 404
    assert api.get("/api/v1/supplier-requests").json() == []


def test_a_shipped_item_is_shipped_with_the_suppliers_tracking_number(supplier,
                                                                      make_role_employee):
    from jifen.mall.models import ShippingAddress

    admin = make_role_employee(Role.MALL_ADMIN)
    row, supplier.secret = services.create_supplier(name="京东", url=supplier.url, actor=None)
    item = mall.create_item(actor=admin.user, name="保温杯", points=40,
                            category=mall.save_category(actor=admin.user, name="家居"),
                            status=ItemStatus.LISTED, fulfilment=Fulfilment.SHIPPED)
    services.link_item(supplier=row, item_id=item.pk, actor=None)
    buyer = EmployeeFactory()
    ledger.adjust(employee=buyer, amount=100, reason="test", actor=None,
                  idempotency_key=secrets.token_hex(8))
    address = ShippingAddress.objects.create(employee=buyer, recipient="王芳",
                                             phone="13800138000", address="上海市徐汇区 1 号")
    order = mall.create_order(employee=buyer, item=item, idempotency_key="s-2",
                              address=address)
    mall.approve_order(order=order, actor=admin.user)
    supplier.default = (200, {"tracking_no": "SF1234567890", "carrier": "顺丰"})

    request = SupplierRequest.objects.get(order=order)
    assert services.call_supplier(request_id=request.pk) == DeliveryStatus.SUCCEEDED
    order = Order.objects.get(pk=order.pk)
    assert order.status == OrderStatus.SHIPPED
    assert (order.tracking_no, order.carrier) == ("SF1234567890", "顺丰")
    assert supplier.seen[0]["data"]["address"]  # the supplier was told where to send it


def test_a_tracking_answer_for_a_code_item_is_not_taken_as_done(supplier, approved_order):
    # A service item needs a code; a tracking number alone leaves the request to retry.
    supplier.default = (200, {"tracking_no": "SF1", "carrier": "顺丰"})
    request = SupplierRequest.objects.get(order=approved_order)
    assert services.call_supplier(request_id=request.pk) == DeliveryStatus.PENDING
    assert Order.objects.get(pk=approved_order.pk).status == OrderStatus.APPROVED


def _admin_api():
    from django.test import Client

    from jifen.integrations import services as keys

    return Client(HTTP_AUTHORIZATION=f"Bearer {keys.create_api_key(name='x', scopes=['admin'])[1]}")


def test_the_api_lists_pauses_and_unlinks_suppliers(supplier, approved_order):
    api = _admin_api()
    [listed] = api.get("/api/v1/suppliers").json()
    assert listed["item_ids"] == [approved_order.item_id] and listed["is_active"] is True
    paused = api.patch(f"/api/v1/suppliers/{listed['id']}", {"is_active": False},
                       content_type="application/json")
    assert paused.status_code == 200 and paused.json()["is_active"] is False
    moved = api.patch(f"/api/v1/suppliers/{listed['id']}", {"url": "http://10.1.2.3/x"},
                      content_type="application/json")
    assert moved.status_code == 422 and moved.json()["error"]["code"] == "private_address"
    assert api.get("/api/v1/suppliers").json()[0]["url"] == supplier.url
    gone = api.delete(f"/api/v1/suppliers/{listed['id']}/items/{approved_order.item_id}")
    assert gone.status_code == 204
    assert api.get("/api/v1/suppliers").json()[0]["item_ids"] == []
    again = api.delete(f"/api/v1/suppliers/{listed['id']}/items/{approved_order.item_id}")
    assert again.status_code == 404


def test_a_failed_call_is_retried_from_the_desk_through_the_api(supplier, approved_order):
    supplier.default = (502, {"error": "down"})
    request = SupplierRequest.objects.get(order=approved_order)
    for _ in range(len(services.RETRY_DELAYS) + 1):
        request.refresh_from_db()
        services.call_supplier(request_id=request.pk, now=request.next_attempt_at)
    api = _admin_api()
    failed = api.get("/api/v1/supplier-requests?status=failed").json()
    assert [r["order_id"] for r in failed] == [approved_order.pk]

    supplier.default = (200, {"code": "CINEMA-2"})
    retried = api.post(f"/api/v1/supplier-requests/{failed[0]['id']}/retry")
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert services.call_supplier(request_id=request.pk) == DeliveryStatus.SUCCEEDED
    assert Order.objects.get(pk=approved_order.pk).status == OrderStatus.FULFILLED
    # Done: nothing left to retry.
    assert api.post(f"/api/v1/supplier-requests/{failed[0]['id']}/retry").status_code == 409
    assert api.post("/api/v1/supplier-requests/999999/retry").status_code == 404


def test_the_order_desk_shows_orders_whose_supplier_gave_up(supplier, approved_order, client,
                                                             make_role_employee):
    from django.urls import reverse

    desk = make_role_employee(Role.MALL_ADMIN)
    client.force_login(desk.user)
    assert "desk-supplier-failed" not in client.get(reverse("console:mall")).content.decode()
    supplier.default = (502, {"error": "down"})
    request = SupplierRequest.objects.get(order=approved_order)
    for _ in range(len(services.RETRY_DELAYS) + 1):
        request.refresh_from_db()
        services.call_supplier(request_id=request.pk, now=request.next_attempt_at)

    page = client.get(reverse("console:mall")).content.decode()
    assert "desk-supplier-failed" in page  # the queue tells the desk one order is stuck
    listed = client.get(reverse("console:mall") + "?status=approved&supplier_failed=on")
    assert [o.pk for o in listed.context["page"]] == [approved_order.pk]
    assert 'data-testid="supplier-failed"' in listed.content.decode()

    services.retry_request(request=request, actor=desk.user)  # called again: not stuck now
    listed = client.get(reverse("console:mall") + "?status=approved&supplier_failed=on")
    assert list(listed.context["page"]) == []
