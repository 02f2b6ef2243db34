"""Template filters for allauth's pages (two-factor sign-in) in Tabler's look."""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def tabler_widget(field: Any) -> SafeString:
    """Render a bound field's widget with Tabler's classes (and is-invalid on errors)."""
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select):
        css = "form-select"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    return field.as_widget(attrs={"class": css})
