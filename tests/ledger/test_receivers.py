"""The ledger follows people's changes: imported employees get accounts, leavers' points
follow the leaving policy."""

from __future__ import annotations

import pytest

from jifen.ledger.models import Account, AccountKind, LeavingPolicy
from jifen.ledger.selectors import balance
from jifen.ledger.services import credit, update_policy
from jifen.people.services import EmployeeData, import_employees, mark_employee_left
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def give(employee, amount: int) -> None:
    credit(employee=employee, amount=amount, category="performance",
           idempotency_key=f"test:{employee.pk}:{amount}", cause=("test", "1"))


def test_employees_created_by_an_import_have_a_wallet_and_a_hold(department, hr_admin):
    rows = [EmployeeData(employee_no=f"IMP{n}", name=f"导入{n}", department_code=department.code)
            for n in range(3)]
    import_employees(rows=rows, actor=hr_admin.user)
    kinds = set(Account.objects.filter(employee__employee_no__startswith="IMP")
                .values_list("employee__employee_no", "kind"))
    assert kinds == {(f"IMP{n}", kind) for n in range(3)
                     for kind in (AccountKind.WALLET, AccountKind.HOLD)}


def test_a_leaver_keeps_their_points_under_the_default_policy(employee, hr_admin):
    give(employee, 120)
    mark_employee_left(employee=employee, actor=hr_admin.user)
    assert balance(employee=employee).spendable == 120


def test_a_leaver_forfeits_their_points_once_when_the_policy_says_so(employee, hr_admin):
    update_policy(actor=hr_admin.user, on_leaving=LeavingPolicy.FORFEIT)
    give(employee, 120)
    mark_employee_left(employee=employee, actor=hr_admin.user)
    mark_employee_left(employee=employee, actor=hr_admin.user)
    assert balance(employee=employee).spendable == 0
    forfeiture = Account.objects.get(kind=AccountKind.FORFEITURE)
    assert forfeiture.balance == 120


def test_an_import_that_marks_someone_left_applies_the_policy(department, hr_admin):
    update_policy(actor=hr_admin.user, on_leaving=LeavingPolicy.FORFEIT)
    leaver = EmployeeFactory(department=department, employee_no="L1")
    give(leaver, 50)
    import_employees(rows=[EmployeeData(employee_no="L1", name=leaver.name,
                                        department_code=department.code, status="left")],
                     actor=hr_admin.user)
    assert balance(employee=leaver).spendable == 0
