"""Payroll API: a period's figures per employee (JSON pages or the xlsx), closing and
reopening a period, and the bonus policies. Reading needs ``reports:read`` (people: see
insights and every department — payroll figures are company-wide, so a manager's team
view is not enough); closing, reopening and policies need ``admin`` (people: manage
people, i.e. HR)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from jifen.core import errors
from jifen.core.apiauth import Principal, principal
from jifen.core.exports import XLSX_CONTENT_TYPE, download
from jifen.core.idempotency import idempotent
from jifen.core.pagination import decode_cursor, encode_cursor
from jifen.core.roles import Cap, user_can
from jifen.insights.services import payroll
from jifen.ledger.amounts import PointsIn, PointsOut

router = Router(tags=["payroll"])


def require_reader(caller: Principal) -> None:
    caller.require("reports:read")
    if caller.kind == "employee" and not user_can(caller.user, Cap.VIEW_ALL_PEOPLE):
        raise errors.PermissionDenied(_("Payroll figures are for HR and auditors."),
                                      code=errors.ErrorCode.FORBIDDEN)


def require_payroll_admin(caller: Principal) -> None:
    caller.require_scope_or_capability("admin", Cap.MANAGE_PEOPLE,
                                       message=_("Closing payroll periods is for HR."))


class PolicyOut(Schema):
    category: str
    target: PointsOut = Field(description="Points per month at which the factor is full.")
    weight: str = Field(description="Percent, e.g. \"10.0000\": the factor's maximum × 100.")
    label: str


class LineOut(Schema):
    employee_no: str
    name: str
    department: str
    points_by_category: dict[str, PointsOut]
    factors: dict[str, str] = Field(description="Per policy category, 4 decimals as text.")
    total_factor: str
    benefit_cny: str = Field(description="CNY market value of rewards approved in the month.")


class PeriodOut(Schema):
    period: str
    status: str
    closed_at: datetime | None
    policies: list[PolicyOut]
    items: list[LineOut]
    next_cursor: str | None


class PeriodQuery(Schema):
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(100, ge=1, le=1000)
    format: Literal["json", "xlsx"] = "json"


def _policy_out(policy: payroll.Policy) -> dict:
    return {"category": policy.category, "target": policy.target,
            "weight": str(policy.weight), "label": policy.label}


def _line_out(line: payroll.Line) -> dict:
    return {"employee_no": line.employee_no, "name": line.name,
            "department": line.department, "points_by_category": line.points,
            "factors": {k: str(v) for k, v in line.factors.items()},
            "total_factor": str(line.total_factor), "benefit_cny": str(line.benefit)}


def _after(cursor: str | None) -> str:
    if not cursor:
        return ""
    value = decode_cursor(cursor)
    if not isinstance(value, str) or not value or "\x00" in value or len(value) > 40:
        raise errors.ValidationError(_("The cursor is not valid."),
                                     code=errors.ErrorCode.INVALID_CURSOR)
    return value


@router.get("/payroll/periods/{month}", response=PeriodOut)
def period(request: HttpRequest, month: str, query: Query[PeriodQuery]):
    """One payroll month (``YYYY-MM``): per employee the points earned by category, each
    bonus policy's factor, the total factor and the CNY value of rewards redeemed. An open
    month is computed live; a closed one returns what was frozen when it was closed. Pages
    of ``limit`` employees by employee number (``next_cursor``). ``YYYY-MM.xlsx`` or
    ``?format=xlsx`` gives the whole month as xlsx under HR's column mapping (a closed
    month's file is the same bytes every time). 422 ``invalid_period`` for a bad month."""
    caller = principal(request)
    require_reader(caller)
    as_xlsx = month.endswith(".xlsx") or query.format == "xlsx"
    first = payroll.parse_month(month.removesuffix(".xlsx"))
    if as_xlsx:
        body = payroll.export_xlsx(month=first)
        return download(body, XLSX_CONTENT_TYPE, f"payroll-{first:%Y-%m}.xlsx")
    view = payroll.read_period(month=first, after=_after(query.cursor), limit=query.limit)
    return {"period": f"{first:%Y-%m}", "status": view.status, "closed_at": view.closed_at,
            "policies": [_policy_out(p) for p in view.policies],
            "items": [_line_out(line) for line in view.lines],
            "next_cursor": encode_cursor(view.next_after) if view.next_after else None}


class PeriodStateOut(Schema):
    period: str
    status: str
    closed_at: datetime | None
    closed_by: str


def _state(found) -> dict:
    return {"period": f"{found.month:%Y-%m}", "status": found.status,
            "closed_at": found.closed_at, "closed_by": found.closed_by_label}


@router.post("/payroll/periods/{month}/close", response=PeriodStateOut)
def close(request: HttpRequest, month: str):
    """Close (freeze) a finished month: its figures are stored and never change again
    until it is reopened. Closing a closed month answers the same. 409
    ``period_not_ended`` while the month is still running. ``Idempotency-Key`` honoured."""
    caller = principal(request)
    require_payroll_admin(caller)
    first = payroll.parse_month(month)

    def handler() -> tuple[int, dict]:
        found = payroll.close_period(month=first, actor=caller.actor)
        return 200, PeriodStateOut(**_state(found)).model_dump(mode="json")

    return idempotent(request, caller.id, handler)


class ReopenIn(Schema):
    reason: str = Field(..., max_length=300)


@router.post("/payroll/periods/{month}/reopen", response=PeriodStateOut)
def reopen(request: HttpRequest, month: str, payload: ReopenIn):
    """Reopen a closed month, with a reason (audit-logged): it is computed live again."""
    caller = principal(request)
    require_payroll_admin(caller)
    first = payroll.parse_month(month)

    def handler() -> tuple[int, dict]:
        found = payroll.reopen_period(month=first, actor=caller.actor, reason=payload.reason)
        return 200, PeriodStateOut(**_state(found)).model_dump(mode="json")

    return idempotent(request, caller.id, handler)


class PolicyIn(Schema):
    target: PointsIn
    weight: Decimal = Field(..., gt=0, le=100, max_digits=7, decimal_places=4)
    label: str = Field("", max_length=100)
    active: bool = True


class PolicyListOut(Schema):
    items: list[PolicyOut]
    next_cursor: str | None = None


@router.get("/payroll/policies", response=PolicyListOut)
def policies(request: HttpRequest):
    """The active bonus policies."""
    require_reader(principal(request))
    return {"items": [_policy_out(p) for p in payroll.active_policies()], "next_cursor": None}


@router.put("/payroll/policies/{category}", response=PolicyOut)
def put_policy(request: HttpRequest, category: str, payload: PolicyIn):
    """Create or change the bonus policy of an earning category (factor = min(points /
    target, 1) × weight %). Closed months keep the policies they were closed with."""
    caller = principal(request)
    require_payroll_admin(caller)
    saved = payroll.save_policy(actor=caller.actor, category=category, target=payload.target,
                                weight=payload.weight, label=payload.label,
                                active=payload.active)
    return {"category": saved.category, "target": saved.target,
            "weight": str(saved.weight), "label": saved.label}




class ColumnIO(Schema):
    field: str = Field(..., max_length=80, description="From GET /payroll/settings's fields.")
    header: str = Field(..., max_length=200)


class FieldChoiceOut(Schema):
    field: str
    label: str


class PayrollSettingsOut(Schema):
    columns: list[ColumnIO] = Field(description="The xlsx export's columns, in order.")
    benefit_enabled: bool
    benefit_fulfilments: list[str] = Field(description="Item fulfilment types whose "
                                                       "redemptions count as a benefit.")
    fields: list[FieldChoiceOut] = Field(description="Every field a column may show.")


class PayrollSettingsIn(Schema):
    columns: list[ColumnIO] | None = Field(None, max_length=100)
    benefit_enabled: bool | None = None
    benefit_fulfilments: list[str] | None = Field(None, max_length=20)


def _settings_out() -> dict:
    found = payroll.current_settings()
    return {"columns": found.columns or payroll.default_columns(),
            "benefit_enabled": found.benefit_enabled,
            "benefit_fulfilments": found.benefit_fulfilments,
            "fields": [{"field": value, "label": str(label)}
                       for value, label in payroll.field_choices()]}


@router.get("/payroll/settings", response=PayrollSettingsOut)
def payroll_settings(request: HttpRequest):
    """The export's column mapping and the taxable-benefit setting (the console's payroll
    settings page)."""
    require_reader(principal(request))
    return _settings_out()


@router.put("/payroll/settings", response=PayrollSettingsOut)
def put_payroll_settings(request: HttpRequest, payload: PayrollSettingsIn):
    """Change the columns (the whole list, in order) and/or the benefit setting; what is
    left out stays. 422 ``invalid_value`` for an unknown or repeated field or an empty
    header, ``invalid_fulfilment`` for an unknown fulfilment type — and nothing changes."""
    caller = principal(request)
    require_payroll_admin(caller)
    with transaction.atomic():
        if payload.columns is not None:
            payroll.save_columns(actor=caller.actor,
                                 columns=[c.model_dump() for c in payload.columns])
        if payload.benefit_enabled is not None or payload.benefit_fulfilments is not None:
            current = payroll.current_settings()
            payroll.save_benefit_setting(
                actor=caller.actor,
                enabled=(current.benefit_enabled if payload.benefit_enabled is None
                         else payload.benefit_enabled),
                fulfilments=(current.benefit_fulfilments
                             if payload.benefit_fulfilments is None
                             else payload.benefit_fulfilments))
    return _settings_out()
