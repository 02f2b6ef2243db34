"""The mall's invariants, added to ``jifen ledger verify``: stock never below zero, and
every order's points where its status says they are (held while submitted, captured once
approved, given back once rejected or cancelled)."""

from __future__ import annotations

from jifen.ledger.models import Transaction
from jifen.mall.models import CLOSED_STATUSES, Item, Order, OrderStatus

LIMIT = 50


def stock_not_negative() -> list[str]:
    return [f"item #{pk} {name} has stock {stock}" for pk, name, stock in
            Item.objects.filter(stock__lt=0).values_list("pk", "name", "stock")[:LIMIT]]


def orders_match_the_ledger() -> list[str]:
    settled_holds = Transaction.objects.filter(settles__isnull=False).values("settles_id")
    lines = [f"order #{pk} is submitted but its hold was settled" for pk in
             Order.objects.filter(status=OrderStatus.SUBMITTED, hold_txn_id__in=settled_holds)
             .values_list("pk", flat=True)[:LIMIT]]
    lines += [f"order #{pk} is {status} but its points were never given back" for pk, status in
              Order.objects.filter(status__in=CLOSED_STATUSES, settle_txn_id__isnull=True,
                                   hold_txn_id__isnull=False)
              .values_list("pk", "status")[:LIMIT]]
    spent = [s for s in OrderStatus.values
             if s not in (OrderStatus.SUBMITTED, *CLOSED_STATUSES)]
    lines += [f"order #{pk} is {status} but its points were never captured" for pk, status in
              Order.objects.filter(status__in=spent, capture_txn_id__isnull=True,
                                   hold_txn_id__isnull=False)
              .values_list("pk", "status")[:LIMIT]]
    # Only a prize that cost nothing (points 0) goes without a hold.
    lines += [f"order #{pk} costs points but holds none" for pk in
              Order.objects.filter(hold_txn_id__isnull=True, points__gt=0)
              .values_list("pk", flat=True)[:LIMIT]]
    return lines
