"""The hand-written statements of ``jifen.ledger.sql``, one behaviour per vendor branch.

The suite runs on SQLite, PostgreSQL and MariaDB (``JIFEN_DATABASE_URL``): each test says
what its statement does on the database it runs on — the PostgreSQL-only shortcuts answer
None elsewhere, and the callers then take the portable path. Tests that move balances or
lots by hand, outside a posting, leave the books unbalanced on purpose
(``allow_ledger_breaches``); the test's transaction rolls them back."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from jifen.core.db import returning_update
from jifen.ledger import sql
from jifen.ledger.accounts import issuance_key, wallet_key
from jifen.ledger.models import Account, AccountKind, Entry, Lot, Transaction
from tests.factories import EmployeeFactory
from tests.ledger.helpers import earn, lots, wallet

pytestmark = pytest.mark.django_db

VENDOR = connection.vendor
NOW = timezone.make_aware(datetime(2025, 6, 1, 9, 0))


@pytest.fixture
def employee():
    return EmployeeFactory()


def _lots_of(employee, *amounts_and_days):
    """Lots of (amount, expiring in days or None), opened in that order."""
    for amount, days in amounts_and_days:
        earn(employee, amount, now=NOW,
             expires_at=None if days is None else NOW + timedelta(days=days))
    return lots(employee)


def test_returning_update_is_there_except_on_mysql():
    expected = {"postgresql": True, "mysql": False,
                "sqlite": sqlite3.sqlite_version_info >= (3, 35)}[VENDOR]
    assert returning_update() is expected


def test_fetch_accounts_reads_accounts_by_code_without_their_balance(employee):
    accounts = sql.fetch_accounts([wallet_key(employee.pk), issuance_key("learning"),
                                   "no-such-code"])
    by_code = {a.code: a for a in accounts}
    assert set(by_code) == {wallet_key(employee.pk), issuance_key("learning")}
    assert by_code[wallet_key(employee.pk)].employee_id == employee.pk
    assert by_code[issuance_key("learning")].may_go_negative is True  # 0/1 on MySQL, SQLite
    assert by_code[wallet_key(employee.pk)].may_go_negative is False
    assert "balance" in by_code[wallet_key(employee.pk)].get_deferred_fields()


def test_lock_accounts_answers_balances_in_id_order(employee):
    earn(employee, 30)
    own = wallet(employee)
    company = Account.objects.get(code=issuance_key("learning"))
    assert sql.lock_accounts(sorted([own.pk, company.pk])) == {own.pk: 30, company.pk: -30}


def test_lock_accounts_by_code_is_one_statement_on_postgresql_and_sqlite(employee):
    codes = [wallet_key(employee.pk), f"hold:e:{employee.pk}"]
    found = sql.lock_accounts_by_code(codes)
    if VENDOR == "mysql":
        # InnoDB would lock in the order of the code index: the caller locks by id instead.
        assert found is None
    else:
        assert [a.code for a in found] == sorted(codes, key=lambda c: Account.objects.get(
            code=c).pk)
    assert sql.lock_accounts_by_code([*codes, "no-such-code"]) is None


def test_add_to_balance_gives_the_new_balance_and_refuses_going_below_zero(
        employee, allow_ledger_breaches):
    own = wallet(employee)
    assert sql.add_to_balance(own, 25) == 25
    assert sql.add_to_balance(own, -30) is None  # refused: nothing changed
    assert sql.add_to_balance(own, -25) == 0
    company = Account.objects.get(code=issuance_key("learning"))
    before = company.balance
    assert sql.add_to_balance(company, -40) == 0  # company accounts answer 0, may go negative
    company.refresh_from_db()
    assert company.balance == before - 40


def test_add_to_balances_updates_many_in_one_statement_on_postgresql_only(
        employee, allow_ledger_breaches):
    other = EmployeeFactory()
    first, second = wallet(employee), wallet(other)
    result = sql.add_to_balances({first.pk: 10, second.pk: -1})
    if VENDOR != "postgresql":
        assert result is None  # the caller updates them one by one
        return
    assert result == {first.pk: 10}  # the second would have gone below zero
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.balance, second.balance) == (10, 0)


def test_spendable_lots_come_in_spending_order_and_honour_cutoff_exclude_and_limit(employee):
    later, never, sooner, past = _lots_of(employee, (10, 60), (20, None), (30, 5), (40, -1))
    everything = sql.spendable_lots(wallet(employee).pk, None)
    assert everything == [(past.pk, 40), (sooner.pk, 30), (later.pk, 10), (never.pk, 20)]
    assert sql.spendable_lots(wallet(employee).pk, NOW) == [
        (sooner.pk, 30), (later.pk, 10), (never.pk, 20)]
    assert sql.spendable_lots(wallet(employee).pk, NOW, [sooner.pk], 1) == [(later.pk, 10)]


def test_take_from_lots_takes_in_one_statement_on_postgresql_only(employee,
                                                                  allow_ledger_breaches):
    later, sooner = _lots_of(employee, (10, 60), (30, 5))
    taken = sql.take_from_lots(wallet(employee).pk, NOW, 35, parked=True)
    if VENDOR != "postgresql":
        assert taken is None  # the caller reads the lots and moves them one by one
        return
    assert taken == [(sooner.pk, 30), (later.pk, 5)]
    sooner.refresh_from_db()
    later.refresh_from_db()
    assert (sooner.remaining, sooner.held, later.remaining, later.held) == (0, 30, 5, 5)
    # Too little left: nothing moves.
    assert sql.take_from_lots(wallet(employee).pk, NOW, 6, parked=False) is None
    later.refresh_from_db()
    assert later.remaining == 5


def test_move_lot_refuses_to_take_a_lot_below_zero(employee, allow_ledger_breaches):
    (lot,) = _lots_of(employee, (10, None))
    assert sql.move_lot(lot.pk, 4, 4) is True
    assert sql.move_lot(lot.pk, 7, 0) is False
    assert sql.move_lot(lot.pk, -4, -5) is False  # held cannot go below zero
    assert sql.move_lot(lot.pk, -4, -4) is True
    lot.refresh_from_db()
    assert (lot.remaining, lot.held) == (10, 0)


def test_insert_groups_writes_every_group_in_one_statement_or_one_each(
        employee, allow_ledger_breaches):
    own = wallet(employee)
    company = Account.objects.get(code=issuance_key("learning"))
    txn = sql.insert_transaction(kind="earn", idempotency_key="sql-groups", amount=5,
                                 category="learning", reason="", cause_type="test",
                                 cause_id="1", created_at=NOW, actor=None, actor_label="")
    assert Transaction.objects.get(idempotency_key="sql-groups").pk == txn.pk
    with sql.cursor():
        sql.insert_groups([
            (Lot, ("wallet", "amount", "remaining", "held", "earned_at", "expires_at",
                   "source_transaction"), [(own.pk, 5, 5, 0, NOW, None, txn.pk)]),
            (Entry, ("transaction", "account", "amount", "balance_after"),
             [(txn.pk, own.pk, 5, 5), (txn.pk, company.pk, -5, None)]),
            (Transaction, ("idempotency_key", "kind", "amount", "created_at"), []),
        ])
    assert Lot.objects.filter(source_transaction=txn).count() == 1
    assert sorted(Entry.objects.filter(transaction=txn).values_list("amount", flat=True)) \
        == [-5, 5]


def test_wallets_lots_reads_the_first_lots_of_each_wallet_or_all_of_them(employee):
    other = EmployeeFactory()
    later, never, sooner = _lots_of(employee, (10, 60), (20, None), (30, 5))
    (theirs,) = _lots_of(other, (7, 1))
    first = sql.wallets_lots([wallet(employee).pk, wallet(other).pk], 2)
    assert sorted((row[0], row[1], row[2]) for row in first) == sorted([
        (sooner.pk, wallet(employee).pk, 30), (later.pk, wallet(employee).pk, 10),
        (theirs.pk, wallet(other).pk, 7)])
    every = sql.wallets_lots([wallet(employee).pk], None)
    assert {row[0] for row in every} == {later.pk, never.pk, sooner.pk}
    expires = {row[0]: row[3] for row in every}
    assert expires[never.pk] is None
    assert expires[sooner.pk] == NOW + timedelta(days=5)  # aware, as the ORM loads it
    assert all(timezone.is_aware(row[4]) for row in every)


def test_add_by_id_counts_the_rows_it_changed(employee, allow_ledger_breaches):
    own = wallet(employee)
    other = wallet(EmployeeFactory())
    assert sql.add_by_id(Account, "balance", {own.pk: 3, other.pk: 4}, sign=1) == 2
    assert sql.add_by_id(Account, "balance", {own.pk: 1, 10**9: 1}, sign=-1) == 1
    assert dict(Account.objects.filter(pk__in=[own.pk, other.pk])
                .values_list("pk", "balance")) == {own.pk: 2, other.pk: 4}
    assert Account.objects.filter(kind=AccountKind.WALLET, balance__lt=0).count() == 0
