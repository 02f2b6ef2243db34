"""The kinds of notification, registered by the apps that send them.

A kind is a dotted name (``<app>.<what happened>``) stored on every notification, with a
label for people, the channels it goes out on by default and who may receive it. Each app
declares its kinds in its ``notices.py``; ``notify`` refuses a kind nobody registered, so
a typo cannot create a kind that no settings page or filter knows. Notification
preferences (which channels a person wants per kind) will build on this table."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from jifen.core.roles import Cap

IN_APP = "in_app"
EMAIL = "email"
CHANNELS = (IN_APP, EMAIL)
_NAME = re.compile(r"[a-z]+(\.[a-z_]+)+")


@dataclass(frozen=True)
class NotificationKind:
    name: str  # "<app>.<what happened>", as stored
    label: Any  # lazy text, rendered in the reader's language
    channels: frozenset[str] = field(default=frozenset({IN_APP}))
    # None: the employee the notice is about (their own order, award, points); otherwise
    # the capability a recipient must hold (low stock goes to those who manage the mall).
    audience: Cap | None = None

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"a notification kind is a dotted name: {self.name!r}")
        if not self.channels <= set(CHANNELS) or IN_APP not in self.channels:
            raise ValueError(f"{self.name}: channels are in_app (always) and email")

    def __str__(self) -> str:
        return self.name


_KINDS: dict[str, NotificationKind] = {}


def register(kind: NotificationKind) -> NotificationKind:
    """Add ``kind`` to the table (once per name; registering the same kind again is
    harmless, another kind under a taken name is a mistake)."""
    known = _KINDS.setdefault(kind.name, kind)
    if known != kind:
        raise ValueError(f"notification kind {kind.name} is registered twice, differently")
    return kind


def get_kind(name: str | NotificationKind) -> NotificationKind:
    """The registered kind of this name; a kind nobody registered is a programming error."""
    key = name.name if isinstance(name, NotificationKind) else name
    try:
        return _KINDS[key]
    except KeyError:
        raise LookupError(f"unknown notification kind {key!r}: register it in the "
                          "sending app's notices.py") from None


def registered_kinds() -> list[NotificationKind]:
    return sorted(_KINDS.values(), key=lambda kind: kind.name)
