from __future__ import annotations

import json
import warnings
from datetime import timedelta

import pytest
from django.utils import timezone

from jifen.core.models import AuditEntry, IdempotencyRecord
from jifen.core.services import update_site_settings
from jifen.integrations.services import create_api_key
from jifen.ledger.models import ExpiryMode, Transaction
from jifen.ledger.services import update_policy
from jifen.people.services import issue_access_token
from tests.factories import EmployeeFactory
from tests.ledger.helpers import earn, hold, spend, spendable

pytestmark = pytest.mark.django_db


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def key_with(*scopes: str) -> str:
    return create_api_key(name="test", scopes=list(scopes))[1]


def token_for(employee) -> str:
    return issue_access_token(user=employee.user)[1]


def post_adjustment(client, body, token, idempotency_key: str | None = None):
    headers = bearer(token)
    if idempotency_key:
        headers["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
    return client.post("/api/v1/adjustments", data=json.dumps(body),
                       content_type="application/json", **headers)


class TestBalance:
    def test_an_employee_sees_spendable_held_and_expiring_points(self, client, employee,
                                                                  hr_admin):
        update_policy(actor=hr_admin.user, expiry_mode=ExpiryMode.YEAR_END,
                      expiry_years_after=1)
        now = timezone.now()
        earn(employee, 100, now=now)
        earn(employee, 20, expires_at=None)
        hold(employee, 30)
        body = client.get("/api/v1/me/balance", **bearer(token_for(employee))).json()
        assert body["spendable"] == 90 and body["held"] == 30
        year = timezone.localtime(now).year + 2
        assert body["expiring"] == [{"amount": 70, "expires_at": f"{year}-01-01T00:00:00+08:00"}]

    def test_a_system_key_has_no_me(self, client):
        response = client.get("/api/v1/me/balance", **bearer(key_with("ledger:read")))
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "employee_only"

    def test_ledger_read_scope_sees_any_employees_balance(self, client, employee):
        earn(employee, 42)
        response = client.get(f"/api/v1/employees/{employee.employee_no}/balance",
                              **bearer(key_with("ledger:read")))
        assert response.status_code == 200
        assert response.json() == {"spendable": 42, "held": 0, "expiring": []}

    def test_hr_may_read_balances_but_colleagues_may_not(self, client, employee, hr_admin):
        path = f"/api/v1/employees/{employee.employee_no}/balance"
        assert client.get(path, **bearer(token_for(hr_admin))).status_code == 200
        colleague = EmployeeFactory()
        response = client.get(path, **bearer(token_for(colleague)))
        assert response.status_code == 403
        assert response.json()["error"]["details"] == {"required_scope": "ledger:read"}

    def test_an_unknown_employee_is_404(self, client):
        response = client.get("/api/v1/employees/NOPE/balance",
                              **bearer(key_with("ledger:read")))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


class TestHistory:
    def test_history_is_newest_first_with_the_running_balance(self, client, employee):
        earn(employee, 100, category="learning", reason="Course")
        spend(employee, 30, reason="Mug")
        earn(employee, 5, category="culture")
        items = client.get("/api/v1/me/transactions",
                           **bearer(token_for(employee))).json()["items"]
        assert [(i["kind"], i["amount"], i["balance_after"]) for i in items] == [
            ("earn", 5, 75), ("redeem", -30, 70), ("earn", 100, 100)]
        assert items[2]["reason"] == "Course" and items[2]["category"] == "learning"
        assert items[0]["created_at"].endswith("+08:00")

    def test_history_filters_by_kind_category_and_time(self, client, employee):
        start = timezone.now() - timedelta(days=10)
        earn(employee, 100, category="learning", now=start)
        earn(employee, 7, category="culture", now=start + timedelta(days=5))
        spend(employee, 30, now=start + timedelta(days=6))
        token = token_for(employee)

        def amounts(query: dict) -> list:
            response = client.get("/api/v1/me/transactions", query, **bearer(token))
            assert response.status_code == 200, response.content
            return [i["amount"] for i in response.json()["items"]]

        assert amounts({"kind": "redeem"}) == [-30]
        assert amounts({"category": "culture"}) == [7]
        assert amounts({"since": (start + timedelta(days=1)).isoformat(),
                        "until": (start + timedelta(days=6)).isoformat()}) == [7]
        local = timezone.localtime(start + timedelta(days=5, minutes=1)).replace(tzinfo=None)
        with warnings.catch_warnings():  # Django warns when handed a time without offset
            warnings.simplefilter("error", RuntimeWarning)
            assert amounts({"until": local.isoformat()}) == [7, 100]  # read as site time

    def test_history_pages_with_a_cursor(self, client, employee):
        for amount in range(1, 8):
            earn(employee, amount)
        token, seen, cursor = token_for(employee), [], None
        while True:
            query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/me/transactions", query, **bearer(token)).json()
            seen += [i["amount"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == [7, 6, 5, 4, 3, 2, 1]

    def test_history_lists_only_ones_own_movements(self, client, employee):
        earn(EmployeeFactory(), 50)
        body = client.get("/api/v1/me/transactions", **bearer(token_for(employee))).json()
        assert body == {"items": [], "next_cursor": None}

    @pytest.mark.parametrize("query", [{"kind": "stolen"}, {"category": "x"},
                                       {"since": "yesterday"}, {"cursor": "%%%"},
                                       {"cursor": "ImFiYyI"},  # "abc": not an id
                                       {"cursor": "MWUrMzA"},  # 1e+30
                                       {"since": "0001-01-01T00:00:00"},  # before UTC year 1
                                       {"until": "9999-12-31T23:59:59-12:00"},
                                       {"since": "0001-01-01T00:00:00+14:00"},
                                       {"limit": 0}, {"limit": 1000}])
    def test_bad_filters_are_422(self, client, employee, query):
        response = client.get("/api/v1/me/transactions", query, **bearer(token_for(employee)))
        assert response.status_code == 422, response.content
        assert "error" in response.json()

    @pytest.mark.parametrize(("field", "moment"), [("since", "0001-01-01T00:00:00+14:00"),
                                                   ("until", "9999-12-31T23:00:00-05:00")])
    def test_a_time_out_of_range_says_so_on_its_field(self, client, employee, field, moment):
        response = client.get("/api/v1/me/transactions", {field: moment},
                              **bearer(token_for(employee)))
        assert response.status_code == 422, response.content
        [problem] = response.json()["error"]["details"]["errors"]
        assert problem["field"] == field
        assert "9999" in problem["message"] and "UTC" in problem["message"]

    def test_the_widest_times_in_range_are_fine(self, client, employee):
        earn(employee, 5)
        response = client.get("/api/v1/me/transactions",
                              {"since": "1900-01-01T00:00:00Z", "until": "9999-12-31T23:59:59Z"},
                              **bearer(token_for(employee)))
        assert response.status_code == 200, response.content
        assert [i["amount"] for i in response.json()["items"]] == [5]


class TestAdjustments:
    def test_an_adjustment_is_201_with_the_transaction(self, client, employee):
        token = key_with("ledger:write")
        response = post_adjustment(client, {"employee_no": employee.employee_no,
                                            "amount": 25, "reason": "Missed award"}, token)
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["kind"] == "adjust" and body["amount"] == 25 and body["balance_after"] == 25
        assert "T" in body["created_at"] and body["created_at"].endswith("+08:00")
        assert body["employee_no"] == employee.employee_no and body["reason"] == "Missed award"
        assert body["actor"].startswith("API key test")
        assert Transaction.objects.get(pk=body["id"]).amount == 25
        assert b'"amount": 25,' in response.content  # a whole number when decimals are 0
        assert spendable(employee) == 25
        assert AuditEntry.objects.filter(action="ledger.adjust").count() == 1

    def test_a_negative_adjustment_debits(self, client, employee):
        earn(employee, 40)
        response = post_adjustment(client, {"employee_no": employee.employee_no,
                                            "amount": -15, "reason": "Double award"},
                                   key_with("ledger:write"))
        assert response.status_code == 201
        assert response.json()["amount"] == -15 and response.json()["balance_after"] == 25

    def test_replaying_with_the_same_idempotency_key_moves_points_once(self, client, employee):
        token = key_with("ledger:write")
        body = {"employee_no": employee.employee_no, "amount": 10, "reason": "Bonus"}
        first = post_adjustment(client, body, token, "adj-42")
        again = post_adjustment(client, body, token, "adj-42")
        assert again.status_code == 201 and again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert spendable(employee) == 10
        assert Transaction.objects.count() == 1

    def test_a_key_reused_for_a_different_body_is_409(self, client, employee):
        token = key_with("ledger:write")
        post_adjustment(client, {"employee_no": employee.employee_no, "amount": 10,
                                 "reason": "Bonus"}, token, "adj-1")
        response = post_adjustment(client, {"employee_no": employee.employee_no, "amount": 99,
                                            "reason": "Bonus"}, token, "adj-1")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "idempotency_key_reused"
        assert spendable(employee) == 10

    def test_a_debit_beyond_the_balance_is_409_and_can_be_retried_later(self, client, employee):
        earn(employee, 5)
        token = key_with("ledger:write")
        body = {"employee_no": employee.employee_no, "amount": -10, "reason": "Fix"}
        response = post_adjustment(client, body, token, "adj-9")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "insufficient_points"
        assert not IdempotencyRecord.objects.exists()
        earn(employee, 5)
        assert post_adjustment(client, body, token, "adj-9").status_code == 201
        assert spendable(employee) == 0

    @pytest.mark.parametrize("amount", ["10", "ten", 1.5, 1e16, 10**16, -(10**20), True, None,
                                        [10], {"value": 10}, 0])
    def test_malformed_amounts_are_4xx_and_change_nothing(self, client, employee, amount):
        response = post_adjustment(client, {"employee_no": employee.employee_no,
                                            "amount": amount, "reason": "x"},
                                   key_with("ledger:write"), "k")
        assert 400 <= response.status_code < 500, response.content
        assert set(response.json()["error"]) == {"code", "message", "details"}
        assert Transaction.objects.count() == 0
        assert not AuditEntry.objects.filter(action="ledger.adjust").exists()

    @pytest.mark.parametrize("raw", ['{"employee_no": "E1", "amount": 1e400, "reason": "x"}',
                                     '{"employee_no": "E1", "amount": NaN, "reason": "x"}',
                                     '{"employee_no": "E1", "amount": 5,'])
    def test_malformed_json_is_4xx(self, client, raw):
        response = client.post("/api/v1/adjustments", data=raw, content_type="application/json",
                               **bearer(key_with("ledger:write")))
        assert 400 <= response.status_code < 500
        assert "error" in response.json()

    def test_points_follow_the_site_decimals(self, client, employee, super_admin):
        update_site_settings(actor=super_admin.user, decimals=2)
        token = key_with("ledger:write")
        response = post_adjustment(client, {"employee_no": employee.employee_no,
                                            "amount": 12.34, "reason": "x"}, token)
        assert response.status_code == 201
        assert response.json()["amount"] == 12.34
        assert spendable(employee) == 1234
        response = post_adjustment(client, {"employee_no": employee.employee_no,
                                            "amount": 0.001, "reason": "x"}, token)
        assert response.status_code == 422
        problem = response.json()["error"]["details"]["errors"][0]
        assert problem["field"].endswith("amount") and "2" in problem["message"]

    @pytest.mark.parametrize("body,code", [
        ({"employee_no": "NOPE", "amount": 5, "reason": "x"}, "unknown_employee"),
        ({"employee_no": "E1", "amount": 5, "reason": ""}, "validation_error"),
        ({"employee_no": "E1", "amount": 5}, "validation_error"),
    ])
    def test_invalid_requests_are_422(self, client, body, code):
        response = post_adjustment(client, body, key_with("ledger:write"))
        assert response.status_code == 422
        assert response.json()["error"]["code"] == code

    def test_adjusting_needs_the_ledger_write_scope(self, client, employee):
        response = post_adjustment(client, {"employee_no": employee.employee_no, "amount": 5,
                                            "reason": "x"}, key_with("ledger:read"))
        assert response.status_code == 403
        assert spendable(employee) == 0

    def test_hr_admins_may_adjust_with_their_own_token(self, client, employee, hr_admin):
        response = post_adjustment(client, {"employee_no": employee.employee_no, "amount": 5,
                                            "reason": "x"}, token_for(hr_admin))
        assert response.status_code == 201
        assert AuditEntry.objects.get(action="ledger.adjust").actor == hr_admin.user


def test_openapi_documents_points_as_numbers(client):
    spec = client.get("/api/v1/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert schemas["AdjustmentIn"]["properties"]["amount"]["type"] == "number"
    assert schemas["BalanceOut"]["properties"]["spendable"]["type"] == "number"
