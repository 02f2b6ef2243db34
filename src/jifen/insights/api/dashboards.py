"""``GET /api/v1/insights/{chart}``: the figures behind each console dashboard chart (scope
``reports:read`` for API keys, ``view_insights`` for people; a manager's token sees only
their own department subtrees)."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from jifen.core.apiauth import Principal, principal
from jifen.core.roles import Cap
from jifen.insights.selectors import dashboards as selectors
from jifen.insights.services import dashboards as services

router = Router(tags=["insights"])

ChartName = Literal["flows", "categories", "per-head", "items", "activities", "liability",
                    "inactive", "fairness", "heatmap"]


class ChartFilters(Schema):
    from_: str | None = Field(default=None, alias="from", pattern=r"^\d{4}-\d{2}$",
                              description="First month, YYYY-MM (default: eleven months "
                              "before `to`).")
    to: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}$",
                           description="Last month, YYYY-MM (default: this month).")
    department: str | None = Field(default=None, max_length=50,
                                   description="A department code: it and its sub-departments.")
    days: Literal[30, 60, 90] = Field(default=30, description="`inactive` only: no earning "
                                      "or spending for this many days (whole months).")
    page: int = Field(default=1, ge=1, le=100_000, description="`inactive` only: the page "
                      f"of {selectors.INACTIVE_PAGE} employees.")


class ChartOut(Schema):
    chart: str
    title: str
    period: dict[str, str] = Field(description="`from` and `to` months used.")
    department: str | None
    columns: list[str] = Field(description="The keys of each row, in table order.")
    rows: list[dict[str, Any]] = Field(description="The chart's table (what the xlsx holds).")
    series: dict[str, Any] = Field(description="What the chart draws.")
    facts: dict[str, Any] = Field(description="Single figures: totals, Gini, breakage …")


class InsightsSettingsOut(Schema):
    cny_per_point: str = Field(description="The CNY value of one point, a decimal string.")


class InsightsSettingsIn(Schema):
    cny_per_point: str = Field(max_length=32, description="0 ≤ value < 100000, at most four "
                               "decimals, e.g. \"0.1000\".")


def _require_settings_editor(caller: Principal) -> None:
    """The console's rule: super admins and HR (who adjust points); API keys need `admin`."""
    caller.require_scope_or_capability(
        "admin", Cap.ADJUST_POINTS, Cap.MANAGE_SETTINGS,
        message=_("Setting the CNY value of a point is for HR."))


# Declared before /insights/{chart} so that "settings" is not read as a chart name.
@router.get("/insights/settings", response=InsightsSettingsOut)
def insights_settings(request: HttpRequest) -> dict:
    """The dashboards' settings: the CNY value of one point."""
    principal(request).require("reports:read")
    return {"cny_per_point": str(selectors.dashboard_settings().cny_per_point)}


@router.patch("/insights/settings", response=InsightsSettingsOut)
def patch_insights_settings(request: HttpRequest, payload: InsightsSettingsIn) -> dict:
    """Set the CNY value of one point (the console's insights settings form; audited)."""
    caller = principal(request)
    _require_settings_editor(caller)
    saved = services.update_dashboard_settings(actor=caller.actor,
                                               cny_per_point=payload.cny_per_point)
    return {"cny_per_point": str(saved.cny_per_point)}


@router.get("/insights/{chart}", response=ChartOut)
def insights_chart(request: HttpRequest, chart: ChartName,
                   filters: Query[ChartFilters]) -> dict:
    """One dashboard chart's figures for a period of months and a department subtree:
    `flows`, `categories`, `per-head`, `items`, `activities`, `liability`, `inactive`,
    `fairness`, `heatmap`. Points in points; CNY as decimal strings."""
    caller = principal(request)
    caller.require("reports:read")
    user = caller.user if caller.kind == "employee" else None
    found = selectors.filters_for(user=user, start=filters.from_, end=filters.to,
                                  department=filters.department)
    result = selectors.chart(chart, found, days=filters.days, page=filters.page)
    return {"title": result.title,
            "period": {"from": f"{found.start:%Y-%m}", "to": f"{found.end:%Y-%m}"},
            "department": found.department.code if found.department else None,
            **result.as_json()}
