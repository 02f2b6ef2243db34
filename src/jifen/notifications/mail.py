"""Mailing a notification that asked for it; run by the worker (``tasks``) after the
change that caused it committed. It is worded in the recipient's language: their own
(``language`` on the user, when there is one) or else the site's."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from jifen.core import suggestions
from jifen.core.selectors import site_settings
from jifen.notifications.kinds import WEEKLY
from jifen.notifications.models import Notification
from jifen.notifications.notices import DIGEST

logger = logging.getLogger(__name__)

def _suggestion_lines(user: Any, base: str) -> list[str]:
    """The weekly digest's "Recommended for you" section (in the language already chosen):
    a heading and one "• name — why — link" line per suggestion; nothing when there is
    none or the recipient turned them off. A failure leaves the digest without it."""
    try:
        with transaction.atomic():  # a failed read must not spoil the digest's transaction
            found = suggestions.suggestions(suggestions.DIGEST, user=user)
    except Exception:
        logger.exception("recommendations for the digest of user %s failed", user.pk)
        return []
    lines = []
    for suggestion in found:
        link = base + suggestion.url if base else ""
        lines.append(" — ".join(part for part in (
            f"• {suggestion.name}", suggestion.why.text, link) if part))
    return [_("Recommended for you"), "\n".join(lines)] if lines else []


def recipient_language(user: Any) -> str:
    """The language a message to ``user`` is written in, outside a request."""
    return getattr(user, "language", "") or str(site_settings().default_language)


def email_notification(*, notification_id: int) -> bool:
    """Mail one notification to its recipient, once: a task run twice sends it once.
    Returns whether it was sent now. An SMTP failure raises (the task is marked failed
    and logged); the in-app notification is there either way."""
    with transaction.atomic():
        notification = (Notification.objects.select_for_update().select_related("recipient")
                        .filter(pk=notification_id, emailed_at__isnull=True).first())
        if notification is None or not notification.recipient.email:
            return False
        link = notification.url
        if link.startswith("/"):
            link = settings.JIFEN_BASE_URL + link if settings.JIFEN_BASE_URL else ""
        with translation.override(recipient_language(notification.recipient)):
            title, body = notification.rendered()
        text = "\n\n".join(part for part in (body, link) if part)
        send_mail(subject=f"[{site_settings().platform_name}] {title}",
                  message=text, from_email=None,
                  recipient_list=[notification.recipient.email])
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


def mail_digest(*, user: Any, notifications: list[Notification], variant: str) -> None:
    """One e-mail listing ``notifications`` (oldest first) with their links, in the
    recipient's language. An SMTP failure raises (the digest stays for the next run)."""
    base = settings.JIFEN_BASE_URL
    with translation.override(recipient_language(user)):
        subject, _body = DIGEST.render({"count": len(notifications), "variant": variant})
        parts = []
        for notification in notifications:
            title, body = notification.rendered()
            link = notification.url
            if link.startswith("/"):
                link = base + link if base else ""
            parts.append("\n".join(line for line in (f"• {title}", body, link) if line))
        if variant == WEEKLY:
            parts.extend(_suggestion_lines(user, base))
    send_mail(subject=f"[{site_settings().platform_name}] {subject}",
              message="\n\n".join(parts), from_email=None, recipient_list=[user.email])
