"""Template filters of the lottery pages."""

from __future__ import annotations

from typing import Any

from django import template

from jifen.ledger.amounts import format_points

register = template.Library()


@register.filter
def lottery_points(units: Any) -> str:
    """Ledger units as points with the site's decimals."""
    return format_points(int(units or 0))
