"""Small presentation helpers for the page templates (no business logic here)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django import template
from django.http import HttpRequest

register = template.Library()


# Text on the site colour (buttons, the brand tile): white, or this dark ink on a light colour.
RGB = tuple[float, float, float]
WHITE: RGB = (255, 255, 255)
INK: RGB = (24, 36, 51)
READABLE = 4.6  # WCAG AA asks 4.5:1 for text; a little over, as browsers round colours


def _channels(value: str) -> RGB:
    value = (value or "").lstrip("#")
    try:
        if len(value) == 6:
            return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))
    except ValueError:
        pass
    return (214, 57, 57)


def _luminance(rgb: RGB) -> float:
    def linear(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    """The WCAG contrast ratio of two sRGB colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _tint(rgb: RGB, share: float) -> RGB:
    """``share`` of the colour over white (Tabler's "-lt" backgrounds, our soft avatars)."""
    r, g, b = (255 - (255 - c) * share for c in rgb)
    return (r, g, b)


def _darker(rgb: RGB, until: Callable[[RGB], bool]) -> RGB:
    """The colour darkened in small steps, keeping its hue, until ``until`` holds."""
    r, g, b = rgb
    while not until((round(r), round(g), round(b))) and max(r, g, b) > 0:
        r, g, b = r * 0.97, g * 0.97, b * 0.97
    return (round(r), round(g), round(b))


def _hex(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(round(c) for c in rgb))


def _css_rgb(rgb: RGB) -> str:
    return ", ".join(str(round(c)) for c in rgb)


@register.simple_tag
def theme_colours(value: str) -> dict[str, str]:
    """The admin-chosen site colour made readable (WCAG AA), for base.html's CSS variables:
    ``primary`` (filled buttons, badges) with ``primary_fg`` text on it, and ``text``, the
    colour for links and coloured text on white and on the colour's own pale tint. A light
    colour keeps its shade with dark ink on it (and a darker ``text``); any other is darkened
    just enough to serve as both, under white text."""
    colour = _channels(value)
    if contrast(INK, colour) > contrast(WHITE, colour):  # a light colour: dark ink on it
        primary, fg = colour, INK
        text = _darker(colour, lambda c: contrast(c, _tint(primary, .14)) >= READABLE)
    else:  # white on it; dark enough to read on white and on its own pale tint too
        text = primary = _darker(colour, lambda c: contrast(c, _tint(c, .14)) >= READABLE)
        fg = WHITE
    return {
        "primary": _hex(primary), "primary_rgb": _css_rgb(primary), "primary_fg": _hex(fg),
        "text": _hex(text), "text_rgb": _css_rgb(text),
    }


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
