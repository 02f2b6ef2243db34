"""The daily reminder to the people who run the order desk (``jifen.core.periodic``)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from jifen.mall import notices, selectors
from jifen.mall.models import OrderStatus
from jifen.notifications.ages import days_waited
from jifen.notifications.services import notify


def remind_order_desk(*, now: datetime | None = None) -> int:
    """Each mall admin hears how many orders wait at the desk, by status, and how long
    the oldest has waited ("26 orders wait at the order desk: 20 to approve, 6 to ship or
    fulfil; the oldest has waited 4 days"), once a day (also by mail); nothing when no
    order waits. Returns how many were reminded."""
    now = now or timezone.now()
    waiting = selectors.waiting_orders()
    if not waiting["count"]:
        return 0
    days = days_waited(waiting["oldest"], now)
    by_status = waiting["by_status"]
    params = {"count": waiting["count"], "days": days, "variant": "" if days else "today",
              "submitted": by_status[OrderStatus.SUBMITTED]["count"],
              "approved": by_status[OrderStatus.APPROVED]["count"]}
    status = OrderStatus.SUBMITTED if params["submitted"] else OrderStatus.APPROVED
    url = f"{reverse('console:mall')}?status={status}"
    today = timezone.localdate(now).isoformat()
    sent = 0
    with transaction.atomic():
        for user in selectors.mall_admin_users():
            note = notify(recipient=user, kind=notices.ORDERS_WAITING, params=params, url=url,
                          dedupe_key=f"mall:orders-reminder:{today}")
            sent += note is not None
    return sent
