"""Background work of the mall, for `jifen worker`."""

from __future__ import annotations

from django_tasks import task

from jifen.mall.services.reminders import remind_order_desk


@task()
def remind_order_desk_task() -> int:
    """The daily reminder of orders waiting at the desk (``jifen.core.periodic``:
    ``mall.order_reminder``)."""
    return remind_order_desk()
