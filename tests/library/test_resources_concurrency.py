"""A double tap on "buy" — many threads buying one resource for one employee at once —
charges once. Runs on PostgreSQL and MariaDB (SQLite has one writer at a time)."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, close_old_connections, connection, connections

from jifen.core import errors
from jifen.ledger.models import Transaction
from jifen.library.models import Purchase
from jifen.library.services import resources as services
from tests.conftest import assert_ledger_sound
from tests.factories import EmployeeFactory
from tests.library.conftest import fund, spendable

TAPS = 8

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.usefixtures("many_connections"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _needs_a_real_server():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has one writer at a time; the race needs PostgreSQL or MariaDB")


def race(work, count: int) -> list[str]:
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            start.wait()
            try:
                work(index)
                result = "ok"
            except errors.JifenError as exc:
                result = str(exc.code)
            except OperationalError as exc:  # a deadlock would be a bug: count it
                result = f"db:{exc}"
            with lock:
                outcomes.append(result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close_old_connections()
    return outcomes


def test_double_tap_on_buy_charges_once(make_resource, department):
    resource = make_resource(price=30)
    buyer = EmployeeFactory(department=department)
    fund(buyer, 100)
    outcomes = race(lambda i: services.buy(resource=resource, employee=buyer), TAPS)
    assert outcomes == ["ok"] * TAPS
    assert Purchase.objects.filter(resource=resource, employee=buyer).count() == 1
    assert spendable(buyer) == 70
    assert Transaction.objects.filter(kind="redeem").count() == 1
    assert_ledger_sound()


def test_many_buyers_at_once_each_pay_once(make_resource, department):
    resource = make_resource(price=10)
    buyers = [EmployeeFactory(department=department) for _ in range(TAPS)]
    for buyer in buyers:
        fund(buyer, 25)
    # Each buyer taps twice at once.
    outcomes = race(lambda i: services.buy(resource=resource, employee=buyers[i // 2]),
                    TAPS * 2)
    assert set(outcomes) == {"ok"}, outcomes
    assert Purchase.objects.filter(resource=resource).count() == TAPS
    for buyer in buyers:
        assert spendable(buyer) == 15
    assert_ledger_sound()
