"""Background work of auctions, for `jifen worker`: closing them when their end passes.

Publishing an auction (and every anti-sniping extension) enqueues ``close_auction_task``
to run at its end; the run closes it when due and does nothing otherwise (an extended
auction has a later run waiting). ``close_due_auctions_task`` is the daily safety net
(``jifen.core.periodic``), and any read of an auction past its end closes it too."""

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
