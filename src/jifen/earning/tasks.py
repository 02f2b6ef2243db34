"""Background work of earning, for `jifen worker`. Spreadsheet imports run through the
shared ``jifen.core.imports.commit_import_task``."""

from __future__ import annotations

from django_tasks import task


@task()
def daily_tick() -> dict[str, int]:
    """The daily jobs (expiry sweep and expiry notices). Enqueue once a day, or run
    `jifen earning tick` from cron / a systemd timer."""
    from jifen.earning.services import daily_tick as run

    return run()
