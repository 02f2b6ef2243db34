"""Several workers sending for one endpoint at once (PostgreSQL, MariaDB): the lease lets
one send at a time, so the receiver still gets every event once, in order."""

from __future__ import annotations

import secrets
import threading

import pytest
from django.db import close_old_connections, connection

from jifen.integrations.webhooks import events, services
from jifen.ledger import services as ledger
from tests.factories import EmployeeFactory

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.usefixtures("many_connections"),
    pytest.mark.skipif(connection.vendor == "sqlite",
                       reason="SQLite runs one writer at a time; run with JIFEN_DATABASE_URL "
                              "set to PostgreSQL or MariaDB"),
    pytest.mark.django_db(transaction=True),
]


def test_racing_workers_send_each_event_once_in_order(receiver, subscribe):
    endpoint = subscribe(events.POINTS_CREDITED)
    alice = EmployeeFactory()
    for amount in range(1, 21):
        ledger.adjust(employee=alice, amount=amount, reason="race", actor=None,
                      idempotency_key=secrets.token_hex(8))
    start = threading.Barrier(6)

    def worker() -> None:
        try:
            start.wait()
            services.deliver_due(endpoint_id=endpoint.pk)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    services.deliver_due(endpoint_id=endpoint.pk)  # whatever a released lease left
    assert [r["data"]["amount"] for r in receiver.accepted] == list(range(1, 21))
    assert len({r["id"] for r in receiver.requests}) == len(receiver.requests) == 20
