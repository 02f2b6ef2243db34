"""Background work of the ledger, for `jifen worker`."""

from __future__ import annotations

from django_tasks import task

from jifen.ledger.expiry import run_daily_expiry


@task()
def expire_points() -> dict[str, int]:
    """The daily expiry sweep (scheduled by ``jifen.core.periodic`` as ``ledger.expiry``):
    post expiries, then record and send the notices of points expiring soon."""
    return run_daily_expiry()
