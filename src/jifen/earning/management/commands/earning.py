"""`jifen earning tick`: the periodic jobs of earning. Run it once a day (cron or a systemd
timer); `--enqueue` hands the work to `jifen worker` instead of doing it here.

The monthly giving allowance needs no reset job: it is computed per calendar month."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError


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
            from jifen.earning.tasks import daily_tick

            result = daily_tick.enqueue()
            self.stdout.write(f"enqueued {result.id}")
            return
        from jifen.earning.services import daily_tick as run

        counts = run()
        self.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()))
