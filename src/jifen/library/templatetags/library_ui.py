"""Presentation helpers for the library pages."""

from __future__ import annotations

from typing import Any

from django import template

from jifen.ledger.amounts import format_points

register = template.Library()

FILE_ICONS = {"pdf": "ti-file-type-pdf", "docx": "ti-file-type-docx",
              "xlsx": "ti-file-type-xls", "pptx": "ti-file-type-ppt", "zip": "ti-file-zip"}
STATUS_COLOURS = {"draft": "secondary", "published": "green", "withdrawn": "orange",
                  "pending": "azure", "approved": "green", "rejected": "red", "none": "secondary"}


@register.filter
def points(units: Any) -> str:
    """Ledger units as points with the site's decimals."""
    if units is None or units == "":
        return ""
    return format_points(int(units))


@register.filter
def file_icon(resource: Any) -> str:
    if getattr(resource, "kind", "") == "link":
        return "ti-school"
    return FILE_ICONS.get(getattr(resource, "file_kind", ""), "ti-file")


@register.filter
def status_colour(status: str) -> str:
    return STATUS_COLOURS.get(status, "secondary")


@register.filter
def file_size(size: Any) -> str:
    size = int(size or 0)
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, size // 1024)} KB"
