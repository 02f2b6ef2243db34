"""PUT /employees/{employee_no}/roles: the API twin of the console's roles form."""

from __future__ import annotations

import json

import pytest

from jifen.core.models import AuditEntry
from jifen.core.roles import user_roles
from jifen.people.services import issue_access_token
from tests.earning.test_api import bearer, key_with

pytestmark = pytest.mark.django_db


def _put(client, employee_no: str, body: dict, token: str):
    return client.put(f"/api/v1/employees/{employee_no}/roles", data=json.dumps(body),
                      content_type="application/json", **bearer(token))


def _roles(employee) -> set[str]:
    user = type(employee.user).objects.get(pk=employee.user_id)
    return set(user_roles(user)) - {"employee", "manager"}


def test_a_super_admin_grants_and_removes_roles(client, super_admin, employee):
    token = issue_access_token(user=super_admin.user)[1]
    answer = _put(client, employee.employee_no, {"roles": ["hr_admin", "auditor"]}, token)
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"employee_no": employee.employee_no,
                             "roles": ["auditor", "hr_admin"]}
    assert _roles(employee) == {"auditor", "hr_admin"}
    assert _put(client, employee.employee_no, {"roles": []}, token).json()["roles"] == []
    assert _roles(employee) == set()
    assert AuditEntry.objects.filter(action="user.roles").count() == 2


@pytest.mark.parametrize("roles", [["king"], ["employee"], "hr_admin"])
def test_unknown_roles_are_refused_and_nothing_changes(client, super_admin, employee, roles):
    token = issue_access_token(user=super_admin.user)[1]
    assert _put(client, employee.employee_no, {"roles": roles}, token).status_code == 422
    assert _roles(employee) == set()


def test_a_super_admin_cannot_demote_themselves(client, super_admin):
    token = issue_access_token(user=super_admin.user)[1]
    answer = _put(client, super_admin.employee_no, {"roles": []}, token)
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "self_demotion"
    assert _roles(super_admin) == {"super_admin"}


def test_an_unknown_employee_is_a_404(client, super_admin):
    token = issue_access_token(user=super_admin.user)[1]
    assert _put(client, "NOPE", {"roles": []}, token).status_code == 404


@pytest.mark.parametrize("who", ["api_key", "hr_admin"])
def test_only_a_super_admins_own_token_grants_roles(client, hr_admin, employee, who):
    token = (key_with("admin", "employees:write") if who == "api_key"
             else issue_access_token(user=hr_admin.user)[1])
    answer = _put(client, employee.employee_no, {"roles": ["super_admin"]}, token)
    assert answer.status_code == 403
    assert _roles(employee) == set()
