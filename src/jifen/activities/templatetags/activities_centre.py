"""Presentation helpers for the activity centre and its console pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from jifen.activities.selectors.centre import page_url
from jifen.ledger.amounts import format_points

register = template.Library()

PHASE_COLOURS = {
    "draft": "secondary", "upcoming": "azure", "running": "green", "drawing": "orange",
    "finished": "secondary", "cancelled": "red",
}
MINE_COLOURS = {
    "entered": "azure", "won": "green", "lost": "secondary", "refunded": "secondary",
    "leading": "green", "outbid": "orange", "released": "secondary",
}


@register.filter
def activity_points(units: Any) -> str:
    """Ledger units as points with the site's decimals."""
    if units is None or units == "":
        return ""
    return format_points(int(units))


@register.filter
def phase_colour(phase: str) -> str:
    return PHASE_COLOURS.get(str(phase), "secondary")


@register.filter
def mine_colour(status: str) -> str:
    return MINE_COLOURS.get(str(status), "secondary")


@register.filter
def kind_label(kind: str) -> str:
    return _("Lottery") if kind == "lottery" else _("Auction")


@register.filter
def mine_label(status: str) -> str:
    return {
        "entered": _("Entered, waiting for the draw"), "won": _("Won"),
        "lost": _("No prize this time"), "refunded": _("Refunded"),
        "leading": _("Leading"), "outbid": _("Outbid"), "released": _("Points returned"),
    }.get(str(status), str(status))


@register.simple_tag
def activity_url(kind: str, pk: int) -> str:
    return page_url(kind, pk)


@register.simple_tag
def console_activity_url(kind: str, pk: int) -> str:
    name = "console:activities_lottery" if kind == "lottery" else "console:activities_auction"
    return reverse(name, args=[pk])
