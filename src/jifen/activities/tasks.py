"""Background work of the activities' lotteries, for `jifen worker`."""

from __future__ import annotations

from django_tasks import task

from jifen.activities.models import Lottery
from jifen.activities.services import lottery as services


@task()
def draw_lottery_task(lottery_id: int) -> str:
    """Draw one lottery at its draw time (enqueued with ``run_after`` when it is
    published). A lottery already drawn, cancelled or not yet due is left as it is."""
    lottery = Lottery.objects.filter(pk=lottery_id).first()
    if lottery is None:
        return "missing"
    return services.draw_if_due(lottery).status


@task()
def draw_due_lotteries_task() -> int:
    """The daily catch-up (``jifen.core.periodic``: ``activities.lottery_draws``): draws
    every lottery past its time whose scheduled task was lost."""
    return services.draw_due_lotteries()
