"""Off-boarding disables a login, so only a super admin may off-board a super admin."""

from __future__ import annotations

import json

import pytest

from jifen.core import errors
from jifen.integrations.services import create_api_key
from jifen.people.models import EmployeeStatus
from jifen.people.services import EmployeeData, import_employees, mark_employee_left

pytestmark = pytest.mark.django_db


def _still_in(employee) -> bool:
    employee.refresh_from_db()
    employee.user.refresh_from_db()
    return employee.status == EmployeeStatus.ACTIVE and employee.user.is_active


def test_hr_cannot_mark_a_super_admin_as_left(hr_admin, super_admin):
    with pytest.raises(errors.PermissionDenied) as refused:
        mark_employee_left(employee=super_admin, actor=hr_admin.user)
    assert refused.value.code == "privileged_account"
    assert _still_in(super_admin)


def test_a_super_admin_can_and_hr_still_off_boards_everyone_else(hr_admin, super_admin,
                                                                 make_role_employee):
    other_admin = make_role_employee("super_admin", name="另一位管理员")
    mark_employee_left(employee=hr_admin, actor=super_admin.user)
    mark_employee_left(employee=other_admin, actor=super_admin.user)
    assert not _still_in(hr_admin) and not _still_in(other_admin)


def test_an_api_key_cannot_off_board_a_super_admin(client, super_admin):
    key = create_api_key(name="hr-sync", scopes=["admin"])[1]
    response = client.put(
        f"/api/v1/employees/{super_admin.employee_no}",
        data=json.dumps({"name": super_admin.name, "status": "left",
                         "department_code": super_admin.department.code}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "privileged_account"
    assert _still_in(super_admin)


def test_an_import_marking_a_super_admin_left_changes_nothing(hr_admin, super_admin, employee):
    rows = [EmployeeData(employee_no=employee.employee_no, name="改个名字",
                         department_code=employee.department.code),
            EmployeeData(employee_no=super_admin.employee_no, name=super_admin.name,
                         department_code=super_admin.department.code, status="left")]
    with pytest.raises(errors.PermissionDenied):
        import_employees(rows=rows, actor=hr_admin.user)
    employee.refresh_from_db()
    assert employee.name != "改个名字" and _still_in(super_admin)


def test_the_console_explains_why_hr_cannot_off_board_a_super_admin(hr_admin, super_admin):
    from django.contrib.messages import get_messages
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(hr_admin.user)
    response = client.post(reverse("console:employee_left", args=[super_admin.pk]))
    assert response.status_code == 302
    [message] = list(get_messages(response.wsgi_request))
    assert message.level_tag == "error" and super_admin.employee_no in message.message
    assert _still_in(super_admin)
