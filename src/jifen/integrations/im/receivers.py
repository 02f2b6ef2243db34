"""Notifications become group messages: every new notification whose kind has a route
queues a robot message in the same transaction (decision 0031)."""

from __future__ import annotations

from typing import Any

from jifen.integrations.im import services
from jifen.notifications.models import Notification


def notification_saved(sender: type[Notification], instance: Notification, created: bool,
                       raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        services.route_notification(instance)
