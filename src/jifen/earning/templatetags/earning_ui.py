from __future__ import annotations

import json
from typing import Any

from django import template

from jifen.earning.display import payload_labels
from jifen.ledger.amounts import format_points

register = template.Library()


@register.filter
def points(units: Any) -> str:
    """Ledger units as points with the site's decimals."""
    if units in (None, ""):
        return ""
    return format_points(int(units))


@register.filter
def signed_points(units: Any) -> str:
    if units in (None, ""):
        return ""
    text = format_points(int(units))
    return text if int(units) < 0 else f"+{text}"


@register.filter
def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@register.filter
def payload_pairs(event: Any) -> list[tuple[str, str]]:
    """An event's payload as (label, value) pairs named by its type's schema."""
    if event is None:
        return []
    return payload_labels(event.event_type).pairs(event.payload)
