from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from jifen.ledger import selectors
from tests.factories import DepartmentFactory, EmployeeFactory
from tests.ledger.helpers import earn, hold, spend

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime(2025, 6, 1, 9, 0))


def test_balance_groups_expiring_points_by_date_soonest_first():
    employee = EmployeeFactory()
    earn(employee, 10, expires_at=NOW + timedelta(days=60), now=NOW)
    earn(employee, 5, expires_at=NOW + timedelta(days=20), now=NOW)
    earn(employee, 7, expires_at=NOW + timedelta(days=20), now=NOW)
    earn(employee, 100, expires_at=None, now=NOW)
    result = selectors.balance(employee=employee, now=NOW)
    assert result.spendable == 122
    assert result.expiring == [{"amount": 12, "expires_at": NOW + timedelta(days=20)},
                               {"amount": 10, "expires_at": NOW + timedelta(days=60)}]
    assert result.expiring_within(30, now=NOW) == 12
    assert result.expiring_within(90, now=NOW) == 22


def test_history_shows_the_running_balance_after_each_movement():
    employee = EmployeeFactory()
    earn(employee, 50)
    spend(employee, 20)
    hold(employee, 10)
    assert [(e.transaction.kind, e.amount, e.balance_after)
            for e in selectors.history(employee=employee)] == [
        ("hold", -10, 20), ("redeem", -20, 30), ("earn", 50, 50)]


def test_outstanding_points_are_summed_per_department():
    sales, rnd = DepartmentFactory(code="SALES"), DepartmentFactory(code="RND")
    a, b = EmployeeFactory(department=sales), EmployeeFactory(department=sales)
    EmployeeFactory(department=sales)  # holds nothing, still one of the heads
    c = EmployeeFactory(department=rnd)
    earn(a, 100, expires_at=NOW + timedelta(days=10), now=NOW)
    earn(b, 50, expires_at=NOW + timedelta(days=60), now=NOW)
    earn(b, 30, expires_at=NOW - timedelta(days=1), now=NOW - timedelta(days=30))
    hold(b, 20, now=NOW)
    earn(c, 7, expires_at=None, now=NOW)
    rows = {r["department_code"]: r for r in selectors.outstanding_by_department(now=NOW)}
    assert rows["SALES"] == {
        "department_id": sales.pk, "department_code": "SALES",
        "department_name": sales.name, "spendable": 130, "held": 20, "expiring_30": 100,
        "expiring_90": 130, "expired_unswept": 30, "employees": 2, "headcount": 3,
    }
    assert rows["RND"]["spendable"] == 7 and rows["RND"]["expiring_90"] == 0
