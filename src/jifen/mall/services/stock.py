"""Stock and per-employee purchase counts as orders take and give them back — the
building blocks of ``orders`` and ``fulfilment`` (not re-exported: each runs inside the
order's transaction, never alone).

Both move only by conditional updates (``… SET stock = stock - q WHERE id = … AND stock >=
q``), never by writing back a number computed in Python, so no item is oversold with many
processes on PostgreSQL or MariaDB, nor on SQLite. Where in the transaction the stock row
is locked depends on the database: ``jifen.mall.sql.stock_last``.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.mall import notices, selectors, sql
from jifen.mall.models import Item, Order, PurchaseCounter
from jifen.notifications.services import notify
from jifen.people.models import Employee


def low_stock_check(item_id: int) -> None:
    """Alert mall admins once when stock falls to the threshold (the flag flips back
    only when stock rises above it again)."""
    crossed = Item.objects.filter(
        pk=item_id, low_stock_alerted=False, stock__isnull=False, low_stock_threshold__gt=0,
        stock__lte=F("low_stock_threshold"),
    ).update(low_stock_alerted=True)
    if not crossed:
        return
    item = Item.objects.get(pk=item_id)
    for user in selectors.mall_admin_users():
        notify(recipient=user, kind=notices.LOW_STOCK,
               params={"item": item.name, "stock": item.stock,
                       "threshold": item.low_stock_threshold},
               url=reverse("console:mall_item_edit", args=[item.pk]))


def take_stock(item: Item, quantity: int) -> None:
    """Take ``quantity`` of the item (only counted sold when its stock is unlimited);
    409 ``out_of_stock`` when fewer are left."""
    if item.stock is None:
        sql.count_sold(item.pk, quantity)
        return
    left = sql.take_stock(item.pk, quantity)
    if left is None:
        raise out_of_stock(item)
    # The row stays locked by the decrement: nobody can cross the threshold meanwhile.
    if left.low_stock_threshold > 0 and not left.low_stock_alerted \
            and left.stock <= left.low_stock_threshold:
        low_stock_check(item.pk)


def out_of_stock(item: Item) -> errors.Conflict:
    """The refusal of an order for more than the stock left. It says how many are left
    when some are: "sold out" while 8 remain sends the employee away from a smaller order
    that would succeed. Read afresh (on the refusal path only), as other orders may have
    taken stock since the item was read."""
    available = Item.objects.filter(pk=item.pk).values_list("stock", flat=True).first() or 0
    if available > 0:
        message = _("Sorry, only %(available)s of %(item)s left: order %(available)s or "
                    "fewer.") % {"available": available, "item": item.name}
    else:
        message = _("Sorry, %(item)s is out of stock.") % {"item": item.name}
    return errors.Conflict(message, code=errors.ErrorCode.OUT_OF_STOCK,
                           details={"item_id": item.pk, "available": max(0, available)})


def return_stock(order: Order) -> None:
    """Give a released order's quantity back to its item's stock (and take it off the
    sold count); an item back above its threshold will alert again."""
    item = order.item
    if Item.objects.filter(pk=item.pk, stock__isnull=True).exists():
        Item.objects.filter(pk=item.pk, sold_count__gte=order.quantity).update(
            sold_count=F("sold_count") - order.quantity)
        return
    Item.objects.filter(pk=item.pk).update(stock=F("stock") + order.quantity)
    Item.objects.filter(pk=item.pk, sold_count__gte=order.quantity).update(
        sold_count=F("sold_count") - order.quantity)
    Item.objects.filter(pk=item.pk, stock__gt=F("low_stock_threshold")).update(
        low_stock_alerted=False)


def count_purchase(item: Item, employee: Employee, quantity: int, now: datetime) -> str:
    """Count the purchase against the item's per-employee limit for the period of ``now``
    (409 ``limit_reached`` past it); returns the period's key ("" for an item with no
    limit), which the order keeps so that releasing it uncounts the same period."""
    if not item.per_employee_limit:
        return ""
    key = selectors.limit_period_key(item.limit_period, now)
    PurchaseCounter.objects.get_or_create(employee=employee, item=item, period_key=key)
    counted = PurchaseCounter.objects.filter(
        employee=employee, item=item, period_key=key,
        quantity__lte=item.per_employee_limit - quantity,
    ).update(quantity=F("quantity") + quantity)
    if not counted:
        raise errors.Conflict(
            _("You can redeem at most %(limit)s of this item %(period)s.")
            % {"limit": item.per_employee_limit, "period": item.get_limit_period_display()},
            code=errors.ErrorCode.LIMIT_REACHED,
            details={"limit": item.per_employee_limit, "period": item.limit_period},
        )
    return key


def uncount_purchase(order: Order) -> None:
    """Give a released order's quantity back to the period it was counted in."""
    if order.limit_key:
        PurchaseCounter.objects.filter(
            employee_id=order.employee_id, item_id=order.item_id, period_key=order.limit_key,
            quantity__gte=order.quantity,
        ).update(quantity=F("quantity") - order.quantity)
