"""Rows of recommendations that a higher app offers to the pages and mails of lower ones.

The mall's home and item pages, the library and the weekly digest show a "为你推荐" row,
but the recommendations are the insights app's, above all of them (docs/decisions/0017):
so each page asks here by surface, and insights registers what answers in its
``AppConfig.ready()``. No provider, no row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MALL_HOME = "mall.home"  # (employee, spendable) → suggestions
MALL_ITEM = "mall.item"  # (employee, item) → suggestions like this item
LIBRARY_HOME = "library.home"  # (employee, spendable) → suggestions
DIGEST = "digest"  # (user) → suggestions for the weekly digest

Provider = Callable[..., list[Any]]
_providers: dict[str, Provider] = {}


def offer(surface: str, provider: Provider) -> None:
    """Have ``provider`` answer for ``surface`` (a second call replaces the first)."""
    _providers[surface] = provider


def suggestions(surface: str, **context: Any) -> list[Any]:
    """What the provider of ``surface`` offers for ``context``; [] when none is
    registered."""
    provider = _providers.get(surface)
    return provider(**context) if provider is not None else []
