"""Notifications become group messages: every new notification whose kind has a route
queues a robot message in the same transaction (decision 0031)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from jifen.integrations.im import selectors, services
from jifen.notifications.channels import IM, register_sender
from jifen.notifications.models import Notification


def notification_saved(sender: type[Notification], instance: Notification, created: bool,
                       raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        services.route_notification(instance)


def connect() -> None:
    """Wire the IM channels in (from ``IntegrationsConfig.ready``)."""
    post_save.connect(notification_saved, sender=Notification,
                      dispatch_uid="integrations.im.notification_saved")
    register_sender(IM, services.deliver_direct, ready=selectors.direct_messages_ready)
