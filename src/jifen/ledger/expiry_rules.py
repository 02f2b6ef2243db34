"""When points expire: the site policy, a rule's override, and the tenure exception — the
arithmetic only (``jifen.ledger.expiry`` runs the sweep). It reads nothing and writes
nothing, so the selectors and the posting code below the sweep can use it.

Calendar arithmetic happens in the site's time zone (Asia/Shanghai by default): points
earned during 2024 under "end of year Y+1" expire at 2026-01-01 00:00 local time, i.e. they
can be spent until the very end of 2025.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from jifen.ledger.models import ExpiryMode, LedgerPolicy

# "No expiry given": a credit then follows its rule or the site policy (None means never).
UNSET: Any = object()


@dataclass(frozen=True)
class ExpiryRule:
    """How long points of one credit live. The site default comes from ``LedgerPolicy``;
    an earning rule may carry its own."""

    mode: str = ExpiryMode.NEVER
    months: int = 12
    years_after: int = 1

    @classmethod
    def from_policy(cls, policy: LedgerPolicy) -> ExpiryRule:
        return cls(mode=policy.expiry_mode, months=policy.expiry_months,
                   years_after=policy.expiry_years_after)


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus whole calendar months, in the site's zone; the 31st of a short month
    falls back to that month's last day."""
    local = timezone.localtime(moment)
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


def end_of_year(year: int) -> datetime:
    """The first instant after ``year`` ends, in the site's zone."""
    return timezone.make_aware(datetime(year + 1, 1, 1))


def compute_expires_at(rule: ExpiryRule, earned_at: datetime) -> datetime | None:
    if rule.mode == ExpiryMode.MONTHS:
        return add_months(earned_at, rule.months)
    if rule.mode == ExpiryMode.YEAR_END:
        return end_of_year(timezone.localtime(earned_at).year + rule.years_after)
    return None


def tenure_years(hire_date: date | None, on: datetime) -> int:
    if hire_date is None:
        return 0
    today = timezone.localtime(on).date()
    years = today.year - hire_date.year
    if (today.month, today.day) < (hire_date.month, hire_date.day):
        years -= 1
    return max(0, years)


def is_tenure_exempt(policy: LedgerPolicy, hire_date: date | None, on: datetime) -> bool:
    """True when the employee's points never expire because of their years of service."""
    threshold = policy.never_expire_tenure_years
    return threshold is not None and tenure_years(hire_date, on) >= threshold


def spending_cutoff(policy: LedgerPolicy, employee: Any, now: datetime) -> datetime | None:
    """Lots expiring at or before this instant are not spendable (None: none expire)."""
    return None if is_tenure_exempt(policy, getattr(employee, "hire_date", None), now) else now


def lot_expires_at(policy: LedgerPolicy, employee: Any, earned_at: datetime,
                   expires_at: Any, expiry: ExpiryRule | None) -> datetime | None:
    """When a new lot expires: ``expires_at`` when given (None: never), else per the
    ``expiry`` rule or the site policy — never for an employee exempt by tenure."""
    if expires_at is not UNSET:
        return expires_at
    if is_tenure_exempt(policy, getattr(employee, "hire_date", None), earned_at):
        return None
    return compute_expires_at(expiry or ExpiryRule.from_policy(policy), earned_at)
