"""Helpers for writing many rows at once: chunks that fit every database's IN (...) lists,
and the look-ups by employee number and username that the bulk paths share."""

from __future__ import annotations

from typing import Any

from jifen.people.models import Employee, User

BULK_CHUNK = 500  # rows per IN (...) list and per bulk statement, safe on every database


def chunked(items: list[Any], size: int = BULK_CHUNK) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def employees_by_no(numbers: list[str]) -> dict[str, Employee]:
    found: dict[str, Employee] = {}
    for chunk in chunked(sorted(set(numbers))):
        for employee in Employee.objects.select_related("user", "department").filter(
            employee_no__in=chunk
        ):
            found[employee.employee_no] = employee
    return found


def users_by_username(usernames: list[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    for chunk in chunked(sorted(set(usernames))):
        for user in User.objects.select_related("employee").filter(username__in=chunk):
            found[user.username] = user
    return found
