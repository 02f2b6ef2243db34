"""Real threads racing into one lottery on PostgreSQL and MariaDB: the slots and the
per-employee limit hold, the ledger stays sound."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from jifen.activities.models import Entry, Lottery
from jifen.activities.services import lottery as services
from jifen.core import errors
from jifen.ledger import services as ledger
from jifen.ledger.verify import verify_ledger
from tests.activities.conftest import fund, held, make_lottery, spendable
from tests.factories import EmployeeFactory

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.usefixtures("many_connections"),
    pytest.mark.skipif(connection.vendor == "sqlite",
                       reason="SQLite runs one writer at a time; run with JIFEN_DATABASE_URL "
                              "set to PostgreSQL or MariaDB"),
    pytest.mark.django_db(transaction=True),
]

THREADS = 50


@pytest.fixture(autouse=True)
def _company_accounts(transactional_db):
    ledger.ensure_company_accounts()


def run_in_threads(jobs: list[Callable[[], object]]) -> tuple[list, list[BaseException]]:
    """Run the jobs on THREADS threads started together; results and unexpected errors."""
    results: list = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)
    queue = list(jobs)

    def main() -> None:
        try:
            start.wait()
            while True:
                with lock:
                    if not queue:
                        return
                    job = queue.pop()
                try:
                    result = job()
                except errors.Conflict as exc:
                    result = exc.code
                except BaseException as exc:
                    with lock:
                        failures.append(exc)
                    continue
                with lock:
                    results.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=main) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return results, failures


def test_five_hundred_entries_into_three_hundred_slots_make_exactly_three_hundred(
        make_role_employee):
    admin = make_role_employee("hr_admin")
    lottery = make_lottery(admin.user, entry_cost=5, entry_slots=300)
    people = [EmployeeFactory() for _ in range(500)]
    for person in people:
        fund(person, 5)

    def enter(person):
        return lambda: services.enter_lottery(lottery=lottery, employee=person,
                                              idempotency_key="once")

    results, failures = run_in_threads([enter(p) for p in people])
    assert not failures, failures[:3]
    entered = [r for r in results if isinstance(r, Entry)]
    assert len(entered) == 300
    assert results.count("entries_full") == 200
    assert Entry.objects.filter(lottery=lottery).count() == 300
    assert Lottery.objects.get(pk=lottery.pk).entries_count == 300
    assert sum(held(p) for p in people) == 1500
    assert sum(spendable(p) for p in people) == 1000
    assert verify_ledger() == []


def test_the_entry_limit_holds_when_one_employee_enters_many_times_at_once(
        make_role_employee):
    admin = make_role_employee("hr_admin")
    lottery = make_lottery(admin.user, entry_cost=1, entry_limit=3)
    people = [EmployeeFactory() for _ in range(10)]
    for person in people:
        fund(person, 100)

    def enter(person, n):
        return lambda: services.enter_lottery(lottery=lottery, employee=person,
                                              idempotency_key=f"try-{n}")

    results, failures = run_in_threads([enter(p, n) for p in people for n in range(10)])
    assert not failures, failures[:3]
    assert results.count("entry_limit_reached") == 70
    for person in people:
        assert Entry.objects.filter(lottery=lottery, employee=person).count() == 3
        assert spendable(person) == 97
    assert verify_ledger() == []


def test_many_readers_past_the_draw_time_draw_it_exactly_once(make_role_employee):
    from datetime import timedelta

    from django.utils import timezone

    from jifen.activities.models import ActivityStatus, Win
    from jifen.ledger.models import Transaction, TransactionKind

    admin = make_role_employee("hr_admin")
    lottery = make_lottery(admin.user, entry_cost=2, entry_limit=1)
    people = [EmployeeFactory() for _ in range(20)]
    for person in people:
        fund(person, 2)
        services.enter_lottery(lottery=lottery, employee=person)
    past = timezone.now() - timedelta(seconds=1)
    Lottery.objects.filter(pk=lottery.pk).update(ends_at=past, draw_at=past)

    def read():
        return services.draw_if_due(Lottery.objects.get(pk=lottery.pk)).status

    results, failures = run_in_threads([read for _ in range(THREADS)])
    assert not failures, failures[:3]
    assert set(results) == {ActivityStatus.FINISHED}
    assert Win.objects.filter(lottery=lottery).count() == 3
    assert Transaction.objects.filter(kind=TransactionKind.CAPTURE).count() == 20
    points_prize = Transaction.objects.filter(kind=TransactionKind.EARN,
                                              cause_type="activities.win")
    assert points_prize.count() == 1
    assert sum(held(p) for p in people) == 0
    assert verify_ledger() == []


def test_cancelling_while_people_enter_refunds_every_entry_that_got_in(make_role_employee):
    from jifen.activities.models import EntryStatus

    admin = make_role_employee("hr_admin")
    lottery = make_lottery(admin.user, entry_cost=3)
    people = [EmployeeFactory() for _ in range(60)]
    for person in people:
        fund(person, 3)

    def enter(person):
        return lambda: services.enter_lottery(lottery=lottery, employee=person)

    def cancel():
        return services.cancel_lottery(lottery=lottery, actor=admin.user, reason="x").status

    jobs = [enter(p) for p in people]
    jobs.insert(30, cancel)
    _results, failures = run_in_threads(jobs)
    assert not failures, failures[:3]
    assert Entry.objects.filter(lottery=lottery, status=EntryStatus.ACTIVE).count() == 0
    assert all(spendable(p) == 3 and held(p) == 0 for p in people)
    assert verify_ledger() == []
