"""The employee's points on their console profile, for the project's people pages (the
people app sits below the ledger and cannot ask it)."""

from __future__ import annotations

from typing import Any

from django import template

from jifen.core.roles import Cap, user_can
from jifen.ledger import views

register = template.Library()


@register.inclusion_tag("ledger/console/_profile_points.html", takes_context=True)
def profile_points(context: template.Context, employee: Any) -> dict[str, Any]:
    """Balance, the latest history lines and "Adjust points" for those who may see the
    ledger; nothing for anyone else."""
    request = context["request"]
    shown = {"employee": employee, "request": request, "visible": False,
             "can_adjust": user_can(request.user, Cap.ADJUST_POINTS)}
    if user_can(request.user, Cap.VIEW_LEDGER):
        shown.update(visible=True, **views.profile_points(request, employee))
    return shown
