"""Orders in words for the ledger's history (``jifen.ledger.hooks``): the ledger cannot
import the mall, so the mall registers this describer in its ``AppConfig.ready()``."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _

from jifen.core.roles import Cap
from jifen.ledger.hooks import CauseInfo, register_cause_describer
from jifen.mall.models import CLOSED_STATUSES, Order, OrderEvent, OrderStatus


def describe_orders(ids: list[str], *, for_employee: bool) -> dict[str, CauseInfo]:
    """Each order as "Order M000171 午睡毯" with what it is now ("Completed") and how its
    points came back, in one query."""
    pks = [int(i) for i in ids if i.isdigit()]
    closed_by = (OrderEvent.objects.filter(order=OuterRef("pk"), to_status__in=CLOSED_STATUSES)
                 .order_by("-id").values("actor_id")[:1])
    orders = (Order.objects.filter(pk__in=pks).select_related("employee")
              .annotate(closed_by=Subquery(closed_by))
              .only("pk", "item_name", "status", "employee__user_id"))
    found = {}
    for order in orders:
        number = order.number
        if order.status == OrderStatus.CANCELLED:
            if order.closed_by is not None and order.closed_by == order.employee.user_id:
                note = _("cancelled by you") if for_employee else _("cancelled by the employee")
            else:
                note = _("cancelled by the mall")
            returned = _("Refund of order %(number)s (%(note)s)") % {"number": number,
                                                                    "note": note}
        elif order.status == OrderStatus.REJECTED:
            returned = _("Refund of order %(number)s (rejected)") % {"number": number}
        else:
            returned = _("Refund of order %(number)s") % {"number": number}
        found[str(order.pk)] = CauseInfo(
            label=_("Order %(number)s %(item)s") % {"number": number, "item": order.item_name},
            status_label=str(order.get_status_display()),
            return_label=returned,
            url_for_employee=reverse("portal:order_detail", args=[order.pk]),
            url_for_console=reverse("console:mall_order", args=[order.pk]),
            console_cap=Cap.MANAGE_MALL,
        )
    return found


def register() -> None:
    """Fill the ledger's slot for orders (from ``MallConfig.ready()``)."""
    register_cause_describer("mall.order", describe_orders)
