"""The event types an endpoint may subscribe to, with words for the picker. A source (see
``receivers``) emits only names listed here; ``webhook.test`` is sent on request only."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

POINTS_CREDITED = "points.credited"
POINTS_DEBITED = "points.debited"
POINTS_EXPIRED = "points.expired"
ORDER_PLACED = "order.placed"
ORDER_STATUS_CHANGED = "order.status_changed"
EMPLOYEE_CREATED = "employee.created"
EMPLOYEE_LEFT = "employee.left"
LOTTERY_DRAWN = "lottery.drawn"
AUCTION_CLOSED = "auction.closed"
TEST = "webhook.test"

EVENT_TYPES = {
    POINTS_CREDITED: _("Points credited to an employee"),
    POINTS_DEBITED: _("Points taken from an employee (spent, penalty, adjustment)"),
    POINTS_EXPIRED: _("An employee's points expired"),
    ORDER_PLACED: _("An order was placed"),
    ORDER_STATUS_CHANGED: _("An order moved a step (approved, shipped, cancelled …)"),
    EMPLOYEE_CREATED: _("An employee was created"),
    EMPLOYEE_LEFT: _("An employee left"),
    LOTTERY_DRAWN: _("A lottery was drawn"),
    AUCTION_CLOSED: _("An auction closed"),
}


def choices() -> list[tuple[str, str]]:
    return [(code, f"{code} — {label}") for code, label in EVENT_TYPES.items()]
