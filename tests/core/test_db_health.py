"""Kept PostgreSQL connections (JIFEN_DB_CONN_MAX_AGE) are checked before a request uses
them: one the server closed meanwhile is replaced, not handed to the request."""

from __future__ import annotations

import select
import time

import pytest
from django.db import close_old_connections, connection, connections

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_connection_the_server_closed_is_replaced_at_the_next_request():
    assert connection.health_check_enabled and connection.settings_dict["CONN_MAX_AGE"]
    before = _backend_pid()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [before])
    finally:
        other.close()
    poller = select.poll()
    poller.register(connection.connection.fileno(), select.POLLIN)
    deadline = time.monotonic() + 10
    while not poller.poll(100) and time.monotonic() < deadline:
        pass
    assert not connection.is_usable()

    close_old_connections()  # what Django does when the next request starts
    after = _backend_pid()  # no error: the dead connection was replaced first
    assert after != before
