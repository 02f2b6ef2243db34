"""How long something has waited, in words — said the same way by the dashboard, the order
desk and the reminders that point to them."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def days_waited(oldest: datetime, now: datetime | None = None) -> int:
    """Whole calendar days (in the site's zone) since ``oldest``."""
    return max(0, (timezone.localdate(now or timezone.now()) - timezone.localdate(oldest)).days)


def waited_words(oldest: datetime | None, now: datetime | None = None) -> str:
    """"the oldest has waited 4 days" (or "… came in today"); "" when nothing waits."""
    if oldest is None:
        return ""
    days = days_waited(oldest, now)
    if not days:
        return _("the oldest came in today")
    return ngettext("the oldest has waited %(days)s day", "the oldest has waited %(days)s days",
                    days) % {"days": days}
