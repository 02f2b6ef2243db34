"""Background work of auctions, for `jifen worker`: closing them when their end passes.

Publishing an auction (and every anti-sniping extension) enqueues ``close_auction_task``
to run at its end; the run closes it when due and does nothing otherwise (an extended
auction has a later run waiting). Any read of an auction past its end closes it too;
``close_due_auctions_task`` closes every past-due one (for a periodic sweep)."""

from __future__ import annotations

from django_tasks import task

from jifen.activities.services import auction as auctions


@task()
def close_auction_task(auction_id: int) -> str:
    closed = auctions.close_if_due(auction_id)
    return closed.outcome if closed is not None else ""


@task()
def close_due_auctions_task() -> int:
    return len(auctions.close_due_auctions())
