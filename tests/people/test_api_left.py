"""POST /employees/{employee_no}/left: the API twin of the console's "Mark as left"."""

from __future__ import annotations

from datetime import date

import pytest

from jifen.core.models import AuditEntry
from jifen.people.models import Employee
from tests.earning.test_api import key_with, post

pytestmark = pytest.mark.django_db


def _status(employee) -> str:
    return Employee.objects.get(pk=employee.pk).status


def test_hr_key_marks_an_employee_left_on_a_date(client, employee):
    answer = post(client, f"/api/v1/employees/{employee.employee_no}/left",
                  {"left_on": "2026-03-31"}, key_with("employees:write"))
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "left"
    stored = Employee.objects.get(pk=employee.pk)
    assert stored.status == "left" and stored.left_on == date(2026, 3, 31)
    assert stored.user.is_active is False
    assert AuditEntry.objects.filter(action="employee.left").count() == 1


def test_marking_again_changes_nothing(client, employee):
    token = key_with("employees:write")
    post(client, f"/api/v1/employees/{employee.employee_no}/left", {}, token)
    again = post(client, f"/api/v1/employees/{employee.employee_no}/left", {}, token)
    assert again.status_code == 200
    assert AuditEntry.objects.filter(action="employee.left").count() == 1


def test_a_bad_date_is_a_422_and_nothing_changes(client, employee):
    answer = post(client, f"/api/v1/employees/{employee.employee_no}/left",
                  {"left_on": "not-a-date"}, key_with("employees:write"))
    assert answer.status_code == 422
    assert _status(employee) == "active"


def test_an_unknown_employee_is_a_404_naming_them(client):
    answer = post(client, "/api/v1/employees/NOPE/left", {}, key_with("employees:write"))
    assert answer.status_code == 404
    assert "NOPE" in answer.json()["error"]["message"]


def test_a_read_only_key_is_forbidden(client, employee):
    answer = post(client, f"/api/v1/employees/{employee.employee_no}/left", {},
                  key_with("employees:read"))
    assert answer.status_code == 403
    assert _status(employee) == "active"


def test_a_key_may_not_offboard_a_super_admin(client, super_admin):
    answer = post(client, f"/api/v1/employees/{super_admin.employee_no}/left", {},
                  key_with("employees:write"))
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "privileged_account"
    assert _status(super_admin) == "active"
