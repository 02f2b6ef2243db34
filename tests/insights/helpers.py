"""Helpers for the insights tests."""

from __future__ import annotations

from jifen.insights.models import (
    CompanyMonth,
    DepartmentMonth,
    EmployeeMonth,
    ItemMonth,
    LastActive,
    Standing,
)


def rollup_tables() -> dict[str, set[tuple]]:
    """Every rollup row's content (without ids), for comparing two ways of computing them."""
    return {
        "employee": set(EmployeeMonth.objects.values_list(
            "employee_id", "department_id", "month", "category", "kind", "amount", "count")),
        "department": set(DepartmentMonth.objects.values_list(
            "department_id", "month", "category", "kind", "amount", "count")),
        "company": set(CompanyMonth.objects.values_list(
            "month", "category", "kind", "amount", "count")),
        "item": set(ItemMonth.objects.values_list("item_id", "month", "kind", "amount", "count")),
        "standing": set(Standing.objects.values_list(
            "period", "category", "employee_id", "department_id", "points")),
        "last_active": set(LastActive.objects.values_list("employee_id", "month")),
    }
