"""The rollups behind rankings and dashboards follow the ledger: recorded with each
posting, folded by the worker, rebuilt from scratch, and checked by ledger verify."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from jifen.insights.models import (
    CompanyMonth,
    DepartmentMonth,
    EmployeeMonth,
    LastActive,
    PendingChange,
    Standing,
)
from jifen.insights.services import rollups
from jifen.ledger import services
from jifen.ledger.verify import verify_ledger
from tests.factories import EmployeeFactory
from tests.insights.helpers import rollup_tables
from tests.ledger.helpers import earn, hold, key

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")


def figures(employee) -> dict[tuple, tuple[int, int]]:
    return {(m, c, k): (a, n) for m, c, k, a, n in EmployeeMonth.objects.filter(
        employee=employee).values_list("month", "category", "kind", "amount", "count")}


def test_earning_and_spending_fold_into_the_month_and_rankings():
    alice = EmployeeFactory()
    when = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
    earn(alice, 100, category="learning", now=when)
    earn(alice, 40, category="teamwork", now=when)
    held = hold(alice, 30, now=when)  # a hold moves nothing the employee owns
    assert PendingChange.objects.count() == 2
    services.capture(hold=held, idempotency_key=key("capture"), now=when)
    assert rollups.fold_pending() == 3
    assert figures(alice) == {
        (date(2026, 3, 1), "learning", "earn"): (100, 1),
        (date(2026, 3, 1), "teamwork", "earn"): (40, 1),
        (date(2026, 3, 1), "", "capture"): (-30, 1),
    }
    assert set(DepartmentMonth.objects.filter(department=alice.department).values_list(
        "category", "kind", "amount", "count")) == {
        ("learning", "earn", 100, 1), ("teamwork", "earn", 40, 1), ("", "capture", -30, 1)}
    # A colleague elsewhere in the company adds to the company's month, not to Alice's
    # department's.
    earn(EmployeeFactory(), 25, category="learning", now=when)
    rollups.fold_pending()
    assert set(CompanyMonth.objects.values_list("month", "category", "kind", "amount",
                                                "count")) == {
        (date(2026, 3, 1), "learning", "earn", 125, 2),
        (date(2026, 3, 1), "teamwork", "earn", 40, 1),
        (date(2026, 3, 1), "", "capture", -30, 1)}
    ranked = dict(Standing.objects.filter(employee=alice, category="")
                  .values_list("period", "points"))
    assert ranked == {"all": 140, "2026": 140, "2026-Q1": 140, "2026-03": 140}
    assert Standing.objects.get(employee=alice, category="learning", period="2026-03").points == 100
    assert verify_ledger() == []


def test_months_are_the_sites_months():
    """23:30 UTC on 31 March is 07:30 on 1 April in Shanghai."""
    bob = EmployeeFactory()
    earn(bob, 5, now=datetime(2026, 3, 31, 23, 30, tzinfo=UTC))
    rollups.fold_pending()
    assert set(EmployeeMonth.objects.filter(employee=bob).values_list("month", flat=True)) == {
        date(2026, 4, 1)}


def test_a_rolled_back_posting_leaves_nothing_to_fold():
    carol = EmployeeFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        earn(carol, 50)
        raise RuntimeError("the caller changes its mind")
    assert not PendingChange.objects.exists()
    assert rollups.fold_pending() == 0


def test_a_rebuild_gives_what_folding_gave():
    dave, erin = EmployeeFactory(), EmployeeFactory()
    earn(dave, 70, category="culture", now=datetime(2025, 12, 20, tzinfo=UTC))
    earn(erin, 20, now=datetime(2026, 1, 5, tzinfo=UTC))
    services.transfer(sender=dave, recipient=erin, amount=15, idempotency_key=key("t"))
    services.penalize(employee=erin, amount=8, category="attendance",
                      idempotency_key=key("p"), cause=("test.event", "late"))
    rollups.fold_pending()
    folded = rollup_tables()
    assert rollups.rebuild() == 5
    assert rollup_tables() == folded
    assert verify_ledger() == []


def test_verify_finds_rollups_that_drifted_from_the_ledger(allow_ledger_breaches):
    frank = EmployeeFactory()
    earn(frank, 60)
    assert verify_ledger() == []  # still pending: rollups + pending equal the ledger
    rollups.fold_pending()
    EmployeeMonth.objects.filter(employee=frank).update(amount=61)
    breaches = verify_ledger()
    assert any(f"employee #{frank.pk} owns 60" in line for line in breaches)
    assert any("from its employees" in line for line in breaches)
    assert any("ranks with 60 but earned 61" in line for line in breaches)


def test_verify_finds_a_company_month_that_is_not_its_departments_sum(allow_ledger_breaches):
    earn(EmployeeFactory(), 60, category="learning", now=datetime(2026, 4, 2, tzinfo=UTC))
    rollups.fold_pending()
    CompanyMonth.objects.update(amount=59)
    assert any("company 2026-04 learning earn: (59, 1) stored, (60, 1) from its departments"
               in line for line in verify_ledger())


def test_the_fold_keeps_each_employees_last_earning_or_spending_month():
    grace, henry = EmployeeFactory(), EmployeeFactory()
    earn(grace, 50, now=datetime(2026, 5, 3, tzinfo=UTC))
    earn(grace, 10, now=datetime(2026, 2, 3, tzinfo=UTC))  # folded later, an older month
    held = hold(grace, 20, now=datetime(2026, 5, 4, tzinfo=UTC))
    services.capture(hold=held, idempotency_key=key("capture"),
                     now=datetime(2026, 7, 9, tzinfo=UTC))
    services.penalize(employee=henry, amount=1, category="attendance",
                      idempotency_key=key("p"), cause=("test.event", "late"))
    rollups.fold_pending()
    earn(grace, 5, now=datetime(2026, 6, 1, 8, tzinfo=UTC))  # earlier than July: no change
    rollups.fold_pending()
    # Spending (the July capture) counts; a penalty alone is not activity.
    assert dict(LastActive.objects.values_list("employee_id", "month")) == {
        grace.pk: date(2026, 7, 1)}
    assert verify_ledger() == []


def test_verify_finds_a_wrong_last_active_month(allow_ledger_breaches):
    ivy = EmployeeFactory()
    earn(ivy, 60, now=datetime(2026, 4, 2, tzinfo=UTC))
    rollups.fold_pending()
    LastActive.objects.filter(employee=ivy).update(month=date(2026, 3, 1))
    assert any(f"employee #{ivy.pk} last active 2026-03-01 recorded, 2026-04-01" in line
               for line in verify_ledger())
