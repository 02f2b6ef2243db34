"""Where webhook events come from: each receiver runs inside the transaction of the change
it reports (a ledger posting, an order step, an employee's arrival or departure, a draw)
and writes outbox rows through ``services.emit``. Each first asks whether anyone subscribes
(cached), so with no endpoint a change costs no query."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from jifen.integrations.suppliers import services as suppliers
from jifen.integrations.webhooks import events, selectors, services
from jifen.ledger.amounts import from_units
from jifen.ledger.hooks import Posting
from jifen.people.models import Employee


def _wanted(*event_types: str) -> bool:
    subs = selectors.subscriptions()
    return any(subs.get(t) for t in event_types)


def _numbers(employee_ids: set[int]) -> dict[int, str]:
    return dict(Employee.objects.filter(pk__in=employee_ids).values_list("pk", "employee_no"))


def _iso(at: datetime) -> str:
    return timezone.localtime(at).isoformat()


# --- points ----------------------------------------------------------------------------


def _points_type(posting: Posting, amount: int) -> str:
    if posting.kind == "expire":
        return events.POINTS_EXPIRED
    return events.POINTS_CREDITED if amount > 0 else events.POINTS_DEBITED


def record_postings(postings: list[Posting]) -> None:
    """The ledger's posting observer: one event per employee whose points changed (a hold
    or a release changes nothing an employee owns, so it sends nothing); a batch of many
    postings is one INSERT."""
    if not _wanted(events.POINTS_CREDITED, events.POINTS_DEBITED, events.POINTS_EXPIRED):
        return
    changes = [(posting, employee_id, amount) for posting in postings
               for employee_id, amount in sorted(posting.employee_change().items())]
    if not changes:
        return
    numbers = _numbers({employee_id for _, employee_id, _ in changes})
    services.emit([
        (_points_type(posting, amount), {
            "employee_no": numbers.get(employee_id, ""), "amount": from_units(amount),
            "transaction_id": posting.transaction_id, "kind": posting.kind,
            "category": posting.category, "cause_type": posting.cause_type,
            "cause_id": posting.cause_id, "occurred_at": _iso(posting.created_at)})
        for posting, employee_id, amount in changes])


# --- people ----------------------------------------------------------------------------


def _employee_data(employee: Employee) -> dict[str, Any]:
    return {"employee_no": employee.employee_no, "name": employee.name,
            "department_code": getattr(employee.department, "code", "") or "",
            "status": employee.status}


def employee_saved(sender: Any, instance: Employee, created: bool, raw: bool = False,
                   **kwargs: Any) -> None:
    if created and not raw and _wanted(events.EMPLOYEE_CREATED):
        services.emit([(events.EMPLOYEE_CREATED, _employee_data(instance))])


def employees_imported(sender: Any, employee_ids: list[int], **kwargs: Any) -> None:
    if employee_ids and _wanted(events.EMPLOYEE_CREATED):
        people = Employee.objects.filter(pk__in=employee_ids).select_related(
            "department").order_by("pk")
        services.emit([(events.EMPLOYEE_CREATED, _employee_data(e)) for e in people])


def employee_left(sender: Any, employee: Employee, **kwargs: Any) -> None:
    if _wanted(events.EMPLOYEE_LEFT):
        services.emit([(events.EMPLOYEE_LEFT, _employee_data(employee))])


# --- orders and activities ---------------------------------------------------------------


def order_changed(sender: Any, order: Any, action: str, from_status: str, to_status: str,
                  at: datetime, **kwargs: Any) -> None:
    event_type = events.ORDER_PLACED if action == "submit" else events.ORDER_STATUS_CHANGED
    if not _wanted(event_type):
        return
    services.emit([(event_type, {
        "order_id": order.pk, "number": f"M{order.pk:06d}",
        "employee_no": _numbers({order.employee_id}).get(order.employee_id, ""),
        "item_id": order.item_id, "item_name": order.item_name, "quantity": order.quantity,
        "points": from_units(order.points), "fulfilment": order.fulfilment,
        "action": action, "from_status": from_status, "status": to_status,
        "carrier": order.carrier, "tracking_no": order.tracking_no,
        "occurred_at": _iso(at)})], now=at)


def supplier_order_changed(sender: Any, order: Any, action: str, at: datetime,
                           **kwargs: Any) -> None:
    """An approved order of a supplier item queues its supplier call (same transaction)."""
    if action == "approve":
        suppliers.order_approved(order, at)


def lottery_drawn(sender: Any, lottery: Any, winners: list[tuple[int, str]], at: datetime,
                  **kwargs: Any) -> None:
    if not _wanted(events.LOTTERY_DRAWN):
        return
    numbers = _numbers({employee_id for employee_id, _ in winners})
    services.emit([(events.LOTTERY_DRAWN, {
        "lottery_id": lottery.pk, "title": lottery.title,
        "winners": [{"employee_no": numbers.get(e, ""), "tier": tier} for e, tier in winners],
        "seed": lottery.seed, "snapshot_hash": lottery.snapshot_hash,
        "occurred_at": _iso(at)})], now=at)


def auction_closed(sender: Any, auction: Any, outcome: str, winner_id: int | None,
                   amount: int | None, order_id: int | None, at: datetime,
                   **kwargs: Any) -> None:
    if not _wanted(events.AUCTION_CLOSED):
        return
    winner = _numbers({winner_id}).get(winner_id, "") if winner_id else ""
    services.emit([(events.AUCTION_CLOSED, {
        "auction_id": auction.pk, "title": auction.title, "outcome": str(outcome),
        "winner_employee_no": winner or None,
        "amount": from_units(amount) if amount is not None else None,
        "order_id": order_id, "occurred_at": _iso(at)})], now=at)
