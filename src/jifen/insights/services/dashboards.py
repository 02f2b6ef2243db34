"""Writers for the dashboards: their one setting, the CNY value of a point."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.db import locked_singleton
from jifen.core.services import record_audit, snapshot
from jifen.insights.models import DashboardSettings

MAX_CNY_PER_POINT = Decimal("100000")


@transaction.atomic
def update_dashboard_settings(*, actor: Actor, cny_per_point: Any) -> DashboardSettings:
    """Set the CNY value of one point (0 ≤ value < 100,000, at most four decimals), with an
    audit entry holding the old and the new value."""
    try:
        value = Decimal(str(cny_per_point).strip())
    except (InvalidOperation, ValueError) as exc:
        raise _invalid() from exc
    if (not value.is_finite() or value < 0 or value >= MAX_CNY_PER_POINT
            or value != value.quantize(Decimal("0.0001"))):
        raise _invalid()
    current = locked_singleton(DashboardSettings)
    before = snapshot(current, ["cny_per_point"])
    current.cny_per_point = value.quantize(Decimal("0.0001"))
    current.save()
    record_audit(actor=actor, action="insights.settings.update", obj=current, before=before,
                 after=snapshot(current, ["cny_per_point"]))
    return current


def _invalid() -> errors.ValidationError:
    return errors.ValidationError(
        _("Give the CNY value of a point as a number from 0 with at most four decimals."),
        code=errors.ErrorCode.INVALID_VALUE, details={"field": "cny_per_point"})
