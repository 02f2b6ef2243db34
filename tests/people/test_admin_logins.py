"""Renaming a login can lock its owner out, so only a super admin may rename the login of
an account with admin powers — through the API, the console form and the import alike."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from jifen.core import errors
from jifen.core.models import ImportJob
from jifen.core.roles import Role
from jifen.integrations.services import create_api_key
from jifen.people.models import Employee
from jifen.people.services import EmployeeData, import_employees, issue_access_token
from tests.conftest import login_client
from tests.people.test_import import HEADER, commit, upload, xlsx_upload

pytestmark = pytest.mark.django_db


def _rename(client: Client, target: Employee, username: str, token: str):
    return client.put(
        f"/api/v1/employees/{target.employee_no}",
        data=json.dumps({"name": target.name, "department_code": target.department.code,
                         "username": username}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


def _login(employee: Employee) -> str:
    employee.user.refresh_from_db()
    return employee.user.username


@pytest.mark.parametrize("role", [Role.SUPER_ADMIN, Role.HR_ADMIN, Role.AUDITOR])
def test_an_hr_token_cannot_rename_an_admins_login(client, hr_admin, make_role_employee, role):
    target = make_role_employee(role, name="管理员")
    before = _login(target)
    response = _rename(client, target, "hijacked", issue_access_token(user=hr_admin.user)[1])
    assert response.status_code == 403, response.content
    error = response.json()["error"]
    assert error["code"] == "privileged_account"
    assert target.employee_no in error["message"]
    assert _login(target) == before


def test_an_employees_write_key_cannot_rename_a_super_admins_login(client, super_admin):
    before = _login(super_admin)
    key = create_api_key(name="hr-sync", scopes=["employees:write"])[1]
    response = _rename(client, super_admin, "hijacked", key)
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "privileged_account"
    assert _login(super_admin) == before


def test_resending_the_same_username_is_not_a_rename(client, super_admin):
    key = create_api_key(name="hr-sync", scopes=["employees:write"])[1]
    response = _rename(client, super_admin, _login(super_admin), key)
    assert response.status_code == 200, response.content


def test_a_super_admin_renames_an_admin_and_hr_renames_everyone_else(
        client, hr_admin, super_admin, employee, make_role_employee):
    other_admin = make_role_employee(Role.SUPER_ADMIN, name="另一位管理员")
    root = issue_access_token(user=super_admin.user)[1]
    assert _rename(client, other_admin, "renamed.admin", root).status_code == 200
    assert _login(other_admin) == "renamed.admin"
    hr = issue_access_token(user=hr_admin.user)[1]
    assert _rename(client, employee, "renamed.employee", hr).status_code == 200
    assert _login(employee) == "renamed.employee"


def test_the_console_form_explains_the_refusal(hr_admin, super_admin):
    client = login_client(hr_admin.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    before = _login(super_admin)
    response = client.post(reverse("console:employee_edit", args=[super_admin.pk]), {
        "employee_no": super_admin.employee_no, "name": super_admin.name,
        "department_code": super_admin.department.code, "status": "active",
        "username": "hijacked",
    })
    assert response.status_code == 200
    assert "only a super admin can change its username" in response.content.decode()
    assert _login(super_admin) == before


def test_an_import_renaming_an_admins_login_changes_nothing(hr_admin, super_admin, employee):
    before = _login(super_admin)
    rows = [EmployeeData(employee_no=employee.employee_no, name="改个名字",
                         department_code=employee.department.code),
            EmployeeData(employee_no=super_admin.employee_no, name=super_admin.name,
                         department_code=super_admin.department.code, username="hijacked")]
    with pytest.raises(errors.PermissionDenied) as refused:
        import_employees(rows=rows, actor=hr_admin.user)
    assert refused.value.code == "privileged_account"
    employee.refresh_from_db()
    assert employee.name != "改个名字" and _login(super_admin) == before


def _renaming_sheet(admin: Employee) -> SimpleUploadedFile:
    """A new employee, then a row renaming ``admin``'s login (sheet row 3)."""
    dept = admin.department.code
    return xlsx_upload([
        ["P00001", "员工1", dept, "", "", "", "", None, "在职", ""],
        [admin.employee_no, admin.name, dept, admin.email, "", "", "", None, "在职", "hijacked"],
    ], header=[*HEADER, "用户名"])


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_import_preview_flags_the_row_and_imports_the_rest(hr_admin, super_admin):
    client = login_client(hr_admin.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    before = _login(super_admin)

    job = upload(client, _renaming_sheet(super_admin))

    assert job.error_rows == [{
        "row": 3, "field": "username",
        "message": f"{super_admin.name} ({super_admin.employee_no}) has an admin account; "
                   "only a super admin can change its username."}]
    commit(client, job, "valid_only")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.failure_reason
    assert Employee.objects.filter(employee_no="P00001").exists()
    assert _login(super_admin) == before


def test_a_super_admin_imports_the_same_sheet_cleanly(super_admin, make_role_employee):
    other_admin = make_role_employee(Role.HR_ADMIN, name="人事")
    client = login_client(super_admin.user)
    job = upload(client, _renaming_sheet(other_admin))
    assert job.error_rows == []
    commit(client, job, "all")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.failure_reason
    assert _login(other_admin) == "hijacked"
