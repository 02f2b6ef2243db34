"""Sending a notification as an IM direct message through the sender an IM platform
registered (``jifen.notifications.channels``); run by the worker after the change that
caused it committed."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from jifen.notifications.channels import IM, sender_for
from jifen.notifications.models import Notification


def im_notification(*, notification_id: int) -> bool:
    """Send one notification by IM, once: a task run twice sends it once. Returns whether
    it was sent now. A sender's failure raises (the task is marked failed and logged);
    a recipient the platform cannot reach is skipped — the centre has it either way."""
    sender = sender_for(IM)
    if sender is None:
        return False
    with transaction.atomic():
        notification = (Notification.objects.select_for_update()
                        .filter(pk=notification_id, im_sent_at__isnull=True).first())
        if notification is None:
            return False
        if not sender(notification.pk):
            return False
        notification.im_sent_at = timezone.now()
        notification.save(update_fields=["im_sent_at"])
    return True
