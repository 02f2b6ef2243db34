"""The kinds of notification, registered by the apps that send them.

A kind is a dotted name (``<app>.<what happened>``) stored on every notification, with a
label for people, the channels it goes out on by default, who may receive it, and the
title and body it reads as. A notification stores its kind and parameters, never words:
the title and body are lazy texts with ``%(name)s`` placeholders, filled in when the
notification is read, in the reader's language (``render``). A title or body may be a
mapping of variants, chosen by the ``variant`` parameter, when one kind reads differently
in different cases (one award or several). Each app declares its kinds in its
``notices.py``; ``notify`` refuses a kind nobody registered, so a typo cannot create a kind
that no settings page or filter knows. Notification preferences (which channels a person
wants per kind, ``jifen.notifications.preferences``) start from each kind's ``channels``
(its defaults), ``mandatory`` (cannot be turned off in the app) and ``digest`` (may wait
for a person's daily or weekly digest)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jifen.core.roles import Cap
from jifen.notifications.channels import IM

IN_APP = "in_app"
EMAIL = "email"
# The channels a person chooses per kind: the centre, e-mail, an IM direct message
# (WeCom/DingTalk/Feishu, delivered by a sender registered in ``channels``).
CHANNELS = (IN_APP, EMAIL, IM)
# How e-mail and IM go out: at once, or collected for a daily or weekly digest.
IMMEDIATE = "immediate"
DAILY = "daily"
WEEKLY = "weekly"
MODES = (IMMEDIATE, DAILY, WEEKLY)
_NAME = re.compile(r"[a-z]+(\.[a-z_]+)+")


class ParamsMissing(ValueError):
    """The parameters do not fill the kind's texts (a programming error of the sender)."""


def _fill(template: Any, params: Mapping[str, Any], *, strict: bool = False) -> str:
    if isinstance(template, Mapping):
        template = template.get(params.get("variant", ""), template.get("", ""))
    if not template:
        return ""
    try:
        # On the lazy text itself: an ngettext_lazy text picks its plural from the params.
        return str(template % dict(params))
    except (KeyError, TypeError, ValueError) as exc:
        if strict:
            raise ParamsMissing(f"{template!s}: {exc}") from exc
        return str(template)


@dataclass(frozen=True)
class NotificationKind:
    name: str  # "<app>.<what happened>", as stored
    label: Any  # lazy text, rendered in the reader's language
    channels: frozenset[str] = field(default=frozenset({IN_APP}))
    # None: the employee the notice is about (their own order, award, points); otherwise
    # the capability a recipient must hold (low stock goes to those who manage the mall).
    audience: Cap | None = None
    # Lazy texts with %(name)s placeholders (or {variant: text}); the title defaults to
    # the label.
    title: Any = field(default="", hash=False)
    body: Any = field(default="", hash=False)
    # A notice a person cannot turn off in the app (security notices); it also never
    # waits for a digest or for quiet hours.
    mandatory: bool = False
    # Whether its e-mail/IM may wait for the person's digest (the default delivery mode is
    # immediate; a person chooses a digest). False: always at once (reminders with a time).
    digest: bool = True

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"a notification kind is a dotted name: {self.name!r}")
        if not self.channels <= set(CHANNELS) or IN_APP not in self.channels:
            raise ValueError(f"{self.name}: channels are in_app (always), email and im")

    def __str__(self) -> str:
        return self.name

    def render(self, params: Mapping[str, Any], *, strict: bool = False) -> tuple[str, str]:
        """Title and body in the active language. Parameters that no longer fill a text
        (a text changed since) show the text unfilled rather than fail the page;
        ``strict`` raises ``ParamsMissing`` instead (``notify`` checks what it stores)."""
        return (_fill(self.title or self.label, params, strict=strict),
                _fill(self.body, params, strict=strict))


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


def find_kind(name: str) -> NotificationKind | None:
    """The registered kind of this name, or None (a stored kind since removed)."""
    return _KINDS.get(name)


def registered_kinds() -> list[NotificationKind]:
    return sorted(_KINDS.values(), key=lambda kind: kind.name)
