"""GET /api/v1/payroll/periods/{yyyy-mm}: shape, who may read, cursor pages, the xlsx;
closing over the API."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jifen.core.roles import Role
from jifen.insights.models import PayrollPeriod
from jifen.insights.services import payroll
from jifen.integrations.services import create_api_key
from jifen.people.services import issue_access_token
from tests.factories import EmployeeFactory
from tests.ledger.helpers import earn

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
IN_OCT = datetime(2026, 10, 15, 10, 0, tzinfo=SH)
URL = "/api/v1/payroll/periods/2026-10"


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def key_with(*scopes: str) -> str:
    return create_api_key(name="test", scopes=list(scopes))[1]


def token_for(employee) -> str:
    return issue_access_token(user=employee.user)[1]


@pytest.fixture
def month(db):
    hr = EmployeeFactory(employee_no="HR01", roles=[Role.HR_ADMIN])
    payroll.save_policy(actor=hr.user, category="learning", target=200, weight="10",
                        label="绩效奖金")
    for number in ("000001", "000002", "000003"):
        person = EmployeeFactory(employee_no=number, name=f"员工{number}")
        earn(person, int(number) * 100, category="learning", now=IN_OCT)
    return hr


def test_a_reports_key_reads_the_month_in_the_documented_shape(client, month):
    response = client.get(URL, **bearer(key_with("reports:read")))
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == "2026-10" and body["status"] == "open"
    assert body["closed_at"] is None and body["next_cursor"] is None
    assert body["policies"] == [{"category": "learning", "target": 200,
                                 "weight": "10.0000", "label": "绩效奖金"}]
    first = next(item for item in body["items"] if item["employee_no"] == "000001")
    assert first["points_by_category"]["learning"] == 100
    assert first["factors"] == {"learning": "0.0500"}
    assert first["total_factor"] == "0.0500" and first["benefit_cny"] == "0.00"
    assert [i["employee_no"] for i in body["items"]] == ["000001", "000002", "000003", "HR01"]


def test_pages_follow_the_cursor_to_the_end(client, month):
    headers = bearer(key_with("reports:read"))
    seen, cursor = [], None
    while True:
        response = client.get(URL, {"limit": 2, **({"cursor": cursor} if cursor else {})},
                              **headers)
        body = response.json()
        seen += [item["employee_no"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["000001", "000002", "000003", "HR01"]
    assert client.get(URL, {"cursor": "!!"}, **headers).status_code == 422


def test_who_may_read_and_close(client, month):
    assert client.get(URL).status_code == 401
    assert client.get(URL, **bearer(key_with("ledger:read"))).status_code == 403
    manager = EmployeeFactory(roles=[Role.MANAGER])
    assert client.get(URL, **bearer(token_for(manager))).status_code == 403
    assert client.get(URL, **bearer(token_for(month))).status_code == 200  # hr_admin
    reader = key_with("reports:read")
    assert client.post(f"{URL}/close", **bearer(reader)).status_code == 403
    auditor = EmployeeFactory(roles=[Role.AUDITOR])
    assert client.get(URL, **bearer(token_for(auditor))).status_code == 200
    assert client.post(f"{URL}/close", **bearer(token_for(auditor))).status_code == 403


def test_a_malformed_month_is_422(client, month):
    headers = bearer(key_with("reports:read"))
    for bad in ("2026-13", "26-10", "2026-1x", "latest"):
        response = client.get(f"/api/v1/payroll/periods/{bad}", **headers)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_period"


def test_closing_over_the_api_freezes_the_month_and_the_xlsx(client, month):
    admin = key_with("admin")
    response = client.post(f"{URL}/close", **bearer(admin), HTTP_IDEMPOTENCY_KEY="close-oct")
    assert response.status_code == 200
    assert response.json()["status"] == "closed"
    assert PayrollPeriod.objects.get(month=date(2026, 10, 1)).status == "closed"
    reader = bearer(key_with("reports:read"))
    first = client.get(f"{URL}.xlsx", **reader)
    assert first["Content-Type"].startswith("application/vnd.openxmlformats")
    earn(EmployeeFactory(employee_no="000004"), 50, category="learning", now=IN_OCT)
    second = client.get(URL, {"format": "xlsx"}, **reader)
    assert first.content == second.content
    rows = list(openpyxl.load_workbook(io.BytesIO(first.content)).active.iter_rows(
        values_only=True))
    assert [row[0] for row in rows[1:]] == ["000001", "000002", "000003", "HR01"]
    body = client.get(URL, **reader).json()
    assert body["status"] == "closed" and body["closed_at"]
    assert "000004" not in [item["employee_no"] for item in body["items"]]


def test_the_current_month_cannot_be_closed(client, month):
    response = client.post("/api/v1/payroll/periods/2999-01/close",
                           **bearer(key_with("admin")))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "period_not_ended"


def test_policies_are_set_and_listed_over_the_api(client, month):
    admin = bearer(key_with("admin"))
    response = client.put("/api/v1/payroll/policies/teamwork",
                          data=json.dumps({"target": 300, "weight": 5}),
                          content_type="application/json", **admin)
    assert response.status_code == 200
    listed = client.get("/api/v1/payroll/policies", **bearer(key_with("reports:read")))
    assert [p["category"] for p in listed.json()["items"]] == ["learning", "teamwork"]
    bad = client.put("/api/v1/payroll/policies/teamwork",
                     data=json.dumps({"target": 0, "weight": 5}),
                     content_type="application/json", **admin)
    assert bad.status_code == 422


def test_a_page_costs_the_same_queries_for_more_employees(client, month):
    headers = bearer(key_with("reports:read"))
    client.get(URL, **headers)  # warm: the key's last use, settings rows
    with CaptureQueriesContext(connection) as few:
        client.get(URL, **headers)
    for n in range(30):
        earn(EmployeeFactory(employee_no=f"1{n:05d}"), 10, category="learning", now=IN_OCT)
    client.get(URL, **headers)
    with CaptureQueriesContext(connection) as more:
        body = client.get(URL, **headers).json()
    assert len(body["items"]) == 34
    assert len(more.captured_queries) <= len(few.captured_queries) + 2  # no query per line
