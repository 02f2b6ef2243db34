"""Upgrading past insights/0007 fills the company's months from the department rollups
already there, so the company-wide charts show the history, not only what moves after."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from jifen.insights.models import CompanyMonth
from jifen.insights.services import rollups
from jifen.ledger.verify import verify_ledger
from tests.factories import EmployeeFactory
from tests.ledger.helpers import earn
from tests.migrating import migrate_to_latest

# Migrations run DDL and their own transactions: not inside a test's transaction.
pytestmark = pytest.mark.django_db(transaction=True)

UTC = ZoneInfo("UTC")


def company_months() -> set[tuple]:
    return set(CompanyMonth.objects.values_list("month", "category", "kind", "amount", "count"))


def test_the_upgrade_adds_up_the_departments_months():
    ann, bob = EmployeeFactory(), EmployeeFactory()  # two departments
    earn(ann, 70, category="learning", now=datetime(2026, 2, 3, tzinfo=UTC))
    earn(bob, 30, category="learning", now=datetime(2026, 2, 9, tzinfo=UTC))
    earn(bob, 5, category="culture", now=datetime(2026, 3, 2, tzinfo=UTC))
    rollups.fold_pending()
    expected = {(date(2026, 2, 1), "learning", "earn", 100, 2),
                (date(2026, 3, 1), "culture", "earn", 5, 1)}
    assert company_months() == expected

    try:
        MigrationExecutor(connection).migrate([("insights", "0006_payroll_export")])
    finally:
        migrate_to_latest()  # creates the table again and fills it

    assert company_months() == expected
    assert verify_ledger() == []
