from __future__ import annotations

from django.http import HttpRequest

from jifen.core.roles import Cap, user_can, user_roles
from jifen.core.selectors import point_unit, site_settings


def site(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {
        "site": site_settings(),
        "point_unit": point_unit(getattr(request, "LANGUAGE_CODE", None)),
        "caps": {c.value: user_can(user, c.value) for c in Cap} if user else {},
        "roles": user_roles(user) if user else set(),
    }
