"""A cursor comes back from the client: whatever it holds, a malformed one is a 422 in the
API's error shape on every paginated endpoint, never a 500."""

from __future__ import annotations

import base64
import json

import pytest

from jifen.integrations.services import create_api_key
from jifen.people.services import issue_access_token

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
                 [1, 2, 3]]
    for key in [*(k for k in BAD_KEYS if k != [1, 2]), *item_keys]:
        _assert_invalid_cursor(client.get("/api/v1/items", {"sort": sort,
                                                            "cursor": cursor_of(key)}, **auth),
                               key)


@pytest.mark.parametrize(("path", "who"), ENDPOINTS)
def test_a_cursor_the_api_gave_still_works(client, tokens, path, who):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens(who)}"}
    key = "E0" if path.endswith("/employees") else 10**6
    response = client.get(path, {"cursor": cursor_of(key)}, **auth)
    assert response.status_code == 200, response.content[:300]
