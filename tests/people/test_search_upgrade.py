"""Upgrading past people/0004 gives the employees already there their pinyin search keys,
so a picker finds them the day the release goes out."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from jifen.people import selectors
from jifen.people.models import Employee

# Migrations run DDL and their own transactions: not inside a test's transaction.
pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("people", "0003_end_leavers_sign_ins")


@pytest.fixture
def executor():
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    yield executor
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_existing_employees_get_their_keys(executor):
    apps = executor.loader.project_state([BEFORE]).apps
    Department = apps.get_model("people", "Department")
    Employee_ = apps.get_model("people", "Employee")
    department = Department.objects.create(code="ops", name="运营部", path="/", depth=0)
    Employee_.objects.create(employee_no="E1", name="单丽", department=department)
    Employee_.objects.create(employee_no="E2", name="Alice Wang", department=department)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    keys = dict(Employee.objects.values_list("employee_no", "name_initials"))
    assert keys == {"E1": "sl dl", "E2": "aw"}
    assert [e.employee_no for e in selectors.search_colleagues("shanli", viewer=None)] == ["E1"]
