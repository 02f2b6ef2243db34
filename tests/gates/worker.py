"""`jifen worker` for the gates, with the daily jobs due from midnight (site time):

    python -m tests.gates.worker [worker options]

The real schedule starts a day's jobs from 01:00 and 02:00 in Asia/Shanghai; a gate run
between midnight and then would otherwise find nothing due. Everything else — the clock
thread, the unique (job, period) row, the database queue — is the real worker's."""

from __future__ import annotations

import dataclasses
import os
import sys


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jifen.settings")
    django.setup()
    from django.core.management import call_command

    from jifen.core import periodic

    # The daily jobs, due at once; the minutely fold would keep adding runs while the test
    # counts them (its own tests are in tests/insights).
    periodic.JOBS = tuple(dataclasses.replace(job, at_hour=0) for job in periodic.JOBS
                          if not job.every_minutes)
    call_command("worker", *sys.argv[1:])


if __name__ == "__main__":
    main()
