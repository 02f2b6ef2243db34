"""SCIM reads: which employees and departments SCIM lists."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from jifen.people.models import Department, Employee, EmployeeStatus


def scim_users() -> QuerySet[Employee]:
    """Every employee SCIM lists. Employees deleted through SCIM (off-boarded, link
    removed) are gone for SCIM; others, including those created in the console, are listed
    so a client can match them before creating."""
    return (Employee.objects.select_related("user", "department", "scim")
            .exclude(Q(status=EmployeeStatus.LEFT) & Q(scim__isnull=True)))


def scim_groups() -> QuerySet[Department]:
    """Every department, as SCIM groups."""
    return Department.objects.select_related("scim")
