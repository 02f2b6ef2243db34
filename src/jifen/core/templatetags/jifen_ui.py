"""Small presentation helpers for the page templates (no business logic here)."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.http import HttpRequest

register = template.Library()


@register.filter
def hex_rgb(value: str) -> str:
    """'#d63939' → '214, 57, 57' (Tabler's --tblr-primary-rgb wants the channels)."""
    value = (value or "").lstrip("#")
    if len(value) != 6:
        return "214, 57, 57"
    try:
        return ", ".join(str(int(value[i : i + 2], 16)) for i in (0, 2, 4))
    except ValueError:
        return "214, 57, 57"


@register.simple_tag(takes_context=True)
def active(context: template.Context, *names: str) -> str:
    """'active' when the current view's name starts with one of ``names``, for navigation
    links ('console:people' also marks 'console:people_export' active)."""
    request: HttpRequest | None = context.get("request")
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    current = match.view_name
    for name in names:
        if current.startswith(name):
            return "active"
    return ""


@register.filter
def audit_value(value: Any) -> str:
    """One value of an audit entry's before/after, readable: '—' for empty."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list) and not any(isinstance(v, dict | list) for v in value):
        return ", ".join(audit_value(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


@register.filter
def initials(name: str) -> str:
    """The avatar text for a person: the last two characters of a Chinese name (given
    name), or the first letters of a Latin one."""
    name = (name or "").strip()
    if not name:
        return "?"
    if name.isascii():
        parts = name.split()
        return "".join(p[0] for p in parts[:2]).upper()
    return name[-2:] if len(name) >= 3 else name
