"""Prize orders: a won auction or a lottery's item prize becomes a mall order
(``jifen.core.prizes``), which then follows the item's fulfilment on the order desk.

- The order's points are the prize's (the winning bid; 0 for a lottery prize) and its hold
  is the prize's own (the winning bid's hold, caused by the bid): approving captures it,
  rejecting or cancelling releases it, like any order. A prize of 0 points has no hold.
- Stock: an activity reserves the item when it is published (``reserve_prize_stock``), so
  the winner never meets an empty shelf; a prize placed without a reservation takes its
  stock now (409 ``out_of_stock`` when none is left). Rejecting or cancelling the order
  puts the stock back as for any order.
- Shipped items: the winner's default address is used; without one the order is placed
  all the same and the winner is asked for an address on the order page
  (``set_order_address``); it cannot be shipped before.
- One order per ``prize.key``: placing the same prize again returns the first order.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.db import insert_instance
from jifen.core.prizes import PrizeOrder
from jifen.mall.models import (
    OPEN_STATUSES,
    Fulfilment,
    Item,
    Order,
    OrderNote,
    OrderStatus,
    ShippingAddress,
)
from jifen.mall.services.fulfilment import approve, fulfil, record_event
from jifen.mall.services.stock import return_stock, take_stock
from jifen.people.models import Employee

KEY_PREFIX = "prize:"


def place_prize_order(prize: PrizeOrder, *, actor: Actor = None,
                      now: datetime | None = None) -> int:
    """Make the order for ``prize`` in the caller's transaction; returns its id."""
    key = f"{KEY_PREFIX}{prize.key}"[:200]
    existing = Order.objects.filter(idempotency_key=key).values_list("pk", flat=True).first()
    if existing is not None:
        return existing
    if prize.points < 0:
        raise errors.ValidationError(_("A prize cannot cost less than nothing."),
                                     code=errors.ErrorCode.INVALID_AMOUNT)
    if prize.points > 0 and prize.hold_txn_id is None:
        raise errors.ValidationError(_("A prize that costs points needs their hold."),
                                     code=errors.ErrorCode.CAUSE_REQUIRED)
    now = now or timezone.now()
    item = Item.objects.get(pk=prize.item_id)
    employee = Employee.objects.select_related("user").get(pk=prize.employee_id)
    with transaction.atomic():
        if not prize.stock_reserved:
            take_stock(item, 1)
        address = None
        if item.fulfilment == Fulfilment.SHIPPED:
            found = ShippingAddress.objects.filter(employee=employee).first()
            address = found.snapshot() if found else None
        order = insert_instance(Order(
            employee=employee, item=item, item_name=item.name, quantity=1,
            unit_points=prize.points, original_points=prize.points, points=prize.points,
            fulfilment=item.fulfilment, address=address, idempotency_key=key,
            hold_txn_id=prize.hold_txn_id, source=prize.source[:60], created_at=now))
        record_event(order, action="submit", from_status="", to_status=OrderStatus.SUBMITTED,
                     actor=actor, note_code=OrderNote.PRIZE, now=now)
        if item.auto_approve:
            order = approve(order, actor=None, note_code=OrderNote.AUTO_APPROVED, now=now)
            if item.fulfilment == Fulfilment.CODE:
                order = fulfil(order, actor=None, note="", now=now)
    return order.pk


def reserve_prize_stock(item_id: int, quantity: int) -> None:
    """Take ``quantity`` of the item off the shelf for prizes (409 ``out_of_stock``)."""
    take_stock(Item.objects.get(pk=item_id), quantity)


def return_prize_stock(item_id: int, quantity: int) -> None:
    """Put reserved prize stock back on the shelf."""
    return_stock(Order(item=Item.objects.get(pk=item_id), quantity=quantity))


@transaction.atomic
def set_order_address(*, order: Order, address: ShippingAddress, actor: Actor,
                      now: datetime | None = None) -> Order:
    """The owner gives (or changes) the shipping address of an open shipped order, as a
    prize winner without an address is asked to. 404 for another employee's order or
    address; 409 ``invalid_transition`` once the order has left ``submitted``/``approved``."""
    owner = getattr(getattr(actor, "employee", None), "pk", None)
    if owner is None or order.employee_id != owner or address.employee_id != owner:
        raise errors.NotFound(_("Order not found."))
    if order.fulfilment != Fulfilment.SHIPPED:
        raise errors.Conflict(_("This order is not shipped."),
                              code=errors.ErrorCode.INVALID_TRANSITION)
    moved = Order.objects.filter(pk=order.pk, status__in=OPEN_STATUSES).update(
        address=address.snapshot(), updated_at=now or timezone.now())
    if not moved:
        raise errors.Conflict(_("The address can no longer be changed."),
                              code=errors.ErrorCode.INVALID_TRANSITION)
    order.refresh_from_db()
    return order


def prize_order_url(order_id: int) -> str:
    return reverse("portal:order_detail", args=[order_id])
