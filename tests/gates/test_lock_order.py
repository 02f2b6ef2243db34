"""What the crash gate found, reduced to two transactions: an order and an event batch for
one employee must not deadlock on PostgreSQL.

The order holds the employee's wallet row (its hold) and, at COMMIT, checks its deferred
foreign key to the employee — ``SELECT … FROM people_employee … FOR KEY SHARE``. Event
intake locks the employee row first (``earning.sql.lock_employees``) and then wants
the wallet. With ``FOR UPDATE`` on the employee the two wait on each other: PostgreSQL
kills one after ``deadlock_timeout`` (1 s), and an order that lost three times in a row was
a 500. ``FOR NO KEY UPDATE`` serialises intake just the same without blocking the key
check."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from jifen.earning import services as earning
from jifen.ledger import selectors as ledger_selectors
from jifen.ledger import services as ledger
from jifen.mall import services as mall
from jifen.mall.models import Fulfilment, ItemStatus

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def _waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                       "current_database() AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0]


def test_an_order_committing_beside_an_event_batch_for_the_same_employee(employee):
    if connection.vendor != "postgresql":
        pytest.skip("deferred foreign-key checks at COMMIT are PostgreSQL's")
    # A transactional test before this one flushed the built-in types the migration made.
    earning.ensure_builtin_event_types()
    ledger.credit(employee=employee, amount=100, category="performance",
                  idempotency_key="lock-order-fund", cause=("test", "fund"))
    category = mall.save_category(actor=None, name="Lock order")
    item = mall.create_item(actor=None, name="Cup", category=category, points=10,
                            status=ItemStatus.LISTED, fulfilment=Fulfilment.SERVICE)
    earning.create_rule(actor=None, name="Attendance", event_type="attendance_full_month",
                        category="attendance", formula={"kind": "fixed", "points": 10})
    failures: list[str] = []
    order_holds_wallet = threading.Event()
    batch_is_waiting = threading.Event()

    def order() -> None:
        try:
            with transaction.atomic():  # no retry: a deadlock shows
                mall.create_order(employee=employee, item=item, idempotency_key="lock-order")
                order_holds_wallet.set()
                batch_is_waiting.wait(10)
        except Exception as exc:
            failures.append(f"order: {exc}")
        finally:
            order_holds_wallet.set()
            connections.close_all()

    def batch() -> None:
        order_holds_wallet.wait(10)
        try:
            with transaction.atomic():  # nested: intake does not retry either
                earning.ingest_events(events=[earning.EventIn(
                    source="att", id="lock-order-1", type="attendance_full_month",
                    employee_no=employee.employee_no,
                    occurred_at="2026-03-31T18:00:00+08:00", payload={"month": "2026-03"})])
        except Exception as exc:
            failures.append(f"event batch: {exc}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=order), threading.Thread(target=batch)]
    for thread in threads:
        thread.start()
    order_holds_wallet.wait(10)
    deadline = time.monotonic() + 10
    while not _waiting_on_a_lock() and time.monotonic() < deadline:
        time.sleep(0.02)  # the batch has locked the employee and waits for the wallet
    batch_is_waiting.set()
    for thread in threads:
        thread.join(30)
    assert failures == []
    assert ledger_selectors.balance(employee=employee).spendable == 100 - 10 + 10
