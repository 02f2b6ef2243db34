"""`jifen demo [--seed N] [--if-empty] [--size small|large [--employees N --months M]]`:
fill an empty database with the demo company and print the demo logins. ``--size large``
adds a company of 20,000 employees with 24 months of history, loaded in bulk
(``jifen.demo.large``)."""

from __future__ import annotations

import time
import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jifen.demo.builder import DEFAULT_SEED, DEMO_URL, build_demo, demo_logins
from jifen.demo.large import LARGE_EMPLOYEES, LARGE_MONTHS, build_large
from jifen.insights.services import recommend
from jifen.people.models import Employee


def _width(text: str) -> int:
    # Chinese characters take two columns in a terminal.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def format_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, ["-" * w for w in widths], *rows]]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Create the demo company (about 300 employees) in an empty database."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                            help="The same seed makes the same company (default %(default)s).")
        parser.add_argument("--only", action="append", metavar="STEP",
                            help="Run only this step (repeatable), e.g. --only people.")
        parser.add_argument("--if-empty", action="store_true",
                            help="Do nothing but print the logins when employees exist.")
        parser.add_argument("--size", choices=("small", "large"), default="small",
                            help="small: about 300 employees; large: the small company plus "
                                 "a bulk-loaded one with years of history.")
        parser.add_argument("--employees", type=int, default=LARGE_EMPLOYEES,
                            help="Employees of the large company (default %(default)s).")
        parser.add_argument("--months", type=int, default=LARGE_MONTHS,
                            help="Months of history of the large company "
                                 "(default %(default)s).")

    def handle(self, *args: Any, **options: Any) -> None:
        existing = Employee.objects.count()
        if existing:
            if not options["if_empty"]:
                raise CommandError(
                    f"The database already has {existing} employees; the demo company is "
                    "only created in an empty database. Use --if-empty to just print the "
                    "demo logins."
                )
            self.stdout.write(f"The database already has {existing} employees; "
                              "no demo data created.")
        else:
            self.stdout.write(f"Creating the demo company (seed {options['seed']}) …")
            started = time.monotonic()
            try:
                build_demo(seed=options["seed"], log=self.stdout.write, only=options["only"])
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            if options["size"] == "large":
                self.build_large(options)
            self.stdout.write(self.style.SUCCESS(
                f"Demo company ready in {time.monotonic() - started:.1f}s."
            ))
        self.print_logins()

    def build_large(self, options: dict[str, Any]) -> None:
        if options["employees"] < 1 or options["months"] < 1:
            raise CommandError("--employees and --months must be at least 1.")
        self.stdout.write(f"Loading the large company: {options['employees']:,} employees, "
                          f"{options['months']} months of history …")
        result = build_large(employees=options["employees"], months=options["months"],
                             seed=options["seed"], log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(f"Large company ready: {result.summary()}."))
        built = recommend.build()  # the night's build, so the large company has its own
        self.stdout.write(f"Recommendations rebuilt in {built.seconds:.1f}s "
                          f"({built.neighbours:,} neighbours, {built.tastes:,} group tastes).")

    def print_logins(self) -> None:
        rows = demo_logins()
        self.stdout.write("")
        self.stdout.write(f"jifen: {DEMO_URL}")
        if not rows:
            self.stdout.write("No demo logins in this database.")
            return
        self.stdout.write(format_table(
            ["role", "username", "password", "employee"],
            [[r.role, r.username, r.password, r.employee] for r in rows],
        ))
