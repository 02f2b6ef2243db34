"""Reads for the payroll pages: which months have a stored period, the saved policies,
and the months to list. The figures themselves come from
``jifen.insights.services.payroll.read_period`` (an open month folds pending rollups
first, which is a write)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from jifen.insights.models import BonusPolicy, PayrollPeriod
from jifen.insights.services.rollups import month_of


def recent_months(now: datetime, count: int = 12) -> list[date]:
    """The month of ``now`` (site time) and the ``count - 1`` before it, newest first."""
    month = month_of(now)
    months = []
    for _step in range(count):
        months.append(month)
        month = (month - timedelta(days=1)).replace(day=1)
    return months


def periods_by_month(months: Iterable[date]) -> dict[date, PayrollPeriod]:
    return {p.month: p for p in PayrollPeriod.objects.filter(month__in=list(months))}


def policies_by_category() -> dict[str, BonusPolicy]:
    return {p.category: p for p in BonusPolicy.objects.all()}
