"""`jifen worker`: runs background tasks from the database queue. Start as many as you like,
on as many machines as you like; the queue is the database."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run background tasks (imports, expiry, notifications) from the database queue."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--queue-name", default="*")
        parser.add_argument("--batch", action="store_true", help="Drain the queue, then exit.")
        parser.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args: Any, **options: Any) -> None:
        call_command(
            "db_worker", queue_name=options["queue_name"], batch=options["batch"],
            interval=options["interval"], reload=False, verbosity=options["verbosity"],
        )
