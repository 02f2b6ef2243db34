"""Real threads, each with its own database connection, racing on shared wallets.

SQLite takes the write lock at BEGIN (IMMEDIATE transactions), so writers there queue and
cannot interleave; these tests need PostgreSQL or MariaDB/MySQL, where the ledger's row
locks and conditional updates are what keeps the books right. Every test ends with
``verify_ledger()`` (tests/ledger/conftest.py) on top of its own assertions."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from jifen.core import errors
from jifen.insights.services import rollups
from jifen.ledger import selectors, services
from jifen.ledger.models import Account, AccountKind, Transaction, TransactionKind
from jifen.ledger.verify import verify_ledger
from tests.factories import EmployeeFactory
from tests.insights.helpers import rollup_tables
from tests.ledger.helpers import earn, hold, spendable

pytestmark = [
    pytest.mark.concurrency,
    # Up to 60 connections at once: never beside the flash sale's 64 (PostgreSQL allows 100).
    pytest.mark.usefixtures("many_connections"),
    pytest.mark.skipif(connection.vendor == "sqlite",
                       reason="SQLite runs one writer at a time (IMMEDIATE transactions); "
                              "run with JIFEN_DATABASE_URL set to PostgreSQL or MariaDB"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _as_after_migrate(transactional_db, caplog):
    """The migration opens the company accounts, but a flush between transactional tests
    removes them. And no posting may have needed a deadlock retry."""
    services.ensure_company_accounts()
    caplog.set_level(logging.WARNING, logger="jifen.core.db")
    yield
    assert not [r for r in caplog.records if "retrying" in r.getMessage()]


def run_threads(count: int, work: Callable[[int], object]) -> tuple[list, list[BaseException]]:
    """Start ``count`` threads together; return their results and unexpected errors."""
    start = threading.Barrier(count)
    results: list = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def main(index: int) -> None:
        try:
            start.wait()
            result = work(index)
            with lock:
                results.append(result)
        except BaseException as exc:  # reported by the test
            with lock:
                failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=main, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return results, failures


def test_sixty_concurrent_debits_of_three_from_a_hundred_succeed_33_times():
    employee = EmployeeFactory()
    earn(employee, 100)

    def debit(index: int) -> bool:
        try:
            services.debit(employee=employee, amount=3, idempotency_key=f"race-{index}",
                           cause=("test.order", index))
        except errors.InsufficientPoints:
            return False
        return True

    results, failures = run_threads(60, debit)
    assert not failures, failures
    assert results.count(True) == 33
    assert spendable(employee) == 1
    assert Transaction.objects.filter(kind=TransactionKind.REDEEM).count() == 33


def test_sixteen_threads_hammering_shared_wallets_never_break_the_books():
    people = [EmployeeFactory() for _ in range(4)]
    expire_soon = timezone.now() + timedelta(seconds=2)
    for person in people:
        earn(person, 200)
        earn(person, 50, expires_at=expire_soon)

    def hammer(index: int) -> int:
        rng = random.Random(index)
        done = 0
        holds: list[Transaction] = []
        mine: list[Transaction] = []
        for step in range(40):
            key = f"h{index}-{step}"
            who, other = rng.sample(people, 2)
            amount = rng.randint(1, 60)
            op = rng.choice(["credit", "debit", "debit", "hold", "hold", "settle", "transfer",
                             "transfer", "adjust", "reverse", "sweep", "fold"])
            try:
                if op == "credit":
                    mine.append(services.credit(employee=who, amount=amount, category="culture",
                                                idempotency_key=key, cause=("t", key)))
                elif op == "debit":
                    mine.append(services.debit(employee=who, amount=amount,
                                               idempotency_key=key, cause=("t", key)))
                elif op == "hold":
                    holds.append(services.hold(employee=who, amount=amount,
                                               idempotency_key=key, cause=("t", key)))
                elif op == "settle" and holds:
                    settle = rng.choice([services.capture, services.release])
                    settle(hold=holds.pop(rng.randrange(len(holds))), idempotency_key=key)
                elif op == "transfer":
                    mine.append(services.transfer(sender=who, recipient=other, amount=amount,
                                                  idempotency_key=key))
                elif op == "adjust":
                    services.adjust(employee=who, amount=rng.choice([-amount, amount]),
                                    reason="load", actor=None, idempotency_key=key)
                elif op == "reverse" and mine:
                    services.reverse(transaction=mine.pop(rng.randrange(len(mine))),
                                     idempotency_key=key, reason="load")
                elif op == "sweep":
                    services.expire_lots()
                elif op == "fold":  # the worker folding rollups while points move
                    rollups.fold_pending()
                done += 1
            except errors.InsufficientPoints:
                pass
        return done

    results, failures = run_threads(16, hammer)
    assert not failures, failures
    assert sum(results) > 16 * 20  # most operations went through
    assert not Account.objects.filter(balance__lt=0, may_go_negative=False).exists()
    assert verify_ledger() == []
    # Folded while points moved, the rankings and figures equal a rebuild from the books.
    rollups.fold_pending()
    assert verify_ledger() == []
    folded = rollup_tables()
    rollups.rebuild()
    assert rollup_tables() == folded


def test_concurrent_calls_with_one_idempotency_key_credit_once():
    employee = EmployeeFactory()

    def credit(_index: int) -> int:
        return services.credit(employee=employee, amount=10, category="learning",
                               idempotency_key="event-1", cause=("t", "1")).pk

    results, failures = run_threads(12, credit)
    assert not failures, failures
    assert len(set(results)) == 1
    assert spendable(employee) == 10


def test_a_hold_raced_by_capture_and_release_is_settled_once():
    employee = EmployeeFactory()
    earn(employee, 100)
    reserved = hold(employee, 40)

    def settle(index: int) -> str:
        action = services.capture if index % 2 else services.release
        try:
            action(hold=reserved, idempotency_key=f"settle-{index}")
        except errors.Conflict as exc:
            return exc.code
        return "settled"

    results, failures = run_threads(10, settle)
    assert not failures, failures
    assert results.count("settled") == 1
    assert set(results) == {"settled", "hold_settled"}
    assert selectors.balance(employee=employee).held == 0


def test_concurrent_sweeps_expire_each_lot_once():
    people = [EmployeeFactory() for _ in range(3)]
    past = timezone.now() - timedelta(days=1)
    for person in people:
        for _ in range(3):
            earn(person, 10, expires_at=past, now=past - timedelta(days=30))

    results, failures = run_threads(6, lambda _i: services.expire_lots())
    assert not failures, failures
    assert sum(results) == 9
    assert Account.objects.get(kind=AccountKind.EXPIRY).balance == 90
