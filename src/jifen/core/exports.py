"""Helpers for spreadsheets we hand out (xlsx and csv)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula (=, +, -, @ …) gets a leading
    apostrophe, so an employee's message like ``=HYPERLINK(…)`` stays text when HR opens the
    export. Numbers, and text that is just a number such as "-5", are left alone."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_STARTS):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in row]
