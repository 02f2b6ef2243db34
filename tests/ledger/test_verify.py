from __future__ import annotations

import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from jifen.ledger import services
from jifen.ledger.models import Account, AccountKind, Entry, Lot, Transaction, TransactionKind
from jifen.ledger.verify import _EXTRA_CHECKS, register_check, verify_ledger
from tests.factories import EmployeeFactory
from tests.ledger.helpers import earn, hold, key, spend, wallet

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_ledger(hr_admin):
    alice, bob = EmployeeFactory(), EmployeeFactory()
    earn(alice, 100)
    earn(bob, 50, category="culture")
    spend(alice, 10)
    reserved = hold(alice, 20)
    services.capture(hold=reserved, idempotency_key=key())
    services.transfer(sender=bob, recipient=alice, amount=5, idempotency_key=key())
    services.adjust(employee=bob, amount=-3, reason="fix", actor=hr_admin.user,
                    idempotency_key=key())
    hold(bob, 7)
    return alice, bob


def run_verify() -> int:
    """The exit code `jifen ledger verify` would give (run_from_argv would also close the
    test's database connection, so the command is called the way Django's runner does)."""
    try:
        call_command("ledger", "verify")
    except CommandError as exc:
        print(exc, file=sys.stderr)
        return exc.returncode
    return 0


def test_a_sound_ledger_verifies_clean(busy_ledger, capsys):
    assert verify_ledger() == []
    assert run_verify() == 0
    assert "Ledger OK" in capsys.readouterr().out


def test_a_balance_edited_behind_the_ledgers_back_is_reported(busy_ledger, capsys,
                                                              allow_ledger_breaches):
    alice, _bob = busy_ledger
    Account.objects.filter(pk=wallet(alice).pk).update(balance=1000)
    breaches = verify_ledger()
    assert any("balance 1000 but its entries sum to 75" in b for b in breaches)
    assert any("wallet" in b and "its lots hold 75" in b for b in breaches)
    assert run_verify() == 1
    captured = capsys.readouterr()
    assert "balance 1000" in captured.out
    assert "breach" in captured.err


def test_an_unbalanced_transaction_is_reported(busy_ledger, allow_ledger_breaches):
    alice, _bob = busy_ledger
    txn = Transaction.objects.filter(kind=TransactionKind.EARN).first()
    with transaction.atomic():
        Entry.objects.create(transaction=txn, account=wallet(alice), amount=1)
        Account.objects.filter(pk=wallet(alice).pk).update(balance=wallet(alice).balance + 1)
        breaches = verify_ledger()
        transaction.set_rollback(True)
    assert any(f"transaction #{txn.pk} (earn)" in b and "summing to 1" in b for b in breaches)
    assert any("entry differs from its lot movements by 1" in b for b in breaches)


def test_a_lot_out_of_step_with_its_history_is_reported(busy_ledger, allow_ledger_breaches):
    alice, _bob = busy_ledger
    lot = Lot.objects.filter(wallet__employee=alice, remaining__gt=1).first()
    Lot.objects.filter(pk=lot.pk).update(remaining=lot.remaining - 1)
    breaches = verify_ledger()
    assert any(f"lot #{lot.pk}" in b for b in breaches)
    assert any("its lots hold" in b for b in breaches)


def test_a_hold_account_that_disagrees_with_parked_lots_is_reported(busy_ledger,
                                                                    allow_ledger_breaches):
    _alice, bob = busy_ledger
    Lot.objects.filter(wallet__employee=bob, held__gt=0).update(held=0)
    assert any(b.startswith("hold ") and "the lots park 0" in b for b in verify_ledger())


def test_a_movement_without_a_cause_is_reported(busy_ledger, allow_ledger_breaches):
    txn = Transaction.objects.filter(kind=TransactionKind.REDEEM).first()
    Transaction.objects.filter(pk=txn.pk).update(cause_type="")
    assert f"transaction #{txn.pk} (redeem) moves an employee's points without a cause" in (
        verify_ledger())


@pytest.mark.skipif(connection.vendor != "sqlite", reason="needs SQLite's switch for CHECKs")
def test_a_negative_wallet_is_reported_even_without_the_check_constraint(
        busy_ledger, allow_ledger_breaches):
    alice, _bob = busy_ledger
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA ignore_check_constraints = ON")
        try:
            Account.objects.filter(pk=wallet(alice).pk).update(balance=-5)
        finally:
            cursor.execute("PRAGMA ignore_check_constraints = OFF")
    assert any(b.endswith("is negative: -5") for b in verify_ledger())


def test_the_database_refuses_a_negative_wallet(db):
    employee = EmployeeFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(kind=AccountKind.WALLET, code="wallet:x", employee=employee,
                               balance=-1)


def test_other_apps_can_add_invariants(db, allow_ledger_breaches):
    def stock_never_negative() -> list[str]:
        return ["item 7 has stock -1"]

    register_check(stock_never_negative)
    try:
        assert verify_ledger() == ["item 7 has stock -1"]
    finally:
        _EXTRA_CHECKS.remove(stock_never_negative)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers only")
@pytest.mark.django_db(transaction=True)
class TestPostgresGuards:
    def test_postgres_refuses_to_commit_an_unbalanced_transaction(self):
        employee = EmployeeFactory()
        txn = earn(employee, 10)
        with pytest.raises(IntegrityError), transaction.atomic():
            Entry.objects.create(transaction=txn, account=wallet(employee), amount=1)
        assert Entry.objects.filter(transaction=txn).count() == 2

    def test_postgres_refuses_to_edit_an_entry(self):
        employee = EmployeeFactory()
        txn = earn(employee, 10)
        with pytest.raises(IntegrityError), transaction.atomic():
            Entry.objects.filter(transaction=txn).update(amount=0)
        assert call_command("ledger", "verify") is None
