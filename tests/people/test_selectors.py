"""People's reads (``jifen.people.selectors``): who sees which departments and employees,
and the look-ups the pages and the API share."""

from __future__ import annotations

import pytest

from jifen.core import errors
from jifen.core.models import AuditEntry
from jifen.people import selectors
from jifen.people.models import EmployeeStatus
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(department):
    """HQ ─┬─ RD (managed) ── FE
           └─ SALES"""
    rd = DepartmentFactory(code="RD", name="研发中心", parent=department)
    fe = DepartmentFactory(code="RD-FE", name="前端组", parent=rd)
    sales = DepartmentFactory(code="SALES", name="销售部", parent=department)
    manager = EmployeeFactory(department=rd, name="经理丁", employee_no="M001")
    DepartmentFactory(code="RD", name="研发中心", parent=department, manager=manager)
    return {"hq": department, "rd": rd, "fe": fe, "sales": sales, "manager": manager,
            "fe_person": EmployeeFactory(department=fe, employee_no="F001"),
            "sales_person": EmployeeFactory(department=sales, employee_no="S001")}


def test_an_unknown_employee_number_is_a_422_naming_it(employee):
    assert selectors.employee_by_no(employee.employee_no) == employee
    with pytest.raises(errors.ValidationError) as refused:
        selectors.employee_by_no("NOPE")
    assert refused.value.code == "unknown_employee"
    assert refused.value.details == {"employee_no": "NOPE"}


def test_a_manager_sees_their_subtree_only(tree):
    manager = tree["manager"].user
    assert selectors.visible_employee(manager, tree["fe_person"].pk) == tree["fe_person"]
    assert selectors.visible_employee(manager, tree["sales_person"].pk) is None
    assert selectors.visible_department(manager, tree["fe"].pk) == tree["fe"]
    assert selectors.visible_department(manager, tree["sales"].pk) is None
    assert {d.code for d in selectors.departments_visible_to(manager)} == {"RD", "RD-FE"}


def test_a_system_caller_reads_every_employee_and_a_plain_employee_none(tree, employee):
    everyone = set(selectors.employees_readable_by(None))
    assert {tree["fe_person"], tree["sales_person"], employee} <= everyone
    assert not selectors.employees_readable_by(employee.user).exists()


def test_head_counts_are_active_employees_of_the_department_itself(tree, hr_admin):
    EmployeeFactory(department=tree["sales"], status=EmployeeStatus.LEFT)
    counts = {d.code: d.head_count for d in selectors.departments_with_head_count(hr_admin.user)}
    assert counts["SALES"] == 1 and counts["RD"] == 1 and counts["RD-FE"] == 1


def test_employee_history_is_the_latest_entries_about_them(employee):
    for n in range(12):
        AuditEntry.objects.create(action="employee.update", object_type="people.employee",
                                  object_id=str(employee.pk), object_repr=f"v{n}")
    AuditEntry.objects.create(action="employee.update", object_type="people.employee",
                              object_id="0", object_repr="someone else")
    history = selectors.employee_history(employee)
    assert len(history) == 10
    assert all(entry.object_id == str(employee.pk) for entry in history)


def test_taken_numbers_and_codes(employee, department):
    assert selectors.employee_no_taken(employee.employee_no)
    assert not selectors.employee_no_taken("NEW-1")
    assert selectors.department_by_code(department.code) == department
    assert selectors.department_by_code("NOPE") is None
