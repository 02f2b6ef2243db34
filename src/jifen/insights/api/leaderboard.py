"""Insights API: the leaderboard part — the signed-in employee's leaderboards (company,
department, team; any period; by category) and their choice to hide their name."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import StrictBool

from jifen.core.apiauth import principal
from jifen.insights.selectors import leaderboard as selectors
from jifen.insights.services import leaderboard as services
from jifen.ledger.amounts import PointsOut

router = Router(tags=["leaderboard"])


class LeaderboardQuery(Schema):
    scope: str = Field("company", max_length=20,
                       description='"company", "department" (your own, or `department` '
                                   'if you may see it) or "team" (managers: their subtrees).')
    period: str = Field("month", max_length=10,
                        description='"month", "quarter", "year", "all" (the current one, in '
                                    'the company\'s time zone) or a chosen one: "2026-11", '
                                    '"2026-Q3", "2026".')
    category: str = Field("", max_length=30,
                          description="An earning category; empty for all together.")
    department: str | None = Field(None, max_length=40,
                                   description='A department code, with scope "department".')
    limit: int | None = Field(None, description="How many from the top: 1–100, default 20.")


class LeaderRowOut(Schema):
    rank: int
    name: str = Field(description='"Anonymous colleague" (in the caller\'s language) for '
                                  "someone who hid their name.")
    employee_no: str | None = Field(description="null when anonymous.")
    department: str | None = Field(description="null when anonymous.")
    points: PointsOut
    is_me: bool


class MeRankOut(Schema):
    rank: int = Field(description="0: unranked (no points in the period) or not in this scope.")
    points: PointsOut
    hidden: bool = Field(description="Whether you hide your name from others.")


class LeaderboardOut(Schema):
    period: str
    scope: str
    department: str | None = Field(description="The department's code for that scope.")
    category: str
    ranked_count: int = Field(description="How many people rank in this scope and period.")
    updated_at: datetime | None = Field(description="When the rankings last took in new "
                                                    "points (every minute).")
    items: list[LeaderRowOut]
    next_cursor: None = None
    me: MeRankOut


@router.get("/leaderboard", response=LeaderboardOut)
def leaderboard(request: HttpRequest, query: Query[LeaderboardQuery]) -> dict[str, Any]:
    """The top of a leaderboard and the caller's own rank, even outside the top. Ties
    share a rank ("1, 2, 2, 4"). 422 ``invalid_period``, ``invalid_scope``,
    ``unknown_category``, ``invalid_limit``; 403 for "team" when the caller manages no
    department; 404 for a department the caller may not see."""
    employee = principal(request).require_employee()
    period = selectors.parse_period(query.period)
    category = selectors.parse_category(query.category)
    limit = selectors.parse_limit(query.limit)
    scope = selectors.resolve_scope(employee.user, query.scope,
                                    department_code=query.department)
    board = selectors.board(viewer=employee.user, scope=scope, period=period,
                            category=category, limit=limit)
    return {
        "period": period.key, "scope": scope.kind,
        "department": scope.department.code if scope.department else None,
        "category": category, "ranked_count": board.ranked_count,
        "updated_at": board.updated_at,
        "items": [{"rank": row.rank, "name": row.name, "employee_no": row.employee_no,
                   "department": row.department, "points": row.points, "is_me": row.is_me}
                  for row in board.rows],
        "me": {"rank": board.me_rank, "points": board.me_points, "hidden": board.hidden_me},
    }


class PrivacyIn(Schema):
    hidden: StrictBool = Field(description="true: others see \"Anonymous colleague\" instead "
                                           "of your name; you still rank.")


class PrivacyOut(Schema):
    hidden: bool


@router.get("/me/ranking-privacy", response=PrivacyOut)
def my_ranking_privacy(request: HttpRequest) -> dict[str, bool]:
    """Whether the caller hides their name on public leaderboards."""
    employee = principal(request).require_employee()
    return {"hidden": selectors.is_hidden(employee)}


@router.put("/me/ranking-privacy", response=PrivacyOut)
def set_my_ranking_privacy(request: HttpRequest, payload: PrivacyIn) -> dict[str, bool]:
    """Hide (``true``) or show (``false``) the caller's name on public leaderboards.
    Setting the same value again changes nothing, so a retry is safe."""
    employee = principal(request).require_employee()
    row = services.set_ranking_privacy(employee=employee, hidden=payload.hidden)
    return {"hidden": row.hidden}
