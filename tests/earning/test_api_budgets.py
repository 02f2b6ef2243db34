"""POST /budgets and PUT /recognition-allowance: the API twins of the console's budgets page."""

from __future__ import annotations

import json

import pytest

from jifen.earning import services
from jifen.earning.models import BudgetAllocation
from tests.earning.test_api import bearer, key_with, post

pytestmark = pytest.mark.django_db


def test_admin_funds_a_department_budget_once_per_key(client, department):
    token = key_with("admin")
    body = {"department_code": department.code, "points": 500, "period": "2026-11"}
    first = post(client, "/api/v1/budgets", body, token, HTTP_IDEMPOTENCY_KEY="b-1")
    again = post(client, "/api/v1/budgets", body, token, HTTP_IDEMPOTENCY_KEY="b-1")
    assert first.status_code == again.status_code == 201, first.content
    assert first.json() == again.json()
    assert first.json()["points"] == 500 and first.json()["department_code"] == department.code
    allocation = BudgetAllocation.objects.get()
    assert allocation.department == department


@pytest.mark.parametrize("body, status", [
    ({"points": 0}, 422),
    ({"points": "500"}, 422),
    ({"points": 5, "period": "2026-13"}, 422),
    ({"points": 5, "category": "nonsense"}, 422),
    ({"points": 5, "department_code": "NOPE"}, 404),
])
def test_bad_budgets_are_refused_and_nothing_is_funded(client, department, body, status):
    answer = post(client, "/api/v1/budgets", {"department_code": department.code, **body},
                  key_with("admin"))
    assert answer.status_code == status, answer.content
    assert not BudgetAllocation.objects.exists()


def test_funding_needs_the_admin_scope(client, department):
    answer = post(client, "/api/v1/budgets", {"department_code": department.code, "points": 5},
                  key_with("events:write"))
    assert answer.status_code == 403
    assert not BudgetAllocation.objects.exists()


def _put(client, body, token):
    return client.put("/api/v1/recognition-allowance", data=json.dumps(body),
                      content_type="application/json", **bearer(token))


def test_admin_sets_the_monthly_giving_allowance(client):
    answer = _put(client, {"monthly_allowance": 120}, key_with("admin"))
    assert answer.status_code == 200 and answer.json() == {"monthly_allowance": 120}
    assert services.earning_settings().monthly_allowance == 120


@pytest.mark.parametrize("value", [-1, "100", 1.5, None])
def test_a_bad_allowance_is_refused_and_nothing_changes(client, value):
    before = services.earning_settings().monthly_allowance
    answer = _put(client, {"monthly_allowance": value}, key_with("admin"))
    assert answer.status_code == 422
    assert services.earning_settings().monthly_allowance == before


def test_the_allowance_needs_the_admin_scope(client):
    before = services.earning_settings().monthly_allowance
    assert _put(client, {"monthly_allowance": 7}, key_with("events:write")).status_code == 403
    assert services.earning_settings().monthly_allowance == before
