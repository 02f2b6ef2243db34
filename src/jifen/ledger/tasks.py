"""Background work of the ledger, for `jifen worker` (enqueue daily)."""

from __future__ import annotations

from django_tasks import task


@task()
def expire_points() -> dict[str, int]:
    """The daily expiry sweep: post expiries and record 30-day notices."""
    from jifen.ledger.services import expire_lots, record_expiry_notices

    return {"expired": expire_lots(), "noticed": record_expiry_notices()}
