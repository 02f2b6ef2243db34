"""Presentation helpers for the mall pages."""

from __future__ import annotations

from typing import Any

from django import template

from jifen.ledger.amounts import format_points

register = template.Library()


@register.filter
def points(units: Any) -> str:
    """Ledger units as points with the site's decimals."""
    if units is None or units == "":
        return ""
    return format_points(int(units))


STATUS_COLOURS = {
    "submitted": "azure", "approved": "blue", "shipped": "indigo", "delivered": "teal",
    "fulfilled": "teal", "completed": "green", "rejected": "red", "cancelled": "secondary",
    "draft": "secondary", "listed": "green", "delisted": "orange",
}


@register.filter
def status_colour(status: str) -> str:
    return STATUS_COLOURS.get(str(status), "secondary")
