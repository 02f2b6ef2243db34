"""Upgrading past people/0004 gives the employees already there their pinyin search keys,
so a picker finds them the day the release goes out."""

from __future__ import annotations

import pytest

from jifen.people import selectors
from jifen.people.models import Employee

# Migrations run DDL and their own transactions: not inside a test's transaction.
from tests.migrating import migrate_to_latest, migrated_back_to

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("people", "0003_end_leavers_sign_ins")


executor = migrated_back_to(BEFORE)


def test_existing_employees_get_their_keys(executor):
    apps = executor.loader.project_state([BEFORE]).apps
    Department = apps.get_model("people", "Department")
    Employee_ = apps.get_model("people", "Employee")
    department = Department.objects.create(code="ops", name="运营部", path="/", depth=0)
    Employee_.objects.create(employee_no="E1", name="单丽", department=department)
    Employee_.objects.create(employee_no="E2", name="Alice Wang", department=department)

    migrate_to_latest()

    keys = dict(Employee.objects.values_list("employee_no", "name_initials"))
    assert keys == {"E1": "sl dl", "E2": "aw"}
    assert [e.employee_no for e in selectors.search_colleagues("shanli", viewer=None)] == ["E1"]
