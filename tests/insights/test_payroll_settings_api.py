"""/api/v1/payroll/settings: the payroll settings page's column mapping and benefit
setting for HR systems, through the same services; the xlsx follows what was set."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

from jifen.core.models import AuditEntry
from jifen.insights.services import payroll
from tests.insights.test_payroll_api import bearer, key_with

pytestmark = pytest.mark.django_db
URL = "/api/v1/payroll/settings"


def put(client, token, body):
    return client.put(URL, data=json.dumps(body), content_type="application/json",
                      **bearer(token))


def test_hr_sets_the_columns_and_the_export_follows_them(client):
    admin = key_with("admin", "reports:read")
    read = client.get(URL, **bearer(admin)).json()
    assert {"employee_no", "points:learning"} <= {f["field"] for f in read["fields"]}
    answer = put(client, admin, {"columns": [{"field": "employee_no", "header": "工号"},
                                             {"field": "points:learning", "header": "学习积分"}]})
    assert answer.status_code == 200, answer.content
    assert [c["header"] for c in answer.json()["columns"]] == ["工号", "学习积分"]
    sheet = openpyxl.load_workbook(io.BytesIO(payroll.export_xlsx(
        month=payroll.parse_month("2026-01")))).active
    assert [cell.value for cell in sheet[1]] == ["工号", "学习积分"]
    assert AuditEntry.objects.filter(action="payroll.columns.save").exists()


def test_the_benefit_setting_changes_alone(client):
    admin = key_with("admin", "reports:read")
    columns_before = client.get(URL, **bearer(admin)).json()["columns"]
    answer = put(client, admin, {"benefit_enabled": False})
    assert answer.status_code == 200
    assert answer.json()["benefit_enabled"] is False
    assert answer.json()["columns"] == columns_before
    assert payroll.current_settings().benefit_enabled is False


def test_bad_settings_change_nothing(client):
    admin = key_with("admin", "reports:read")
    before = client.get(URL, **bearer(admin)).json()
    for body in ({"columns": [{"field": "salary", "header": "工资"}]},
                 {"columns": [{"field": "employee_no", "header": ""}]},
                 {"columns": []},
                 {"columns": [{"field": "employee_no", "header": "工号"}],
                  "benefit_fulfilments": ["teleport"]}):
        assert put(client, admin, body).status_code == 422, body
    assert client.get(URL, **bearer(admin)).json() == before
    assert not AuditEntry.objects.filter(action__startswith="payroll.").exists()


def test_only_hr_changes_payroll_settings(client):
    reader = key_with("reports:read")
    assert client.get(URL, **bearer(reader)).status_code == 200
    assert put(client, reader, {"benefit_enabled": False}).status_code == 403
    assert payroll.current_settings().benefit_enabled is True
