"""Ledger endpoints of /api/v1: balances, history and manual adjustments."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from jifen.core.apiauth import principal
from jifen.core.idempotency import idempotent, ledger_key
from jifen.core.pagination import CursorPage, paginate
from jifen.core.schema_types import ApiDateTime, UrlInt
from jifen.ledger import selectors, services
from jifen.ledger.amounts import PointsIn, PointsOut
from jifen.ledger.models import Category, Entry, TransactionKind
from jifen.people.models import Employee
from jifen.people.selectors import employee_by_no, find_employee

router = Router(tags=["ledger"])


class ExpiringOut(Schema):
    amount: PointsOut
    expires_at: datetime


class BalanceOut(Schema):
    spendable: PointsOut
    held: PointsOut
    expiring: list[ExpiringOut] = Field(
        description="Spendable points by expiry time, soonest first."
    )


def _balance(employee: Employee) -> dict:
    result = selectors.balance(employee=employee)
    return {
        "spendable": result.spendable,
        "held": result.held,
        "expiring": [{"amount": e["amount"], "expires_at": e["expires_at"]}
                     for e in result.expiring],
    }


@router.get("/me/balance", response=BalanceOut, tags=["me"])
def my_balance(request: HttpRequest) -> dict:
    """The signed-in employee's spendable and held points and what expires when."""
    return _balance(principal(request).require_employee())


@router.get("/employees/{employee_no}/balance", response=BalanceOut)
def employee_balance(request: HttpRequest, employee_no: str) -> dict:
    """An employee's balance (scope ``ledger:read``)."""
    principal(request).require("ledger:read")
    employee = find_employee(employee_no)
    if employee is None:  # the number names the resource in the path
        raise Http404
    return _balance(employee)


class HistoryLineOut(Schema):
    id: int = Field(description="The transaction's id.")
    kind: str
    category: str
    amount: PointsOut = Field(description="How the balance changed (negative: taken away).")
    balance_after: PointsOut | None
    reason: str
    cause_type: str
    cause_id: str
    created_at: datetime
    description: str = Field(
        default="", description="What the movement is now, in the caller's language: "
        "\"Order M000171 午睡毯 — Completed\", \"Refund of order M000171 (cancelled by "
        "you)\", \"Award: <rule>\", \"Adjustment by HR: <reason>\".")
    status: str = Field(default="", description="What its cause is now (an order's status, "
                        "in words); empty when it has none.")
    hold_id: int | None = Field(
        default=None, description="For a hold and the release or refund that settles it: "
        "the hold's transaction id, so one order's movements can be shown together.")

    @staticmethod
    def resolve_hold_id(obj: Entry) -> int | None:
        txn = obj.transaction
        if txn.kind == TransactionKind.HOLD:
            return txn.pk
        if txn.kind == TransactionKind.RELEASE:
            return txn.settles_id
        if txn.kind == TransactionKind.REFUND:
            return getattr(obj, "refund_hold_id", None)
        return None

    @staticmethod
    def resolve_description(obj: Entry) -> str:
        return getattr(obj, "description", "")

    @staticmethod
    def resolve_status(obj: Entry) -> str:
        return getattr(obj, "status", "")

    @staticmethod
    def resolve_id(obj: Entry) -> int:
        return obj.transaction_id

    @staticmethod
    def resolve_kind(obj: Entry) -> str:
        return obj.transaction.kind

    @staticmethod
    def resolve_category(obj: Entry) -> str:
        return obj.transaction.category

    @staticmethod
    def resolve_reason(obj: Entry) -> str:
        return obj.transaction.reason

    @staticmethod
    def resolve_cause_type(obj: Entry) -> str:
        return obj.transaction.cause_type

    @staticmethod
    def resolve_cause_id(obj: Entry) -> str:
        return obj.transaction.cause_id

    @staticmethod
    def resolve_created_at(obj: Entry) -> datetime:
        return obj.transaction.created_at


class HistoryFilters(Schema):
    kind: TransactionKind | None = None
    category: Category | None = None
    since: ApiDateTime | None = Field(default=None, description="From this time (inclusive).")
    until: ApiDateTime | None = Field(default=None, description="Before this time.")
    cursor: str | None = None
    limit: UrlInt = Field(default=50, ge=1, le=200)


@router.get("/me/transactions", response=CursorPage[HistoryLineOut], tags=["me"])
def my_transactions(request: HttpRequest, filters: Query[HistoryFilters]) -> dict:
    """The signed-in employee's history, newest first, with the running balance."""
    employee = principal(request).require_employee()
    entries = selectors.history(employee=employee, kind=filters.kind, category=filters.category,
                                since=filters.since, until=filters.until)
    page = paginate(entries, cursor=filters.cursor, limit=filters.limit, key="pk",
                    descending=True)
    words = selectors.entry_words(page["items"], for_employee=True)
    for entry in page["items"]:
        entry.description, entry.status = words[entry.pk]
    return page


class AdjustmentIn(Schema):
    employee_no: str = Field(min_length=1, max_length=40, examples=["E001"])
    amount: PointsIn = Field(description="Positive credits the employee, negative debits.",
                             examples=[10])
    reason: str = Field(min_length=1, max_length=500)


class AdjustmentOut(Schema):
    id: int
    kind: str
    employee_no: str
    amount: PointsOut
    balance_after: PointsOut | None
    reason: str
    actor: str
    created_at: datetime


@router.post("/adjustments", response={201: AdjustmentOut})
def create_adjustment(request: HttpRequest, payload: AdjustmentIn):
    """Credit (+) or debit (−) an employee by hand, with a reason (scope
    ``ledger:write``). Send an ``Idempotency-Key`` header: a replay answers with the first
    result and moves nothing. Not enough points is a 409 ``insufficient_points``."""
    caller = principal(request)
    caller.require("ledger:write")

    def handler() -> tuple[int, dict]:
        employee = employee_by_no(payload.employee_no)
        # Without an Idempotency-Key every call is a new adjustment.
        key = ledger_key(caller.id, request) or f"api:{uuid.uuid4()}"
        txn = services.adjust(employee=employee, amount=payload.amount, reason=payload.reason,
                              actor=caller.actor, idempotency_key=key)
        entry = selectors.wallet_entry(txn=txn, employee=employee)
        body = AdjustmentOut(
            id=txn.pk, kind=txn.kind, employee_no=employee.employee_no,
            amount=entry.amount if entry else 0,
            balance_after=entry.balance_after if entry else None, reason=txn.reason,
            actor=txn.actor_label, created_at=txn.created_at,
        )
        return 201, body.model_dump()

    return idempotent(request, caller.id, handler)
