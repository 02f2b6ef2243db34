"""What several earning services share: the site's point scale, the calendar month
allowances and budgets count in, and telling an employee what was decided for them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone

from jifen.core import errors
from jifen.ledger.amounts import site_decimals
from jifen.notifications.kinds import NotificationKind
from jifen.notifications.services import notify
from jifen.people.models import Employee


def scale() -> int:
    """Units per whole point (the site's decimals)."""
    return 10 ** site_decimals()


def check_whole_points(points: object, message: str) -> None:
    """Refuse (422 ``invalid_amount``, with ``message``) anything but a positive whole
    number of points — a bool is not one, though Python counts it as an int."""
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise errors.ValidationError(message, code=errors.ErrorCode.INVALID_AMOUNT)


def current_period(now: datetime | None = None) -> str:
    """The calendar month, ``YYYY-MM`` in the site's zone, that budgets and giving
    allowances count in."""
    return timezone.localtime(now or timezone.now()).strftime("%Y-%m")


def notify_employee(employee: Employee, *, kind: NotificationKind, params: dict[str, Any],
                    dedupe_key: str) -> None:
    """An in-app notice to the employee's user (none when they have no sign-in), stored
    as the kind's ``params`` and worded when read."""
    if employee.user_id:
        notify(recipient=employee.user, kind=kind, params=params,
               url=reverse("portal:earn"), dedupe_key=dedupe_key)
