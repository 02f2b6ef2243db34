"""Background work of earning, for `jifen worker`. Spreadsheet imports run through the
shared ``jifen.core.imports.commit_import_task``."""

from __future__ import annotations

from django_tasks import task

from jifen.earning.services.award_notices import remind_approvers
from jifen.ledger import expiry


@task()
def daily_tick() -> dict[str, int]:
    """The ledger's daily expiry sweep and 30-day notices
    (``jifen.ledger.expiry.run_daily_expiry``; ``jifen.ledger.tasks.expire_points`` is the
    one scheduled daily job). Kept so that a ``daily_tick`` queued before an upgrade still
    runs, and for `jifen earning tick`. The giving allowance needs no reset: it is
    computed per calendar month."""
    return expiry.run_daily_expiry()


@task()
def remind_approvers_task() -> int:
    """The daily reminder of awards waiting for a decision (``jifen.core.periodic``:
    ``earning.approval_reminder``)."""
    return remind_approvers()
