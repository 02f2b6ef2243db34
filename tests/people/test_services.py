"""People's services called directly (the pages and the API reach the same functions:
tests/people/test_views.py, test_api.py)."""

from __future__ import annotations

import pytest

from jifen.core import errors
from jifen.people.models import EmployeeStatus
from jifen.people.services import (
    EmployeeData,
    import_employees,
    mark_employee_left,
    upsert_department,
)

pytestmark = pytest.mark.django_db


def _still_in(employee) -> bool:
    employee.refresh_from_db()
    employee.user.refresh_from_db()
    return employee.status == EmployeeStatus.ACTIVE and employee.user.is_active


# --- off-boarding an administrator (moved from test_offboarding.py) -----------------------


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


def test_an_import_marking_a_super_admin_left_changes_nothing(hr_admin, super_admin, employee):
    rows = [EmployeeData(employee_no=employee.employee_no, name="改个名字",
                         department_code=employee.department.code),
            EmployeeData(employee_no=super_admin.employee_no, name=super_admin.name,
                         department_code=super_admin.department.code, status="left")]
    with pytest.raises(errors.PermissionDenied):
        import_employees(rows=rows, actor=hr_admin.user)
    employee.refresh_from_db()
    assert employee.name != "改个名字" and _still_in(super_admin)


def test_an_unknown_manager_is_a_422_naming_the_manager_field(department):
    with pytest.raises(errors.ValidationError) as refused:
        upsert_department(code="QA", name="测试组", parent_code=department.code,
                          manager_employee_no="NOPE")
    assert refused.value.code == "unknown_employee"
    assert refused.value.details == {"manager_employee_no": "NOPE"}
    assert "NOPE" in refused.value.message
