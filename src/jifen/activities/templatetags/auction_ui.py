"""Template filters of the auction pages."""

from __future__ import annotations

from typing import Any

from django import template

from jifen.ledger.amounts import format_points

register = template.Library()


@register.filter
def auction_points(units: Any) -> str:
    """Ledger units as points with the site's decimals."""
    if units is None or units == "":
        return ""
    return format_points(int(units))


PHASE_COLOURS = {"draft": "secondary", "upcoming": "azure", "running": "green",
                 "finished": "dark", "cancelled": "red"}
BID_COLOURS = {"leading": "green", "outbid": "orange", "won": "teal", "released": "secondary"}


@register.filter
def phase_colour(phase: str) -> str:
    return PHASE_COLOURS.get(phase, "secondary")


@register.filter
def bid_colour(status: str) -> str:
    return BID_COLOURS.get(status, "secondary")
