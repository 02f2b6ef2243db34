"""Order transitions after placement — approve, reject, cancel, ship, deliver, fulfil,
complete — each a step of the state machine in ``jifen.mall.models.ORDER_TRANSITIONS``.

Points move only through the ledger (``jifen.ledger.services``): approving is a
``capture``, rejecting or cancelling a ``release`` (or a ``refund`` once captured). Lock
order, the same in every service so two orders never deadlock: the order row (for a
transition), then the purchase counter, then the ledger's accounts (the ledger locks those
in id order itself), with the item's stock row last on PostgreSQL and first on MariaDB
(``jifen.mall.sql.stock_last``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jifen.core import errors
from jifen.core.actors import Actor, actor_fields
from jifen.core.db import insert_instance
from jifen.core.observability import metrics
from jifen.core.services import record_audit
from jifen.ledger import services as ledger
from jifen.ledger.models import Transaction
from jifen.mall import notices, selectors, sql
from jifen.mall.models import (
    ORDER_TRANSITIONS,
    Code,
    Fulfilment,
    Order,
    OrderEvent,
    OrderNote,
    OrderStatus,
)
from jifen.mall.services.stock import return_stock, uncount_purchase
from jifen.mall.signals import order_changed
from jifen.notifications.services import notify


def record_event(order: Order, *, action: str, from_status: str, to_status: str,
                 actor: Actor, note: str = "", note_code: str = "",
                 now: datetime | None = None) -> OrderEvent:
    """Add a step to the order's timeline (one hand-built INSERT: it is on the hot path
    of every order)."""
    metrics.count_order_change(from_status, to_status)  # /metrics: orders by state change
    event = insert_instance(OrderEvent(
        order=order, action=action, from_status=from_status, to_status=to_status,
        note=note[:300], note_code=note_code, created_at=now or timezone.now(),
        **actor_fields(actor)))
    order_changed.send(sender=Order, order=order, action=action, from_status=from_status,
                       to_status=to_status, at=event.created_at)
    return event


def _refuse(order: Order, action: str) -> errors.Conflict:
    return errors.Conflict(
        _("An order that is %(status)s cannot be %(action)s.")
        % {"status": OrderStatus(order.status).label.lower(), "action": _ACTION_PAST[action]},
        code=errors.ErrorCode.INVALID_TRANSITION,
        details={"status": order.status, "action": action},
    )


# Lazy: read when an order is refused, in that reader's language (a plain gettext here
# would run once, at import, in whatever language was active then).
_ACTION_PAST = {
    "approve": gettext_lazy("approved"), "reject": gettext_lazy("rejected"),
    "cancel": gettext_lazy("cancelled"), "ship": gettext_lazy("shipped"),
    "deliver": gettext_lazy("marked delivered"), "fulfil": gettext_lazy("fulfilled"),
    "complete": gettext_lazy("completed"),
}


def move_order(order: Order, action: str, *, actor: Actor, note: str = "",
               note_code: str = "", now: datetime | None = None, **fields: Any) -> Order:
    """Move the order by ``action`` if the state machine allows it from the status the
    order is in now (read afresh: another step may have landed since the caller looked),
    recording the step on its timeline; 409 ``invalid_transition`` otherwise. The status
    changes by a conditional update, so two admins acting at once cannot both succeed.
    The one step every transition goes through; runs inside the caller's transaction."""
    target = ORDER_TRANSITIONS[action].target
    now = now or timezone.now()
    current = Order.objects.select_related("item").get(pk=order.pk)
    if not selectors.action_allowed(current, action):
        raise _refuse(current, action)
    moved = Order.objects.filter(pk=order.pk, status=current.status).update(
        status=target, updated_at=now, **fields)
    if not moved:
        current.refresh_from_db()
        raise _refuse(current, action)
    record_event(current, action=action, from_status=current.status, to_status=target,
                 actor=actor, note=note, note_code=note_code, now=now)
    from_status = current.status
    current.status, current.updated_at = target, now
    for name, value in fields.items():
        setattr(current, name, value)
    current._from_status = from_status  # type: ignore[attr-defined]
    return current


def _hold_of(order: Order) -> Transaction:
    assert order.hold_txn_id is not None  # set when the order is placed
    return Transaction.objects.get(pk=order.hold_txn_id)


def approve(order: Order, *, actor: Actor, note: str = "", note_code: str = "",
            now: datetime | None = None) -> Order:
    """Move a submitted order to approved and capture its held points, inside the
    caller's transaction (``approve_order``, or placing an item that approves itself)."""
    order = move_order(order, "approve", actor=actor, note=note, note_code=note_code, now=now)
    if order.hold_txn_id is None:
        # A prize that costs nothing (a lottery's item): no points to capture.
        return order
    capture = ledger.capture(hold=_hold_of(order),
                             idempotency_key=f"mall:order:{order.pk}:capture",
                             reason=order.number, actor=actor, now=now)
    Order.objects.filter(pk=order.pk).update(capture_txn_id=capture.pk)
    order.capture_txn_id = capture.pk
    return order


def fulfil(order: Order, *, actor: Actor, note: str, now: datetime | None = None) -> Order:
    """Move an approved order to fulfilled, handing a code item the next unused code of
    its pool, and tell the employee; inside the caller's transaction."""
    # The state moves first (a conditional update), then the code is handed out: an order
    # that may not be fulfilled (already fulfilled, completed, cancelled …) is refused
    # before it touches the pool. Run inside the caller's transaction, so an empty pool
    # rolls the move back.
    order = move_order(order, "fulfil", actor=actor, note=note, now=now)
    if order.fulfilment == Fulfilment.CODE:
        code = None
        for _attempt in range(10):
            candidate = (Code.objects.filter(item_id=order.item_id, order__isnull=True)
                         .order_by("pk").values_list("pk", flat=True).first())
            if candidate is None:
                break
            if Code.objects.filter(pk=candidate, order__isnull=True).update(
                    order=order, assigned_at=now or timezone.now()):
                code = candidate
                break
        if code is None:
            raise errors.Conflict(_("The code pool of this item is empty; import codes first."),
                                  code=errors.ErrorCode.CODE_POOL_EMPTY)
    notify(recipient=order.employee.user, kind=notices.ORDER_FULFILLED,
           params={"number": order.number,
                   "variant": "code" if order.fulfilment == Fulfilment.CODE else ""},
           url=reverse("portal:order_detail", args=[order.pk]))
    return order


@transaction.atomic
def approve_order(*, order: Order, actor: Actor, now: datetime | None = None) -> Order:
    """Approve a submitted order: its held points are captured (spent for good). Code items
    are fulfilled at once with the next unused code. 409 ``invalid_transition`` otherwise."""
    order = approve(order, actor=actor, now=now)
    record_audit(actor=actor, action="mall.order.approve", obj=order,
                 before={"status": OrderStatus.SUBMITTED}, after={"status": order.status})
    if order.fulfilment == Fulfilment.CODE:
        order = fulfil(order, actor=actor, note="", now=now)
    return order


def _release(order: Order, *, action: str, actor: Actor, reason: str,
             now: datetime | None, reason_code: str = "") -> Order:
    """Reject or cancel: points go back (release, or refund if already captured), stock
    and the purchase count return. ``reason_code`` (an ``OrderNote``) says why when no
    reason was typed."""
    order = move_order(order, action, actor=actor, note=reason, note_code=reason_code,
                       now=now, reason=reason[:300], reason_code=reason_code)
    stock_last = sql.stock_last()
    if not stock_last:
        return_stock(order)
    uncount_purchase(order)
    if order.hold_txn_id is None:
        # A prize that cost nothing: no points to give back.
        settle = None
    elif order.capture_txn_id:
        settle = ledger.refund(capture=Transaction.objects.get(pk=order.capture_txn_id),
                               idempotency_key=f"mall:order:{order.pk}:refund",
                               reason=reason or order.number, actor=actor, now=now)
    else:
        settle = ledger.release(hold=_hold_of(order),
                                idempotency_key=f"mall:order:{order.pk}:release",
                                reason=reason or order.number, actor=actor, now=now)
    if settle is not None:
        Order.objects.filter(pk=order.pk).update(settle_txn_id=settle.pk)
        order.settle_txn_id = settle.pk
    if stock_last:
        return_stock(order)
    return order


@transaction.atomic
def reject_order(*, order: Order, actor: Actor, reason: str, now: datetime | None = None) -> Order:
    """Reject a submitted order with a reason: the points are released to the wallet and
    the stock returns. The employee is told why."""
    reason = (reason or "").strip()
    if not reason:
        raise errors.ValidationError(_("Say why the order is rejected."),
                                     code=errors.ErrorCode.REASON_REQUIRED)
    order = _release(order, action="reject", actor=actor, reason=reason, now=now)
    record_audit(actor=actor, action="mall.order.reject", obj=order,
                 before={"status": OrderStatus.SUBMITTED},
                 after={"status": order.status, "reason": reason})
    notify(recipient=order.employee.user, kind=notices.ORDER_REJECTED,
           params={"number": order.number, "reason": reason, "points": order.points},
           url=reverse("portal:order_detail", args=[order.pk]))
    return order


@transaction.atomic
def cancel_order(*, order: Order, actor: Actor, by_owner: bool = True, reason: str = "",
                 reason_code: str = "", now: datetime | None = None) -> Order:
    """Cancel an order while it is still submitted (points released), or — when its item
    has been delisted — while approved (points refunded). Stock returns either way. Owners
    may cancel only their own orders (others' are a 404). Without a typed reason the order
    keeps a code (``reason_code``, by default who cancelled), never words of the moment."""
    current = Order.objects.select_related("item", "employee").get(pk=order.pk)
    if by_owner and getattr(getattr(actor, "employee", None), "pk", None) != current.employee_id:
        raise errors.NotFound(_("Order not found."))
    reason = (reason or "").strip()
    if not reason:
        reason_code = reason_code or (OrderNote.CANCELLED_BY_EMPLOYEE if by_owner
                                      else OrderNote.CANCELLED_BY_MALL)
    order = _release(current, action="cancel", actor=actor, reason=reason,
                     reason_code=reason_code, now=now)
    if not by_owner:
        record_audit(actor=actor, action="mall.order.cancel", obj=order,
                     before={"status": order._from_status},  # type: ignore[attr-defined]
                     after={"status": order.status,
                            **({"reason": reason} if reason else {"reason_code": reason_code})})
    return order


@transaction.atomic
def ship_order(*, order: Order, actor: Actor, carrier: str, tracking_no: str,
               now: datetime | None = None) -> Order:
    """Mark an approved shipped-goods order as sent with the carrier and tracking number."""
    carrier, tracking_no = (carrier or "").strip(), (tracking_no or "").strip()
    if Order.objects.filter(pk=order.pk, status=OrderStatus.APPROVED,
                            fulfilment=Fulfilment.SHIPPED, address__isnull=True).exists():
        # A prize order placed before its winner gave an address (``set_order_address``).
        raise errors.Conflict(_("The employee has not given a shipping address yet."),
                              code=errors.ErrorCode.ADDRESS_REQUIRED)
    if not carrier or not tracking_no:
        raise errors.ValidationError(_("Give the carrier and the tracking number."),
                                     code=errors.ErrorCode.TRACKING_REQUIRED)
    order = move_order(order, "ship", actor=actor, note=f"{carrier} {tracking_no}", now=now,
                       carrier=carrier[:60], tracking_no=tracking_no[:60])
    record_audit(actor=actor, action="mall.order.ship", obj=order,
                 before={"status": OrderStatus.APPROVED},
                 after={"status": order.status, "carrier": carrier, "tracking_no": tracking_no})
    notify(recipient=order.employee.user, kind=notices.ORDER_SHIPPED,
           params={"number": order.number, "carrier": carrier, "tracking_no": tracking_no},
           url=reverse("portal:order_detail", args=[order.pk]))
    return order


@transaction.atomic
def deliver_order(*, order: Order, actor: Actor, now: datetime | None = None) -> Order:
    """Record that a shipped order arrived."""
    order = move_order(order, "deliver", actor=actor, now=now)
    record_audit(actor=actor, action="mall.order.deliver", obj=order,
                 before={"status": OrderStatus.SHIPPED}, after={"status": order.status})
    return order


@transaction.atomic
def fulfil_order(*, order: Order, actor: Actor, note: str = "",
                 now: datetime | None = None) -> Order:
    """Fulfil an approved code, service or pick-up order. A code item gets the next unused
    code of its pool (409 ``code_pool_empty`` when none is left); only its owner sees it."""
    order = fulfil(order, actor=actor, note=note, now=now)
    record_audit(actor=actor, action="mall.order.fulfil", obj=order,
                 before={"status": OrderStatus.APPROVED}, after={"status": order.status})
    return order


@transaction.atomic
def complete_order(*, order: Order, actor: Actor, now: datetime | None = None) -> Order:
    """Close a delivered or fulfilled order (the employee confirms receipt, or an admin —
    which goes to the audit log)."""
    order = move_order(order, "complete", actor=actor, now=now)
    if getattr(getattr(actor, "employee", None), "pk", None) != order.employee_id:
        record_audit(actor=actor, action="mall.order.complete", obj=order,
                     before={"status": order._from_status},  # type: ignore[attr-defined]
                     after={"status": order.status})
    return order


def perform(*, order: Order, action: str, actor: Actor, **data: Any) -> Order:
    """Run one admin action by name (the API and the order desk share this)."""
    if action == "approve":
        return approve_order(order=order, actor=actor)
    if action == "reject":
        return reject_order(order=order, actor=actor, reason=data.get("reason", ""))
    if action == "ship":
        return ship_order(order=order, actor=actor, carrier=data.get("carrier", ""),
                          tracking_no=data.get("tracking_no", ""))
    if action == "deliver":
        return deliver_order(order=order, actor=actor)
    if action == "fulfil":
        return fulfil_order(order=order, actor=actor, note=data.get("note", ""))
    if action == "complete":
        return complete_order(order=order, actor=actor)
    if action == "cancel":
        return cancel_order(order=order, actor=actor, by_owner=False,
                            reason=data.get("reason", ""))
    raise errors.ValidationError(_("Unknown action."), code=errors.ErrorCode.UNKNOWN_ACTION)


def bulk_approve(*, orders: list[Order], actor: Actor) -> tuple[int, list[str]]:
    """Approve many orders, each in its own transaction; returns how many succeeded and
    a message per refusal."""
    done, problems = 0, []
    for order in orders:
        try:
            approve_order(order=order, actor=actor)
            done += 1
        except errors.JifenError as exc:
            problems.append(f"{order.number}: {exc.message}")
    return done, problems
