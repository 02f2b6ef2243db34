"""Mall administration by API: categories, item changes, status and restock, and the
employee's own addresses — each a twin of a console or portal action."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from jifen.core.models import AuditEntry
from jifen.integrations.services import create_api_key
from jifen.mall import services
from jifen.mall.models import (
    Campaign,
    Category,
    Item,
    ItemImage,
    RedemptionWindow,
    ShippingAddress,
)
from jifen.mall.services import add_address
from jifen.people.services import issue_access_token
from tests.mall.conftest import assert_ledger_sound, order, spendable

pytestmark = pytest.mark.django_db


def bearer(token: str, **headers: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}", **headers}


def call(client, method: str, path: str, body: dict | None, token: str, **headers: str):
    return getattr(client, method)(f"/api/v1{path}", data=json.dumps(body or {}),
                                   content_type="application/json", **bearer(token, **headers))


@pytest.fixture
def catalog_key(db) -> str:
    return create_api_key(name="erp", scopes=["catalog:write"])[1]


@pytest.fixture
def employee_token(employee) -> str:
    return issue_access_token(user=employee.user)[1]


class TestCategories:
    def test_create_list_and_change_a_category(self, client, catalog_key, category):
        created = call(client, "post", "/categories",
                       {"name": "耳机", "parent_id": category.pk, "kind": "physical"},
                       catalog_key, HTTP_IDEMPOTENCY_KEY="c-1")
        assert created.status_code == 201, created.content
        body = created.json()
        assert body["parent_id"] == category.pk and body["slug"]
        again = call(client, "post", "/categories",
                     {"name": "耳机", "parent_id": category.pk, "kind": "physical"},
                     catalog_key, HTTP_IDEMPOTENCY_KEY="c-1")
        assert again.json()["id"] == body["id"]
        assert Category.objects.filter(name="耳机").count() == 1

        listed = client.get("/api/v1/categories", **bearer(catalog_key)).json()
        assert [(c["name"], c["depth"]) for c in listed] == [("数码电子", 0), ("耳机", 1)]

        changed = call(client, "patch", f"/categories/{body['id']}",
                       {"name": "降噪耳机", "parent_id": None}, catalog_key)
        assert changed.status_code == 200, changed.content
        assert changed.json()["name"] == "降噪耳机" and changed.json()["parent_id"] is None
        assert AuditEntry.objects.filter(action="mall.category.save").count() >= 3

    def test_a_blank_name_or_a_cycle_is_refused_and_changes_nothing(
            self, client, catalog_key, category):
        assert call(client, "post", "/categories", {"name": ""},
                    catalog_key).status_code == 422
        child = call(client, "post", "/categories", {"name": "耳机", "parent_id": category.pk},
                     catalog_key).json()
        cycle = call(client, "patch", f"/categories/{category.pk}",
                     {"parent_id": child["id"]}, catalog_key)
        assert cycle.status_code == 422
        assert cycle.json()["error"]["code"] == "category_cycle"
        category.refresh_from_db()
        assert category.parent_id is None and Category.objects.count() == 2
        unknown = call(client, "patch", "/categories/999999", {"name": "x"}, catalog_key)
        assert unknown.status_code == 404

    def test_an_empty_category_is_deleted_one_in_use_is_not(self, client, catalog_key,
                                                            category, make_item, mall_admin):
        child = services.save_category(actor=mall_admin.user, name="耳机", parent=category)
        make_item(category=child)
        for target in (category, child):  # a sub-category, then an item, hold them
            refused = call(client, "delete", f"/categories/{target.pk}", None, catalog_key)
            assert refused.status_code == 409
            assert refused.json()["error"]["code"] == "category_in_use"
        assert Category.objects.count() == 2
        empty = services.save_category(actor=mall_admin.user, name="空货架")
        assert call(client, "delete", f"/categories/{empty.pk}", None,
                    catalog_key).status_code == 204
        assert not Category.objects.filter(pk=empty.pk).exists()
        assert AuditEntry.objects.filter(action="mall.category.delete").count() == 1
        assert call(client, "delete", f"/categories/{empty.pk}", None,
                    catalog_key).status_code == 404

    def test_an_employee_cannot_write_categories(self, client, employee_token, category):
        assert call(client, "post", "/categories", {"name": "x"},
                    employee_token).status_code == 403
        assert call(client, "patch", f"/categories/{category.pk}", {"name": "x"},
                    employee_token).status_code == 403
        assert call(client, "delete", f"/categories/{category.pk}", None,
                    employee_token).status_code == 403
        category.refresh_from_db()
        assert category.name == "数码电子" and Category.objects.count() == 1


class TestItemAdministration:
    def test_change_an_item_list_it_and_restock(self, client, catalog_key, make_item):
        item = make_item(stock=2, status="draft")
        changed = call(client, "patch", f"/items/{item.pk}",
                       {"name": "降噪耳机", "points": 250, "tags": ["音频"]}, catalog_key)
        assert changed.status_code == 200, changed.content
        assert changed.json()["points"] == 250 and changed.json()["tags"] == ["音频"]
        listed = call(client, "post", f"/items/{item.pk}/status", {"status": "listed"},
                      catalog_key)
        assert listed.json()["status"] == "listed"
        restocked = call(client, "post", f"/items/{item.pk}/restock", {"quantity": 3},
                         catalog_key)
        assert restocked.json()["stock"] == 5

    def test_bad_input_changes_nothing(self, client, catalog_key, make_item):
        item = make_item(stock=None)
        assert call(client, "patch", f"/items/{item.pk}", {"points": 0},
                    catalog_key).status_code == 422
        assert call(client, "post", f"/items/{item.pk}/status", {"status": "gone"},
                    catalog_key).status_code == 422
        assert call(client, "post", f"/items/{item.pk}/restock", {"quantity": 0},
                    catalog_key).status_code == 422
        unlimited = call(client, "post", f"/items/{item.pk}/restock", {"quantity": 2},
                         catalog_key)
        assert unlimited.status_code == 409
        assert unlimited.json()["error"]["code"] == "unlimited_stock"
        item.refresh_from_db()
        assert item.points == 100 and item.stock is None and item.status == "listed"

    def test_an_employee_cannot_change_items(self, client, employee_token, make_item):
        item = make_item(stock=2)
        for method, path, body in [("patch", "", {"points": 1}),
                                   ("post", "/status", {"status": "delisted"}),
                                   ("post", "/restock", {"quantity": 1})]:
            assert call(client, method, f"/items/{item.pk}{path}", body,
                        employee_token).status_code == 403
        item.refresh_from_db()
        assert (item.points, item.stock, item.status) == (100, 2, "listed")


class TestMyAddresses:
    def test_add_list_change_default_and_delete(self, client, employee, employee_token):
        first = call(client, "post", "/me/addresses",
                     {"recipient": "王芳", "phone": "13800000000", "address": "上海市徐汇区1号"},
                     employee_token, HTTP_IDEMPOTENCY_KEY="a-1")
        assert first.status_code == 201, first.content
        assert first.json()["is_default"] is True
        replay = call(client, "post", "/me/addresses",
                      {"recipient": "王芳", "phone": "13800000000", "address": "上海市徐汇区1号"},
                      employee_token, HTTP_IDEMPOTENCY_KEY="a-1")
        assert replay.json()["id"] == first.json()["id"]
        second = call(client, "post", "/me/addresses",
                      {"recipient": "王芳", "phone": "13900000000", "address": "北京市2号"},
                      employee_token).json()
        made = call(client, "post", f"/me/addresses/{second['id']}/default", None,
                    employee_token)
        assert made.json()["is_default"] is True
        listed = client.get("/api/v1/me/addresses", **bearer(employee_token)).json()
        assert [a["id"] for a in listed] == [second["id"], first.json()["id"]]
        changed = call(client, "patch", f"/me/addresses/{first.json()['id']}",
                       {"phone": "13700000000", "is_default": True}, employee_token)
        assert changed.json()["phone"] == "13700000000" and changed.json()["is_default"]
        gone = client.delete(f"/api/v1/me/addresses/{first.json()['id']}",
                             **bearer(employee_token))
        assert gone.status_code == 204
        assert list(ShippingAddress.objects.filter(employee=employee)
                    .values_list("pk", "is_default")) == [(second["id"], True)]

    def test_incomplete_input_changes_nothing(self, client, employee, employee_token):
        assert call(client, "post", "/me/addresses", {"recipient": "王芳", "phone": " ",
                                                       "address": "x"},
                    employee_token).status_code == 422
        saved = add_address(employee=employee, recipient="王芳", phone="138", address="1号")
        blank = call(client, "patch", f"/me/addresses/{saved.pk}", {"address": "  "},
                     employee_token)
        assert blank.status_code == 422
        assert blank.json()["error"]["code"] == "address_incomplete"
        saved.refresh_from_db()
        assert saved.address == "1号" and ShippingAddress.objects.count() == 1

    def test_another_employees_address_is_a_404_and_a_system_has_none(
            self, client, employee, employee_token, other_buyer, catalog_key):
        theirs = add_address(employee=other_buyer, recipient="李娜", phone="1", address="x")
        assert call(client, "patch", f"/me/addresses/{theirs.pk}", {"phone": "2"},
                    employee_token).status_code == 404
        assert client.delete(f"/api/v1/me/addresses/{theirs.pk}",
                             **bearer(employee_token)).status_code == 404
        assert client.get("/api/v1/me/addresses", **bearer(catalog_key)).status_code == 403
        theirs.refresh_from_db()
        assert theirs.phone == "1"

    def test_an_order_ships_to_a_saved_address(self, client, buyer, make_item):
        token = issue_access_token(user=buyer.user)[1]
        item = make_item(fulfilment="shipped", stock=5)
        address = call(client, "post", "/me/addresses",
                       {"recipient": "王芳", "phone": "138", "address": "上海1号"}, token).json()
        placed = call(client, "post", "/orders", {"item_id": item.pk,
                                                   "address_id": address["id"]}, token)
        assert placed.status_code == 201, placed.content
        assert placed.json()["address"]["address"] == "上海1号"
        assert Item.objects.get(pk=item.pk).stock == 4


def small_png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    return SimpleUploadedFile("cup.png", buffer.getvalue(), content_type="image/png")


class TestItemPictures:
    def test_add_and_remove_a_picture(self, client, catalog_key, make_item):
        item = make_item()
        added = client.post(f"/api/v1/items/{item.pk}/images", {"image": small_png()},
                            **bearer(catalog_key))
        assert added.status_code == 201, added.content
        assert ItemImage.objects.filter(item=item).count() == 1
        gone = client.delete(f"/api/v1/items/{item.pk}/images/{added.json()['id']}",
                             **bearer(catalog_key))
        assert gone.status_code == 204
        assert not ItemImage.objects.filter(item=item).exists()

    def test_a_file_that_is_no_picture_is_a_422_and_nothing_is_stored(
            self, client, catalog_key, make_item):
        item = make_item()
        junk = SimpleUploadedFile("cup.png", b"not a picture", content_type="image/png")
        refused = client.post(f"/api/v1/items/{item.pk}/images", {"image": junk},
                              **bearer(catalog_key))
        assert refused.status_code == 422
        assert refused.json()["error"]["details"]["field"] == "image"
        assert not ItemImage.objects.filter(item=item).exists()
        assert client.delete(f"/api/v1/items/{item.pk}/images/999999",
                             **bearer(catalog_key)).status_code == 404

    def test_an_employee_cannot_add_pictures(self, client, employee_token, make_item):
        item = make_item()
        refused = client.post(f"/api/v1/items/{item.pk}/images", {"image": small_png()},
                              **bearer(employee_token))
        assert refused.status_code == 403
        assert not ItemImage.objects.filter(item=item).exists()


class TestBulkApprove:
    def test_approves_what_it_can_and_lists_the_rest(self, client, buyer, make_item):
        key = create_api_key(name="desk", scopes=["orders:write"])[1]
        item = make_item(stock=5)
        first, second = order(buyer, item), order(buyer, item)
        services.perform(order=second, action="approve", actor=None)
        done = call(client, "post", "/order-desk/approve",
                    {"order_ids": [first.pk, second.pk]}, key)
        assert done.status_code == 200, done.content
        assert done.json()["approved"] == 1 and len(done.json()["problems"]) == 1
        first.refresh_from_db()
        assert first.status == "approved"
        assert_ledger_sound()

    def test_bad_input_and_permission(self, client, buyer, make_item, employee_token):
        item = make_item(stock=5)
        placed = order(buyer, item)
        key = create_api_key(name="desk", scopes=["orders:write"])[1]
        assert call(client, "post", "/order-desk/approve", {"order_ids": []},
                    key).status_code == 422
        assert call(client, "post", "/order-desk/approve", {"order_ids": [999999]},
                    key).status_code == 404
        assert call(client, "post", "/order-desk/approve", {"order_ids": [placed.pk]},
                    employee_token).status_code == 403
        placed.refresh_from_db()
        assert placed.status == "submitted"


class TestCodeImport:
    def test_codes_join_the_pool_and_the_stock(self, client, catalog_key, make_item):
        item = make_item(fulfilment="code")
        done = call(client, "post", f"/items/{item.pk}/codes",
                    {"codes": ["JD-1", "JD-2", " ", "JD-1"]}, catalog_key,
                    HTTP_IDEMPOTENCY_KEY="codes-1")
        assert done.status_code == 201, done.content
        assert done.json() == {"added": 2, "skipped": 2, "stock": 2}
        again = call(client, "post", f"/items/{item.pk}/codes", {"codes": ["JD-2", "JD-3"]},
                     catalog_key)
        assert again.json() == {"added": 1, "skipped": 1, "stock": 3}

    def test_bad_input_and_permission_change_nothing(self, client, catalog_key,
                                                     employee_token, make_item):
        shipped = make_item(fulfilment="shipped", stock=1)
        refused = call(client, "post", f"/items/{shipped.pk}/codes", {"codes": ["A"]},
                       catalog_key)
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "not_a_code_item"
        item = make_item(fulfilment="code", name="京东卡")
        assert call(client, "post", f"/items/{item.pk}/codes", {"codes": []},
                    catalog_key).status_code == 422
        assert call(client, "post", f"/items/{item.pk}/codes", {"codes": ["x" * 201]},
                    catalog_key).status_code == 422
        assert call(client, "post", f"/items/{item.pk}/codes", {"codes": ["A"]},
                    employee_token).status_code == 403
        item.refresh_from_db()
        shipped.refresh_from_db()
        assert item.codes.count() == 0 and shipped.stock == 1


class TestDeskCancel:
    def test_the_desk_cancels_and_the_points_come_back(self, client, buyer, make_item,
                                                       employee_token):
        key = create_api_key(name="desk", scopes=["orders:write"])[1]
        item = make_item(stock=3, points=100)
        placed = order(buyer, item)
        refused = call(client, "post", f"/orders/{placed.pk}/desk-cancel", {"reason": "x"},
                       employee_token)
        assert refused.status_code == 403
        too_long = call(client, "post", f"/orders/{placed.pk}/desk-cancel",
                        {"reason": "x" * 301}, key)
        assert too_long.status_code == 422
        placed.refresh_from_db()
        assert placed.status == "submitted"
        done = call(client, "post", f"/orders/{placed.pk}/desk-cancel", {"reason": "缺货"}, key)
        assert done.status_code == 200, done.content
        assert done.json()["status"] == "cancelled" and done.json()["reason"] == "缺货"
        assert spendable(buyer) == 1000
        assert Item.objects.get(pk=item.pk).stock == 3
        assert_ledger_sound()


class TestWindowsAndCampaigns:
    def test_create_and_change_a_window_and_a_campaign(self, client, catalog_key, make_item):
        window = call(client, "post", "/redemption-windows", {
            "name": "月初", "mode": "monthly", "day_from": 1, "day_to": 5}, catalog_key,
            HTTP_IDEMPOTENCY_KEY="w-1")
        assert window.status_code == 201, window.content
        changed = call(client, "put", f"/redemption-windows/{window.json()['id']}", {
            "name": "月初", "mode": "monthly", "day_from": 1, "day_to": 10}, catalog_key)
        assert changed.json()["day_to"] == 10
        item = make_item(points=200)
        campaign = call(client, "post", "/campaigns", {
            "name": "双十二", "kind": "percent", "value": 50, "item_ids": [item.pk],
            "starts_at": "2026-01-01T00:00:00+08:00", "ends_at": "2099-01-01T00:00:00+08:00"},
            catalog_key)
        assert campaign.status_code == 201, campaign.content
        assert client.get(f"/api/v1/items/{item.pk}",
                          **bearer(catalog_key)).json()["points"] == 100
        stopped = call(client, "put", f"/campaigns/{campaign.json()['id']}", {
            **campaign.json(), "is_active": False}, catalog_key)
        assert stopped.status_code == 200, stopped.content
        assert client.get(f"/api/v1/items/{item.pk}",
                          **bearer(catalog_key)).json()["points"] == 200

    def test_bad_input_and_permission_change_nothing(self, client, catalog_key,
                                                     employee_token):
        assert call(client, "post", "/redemption-windows", {"name": "x", "mode": "monthly"},
                    catalog_key).status_code == 422
        assert call(client, "post", "/campaigns", {
            "name": "x", "kind": "percent", "value": 10, "item_ids": [999999],
            "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2026-02-01T00:00:00Z"},
            catalog_key).status_code == 422
        assert call(client, "post", "/redemption-windows", {"name": "x"},
                    employee_token).status_code == 403
        assert call(client, "put", "/campaigns/999999", {
            "name": "x", "kind": "percent", "value": 10,
            "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2026-02-01T00:00:00Z"},
            catalog_key).status_code == 404
        assert not RedemptionWindow.objects.exists() and not Campaign.objects.exists()
