"""tests/earning/test_sql.py pins each vendor branch of jifen/earning/sql.py on whichever
database the suite runs on (SQLite by default; PostgreSQL and MariaDB through
JIFEN_DATABASE_URL)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from jifen.earning import services, sql
from jifen.earning.models import Award, AwardStatus
from jifen.people.models import Employee, EmployeeStatus
from tests.earning.conftest import at, event, ingest
from tests.factories import EmployeeFactory

LOCKING = connection.vendor in {"postgresql", "mysql"}


# --- lock_employees ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_lock_employees_answers_each_status_as_read_under_the_lock_in_id_order():
    first, second = EmployeeFactory(), EmployeeFactory()
    Employee.objects.filter(pk=second.pk).update(status=EmployeeStatus.LEFT)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        statuses = sql.lock_employees(second.pk, first.pk, 10**9)
    assert statuses == {first.pk: EmployeeStatus.ACTIVE, second.pk: EmployeeStatus.LEFT}
    assert list(statuses) == sorted(statuses)
    (statement,) = [q["sql"] for q in queries.captured_queries if "people_employee" in q["sql"]]
    assert "ORDER BY" in statement
    if connection.vendor == "postgresql":
        assert statement.rstrip().endswith("FOR NO KEY UPDATE")
    elif connection.vendor == "mysql":
        assert statement.rstrip().endswith("FOR UPDATE")
    else:  # SQLite has no row locks: its single writer serialises scoring instead
        assert "FOR " not in statement


def _in_another_connection(work):
    """Run ``work`` on a second connection (a thread); return what it raised, if anything."""
    outcome: list[BaseException | None] = []

    def main() -> None:
        try:
            with transaction.atomic():
                work()
            outcome.append(None)
        except BaseException as exc:  # reported to the test
            outcome.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=main)
    thread.start()
    thread.join(timeout=60)
    assert outcome, "the second connection hung"
    return outcome[0]


@pytest.mark.skipif(not LOCKING, reason="row locks need PostgreSQL or MariaDB")
@pytest.mark.django_db(transaction=True)
def test_a_locked_employee_cannot_be_locked_again_until_commit():
    employee = EmployeeFactory()

    def lock_again() -> None:
        list(Employee.objects.select_for_update(nowait=True).filter(pk=employee.pk))

    with transaction.atomic():
        sql.lock_employees(employee.pk)
        assert isinstance(_in_another_connection(lock_again), DatabaseError)
    assert _in_another_connection(lock_again) is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="FOR NO KEY UPDATE is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_lock_leaves_a_foreign_keys_share_lock_alone():
    """An order's foreign key to the employee takes FOR KEY SHARE at its COMMIT; FOR UPDATE
    would block it (tests/gates/test_lock_order.py saw that deadlock)."""
    employee = EmployeeFactory()
    table = connection.ops.quote_name(Employee._meta.db_table)

    def key_share() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {table} WHERE id = %s FOR KEY SHARE NOWAIT",
                           [employee.pk])

    with transaction.atomic():
        sql.lock_employees(employee.pk)
        assert _in_another_connection(key_share) is None


# --- credited_in_windows -------------------------------------------------------------------


@pytest.fixture
def scored(employee, make_rule):
    """Three credited awards (+10 on 2 and 20 March, +20 on 2 April), a penalty and a
    pending award, for one employee and two rules."""
    services.ensure_builtin_event_types()
    idea = make_rule(name="Idea", event_type="idea_adopted",
                     formula={"kind": "fixed", "points": 10})
    late = make_rule(name="Late", event_type="attendance_late",
                     formula={"kind": "fixed", "points": -5})
    bonus = make_rule(name="Bonus", event_type="daily_checkin",
                      formula={"kind": "fixed", "points": 20}, requires_approval=True)
    ingest(event(employee, "idea_adopted", when="2026-03-02T10:00"),
           event(employee, "idea_adopted", when="2026-03-20T10:00"),
           event(employee, "attendance_late", {"minutes": 3}, when="2026-03-05T10:00"),
           event(employee, "daily_checkin", when="2026-03-06T10:00"))
    ingest(event(employee, "idea_adopted", when="2026-04-02T10:00"))
    assert Award.objects.filter(status=AwardStatus.PENDING).count() == 1
    return employee, idea, late, bonus


@pytest.mark.django_db
def test_credited_in_windows_sums_positive_credited_awards_per_half_open_window(scored):
    employee, idea, late, bonus = scored
    march, april = at("2026-03-01T00:00"), at("2026-04-01T00:00")
    scale = Award.objects.filter(rule=idea).order_by("pk").first().points // 10
    windows = [
        (employee.pk, idea.pk, march, april),  # two credits
        (employee.pk, idea.pk, april, at("2026-05-01T00:00")),  # one
        (employee.pk, idea.pk, march, at("2026-03-02T10:00")),  # ends where one starts
        (employee.pk, late.pk, march, april),  # penalties never count
        (employee.pk, bonus.pk, march, april),  # pending: not credited
        (employee.pk + 1, idea.pk, march, april),  # someone else
    ]
    assert sql.credited_in_windows(windows) == [20 * scale, 10 * scale, 0, 0, 0, 0]
    assert sql.credited_in_windows([]) == []


@pytest.mark.django_db
def test_credited_in_windows_answers_many_windows_in_few_statements_in_the_order_given(
        scored):
    employee, idea, _late, _bonus = scored
    start = at("2026-03-01T00:00")
    count = sql.WINDOWS_PER_STATEMENT * 2 + 7
    windows = [(employee.pk, idea.pk, start + timedelta(days=n % 40), start + timedelta(days=61))
               for n in range(count)]
    with CaptureQueriesContext(connection) as queries:
        totals = sql.credited_in_windows(windows)
    expected = [Award.objects.filter(rule=idea, occurred_at__gte=w[2], occurred_at__lt=w[3])
                .values_list("points", flat=True) for w in windows]
    assert totals == [sum(points) for points in expected]
    assert len(queries) == (1 if connection.vendor == "postgresql" else 3)
