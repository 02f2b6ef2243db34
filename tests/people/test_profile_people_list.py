"""The people list's points column: sorted by the database on the wallet's balance (the
same on SQLite, PostgreSQL and MariaDB), shown only to those who may see the ledger."""

from __future__ import annotations

import csv
import io

from django.urls import reverse

from jifen.core.roles import Role
from jifen.people import selectors
from jifen.people.models import Employee
from tests.conftest import login_client
from tests.factories import EmployeeFactory
from tests.ledger.helpers import earn


def _people(department):
    rich = EmployeeFactory(department=department, employee_no="E003", name="富")
    poor = EmployeeFactory(department=department, employee_no="E001", name="穷")
    middle = EmployeeFactory(department=department, employee_no="E002", name="中")
    earn(rich, 900)
    earn(middle, 40)
    # poor has no points: a balance of 0
    return rich, middle, poor


def test_the_database_sorts_employees_by_points_both_ways(department):
    rich, middle, poor = _people(department)
    everyone = Employee.objects.filter(pk__in=[rich.pk, middle.pk, poor.pk])

    most = list(selectors.sort_employees(everyone, "-balance", with_points=True))
    fewest = list(selectors.sort_employees(everyone, "balance", with_points=True))

    assert [e.pk for e in most] == [rich.pk, middle.pk, poor.pk]
    assert [e.points_balance for e in most] == [900, 40, 0]
    assert [e.pk for e in fewest] == [poor.pk, middle.pk, rich.pk]


def test_the_people_list_shows_and_sorts_the_balance(department, hr_admin):
    _people(department)
    client = login_client(hr_admin.user)

    page = client.get(reverse("console:people"), {"sort": "-balance", "q": "E00"})

    names = [e.name for e in page.context["page"].object_list if e.name in "富中穷"]
    assert names == ["富", "中", "穷"]
    body = page.content.decode()
    assert 'data-testid="balance">900<' in body
    assert 'aria-sort="descending"' in body


def test_managers_without_ledger_rights_get_no_points_column(department, make_role_employee):
    manager = make_role_employee(Role.MANAGER)
    department.manager = manager
    department.save()
    _people(department)

    page = login_client(manager.user).get(reverse("console:people"), {"sort": "-balance"})

    assert page.status_code == 200
    assert "balance-header" not in page.content.decode()
    numbers = [e.employee_no for e in page.context["page"].object_list]
    assert [n for n in numbers if n in ("E001", "E002", "E003")] == ["E001", "E002", "E003"]


def test_the_export_carries_the_balance(department, hr_admin):
    _people(department)

    response = login_client(hr_admin.user).get(reverse("console:people_export"),
                                               {"format": "csv", "sort": "-balance"})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")
                                       if response.streaming else
                                       response.content.decode("utf-8-sig"))))
    by_no = {row[0]: row[-1] for row in rows[1:]}
    assert by_no["E003"] == "900" and by_no["E001"] == "0"
