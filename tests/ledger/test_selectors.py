from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from jifen.ledger import selectors, services
from jifen.ledger.accounts import issuance_key, wallet_key
from jifen.ledger.models import AccountKind, TransactionKind
from tests.factories import DepartmentFactory, EmployeeFactory
from tests.ledger.helpers import earn, hold, key, spend

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


# --- the console's ledger browser --------------------------------------------------------


def test_transactions_filter_by_kind_time_and_employee_with_their_employee_legs():
    zhang = EmployeeFactory(name="张三")
    li = EmployeeFactory(name="李四")
    earned = earn(zhang, 50, now=NOW)
    spent = spend(zhang, 10, now=NOW + timedelta(days=1))
    theirs = earn(li, 7, now=NOW + timedelta(days=2))

    assert list(selectors.transactions()) == [theirs, spent, earned]
    assert list(selectors.transactions(kind=TransactionKind.EARN)) == [theirs, earned]
    assert list(selectors.transactions(since=NOW + timedelta(hours=1),
                                       until=NOW + timedelta(days=2))) == [spent]
    assert list(selectors.transactions(employee=zhang.employee_no.lower())) == [spent, earned]
    assert list(selectors.transactions(employee="李四")) == [theirs]
    (first,) = [t for t in selectors.transactions() if t.pk == earned.pk]
    assert [e.account.employee for e in first.employee_entries] == [zhang]


def test_a_transaction_is_found_with_its_legs_lots_and_reversal(hr_admin):
    employee = EmployeeFactory()
    earned = earn(employee, 20)
    spent = spend(employee, 5)
    reversal = services.reverse(transaction=spent, idempotency_key=key(), reason="mistake",
                                actor=hr_admin.user)

    assert selectors.transaction_by_id(spent.pk) == spent
    assert selectors.transaction_by_id(10**9) is None
    legs = list(selectors.transaction_entries(spent))
    assert {e.account.kind for e in legs} == {AccountKind.WALLET, AccountKind.REDEMPTION}
    assert [e.pk for e in legs] == sorted(e.pk for e in legs)
    assert [(c.lot.source_transaction, c.amount)
            for c in selectors.lot_consumptions(spent)] == [(earned, 5)]
    assert selectors.reversal_of(spent) == reversal
    assert selectors.reversal_of(earned) is None
    assert selectors.is_posted(spent.idempotency_key)
    assert not selectors.is_posted("never-used")


def test_accounts_filter_by_kind_and_by_code_number_or_name():
    employee = EmployeeFactory(name="王五")
    codes = {a.code for a in selectors.accounts(kind=AccountKind.WALLET)}
    assert wallet_key(employee.pk) in codes and issuance_key("learning") not in codes
    assert [a.code for a in selectors.accounts(q="王五")] == [
        f"hold:e:{employee.pk}", wallet_key(employee.pk)]
    assert {a.code for a in selectors.accounts(q=employee.employee_no)} == {
        f"hold:e:{employee.pk}", wallet_key(employee.pk)}
