"""Slots the apps above the ledger fill in, so the ledger can ask them without importing
them (DESIGN.md §2: a lower layer never imports a higher one). Each app registers in its
``AppConfig.ready()``; an empty slot answers as if that app had nothing to say."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol


class ClosedSpell(Protocol):
    """A time the mall is closed: from ``closes_at`` (None: closed already) until
    ``opens_at`` (None: no opening planned)."""

    @property
    def closes_at(self) -> datetime | None: ...

    @property
    def opens_at(self) -> datetime | None: ...


_closed_spell: Callable[[datetime], ClosedSpell | None] | None = None


def register_closed_spell(finder: Callable[[datetime], ClosedSpell | None] | None) -> None:
    """The mall's "current or next closed spell at this time" (``mall.selectors``); None
    empties the slot."""
    global _closed_spell
    _closed_spell = finder


def next_closed_spell(now: datetime) -> ClosedSpell | None:
    """When the mall is next closed, or None (no mall, or it never closes)."""
    return _closed_spell(now) if _closed_spell is not None else None
