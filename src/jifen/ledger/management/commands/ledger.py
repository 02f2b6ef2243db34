"""`jifen ledger verify` checks every ledger invariant (exit 1 and one line per breach);
`jifen ledger expire` posts the expiry of lots past their date and records the notices due
for points expiring soon. Both are safe to run at any time, by several processes at once."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from jifen.ledger.expiry import run_daily_expiry
from jifen.ledger.verify import verify_ledger


class Command(BaseCommand):
    help = "Ledger maintenance: `verify` the books, `expire` points past their date."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{verify,expire}")
        actions.add_parser("verify", help="Check every ledger invariant; exit 1 on any breach.")
        expire = actions.add_parser(
            "expire", help="Expire points past their date and note who must be told soon."
        )
        expire.add_argument("--now", help="Pretend it is this ISO 8601 time (for catching up).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            self.verify()
        else:
            self.expire(options.get("now"))

    def verify(self) -> None:
        started = time.monotonic()
        breaches = verify_ledger()
        elapsed = time.monotonic() - started
        for line in breaches:
            self.stdout.write(line)
        if breaches:
            raise CommandError(f"{len(breaches)} ledger invariant breach(es) found.",
                               returncode=1)
        self.stdout.write(self.style.SUCCESS(f"Ledger OK ({elapsed:.2f}s)."))

    def expire(self, now_text: str | None) -> None:
        now = None
        if now_text:
            now = parse_datetime(now_text)
            if now is None or now.tzinfo is None:
                raise CommandError("--now must be an ISO 8601 time with an offset.")
        done = run_daily_expiry(now=now)
        self.stdout.write(f"Expired {done['expired']} lot(s); {done['noticed']} new expiry "
                          f"notice(s).")
