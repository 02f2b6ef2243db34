"""How the audit log names people's objects and the values their snapshots keep as codes
(registered from ``PeopleConfig.ready``; see ``jifen.core.describe``)."""

from __future__ import annotations

from collections.abc import Collection

from django.utils.translation import gettext as _

from jifen.core.describe import by_pk, register_object_describer, register_value_describer
from jifen.core.roles import Cap, Role
from jifen.people.models import Department, Employee, User


def employee_words(employee: Employee) -> str:
    return f"{employee.name} ({employee.employee_no})"


def employees_by_number(numbers: Collection[str]) -> dict[str, str]:
    """Employee numbers → "name (number)", in one query."""
    return {e.employee_no: employee_words(e)
            for e in Employee.objects.filter(employee_no__in=list(numbers))}


def departments_by_code(codes: Collection[str]) -> dict[str, str]:
    """Department codes → names, in one query."""
    return dict(Department.objects.filter(code__in=list(codes)).values_list("code", "name"))


def role_labels(codes: Collection[str]) -> dict[str, str]:
    return {code: str(Role(code).label) for code in codes if code in Role.values}


def register() -> None:
    register_object_describer("people.employee", by_pk(
        Employee, lambda e: _("Employee %(name)s") % {"name": employee_words(e)},
        url_name="console:employee_detail", capability=Cap.VIEW_PEOPLE, name=employee_words))
    register_object_describer("people.department", by_pk(
        Department, lambda d: _("Department %(name)s") % {"name": d.name},
        url_name="console:department_edit", capability=Cap.MANAGE_PEOPLE,
        name=lambda d: d.name))
    register_object_describer("people.user", by_pk(
        User, lambda u: _("Account %(name)s") % {"name": u.audit_label},
        name=lambda u: u.audit_label, related=("employee",)))
    register_value_describer("people.employee", "department", departments_by_code)
    register_value_describer("people.department", "parent", departments_by_code)
    register_value_describer("people.department", "manager", employees_by_number)
    register_value_describer("people.user", "roles", role_labels)
