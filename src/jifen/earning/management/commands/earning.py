"""`jifen earning tick`: the daily expiry sweep and notices
(``jifen.ledger.expiry.run_daily_expiry``), for a cron job or a systemd timer;
`--enqueue` hands the work to `jifen worker` instead of doing it here.

The monthly giving allowance needs no reset job: it is computed per calendar month."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jifen.earning.tasks import daily_tick
from jifen.ledger import expiry


class Command(BaseCommand):
    help = "Earning periodic jobs: `tick` runs the daily expiry sweep and expiry notices."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["tick"])
        parser.add_argument("--enqueue", action="store_true",
                            help="Enqueue the work for `jifen worker` instead of running it.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] != "tick":
            raise CommandError("Unknown action")
        if options["enqueue"]:
            result = daily_tick.enqueue()
            self.stdout.write(f"enqueued {result.id}")
            return
        counts = expiry.run_daily_expiry()
        self.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()))
