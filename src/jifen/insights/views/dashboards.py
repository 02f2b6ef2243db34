"""The console's insights dashboards (``console:insights``): every chart with its table and
an xlsx of it, filtered by months and department (a manager sees their own subtrees), and
the settings panel for the CNY value of a point."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jifen.core import errors
from jifen.core.exports import spreadsheet_response
from jifen.core.permissions import forbidden, require_capability
from jifen.core.roles import Cap, user_can
from jifen.insights.selectors import dashboards as selectors
from jifen.insights.services import dashboards as services

# Charts in the order the page shows them.
ORDER = ("flows", "categories", "per-head", "items", "activities", "liability", "inactive",
         "fairness", "heatmap")
EXPORT_ROWS = 200_000
HALF = {"flows", "categories", "per-head", "activities", "liability", "fairness"}


def gini_words(facts: dict[str, Any]) -> str:
    """The Gini coefficient in plain words."""
    value = facts["gini"]
    if facts["people"] == 0:
        return _("No active employees in this selection.")
    if value < 0.2:
        verdict = _("points are spread quite evenly.")
    elif value < 0.4:
        verdict = _("points are moderately uneven — usual when points reward performance.")
    elif value < 0.6:
        verdict = _("points are clearly uneven: a minority earns most of them.")
    else:
        verdict = _("points are very uneven: a few people earn almost everything.")
    return _("Gini coefficient: 0 means everyone earned the same; 1 means one person earned "
             "everything. Ours is %(gini).2f over %(people)s active employees (median "
             "%(median)s, mean %(mean)s points): %(verdict)s") % {
        "gini": value, "people": facts["people"], "median": facts["median"],
        "mean": facts["mean"], "verdict": verdict}


def chart_words() -> dict[str, str]:
    """The series names the script draws, in the reader's language."""
    return {"issued": _("Issued"), "spent": _("Spent"), "expired": _("Expired"),
            "per_head": _("Points per head"), "redemptions": _("Redemptions"),
            "participants": _("Participants"), "collected": _("Points collected"),
            "points": _("Points"), "p10": _("10th percentile"), "median": _("Median"),
            "p90": _("90th percentile"), "inactive": _("Inactive employees"),
            "checkins": _("Check-ins"), "orders": _("Redemptions")}


def can_edit_settings(user: Any) -> bool:
    """Super admins and HR (who adjust points) set the CNY value of a point."""
    return user_can(user, Cap.MANAGE_SETTINGS) or user_can(user, Cap.ADJUST_POINTS)


def _number(value: str | None, default: int) -> int:
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 6 else default


def _filters(request: HttpRequest) -> tuple[selectors.Filters, str]:
    """The request's filters; bad months fall back to the last twelve with a message,
    a department the user may not see is a 404."""
    department = request.GET.get("department") or None
    try:
        return selectors.filters_for(user=request.user, start=request.GET.get("from") or None,
                                     end=request.GET.get("to") or None,
                                     department=department), ""
    except errors.NotFound as exc:
        raise Http404(str(exc)) from exc
    except errors.ValidationError as exc:
        return selectors.filters_for(user=request.user, department=department), str(exc)


@require_capability(Cap.VIEW_INSIGHTS)
def insights(request: HttpRequest) -> HttpResponse:
    filters, problem = _filters(request)
    days = _number(request.GET.get("days"), 30)
    days = days if days in selectors.INACTIVE_DAYS else 30
    page = _number(request.GET.get("page"), 1)
    charts = {key: selectors.chart(key, filters, days=days, page=page) for key in ORDER}
    cards = [{"key": key, "chart": chart, "headers": chart.headers, "cells": chart.table(),
              "half": key in HALF} for key, chart in charts.items()]
    return render(request, "insights/dashboards.html", {
        "filters": filters, "problem": problem, "cards": cards, "days": days,
        "gini_words": gini_words(charts["fairness"].facts), "words": chart_words(),
        "day_choices": selectors.INACTIVE_DAYS,
        "departments": selectors.departments_for(request.user),
        "series": {key: chart.series for key, chart in charts.items()},
        "settings": selectors.dashboard_settings(),
        "can_edit_settings": can_edit_settings(request.user),
        "query": filters.query_string(),
    })


@require_capability(Cap.VIEW_INSIGHTS)
def insights_export(request: HttpRequest, chart: str) -> HttpResponse:
    if chart not in selectors.CHARTS:
        raise Http404
    filters, _problem = _filters(request)
    days = _number(request.GET.get("days"), 30)
    if days not in selectors.INACTIVE_DAYS:
        days = 30
    if chart == "inactive":  # the spreadsheet lists everyone, not one page
        found = selectors.inactive(filters, days=days, size=EXPORT_ROWS)
    else:
        found = selectors.chart(chart, filters, days=days)
    return spreadsheet_response(
        fmt="xlsx", filename=f"insights-{chart}-{filters.start:%Y%m}-{filters.end:%Y%m}",
        header=found.headers, rows=found.table(), sheet_title=found.title)


@require_POST
@require_capability(Cap.VIEW_INSIGHTS)
def insights_settings(request: HttpRequest) -> HttpResponse:
    if not can_edit_settings(request.user):
        return forbidden(request)
    try:
        services.update_dashboard_settings(actor=request.user,
                                           cny_per_point=request.POST.get("cny_per_point", ""))
    except errors.ValidationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The CNY value of a point is saved."))
    back = request.POST.get("query", "")
    return redirect(reverse("console:insights") + (f"?{back}" if _safe_query(back) else ""))


def _safe_query(text: str) -> bool:
    return len(text) < 200 and all(c.isalnum() or c in "=&-_" for c in text)


console_urlpatterns = [
    path("insights/", insights, name="insights"),
    path("insights/<str:chart>.xlsx", insights_export, name="insights_export"),
    path("insights/settings/", insights_settings, name="insights_settings"),
]
