"""Admins pressing "Send notice" at the same moment, in real threads: exactly one notice
goes out, each eligible employee is told once, and one audit entry records it. Runs on
PostgreSQL and MariaDB; SQLite serialises writers, so there is nothing to race there."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, close_old_connections, connection, connections

from jifen.activities.services.common import announce
from jifen.core import errors
from jifen.core.models import AuditEntry
from jifen.core.roles import Role
from jifen.notifications.models import Notification
from tests.activities.centre_fixtures import make_lottery
from tests.factories import EmployeeFactory

ADMINS = 8
EMPLOYEES = 40

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.usefixtures("many_connections"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _needs_a_real_server():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has one writer at a time; the race needs PostgreSQL or MariaDB")


def test_simultaneous_notices_send_one(department):
    admins = [EmployeeFactory(department=department, roles=[Role.MALL_ADMIN])
              for _ in range(ADMINS)]
    for _ in range(EMPLOYEES):
        EmployeeFactory(department=department)
    lottery = make_lottery(title="并发通知")
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(ADMINS)

    def press(admin) -> None:
        try:
            start.wait()
            try:
                announce(activity=lottery, actor=admin.user, message="快来")
                result = "sent"
            except errors.Conflict as exc:
                result = exc.code
            except OperationalError as exc:  # a deadlock would be a bug: count it
                result = f"db:{exc.args[0] if exc.args else exc}"
            with lock:
                outcomes.append(result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=press, args=(a,)) for a in admins]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    close_old_connections()
    assert sorted(outcomes) == ["already_announced"] * (ADMINS - 1) + ["sent"]
    told = list(Notification.objects.filter(kind="activities.announced")
                .values_list("recipient_id", flat=True))
    assert len(told) == len(set(told)) == ADMINS + EMPLOYEES
    assert AuditEntry.objects.filter(action="activities.announce").count() == 1
