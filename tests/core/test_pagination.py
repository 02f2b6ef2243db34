"""A cursor comes back from the client: whatever it holds, a malformed one is a 422 in the
API's error shape on every paginated endpoint, never a 500."""

from __future__ import annotations

import base64
import json

import pytest

from jifen.core.roles import Role
from jifen.earning import services as earning
from jifen.integrations.services import create_api_key
from jifen.ledger import services as ledger
from jifen.mall import services as mall
from jifen.mall.models import Fulfilment, ItemStatus
from jifen.people.services import issue_access_token
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def cursor_of(value) -> str:
    """A cursor as the API makes them: base64 of the JSON value, unpadded."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


BAD_KEYS = ["abc", "", "1", 10**30, -(10**30), 2**63, 1.5, True, None, [], {}, [1, 2],
            "\u0000", "\ud800", "x" * 5000]

# (path, who): who is "employee" (an employee's own token) or a key scope.
ENDPOINTS = [
    ("/api/v1/me/orders", "employee"),
    ("/api/v1/me/transactions", "employee"),
    ("/api/v1/events", "events:write"),
    ("/api/v1/employees", "employees:read"),
]


@pytest.fixture
def tokens(employee):
    def token(who: str) -> str:
        if who == "employee":
            return issue_access_token(user=employee.user)[1]
        return create_api_key(name="test", scopes=[who])[1]
    return token


def _assert_invalid_cursor(response, key) -> None:
    assert response.status_code == 422, (key, response.status_code, response.content[:300])
    assert response.json()["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize(("path", "who"), ENDPOINTS)
def test_a_malformed_cursor_is_422_on_every_paginated_endpoint(client, tokens, path, who):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens(who)}"}
    # The key of employees is text: a text cursor is a fine one there.
    keys = [k for k in BAD_KEYS if not (path.endswith("/employees") and k in ("abc", "1", ""))]
    for key in keys:
        _assert_invalid_cursor(client.get(path, {"cursor": cursor_of(key)}, **auth), key)
    for garbage in ("!!!", "%%%", "////", "e30", "bnVsbA"):
        _assert_invalid_cursor(client.get(path, {"cursor": garbage}, **auth), garbage)


@pytest.mark.parametrize("sort", ["popular", "new", "points_asc", "points_desc"])
def test_a_malformed_item_cursor_is_422(client, tokens, sort):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens('employee')}"}
    item_keys = [["abc", 1], [1, 10**30], [1, "x"], [None, 1], [1.5, 1], [[], 1],
                 ["2026-01-01T00:00:00+08:00", 10**30], ["2026-01-01T00:00:00", 1],
                 ["not a date", 1], [10**30, 1], ["\u0000", 1], [True, 1], [1, True],
                 [1, 2, 3],
                 # Well-formed times with no UTC equivalent: the driver would overflow.
                 ["0001-01-01T00:00:00+05:00", 1], ["9999-12-31T23:00:00-05:00", 1],
                 ["0001-01-01T00:00:00+14:00", 1], ["9999-12-31T23:59:59.999999-12:00", 1]]
    for key in [*(k for k in BAD_KEYS if k != [1, 2]), *item_keys]:
        _assert_invalid_cursor(client.get("/api/v1/items", {"sort": sort,
                                                            "cursor": cursor_of(key)}, **auth),
                               key)


def _rows(path: str, employee) -> tuple[str, list]:
    """Three rows for the list at ``path`` (the ``employee``'s own, where it lists the
    caller's): the field that tells them apart in the answer, and its values in the list's
    order."""
    if path.endswith("/me/orders"):
        admin = EmployeeFactory(roles=[Role.MALL_ADMIN])
        category = mall.save_category(actor=admin.user, name="数码电子")
        item = mall.create_item(actor=admin.user, name="耳机", category=category, points=10,
                                status=ItemStatus.LISTED, fulfilment=Fulfilment.SERVICE)
        ledger.credit(employee=employee, amount=100, category="performance",
                      idempotency_key="fund", cause=("test.event", "fund"))
        ids = [mall.create_order(employee=employee, item=item, idempotency_key=f"o{n}").pk
               for n in range(3)]
        return "id", ids[::-1]
    if path.endswith("/me/transactions"):
        for amount in (1, 2, 3):
            ledger.credit(employee=employee, amount=amount, category="learning",
                          idempotency_key=f"e{amount}", cause=("test.event", f"e{amount}"))
        return "amount", [3, 2, 1]
    if path.endswith("/events"):
        earning.ingest_events(events=[
            earning.EventIn(source="att", id=f"L{n}", type="attendance_late",
                            employee_no="NOPE", occurred_at="2026-03-02T09:10:00+08:00")
            for n in range(3)])
        return "id", ["L2", "L1", "L0"]
    others = [EmployeeFactory(employee_no=f"E9{n}").employee_no for n in range(2)]
    return "employee_no", sorted([employee.employee_no, *others])


@pytest.mark.parametrize(("path", "who"), ENDPOINTS)
def test_a_cursor_the_api_gave_still_works(client, tokens, employee, path, who):
    """Following next_cursor gives the rest of the list, each row once, in order."""
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens(who)}"}
    field, expected = _rows(path, employee)
    first = client.get(path, {"limit": 2}, **auth)
    assert first.status_code == 200, first.content[:300]
    assert [row[field] for row in first.json()["items"]] == expected[:2]
    cursor = first.json()["next_cursor"]
    assert cursor
    rest = client.get(path, {"limit": 2, "cursor": cursor}, **auth)
    assert rest.status_code == 200, rest.content[:300]
    assert [row[field] for row in rest.json()["items"]] == expected[2:]
    assert rest.json()["next_cursor"] is None


@pytest.mark.parametrize("sort", ["popular", "new", "points_asc", "points_desc"])
def test_an_item_cursor_the_api_gave_still_works(client, tokens, sort):
    """Page by page, every sort gives every listed item once, in the order of one page,
    ties (the same price, the same popularity) included."""
    admin = EmployeeFactory(roles=[Role.MALL_ADMIN])
    category = mall.save_category(actor=admin.user, name="数码电子")
    for n, points in enumerate([300, 100, 300, 200, 100]):
        mall.create_item(actor=admin.user, name=f"礼品{n}", category=category, points=points,
                         status=ItemStatus.LISTED, fulfilment=Fulfilment.SERVICE)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens('employee')}"}
    whole = client.get("/api/v1/items", {"sort": sort, "limit": 100}, **auth).json()
    assert len(whole["items"]) == 5 and whole["next_cursor"] is None
    seen, cursor = [], None
    while True:
        query = {"sort": sort, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = client.get("/api/v1/items", query, **auth)
        assert response.status_code == 200, response.content[:300]
        seen += [row["id"] for row in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if not cursor:
            break
    assert seen == [row["id"] for row in whole["items"]]


def test_a_time_cursor_at_the_ends_of_utc_is_a_fine_one(client, tokens):
    """The widest times that have a UTC equivalent are compared, not refused."""
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens('employee')}"}
    for moment in ("0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00",
                   "0001-01-01T00:00:00-05:00", "9999-12-31T23:00:00+05:00"):
        response = client.get("/api/v1/items", {"sort": "new",
                                                "cursor": cursor_of([moment, 1])}, **auth)
        assert response.status_code == 200, (moment, response.content[:300])
