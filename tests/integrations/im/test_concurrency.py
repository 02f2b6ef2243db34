"""Many processes queueing for one robot at once still respect its limit in every sliding
minute, and none is lost (PostgreSQL / MariaDB; threads with their own connections)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import OperationalError, close_old_connections, connection, connections

from jifen.integrations.im import services
from jifen.integrations.models import ImMessage, ImPlatform, ImRobot

THREADS = 8
EACH = 4
RATE = 5

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_a_real_server():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has one writer at a time; the race needs PostgreSQL or MariaDB")


def test_concurrent_messages_take_distinct_slots_within_the_limit(settings):
    settings.JIFEN_OUTBOUND_ALLOW_HOSTS = ("127.0.0.1",)
    robot = ImRobot.objects.create(platform=ImPlatform.WECOM, name="群", rate_per_minute=RATE,
                                   webhook_url="http://127.0.0.1:9/cgi-bin/webhook/send?key=k")
    start = threading.Barrier(THREADS)
    problems: list[str] = []

    def send(n: int) -> None:
        try:
            start.wait()
            for i in range(EACH):
                try:
                    services.queue_robot_message(robot=robot, title="t", text="x",
                                                 happening=f"{n}:{i}")
                except OperationalError as exc:  # a deadlock would be a bug
                    problems.append(str(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    close_old_connections()

    assert problems == []
    slots = list(ImMessage.objects.filter(robot=robot).order_by("id")
                 .values_list("scheduled_at", flat=True))
    assert len(slots) == THREADS * EACH
    assert slots == sorted(slots)  # queue order is creation order
    for i in range(len(slots) - RATE):
        assert slots[i + RATE] - slots[i] >= timedelta(minutes=1), i
