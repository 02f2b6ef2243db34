"""What every page's template may read: the site's settings and point unit, the user's
roles and capabilities, and the unread notifications behind the bell."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from jifen.core.roles import Cap, user_can, user_roles
from jifen.core.selectors import point_unit, site_settings
from jifen.notifications.selectors import unread_count


def site(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {
        "site": site_settings(),
        "point_unit": point_unit(getattr(request, "LANGUAGE_CODE", None)),
        "caps": {c.value: user_can(user, c.value) for c in Cap} if user else {},
        "roles": user_roles(user) if user else set(),
        # Lazy: counted only on pages that show the bell.
        "unread_notifications": SimpleLazyObject(lambda: unread_count(user)) if user else 0,
    }
