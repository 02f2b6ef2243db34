"""Real threads racing on one employee's caps, one event id and one giving allowance
(PostgreSQL or MariaDB; SQLite runs one writer at a time)."""

from __future__ import annotations

import pytest
from django.db import connection

from jifen.core import errors
from jifen.earning import services
from jifen.earning.models import Award, Event, Recognition
from jifen.ledger import services as ledger
from jifen.ledger.selectors import balance
from jifen.ledger.verify import verify_ledger
from tests.earning.conftest import event
from tests.factories import EmployeeFactory
from tests.ledger.test_concurrency import run_threads

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.skipif(connection.vendor == "sqlite",
                       reason="needs PostgreSQL or MariaDB (JIFEN_DATABASE_URL)"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _types(transactional_db):
    # A flush between transactional tests removes the migration's data.
    ledger.ensure_company_accounts()
    services.ensure_builtin_event_types()
    yield
    assert verify_ledger() == []


def test_a_daily_cap_holds_when_twenty_check_ins_race():
    employee = EmployeeFactory()
    services.create_rule(actor=None, name="Check-in", event_type="daily_checkin",
                         category="engagement", formula={"kind": "fixed", "points": 1},
                         caps={"day": 1})

    def send(index: int):
        return services.ingest_events(events=[event(employee, "daily_checkin",
                                                    id_=f"c{index}")])[0].status

    results, failures = run_threads(20, send)
    assert not failures
    assert sorted(results).count("credited") == 1
    assert balance(employee=employee).spendable == 1
    assert Award.objects.filter(status="credited").count() == 1


def test_the_same_event_sent_ten_times_at_once_credits_once():
    employee = EmployeeFactory()
    services.create_rule(actor=None, name="Idea", event_type="idea_adopted",
                         category="culture", formula={"kind": "fixed", "points": 20})

    def send(_index: int):
        return services.ingest_events(events=[event(employee, "idea_adopted",
                                                    id_="same")])[0].status

    results, failures = run_threads(10, send)
    assert not failures
    assert results.count("credited") == 1 and results.count("duplicate") == 9
    assert Event.objects.count() == 1
    assert balance(employee=employee).spendable == 20


def test_a_giving_allowance_cannot_be_overdrawn_by_parallel_thanks():
    giver, friend = EmployeeFactory(), EmployeeFactory()

    def give(_index: int):
        try:
            services.give_recognition(giver=giver, recipient=friend, points=20, message="谢")
            return True
        except errors.Conflict:
            return False

    results, failures = run_threads(10, give)
    assert not failures
    assert results.count(True) == 5
    assert Recognition.objects.count() == 5
    assert balance(employee=friend).spendable == 100


def test_colleagues_thanking_each_other_at_once_do_not_deadlock():
    alice, bob = EmployeeFactory(), EmployeeFactory()

    def give(index: int):
        giver, recipient = (alice, bob) if index % 2 else (bob, alice)
        services.give_recognition(giver=giver, recipient=recipient, points=10, message="谢")

    _results, failures = run_threads(10, give)
    assert not failures
    assert balance(employee=alice).spendable == balance(employee=bob).spendable == 50
