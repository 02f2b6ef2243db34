"""`jifen insights rebuild` recomputes the rankings and dashboard figures from the ledger
(after a restore, an import of history, or a verify breach); `jifen insights fold` folds
the changes the worker has not folded yet; `jifen insights recommend` rebuilds the
recommendations now instead of at night. Run a rebuild while nothing posts (the worker
stopped), as a posting committed during it could be counted twice; verify then checks it."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from jifen.insights.services import recommend, rollups


class Command(BaseCommand):
    help = ("Insights maintenance: `rebuild` the rollups from the ledger, `fold` pending "
            "changes, `recommend` rebuilds the recommendations.")

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True,
                                        metavar="{rebuild,fold,recommend}")
        actions.add_parser("rebuild", help="Recompute every rollup from the ledger.")
        actions.add_parser("fold", help="Fold the changes not yet folded into the rollups.")
        actions.add_parser("recommend", help="Rebuild the recommendations (nightly otherwise).")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        if options["action"] == "rebuild":
            count = rollups.rebuild()
            self.stdout.write(f"rebuilt the rollups from {count} changes "
                              f"in {time.monotonic() - started:.1f} s")
        elif options["action"] == "recommend":
            built = recommend.build()
            self.stdout.write(f"recommendations from {built.signals} signals of "
                              f"{built.employees} employees: {built.neighbours} neighbours, "
                              f"{built.tastes} group tastes in {built.seconds:.1f} s")
        else:
            count = rollups.fold_pending()
            self.stdout.write(f"folded {count} changes in {time.monotonic() - started:.1f} s")
