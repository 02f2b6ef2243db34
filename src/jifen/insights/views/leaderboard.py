"""Insights pages: the leaderboard part. Portal: the leaderboard (company, department or
a manager's team; this or a past month, quarter or year, or all time; by category), the
viewer's own rank card, and their switch to hide their name from others."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jifen.core import errors
from jifen.core.permissions import htmx_partial
from jifen.insights.selectors import leaderboard as selectors
from jifen.insights.services import leaderboard as services
from jifen.ledger.amounts import format_points
from jifen.ledger.models import Category


def _choices(request: HttpRequest) -> dict[str, Any]:
    """The filters from the query string; anything unknown falls back to its default, so
    an old bookmark still opens a page."""
    user = request.user
    employee = getattr(user, "employee", None)
    period_text = request.GET.get("period", "month")
    try:
        period = selectors.parse_period(period_text)
    except errors.ValidationError:
        period_text, period = "month", selectors.parse_period("month")
    try:
        category = selectors.parse_category(request.GET.get("category"))
    except errors.ValidationError:
        category = ""
    scope_text = request.GET.get("scope", "company")
    code = request.GET.get("department") or None
    try:
        scope = selectors.resolve_scope(user, scope_text, department_code=code)
    except errors.JifenError:
        scope = selectors.Scope("company")
    return {"employee": employee, "period": period, "period_text": period_text,
            "category": category, "scope": scope}


@login_required
def leaderboard(request: HttpRequest) -> HttpResponse:
    chosen = _choices(request)
    employee, scope = chosen["employee"], chosen["scope"]
    board = selectors.board(viewer=request.user, scope=scope, period=chosen["period"],
                            category=chosen["category"])
    context: dict[str, Any] = {
        "board": board,
        "rows": [{"row": row, "points": format_points(row.points)} for row in board.rows],
        "me_points": format_points(board.me_points),
        "employee": employee,
        "period_text": chosen["period_text"],
        "scope": scope,
        "category": chosen["category"],
        "category_label": Category(chosen["category"]).label if chosen["category"] else "",
    }
    if htmx_partial(request):
        return render(request, "insights/_leaderboard_results.html", context)
    can_team = bool(selectors.team_department_ids(request.user))
    departments = list(selectors.departments_to_choose(request.user))
    context.update({
        "scopes": [("company", _("Whole company"))]
        + ([("department", _("Department"))] if employee is not None or departments else [])
        + ([("team", _("My team"))] if can_team else []),
        "departments": departments,
        "current_periods": [("month", _("This month")), ("quarter", _("This quarter")),
                            ("year", _("This year")), ("all", _("All time"))],
        "past_periods": _past_periods(),
        "categories": Category.choices,
    })
    return render(request, "insights/leaderboard.html", context)


def _past_periods() -> list[tuple[str, list[selectors.Period]]]:
    periods = selectors.recent_periods()
    return [(_("Past months"), [p for p in periods if p.kind == "month"]),
            (_("Past quarters"), [p for p in periods if p.kind == "quarter"]),
            (_("Past years"), [p for p in periods if p.kind == "year"])]


@login_required
@require_POST
def privacy(request: HttpRequest) -> HttpResponse:
    employee = getattr(request.user, "employee", None)
    if employee is None:
        messages.error(request, _("Only employees appear on leaderboards."))
        return redirect("portal:leaderboard")
    hidden = request.POST.get("hidden") == "1"
    services.set_ranking_privacy(employee=employee, hidden=hidden)
    messages.success(request, _("Others now see you as “Anonymous colleague”.") if hidden
                     else _("Others now see your name on leaderboards."))
    return redirect("portal:leaderboard")


portal_urlpatterns = [
    path("leaderboard/", leaderboard, name="leaderboard"),
    path("leaderboard/privacy/", privacy, name="leaderboard_privacy"),
]
