"""The API takes what a caller wrote, not what it could be coerced into, and writes times
RFC 3339 can read (issue 10, findings 8 and 10): ``"quantity": "1"`` and ``"item_id": 1.0``
were accepted, a ``valid_from`` in 1659 came back as ``+08:05:43``, a 25 MB body got an
HTML 400. Every refusal is a 422 (413 for the body) in the error shape, naming the field,
and changes nothing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from django.test import Client

from jifen.core.roles import Role
from jifen.earning.models import Rule
from jifen.integrations.services import create_api_key
from jifen.mall import services as mall
from jifen.mall.models import Fulfilment, Item, Order
from jifen.people.models import Employee
from jifen.people.services import issue_access_token
from tests.mall.conftest import fund, spendable

pytestmark = pytest.mark.django_db

RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def key_with(*scopes: str) -> str:
    return create_api_key(name="strict", scopes=list(scopes))[1]


def send(client: Client, method: str, path: str, body: object, token: str):
    return getattr(client, method)(path, data=json.dumps(body), content_type="application/json",
                                   **bearer(token))


def refused_on(response, field: str, status: int = 422) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) >= {"code", "message", "details"}
    assert field in [p["field"] for p in error["details"]["errors"]], error
    return error


@pytest.fixture
def buyer(employee):
    fund(employee, 1000)
    return employee


@pytest.fixture
def category(make_role_employee):
    admin = make_role_employee(Role.MALL_ADMIN, name="商城管理员")
    return mall.save_category(actor=admin.user, name="数码电子")


@pytest.fixture
def shop_item(category):
    return mall.create_item(actor=None, name="无线蓝牙耳机", points=100, category=category,
                            status="listed", fulfilment=Fulfilment.SERVICE, stock=5)


# --- numbers in a JSON body -----------------------------------------------------------------

@pytest.mark.parametrize("change, field", [
    ({"quantity": "1"}, "quantity"),  # text is not a number
    ({"quantity": 1.0}, "quantity"),  # nor is a float a whole number
    ({"quantity": True}, "quantity"),  # nor a boolean 1
    ({"item_id": 1.0}, "item_id"),
    ({"item_id": "1"}, "item_id"),
    ({"item_id": True}, "item_id"),
    ({"address_id": "1"}, "address_id"),
])
def test_an_order_with_a_number_that_is_not_a_json_integer_is_a_422(client, buyer, shop_item,
                                                                     change, field):
    token = issue_access_token(user=buyer.user)[1]
    body = {"item_id": shop_item.pk, "quantity": 1, **change}
    refused_on(send(client, "post", "/api/v1/orders", body, token), field)
    assert Order.objects.count() == 0 and spendable(buyer) == 1000


def test_the_same_order_with_json_integers_is_placed(client, buyer, shop_item):
    token = issue_access_token(user=buyer.user)[1]
    response = send(client, "post", "/api/v1/orders", {"item_id": shop_item.pk, "quantity": 1},
                    token)
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("change, field", [
    ({"stock": "5"}, "stock"), ({"stock": 5.0}, "stock"), ({"stock": True}, "stock"),
    ({"low_stock_threshold": "2"}, "low_stock_threshold"),
    ({"per_employee_limit": 1.5}, "per_employee_limit"),
    ({"market_value": "12.50"}, "market_value"), ({"market_value": True}, "market_value"),
    ({"market_value": 12.345}, "market_value"), ({"market_value": -1}, "market_value"),
    ({"market_value": 10**9}, "market_value"),
    ({"auto_approve": 1}, "auto_approve"), ({"auto_approve": "true"}, "auto_approve"),
    ({"points": "100"}, "points"), ({"points": True}, "points"),
])
def test_an_item_with_a_coercible_value_is_a_422(client, category, change, field):
    body = {"name": "耳机", "category": category.slug, "points": 100, **change}
    refused_on(send(client, "post", "/api/v1/items", body, key_with("catalog:write")), field)
    assert Item.objects.count() == 0


def test_an_item_with_plain_json_values_is_created(client, category):
    body = {"name": "耳机", "category": category.slug, "points": 100, "stock": 5,
            "market_value": 12.5, "auto_approve": True}
    response = send(client, "post", "/api/v1/items", body, key_with("catalog:write"))
    assert response.status_code == 201, response.content
    assert Item.objects.get().market_value == pytest.approx(12.5)


HUGE = ["1e300", "-1e300", "1" + "0" * 40, "-1" + "0" * 40, "1e28", "1.7976931348623157e308",
        "1e-300"]


@pytest.mark.parametrize("number", HUGE)
@pytest.mark.parametrize("field", ["market_value", "points"])
def test_an_item_with_a_number_beyond_any_bound_is_a_422(client, category, field, number):
    """``"market_value": 1e300`` (or 1 and 40 zeros) was a 500: quantize raised
    InvalidOperation before the size was checked (issue 10, finding 8)."""
    body = {"name": "耳机", "category": category.slug, "points": 10, "market_value": 0}
    # The number goes in as the caller wrote it, not as Python would print it.
    raw = json.dumps(body).replace(f'"{field}": {body[field]}', f'"{field}": {number}')
    assert number in raw
    response = client.post("/api/v1/items", data=raw, content_type="application/json",
                           **bearer(key_with("catalog:write")))
    refused_on(response, field)
    assert Item.objects.count() == 0


@pytest.mark.parametrize("number", HUGE)
def test_an_adjustment_with_a_number_beyond_any_bound_is_a_422(client, buyer, number):
    raw = f'{{"employee_no": "{buyer.employee_no}", "amount": {number}, "reason": "x"}}'
    response = client.post("/api/v1/adjustments", data=raw, content_type="application/json",
                           **bearer(key_with("ledger:write")))
    refused_on(response, "amount")
    assert spendable(buyer) == 1000


@pytest.mark.parametrize("change, field", [
    ({"requires_approval": 1}, "requires_approval"), ({"active": "yes"}, "active"),
])
def test_a_rule_with_a_number_for_a_boolean_is_a_422(client, change, field):
    body = {"name": "Late", "event_type": "attendance_late", "category": "attendance",
            "formula": {"kind": "fixed", "points": -5}, **change}
    refused_on(send(client, "post", "/api/v1/rules", body, key_with("admin")), field)
    assert Rule.objects.count() == 0


# --- numbers in a URL -----------------------------------------------------------------------

@pytest.mark.parametrize("limit", ["1.0", " 5", "1_0", "+5", "5e0", "true"])
def test_a_limit_that_is_not_decimal_digits_is_a_422(client, buyer, limit):
    token = issue_access_token(user=buyer.user)[1]
    for path in ("/api/v1/items", "/api/v1/me/orders", "/api/v1/me/transactions"):
        refused_on(client.get(path, {"limit": limit}, **bearer(token)), "limit")
    assert client.get("/api/v1/items", {"limit": "5"}, **bearer(token)).status_code == 200


@pytest.mark.parametrize("points", ["1_0", " 10", "10 ", "1e2", "10.", ".5", "+10", "0x10",
                                    "inf", "nan", "-10", "10.5", "1" + "0" * 40])
@pytest.mark.parametrize("field", ["min_points", "max_points"])
def test_a_price_filter_that_is_not_points_in_decimal_digits_is_a_422(client, buyer, field,
                                                                     points):
    """``float()`` took ``1_0``, `` 10``, ``1e2`` and ``10.`` (issue 10, finding 10); 10.5
    has more decimals than the site's (0 here)."""
    token = issue_access_token(user=buyer.user)[1]
    refused_on(client.get("/api/v1/items", {field: points}, **bearer(token)), field)


def test_a_price_filter_takes_the_site_decimals(client, employee, category, super_admin):
    from jifen.core.services import update_site_settings

    update_site_settings(actor=super_admin.user, decimals=2)  # 1 point = 100 units
    for units in (1050, 1100):
        mall.create_item(actor=None, name=f"礼品 {units}", points=units, category=category,
                         status="listed", fulfilment=Fulfilment.SERVICE, stock=5)
    token = issue_access_token(user=employee.user)[1]
    found = client.get("/api/v1/items", {"min_points": "10.5", "max_points": "10.99"},
                       **bearer(token))
    assert found.status_code == 200, found.content
    assert [i["points"] for i in found.json()["items"]] == [10.5]
    assert client.get("/api/v1/items", {"min_points": "11"},
                      **bearer(token)).json()["items"][0]["points"] == 11
    refused_on(client.get("/api/v1/items", {"min_points": "10.505"}, **bearer(token)),
               "min_points")


@pytest.mark.parametrize("order_id", ["1.0", "1_0", "+1", "1e0"])
def test_an_id_in_a_path_that_is_not_decimal_digits_is_a_422(client, buyer, shop_item,
                                                              order_id):
    from tests.mall.conftest import order

    order(buyer, shop_item)
    token = issue_access_token(user=buyer.user)[1]
    refused_on(client.get(f"/api/v1/orders/{order_id}", **bearer(token)), "order_id")


# --- dates and times in ---------------------------------------------------------------------

def _employee_body(department, **change) -> dict:
    return {"name": "李娜", "department_code": department.code, **change}


@pytest.mark.parametrize("hire_date", [
    "1659-03-01",  # before 1900
    "0001-01-01",
    1700000000,  # a count of seconds is not a date
    "1700000000",
    "2020-01-01T00:00:00",  # a time is not a date
    True,
])
def test_a_hire_date_that_is_not_a_date_in_range_is_a_422(client, department, hire_date):
    response = send(client, "put", "/api/v1/employees/E9", _employee_body(
        department, hire_date=hire_date), key_with("employees:write"))
    refused_on(response, "hire_date")
    assert not Employee.objects.filter(employee_no="E9").exists()


def test_hire_dates_from_1900_are_kept(client, department):
    key = key_with("employees:write")
    for hire_date in ("1900-01-01", "2020-05-01"):
        response = send(client, "put", "/api/v1/employees/E9",
                        _employee_body(department, hire_date=hire_date), key)
        assert response.status_code in (200, 201), response.content
        assert response.json()["hire_date"] == hire_date


def _rule_body(**change) -> dict:
    return {"name": "Late", "event_type": "attendance_late", "category": "attendance",
            "formula": {"kind": "fixed", "points": -5}, **change}


@pytest.mark.parametrize("moment", [
    "1659-06-01T00:00:00+08:00",  # the finding: came back as +08:05:43
    "1899-12-31T12:00:00+08:00",
    1700000000, "1700000000", 1.5, True,
    "2026-03-01",  # a date is not a time
])
@pytest.mark.parametrize("field", ["valid_from", "valid_until"])
def test_a_rule_time_that_is_not_a_time_in_range_is_a_422(client, field, moment):
    refused_on(send(client, "post", "/api/v1/rules", _rule_body(**{field: moment}),
                    key_with("admin")), field)
    assert Rule.objects.count() == 0


@pytest.mark.parametrize("moment", ["1659-06-01T00:00:00+08:00", "1700000000",
                                    "2026-03-01", "1899-12-31T00:00:00Z"])
def test_a_history_filter_that_is_not_a_time_in_range_is_a_422(client, buyer, moment):
    token = issue_access_token(user=buyer.user)[1]
    refused_on(client.get("/api/v1/me/transactions", {"since": moment}, **bearer(token)),
               "since")


# --- times out ------------------------------------------------------------------------------

@pytest.mark.parametrize("stored, shown", [
    # Shanghai's local mean time (+08:05:43) before 1901: written in UTC instead.
    (datetime(1659, 6, 1, tzinfo=UTC), "1659-06-01T00:00:00Z"),
    (datetime(1900, 6, 1, 12, tzinfo=UTC), "1900-06-01T12:00:00Z"),
    # Shanghai's summer time (+09:00) and standard time, in whole minutes: kept.
    (datetime(1988, 6, 1, 3, tzinfo=UTC), "1988-06-01T12:00:00+09:00"),
    (datetime(2026, 3, 2, 2, tzinfo=UTC), "2026-03-02T10:00:00+08:00"),
])
def test_every_time_goes_out_with_a_whole_minute_offset(client, stored, shown):
    key = key_with("admin")
    created = send(client, "post", "/api/v1/rules", _rule_body(), key)
    assert created.status_code == 201, created.content
    # A time kept before the API refused such years (or written by other means).
    Rule.objects.filter(pk=created.json()["id"]).update(valid_from=stored)
    [rule] = client.get("/api/v1/rules", **bearer(key)).json()
    assert rule["valid_from"] == shown
    assert RFC3339.fullmatch(rule["valid_from"])
    assert datetime.fromisoformat(rule["valid_from"].replace("Z", "+00:00")) == stored


# --- bodies over the limit ------------------------------------------------------------------

def _too_large(response) -> None:
    assert response.status_code == 413, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == "payload_too_large" and error["details"]["max_bytes"] > 0


def test_a_25_mb_body_is_a_json_413(client, buyer, shop_item):
    token = issue_access_token(user=buyer.user)[1]
    body = {"item_id": shop_item.pk, "padding": "x" * (25 * 1024 * 1024)}
    _too_large(send(client, "post", "/api/v1/orders", body, token))
    assert Order.objects.count() == 0


@pytest.mark.parametrize("method, path", [("post", "/api/v1/events"),
                                          ("put", "/api/v1/employees/E9"),
                                          ("post", "/api/v1/auth/token"),
                                          ("post", "/api/v1/no-such-path")])
def test_a_body_over_the_limit_is_a_json_413_everywhere_under_the_api(client, settings, method,
                                                                     path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    _too_large(send(client, method, path, {"padding": "x" * 2000}, key_with("admin")))
    assert send(client, "post", "/api/v1/auth/token", {"username": "nobody",
                                                       "password": "x"},
                "").status_code == 401


def test_a_body_over_the_limit_is_answered_by_a_real_wsgi_server(live_server, settings):
    """Through wsgiref (runserver, the test live server), not only Django's test client: a
    hop-by-hop header such as "Connection: close" would make it refuse the answer."""
    import urllib.error
    import urllib.request

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/auth/token", method="POST",
        data=json.dumps({"username": "nobody", "padding": "x" * 2000}).encode(),
        headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 413
    assert json.loads(refused.value.read())["error"]["code"] == "payload_too_large"
