"""What the demo company looks like to someone who opens it: one build shared by the
module, rolled back at its end."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse

from jifen.core.roles import Cap, Role, user_can, user_roles
from jifen.demo.builder import DEMO_LOGINS, DEMO_PASSWORD
from jifen.people.models import Department, Employee, EmployeeStatus, User
from jifen.people.selectors import employees_visible_to

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo_output(django_db_setup, django_db_blocker):
    """Run `jifen demo` once for the module; each test runs in a savepoint inside."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        call_command("demo", "--seed", "7", "--only", "people", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


def printed_logins(output: str) -> list[tuple[str, str, str]]:
    """(role, username, password) rows of the login table."""
    roles = {role.value for role in Role}
    rows = []
    for line in output.splitlines():
        cells = line.split()
        if len(cells) >= 3 and cells[0] in roles:
            rows.append((cells[0], cells[1], cells[2]))
    return rows


def test_the_demo_has_about_300_employees_across_a_department_tree(demo_output):
    assert 280 <= Employee.objects.filter(status=EmployeeStatus.ACTIVE).count() <= 320
    departments = list(Department.objects.all())
    assert len(departments) >= 8
    roots = [d for d in departments if d.parent_id is None]
    assert [d.name for d in roots] == ["总经办"]
    assert max(d.depth for d in departments) >= 2
    assert all(d.employees.exists() for d in departments)
    assert Department.objects.get(code="RD-FE").parent.name == "研发中心"


def test_employees_look_like_real_people(demo_output):
    employees = list(Employee.objects.all())
    assert len({e.name for e in employees}) == len(employees)
    assert all(re.fullmatch(r"JF\d{4}", e.employee_no) for e in employees)
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", e.name) for e in employees)
    assert all(re.fullmatch(r"1[3-9]\d{9}", e.phone) for e in employees)
    assert len({e.phone for e in employees}) == len(employees)
    assert len({e.email for e in employees}) == len(employees)
    assert {e.grade for e in employees} >= {"P1", "P4", "P8", "M1", "M4"}
    hired_years = {e.hire_date.year for e in employees}
    assert max(hired_years) - min(hired_years) >= 8
    assert Employee.objects.get(employee_no="JF0001").grade.startswith("M")


def test_every_department_has_a_manager_who_sees_only_their_subtree(demo_output):
    for department in Department.objects.select_related("manager__user"):
        manager = department.manager
        assert manager is not None, department.name
        user = manager.user
        assert user.is_active and user_can(user, Cap.VIEW_CONSOLE)
        visible = set(employees_visible_to(user).values_list("pk", flat=True))
        subtree = set(Employee.objects.filter(department__path__startswith=department.path)
                      .values_list("pk", flat=True))
        assert visible == subtree, department.name


def test_the_manager_login_looks_after_a_subtree_not_the_whole_company(demo_output):
    manager = User.objects.get(username="manager")
    visible = employees_visible_to(manager)
    assert {e.department.code for e in visible} == {"RD", "RD-FE", "RD-BE", "RD-QA"}
    assert visible.count() < Employee.objects.count()


def test_the_manager_login_opens_the_console_and_the_employee_login_does_not(demo_output):
    manager, employee = Client(), Client()
    assert manager.login(username="manager", password=DEMO_PASSWORD)
    assert employee.login(username="employee", password=DEMO_PASSWORD)
    assert manager.get(reverse("console:dashboard")).status_code == 200
    assert employee.get(reverse("console:dashboard")).status_code in (302, 403)


def test_every_printed_login_signs_in_with_the_printed_password_and_has_its_role(demo_output):
    assert "http://127.0.0.1:8000" in demo_output
    rows = printed_logins(demo_output)
    assert {role for role, _u, _p in rows} == {role.value for role in Role}
    for role, username, password in rows:
        assert password == DEMO_PASSWORD
        user = authenticate(username=username, password=password)
        assert user is not None, username
        assert role in user_roles(user)
        assert user.employee.status == EmployeeStatus.ACTIVE


def test_each_login_has_only_the_roles_it_demonstrates(demo_output):
    expected = {
        "employee": {Role.EMPLOYEE},
        "manager": {Role.EMPLOYEE, Role.MANAGER},
        "hr": {Role.EMPLOYEE, Role.HR_ADMIN},
        "mall": {Role.EMPLOYEE, Role.MALL_ADMIN},
        "auditor": {Role.EMPLOYEE, Role.AUDITOR},
        "admin": {Role.EMPLOYEE, Role.SUPER_ADMIN},
    }
    assert set(expected) == {username for _role, username in DEMO_LOGINS}
    for username, roles in expected.items():
        assert user_roles(User.objects.get(username=username)) == roles, username


def test_no_other_demo_employee_can_sign_in_with_a_password(demo_output):
    logins = {username for _role, username in DEMO_LOGINS}
    others = User.objects.exclude(username__in=logins)
    assert others.count() >= 280
    assert not any(user.has_usable_password() for user in others)
    some_employee = others.filter(employee__isnull=False).first()
    assert authenticate(username=some_employee.username, password=DEMO_PASSWORD) is None


def test_former_employees_cannot_sign_in(demo_output):
    former = Employee.objects.filter(status=EmployeeStatus.LEFT).select_related("user")
    assert former.exists()
    assert all(e.left_on and not e.user.is_active for e in former)
