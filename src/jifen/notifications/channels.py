"""Delivery channels beyond the in-app centre and e-mail, filled in by the apps above.

Notifications sit below every app that sends them, so an IM platform (WeCom, DingTalk,
Feishu, in ``jifen.integrations``) plugs its direct-message sender in here from its
``AppConfig.ready()``; routing by a person's preferences asks ``sender_for(IM)`` and skips
the channel when nothing is registered or the sender says it cannot reach the person."""

from __future__ import annotations

from collections.abc import Callable

IM = "im"

# sender(notification_id) -> True when delivered, False when the recipient cannot be
# reached on that channel (no IM account linked, channel not configured). It raises only
# for a failure worth retrying (the platform down), and it runs in the worker.
Sender = Callable[[int], bool]
_senders: dict[str, Sender] = {}
# ready() -> whether the channel is set up now (an IM app configured); cheap, it runs on
# every notification.
_ready: dict[str, Callable[[], bool]] = {}


def register_sender(channel: str, sender: Sender | None,
                    ready: Callable[[], bool] | None = None) -> None:
    """Who delivers ``channel``, and how to tell whether it is set up; None empties the
    slot."""
    _ready.pop(channel, None)
    if sender is None:
        _senders.pop(channel, None)
    else:
        _senders[channel] = sender
        if ready is not None:
            _ready[channel] = ready


def sender_for(channel: str) -> Sender | None:
    return _senders.get(channel)


def channel_ready(channel: str) -> bool:
    """Whether messages can go out on ``channel`` now: a sender is registered and says it
    is set up."""
    if channel not in _senders:
        return False
    ready = _ready.get(channel)
    return ready() if ready is not None else True
