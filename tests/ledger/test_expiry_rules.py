"""The expiry arithmetic (``jifen.ledger.expiry_rules``): no database needed."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

from django.utils import timezone

from jifen.ledger.expiry_rules import (
    UNSET,
    ExpiryRule,
    compute_expires_at,
    end_of_year,
    is_tenure_exempt,
    lot_expires_at,
    spending_cutoff,
    tenure_years,
)
from jifen.ledger.models import ExpiryMode, LedgerPolicy


def local(*args: int) -> datetime:
    return timezone.make_aware(datetime(*args))


def test_year_end_expiry_is_the_first_instant_of_the_year_after_next():
    rule = ExpiryRule(mode=ExpiryMode.YEAR_END, years_after=1)
    assert compute_expires_at(rule, local(2024, 3, 5)) == end_of_year(2025) == local(2026, 1, 1)
    assert compute_expires_at(ExpiryRule(), local(2024, 3, 5)) is None


def test_tenure_counts_whole_years_up_to_the_anniversary():
    assert tenure_years(date(2020, 6, 2), local(2025, 6, 1)) == 4
    assert tenure_years(date(2020, 6, 1), local(2025, 6, 1)) == 5
    assert tenure_years(None, local(2025, 6, 1)) == 0


def test_spending_cutoff_is_now_unless_tenure_exempts_the_employee():
    policy = LedgerPolicy(never_expire_tenure_years=5)
    now = local(2025, 6, 1)
    veteran = SimpleNamespace(hire_date=date(2019, 1, 1))
    newcomer = SimpleNamespace(hire_date=date(2024, 1, 1))
    assert is_tenure_exempt(policy, veteran.hire_date, now)
    assert spending_cutoff(policy, veteran, now) is None
    assert spending_cutoff(policy, newcomer, now) == now


def test_a_new_lot_expires_as_given_else_by_rule_else_by_policy():
    policy = LedgerPolicy(expiry_mode=ExpiryMode.MONTHS, expiry_months=6)
    employee = SimpleNamespace(hire_date=date(2024, 1, 1))
    earned = local(2025, 1, 31)
    assert lot_expires_at(policy, employee, earned, None, None) is None
    assert lot_expires_at(policy, employee, earned, UNSET, None) == local(2025, 7, 31)
    assert lot_expires_at(policy, employee, earned, UNSET,
                          ExpiryRule(mode=ExpiryMode.MONTHS, months=1)) == local(2025, 2, 28)
    exempt = LedgerPolicy(expiry_mode=ExpiryMode.MONTHS, never_expire_tenure_years=1)
    assert lot_expires_at(exempt, employee, earned, UNSET, None) is None
