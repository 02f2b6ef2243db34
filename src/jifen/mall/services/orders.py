"""Placing orders: the redemption hot path, and switching an order of a delisted item.

Confirming an order is a ledger ``hold`` (``jifen.ledger.services``): the points leave the
wallet at once; stock and the per-employee count are taken by conditional updates
(``stock``). What follows placement is ``fulfilment``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.db import atomic_with_retry, insert_instance
from jifen.ledger import services as ledger
from jifen.mall import selectors, sql
from jifen.mall.models import (
    OPEN_STATUSES,
    Fulfilment,
    Item,
    ItemStatus,
    Order,
    OrderNote,
    OrderStatus,
    RedemptionWindow,
    ShippingAddress,
)
from jifen.mall.services.fulfilment import approve, cancel_order, fulfil, record_event
from jifen.mall.services.stock import count_purchase, take_stock
from jifen.people.models import Employee

MAX_QUANTITY = 99


def check_can_order(*, employee: Employee, item: Item, now: datetime | None = None) -> None:
    """Raise the Conflict an order for this item would meet before touching stock or
    points: not listed, window closed, not eligible."""
    now = now or timezone.now()
    _check_can_order(employee=employee, item=item, now=now,
                     window=selectors.window_for(item.category), restricted=True)


def _check_can_order(*, employee: Employee, item: Item, now: datetime,
                     window: RedemptionWindow | None, restricted: bool) -> None:
    if item.status != ItemStatus.LISTED:
        raise errors.Conflict(_("This item is not on offer."), code=errors.ErrorCode.NOT_AVAILABLE)
    state = selectors.window_state(window, now)
    if not state.open:
        opens = state.next_opens_at
        message = (_("The mall is closed for redemptions; it opens again on %(when)s.")
                   % {"when": timezone.localtime(opens).strftime("%Y-%m-%d %H:%M")}
                   if opens else _("The mall is closed for redemptions."))
        opens_at = timezone.localtime(opens).isoformat() if opens else None
        raise errors.Conflict(message, code=errors.ErrorCode.WINDOW_CLOSED,
                              details={"next_opens_at": opens_at})
    problem = selectors.eligibility_problem(item, employee, timezone.localdate(now),
                                            restricted=restricted)
    if problem:
        raise errors.Conflict(problem, code=errors.ErrorCode.NOT_ELIGIBLE)


def create_order(
    *,
    employee: Employee,
    item: Item,
    idempotency_key: str = "",
    quantity: int = 1,
    address: ShippingAddress | None = None,
    actor: Actor = None,
    now: datetime | None = None,
    replays_by_caller: bool = False,
    on_placed: Callable[[Order], None] | None = None,
) -> Order:
    """Redeem ``quantity`` of ``item`` for the employee, in one transaction: check the
    window (409 ``window_closed``), eligibility (``not_eligible``), the per-employee limit
    (``limit_reached``), take the stock by a conditional update (``out_of_stock``), hold the
    points (``insufficient_points``) and record the order as ``submitted`` — or approve it
    at once when the item auto-approves. Any refusal leaves nothing changed. The same
    ``idempotency_key`` returns the first order instead of a second one.

    ``on_placed(order)`` runs once in the order's transaction when the order is complete,
    for the caller's own writes that must commit with it (the API's idempotency record) —
    on PostgreSQL before the stock row is locked, so they do not lengthen that lock.

    ``replays_by_caller=True``, inside the caller's transaction only, leaves that last
    part to the caller: the order gets no savepoint of its own, so a key used before
    (IntegrityError) or any refusal aborts the caller's transaction, which must roll back
    and answer the replay itself — as the API does from its idempotency record, written in
    the same transaction as every order it places."""
    if not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise errors.ValidationError(_("Order between 1 and %s at a time.") % MAX_QUANTITY,
                                     code=errors.ErrorCode.INVALID_QUANTITY)
    key = (idempotency_key or "").strip()[:200]
    # No look-up of the key ahead of every order: the order's unique key refuses a second
    # one (IntegrityError), and a refusal of a key already used (sold out since, limit
    # reached by that very order …) is checked afterwards — both answer with the first order.
    replayable = bool(key)
    key = key or uuid.uuid4().hex

    def place() -> Order:
        return _create_order(employee=employee, item_id=item.pk, key=key, quantity=quantity,
                             address=address,
                             actor=actor if actor is not None else employee.user,
                             now=now or timezone.now(), on_placed=on_placed)

    if replays_by_caller:
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("replays_by_caller needs the caller's transaction")
        with transaction.atomic(savepoint=False):
            return place()
    # A key used before (the unique index refuses the order) answers with its order, and
    # so does a refusal of a key already used (sold out since, limit reached by that very
    # order …). Outside a caller's transaction a deadlock (the database already rolled
    # everything back) is retried; inside one it propagates, as only the caller can start
    # over.
    return atomic_with_retry(place, replay=lambda: _replay(key, employee),
                             replay_refusals=replayable, label="mall order")


def _replay(key: str, employee: Employee) -> Order | None:
    """The order placed with ``key`` before, if any; another employee's key is a 409."""
    order = Order.objects.filter(idempotency_key=key).first()
    if order is not None and order.employee_id != employee.pk:
        raise errors.Conflict(_("This idempotency key was already used."),
                              code=errors.ErrorCode.IDEMPOTENCY_KEY_REUSED)
    return order


def _create_order(*, employee: Employee, item_id: int, key: str, quantity: int,
                  address: ShippingAddress | None, actor: Actor, now: datetime,
                  on_placed: Callable[[Order], None] | None = None) -> Order:
    """One run of ``create_order``'s transaction."""
    context = selectors.order_context(item_id, now)
    if context is None:
        raise errors.NotFound(_("Item not found."), code=errors.ErrorCode.NOT_FOUND)
    item = context.item
    _check_can_order(employee=employee, item=item, now=now, window=context.window,
                     restricted=context.restricted)
    if item.fulfilment == Fulfilment.CODE and quantity != 1:
        # One order reveals one code; several codes are several orders.
        raise errors.ValidationError(_("Codes are redeemed one per order."),
                                     code=errors.ErrorCode.INVALID_QUANTITY)
    address_data = None
    if item.fulfilment == Fulfilment.SHIPPED:
        if address is None:
            address = ShippingAddress.objects.filter(employee=employee).first()
        if address is None or address.employee_id != employee.pk:
            raise errors.ValidationError(_("Add a shipping address first."),
                                         code=errors.ErrorCode.ADDRESS_REQUIRED)
        address_data = address.snapshot()
    price = (selectors.price_of(item, now) if context.campaigns_running
             else selectors.Price(points=item.points, original=item.points))
    stock_last = sql.stock_last()
    if not stock_last:
        take_stock(item, quantity)
    limit_key = count_purchase(item, employee, quantity, now)
    # Written by hand-built statements, as the ledger's postings are: on this path the
    # ORM's query building cost more than the database's work (docs/decisions/0006).
    order = insert_instance(Order(
        employee=employee, item=item, item_name=item.name, quantity=quantity,
        unit_points=price.points, original_points=price.original * quantity,
        points=price.points * quantity, campaign=price.campaign, fulfilment=item.fulfilment,
        address=address_data, limit_key=limit_key, idempotency_key=key, created_at=now,
    ))
    hold = ledger.hold_for_new_cause(
        employee=employee, amount=order.points, idempotency_key=f"mall:order:{order.pk}:hold",
        # Data only, no words: the ledger keeps what it is given, and words written now
        # would stay in the language of this moment; its pages name the order by its cause.
        cause=order, reason=f"{order.number} {item.name}",
        actor=actor, now=now)
    sql.set_order_hold(order.pk, hold.pk)
    order.hold_txn_id = hold.pk
    submitted = record_event(order, action="submit", from_status="",
                             to_status=OrderStatus.SUBMITTED, actor=actor, now=now)
    if not item.auto_approve:
        # The timeline is this one event: callers showing the order need not read it back.
        # Django's prefetch cache, private and so not in the stubs, filled by hand.
        events = order.events.all()
        events._result_cache, events._prefetch_done = [submitted], True  # type: ignore[attr-defined]
        order._prefetched_objects_cache = {"events": events}  # type: ignore[attr-defined]
        if stock_last and on_placed is not None:
            # Taking the stock changes nothing on the order (it succeeds, or everything
            # rolls back): the caller writes its own rows now, before the row a flash sale
            # fights over is locked, so that lock is held only until COMMIT.
            on_placed(order)
            on_placed = None
    if stock_last:
        take_stock(item, quantity)
    if item.auto_approve:
        order = approve(order, actor=None, note_code=OrderNote.AUTO_APPROVED, now=now)
        if item.fulfilment == Fulfilment.CODE:
            order = fulfil(order, actor=None, note="", now=now)
    if on_placed is not None:
        on_placed(order)
    return order


@transaction.atomic
def switch_order_item(*, order: Order, new_item: Item, actor: Actor,
                      now: datetime | None = None) -> Order:
    """For an open order whose item was delisted: cancel it (points back) and order
    ``new_item`` instead, all or nothing. Returns the new order."""
    current = Order.objects.select_related("item").get(pk=order.pk)
    if current.item.status != ItemStatus.DELISTED or current.status not in OPEN_STATUSES:
        raise errors.Conflict(_("Only open orders of a delisted item can be switched."),
                              code=errors.ErrorCode.INVALID_TRANSITION)
    cancel_order(order=current, actor=actor, reason_code=OrderNote.SWITCHED, now=now)
    address = None
    if current.address and new_item.fulfilment == Fulfilment.SHIPPED:
        address = ShippingAddress.objects.filter(employee=current.employee).first()
    return create_order(employee=current.employee, item=new_item,
                        idempotency_key=f"switch:{current.pk}", quantity=current.quantity,
                        address=address, actor=actor, now=now)
