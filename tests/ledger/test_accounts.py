"""Account codes and opening accounts (``jifen.ledger.accounts``)."""

from __future__ import annotations

import pytest

from jifen.core import errors
from jifen.ledger import accounts
from jifen.ledger.models import Account, AccountKind, Category
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db


def test_each_account_has_a_stable_code():
    assert accounts.wallet_key(7) == "wallet:e:7"
    assert accounts.hold_key(7) == "hold:e:7"
    assert accounts.issuance_key("learning") == "issuance:learning"
    assert accounts.budget_key(3) == "budget:d:3"
    assert accounts.sink_key("expiry") == "sink:expiry"


def test_an_unknown_category_has_no_issuance_account():
    with pytest.raises(errors.ValidationError) as exc:
        accounts.issuance_spec("gardening")
    assert exc.value.code == "unknown_category"


def test_a_new_employee_has_a_wallet_and_a_hold_account_already():
    employee = EmployeeFactory()
    wallet, hold = accounts.ensure_accounts(employee=employee)
    assert (wallet.code, wallet.kind, wallet.employee_id) == (
        accounts.wallet_key(employee.pk), AccountKind.WALLET, employee.pk)
    assert (hold.code, hold.kind) == (accounts.hold_key(employee.pk), AccountKind.HOLD)
    assert Account.objects.filter(employee=employee).count() == 2


def test_accounts_for_creates_a_missing_account_once_and_keeps_the_order_asked():
    department = DepartmentFactory()
    budget, sink = accounts.accounts_for(accounts.budget_spec(department.pk),
                                         accounts.sink_spec(AccountKind.EXPIRY))
    again, = accounts.accounts_for(accounts.budget_spec(department.pk))
    assert (budget.kind, budget.department_id, budget.may_go_negative) == (
        AccountKind.BUDGET, department.pk, False)
    assert sink.code == accounts.sink_key(AccountKind.EXPIRY) and sink.may_go_negative
    assert again.pk == budget.pk


def test_open_accounts_opens_many_and_skips_those_that_exist():
    employees = [EmployeeFactory() for _ in range(3)]
    Account.objects.filter(employee=employees[0]).delete()
    accounts.open_accounts(employee_ids=[e.pk for e in employees])
    assert Account.objects.filter(employee__in=employees).count() == 6


def test_ensure_company_accounts_opens_every_issuance_account_and_sink_once():
    accounts.ensure_company_accounts()
    accounts.ensure_company_accounts()
    codes = set(Account.objects.filter(may_go_negative=True).values_list("code", flat=True))
    assert {accounts.issuance_key(c) for c in Category.values} <= codes
    assert {accounts.sink_key(k) for k in accounts.SINK_KINDS} <= codes
    assert len(codes) == len(Category.values) + len(accounts.SINK_KINDS)
