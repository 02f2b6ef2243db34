"""`jifen worker`: runs background tasks from the database queue, and starts the periodic
jobs when they are due (``jifen.core.periodic``: once per period however many workers
run). Start as many as you like, on as many machines as you like; the queue is the
database."""

from __future__ import annotations

import threading
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from jifen.core import periodic
from jifen.core.observability import services as observability


class Command(BaseCommand):
    help = ("Run background tasks (imports, expiry, notifications) from the database queue "
            "and start the daily jobs when due.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--queue-name", default="*")
        parser.add_argument("--batch", action="store_true",
                            help="Start the jobs due now, drain the queue, then exit.")
        parser.add_argument("--interval", type=float, default=1.0)
        parser.add_argument("--no-periodic", action="store_true",
                            help="Do not start the periodic jobs from this worker.")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        heartbeat = None
        if not options["batch"]:
            # "I am alive" every 15 s, for `jifen status`, the status page and /metrics.
            heartbeat = threading.Thread(
                target=observability.beat_forever, args=(stop,), daemon=True,
                kwargs={"worker_id": observability.new_worker_id()}, name="jifen-heartbeat")
            heartbeat.start()
        if not options["no_periodic"]:
            if options["batch"]:
                periodic.enqueue_due()
            else:
                threading.Thread(target=periodic.run_forever, args=(stop,), daemon=True,
                                 name="jifen-periodic").start()
        try:
            call_command(
                "db_worker", queue_name=options["queue_name"], batch=options["batch"],
                interval=options["interval"], reload=False, verbosity=options["verbosity"],
            )
        finally:
            stop.set()
            if heartbeat is not None:
                heartbeat.join(timeout=5)  # lets it take its row away
