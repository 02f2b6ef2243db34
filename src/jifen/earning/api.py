"""Earning endpoints of /api/v1: event intake, rules and their versions, event types,
approvals, recognition and the published rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from jifen.core import errors
from jifen.core.apiauth import principal
from jifen.core.idempotency import idempotent, remember, replayed
from jifen.core.pagination import CursorPage, keyset_page, paginate
from jifen.core.roles import Cap, user_can
from jifen.core.schema_types import SiteDateTime, StrictBool, StrictInt, UrlInt, UrlRowId
from jifen.earning import selectors, services
from jifen.earning.models import (
    Award,
    BudgetAllocation,
    Event,
    EventType,
    Rule,
    RuleFeedback,
    RuleVersion,
)
from jifen.ledger.amounts import from_units, site_decimals
from jifen.ledger.models import Category
from jifen.people.selectors import department_by_code, employee_by_no

router = Router(tags=["earning"])


# --- events -------------------------------------------------------------------------------


class EventIn(Schema):
    # Loosely typed on purpose: a malformed field rejects that one event, not the batch.
    source: Any = Field(description="The sending system, e.g. `attendance`.")
    id: Any = Field(description="The event's id in that system; (source, id) is unique.")
    type: Any = Field(description="An event type code, e.g. `attendance_late`.")
    employee_no: Any
    occurred_at: Any = Field(description="ISO 8601 date and time with offset.")
    payload: Any = None


class EventsIn(Schema):
    events: list[EventIn] = Field(max_length=services.MAX_BATCH)


class EventResultOut(Schema):
    id: str
    status: str = Field(description="credited, pending_approval, duplicate or rejected")
    points: float | int = Field(description="Points credited (negative for a penalty).")
    reason: str = Field(description="Why it was rejected: unknown_employee, "
                                    "no_matching_rule, cap_reached, schema_violation, …")
    detail: str
    uncollected: float | int = Field(description="The part of a penalty the wallet could "
                                                 "not cover.")


class EventsOut(Schema):
    results: list[EventResultOut]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _rule(rule_id: int) -> Rule:
    rule = selectors.rule_by_id(rule_id)
    if rule is None:
        raise errors.NotFound(_("Rule not found."))
    return rule


def _award(award_id: int) -> Award:
    award = selectors.award_by_id(award_id)
    if award is None:
        raise errors.NotFound(_("Award not found."))
    return award


@router.post("/events", response={200: EventsOut})
def post_events(request: HttpRequest, payload: EventsIn):
    """Score up to 1,000 events at once (scope ``events:write``). Each event is answered
    on its own; a bad one never blocks the others; an (source, id) already received is a
    ``duplicate`` and moves nothing."""
    caller = principal(request)
    caller.require("events:write")
    events = [services.EventIn(source=_text(e.source), id=_text(e.id), type=_text(e.type),
                               employee_no=_text(e.employee_no), occurred_at=e.occurred_at,
                               payload=e.payload)
              for e in payload.events]

    replay = replayed(request, caller.id)
    if replay is not None:
        return replay
    results = services.ingest_events(events=events, actor=caller.actor,
                                     received_by=caller.audit_label)
    decimals = site_decimals()
    body = {"results": [
        {"id": r.id, "status": r.status, "points": from_units(r.points, decimals),
         "reason": r.reason, "detail": r.detail,
         "uncollected": from_units(r.uncollected, decimals)} for r in results]}
    # The events are committed (see ingest_events) before the answer is remembered;
    # should that fail, a retry finds every event a duplicate and moves nothing.
    return remember(request, caller.id, 200, body)


class EventOut(Schema):
    id: str
    source: str
    type: str
    employee_no: str
    occurred_at: datetime
    payload: dict
    status: str
    reason: str
    detail: str
    points: float | int
    uncollected: float | int
    received_at: datetime

    @staticmethod
    def resolve_id(obj: Event) -> str:
        return obj.external_id

    @staticmethod
    def resolve_type(obj: Event) -> str:
        return obj.type_code



    @staticmethod
    def resolve_detail(obj: Event) -> str:
        return obj.detail_words

    @staticmethod
    def resolve_points(obj: Event) -> float | int:
        return from_units(obj.points)

    @staticmethod
    def resolve_uncollected(obj: Event) -> float | int:
        return from_units(obj.uncollected)


@router.get("/events", response=CursorPage[EventOut])
def list_events(request: HttpRequest, employee_no: str = "", type: str = "",
                source: str = "", status: str = "", cursor: str | None = None,
                limit: UrlInt = Query(50, ge=1, le=200)):  # noqa: B008 - ninja's marker
    """The event log, newest first (scope ``events:write``): what became of each event.
    ``status`` takes an outcome (credited, pending_approval, rejected) or a reason
    (cap_reached, no_matching_rule, …)."""
    principal(request).require("events:write")
    events = selectors.event_log(type_code=type, source=source, status=status,
                                 employee_no=employee_no)
    return paginate(events, cursor=cursor, limit=limit, descending=True)


# --- rules --------------------------------------------------------------------------------


class RuleIn(Schema):
    name: str = Field(min_length=1, max_length=120)
    event_type: str = Field(min_length=1, max_length=60, examples=["idea_adopted"])
    category: str = Field(examples=["culture"])
    formula: dict = Field(examples=[{"kind": "fixed", "points": 5}])
    condition: str | None = Field(default=None, max_length=4000,
                                  description="CEL over `payload` and `employee`.")
    condition_rows: dict | None = Field(
        default=None, description='The builder\'s rows instead of `condition`, compiled to CEL: '
        '{"join": "all", "rows": [{"field": "payload.hours", "op": "ge", "value": 2}]}')
    requires_approval: StrictBool | None = None
    approver_role: str | None = None
    caps: dict | None = Field(default=None, description='e.g. {"day": 5, "month": 100}')
    description: str | None = None
    valid_from: SiteDateTime | None = None
    valid_until: SiteDateTime | None = None
    expiry: dict | None = Field(default=None,
                                description='e.g. {"mode": "months", "months": 12}')
    active: StrictBool | None = None


class RulePatch(Schema):
    reason: str = Field(min_length=1, max_length=500, description="Why it changes.")
    name: str | None = Field(default=None, max_length=120)
    category: str | None = None
    formula: dict | None = None
    condition: str | None = Field(default=None, max_length=4000)
    condition_rows: dict | None = None
    requires_approval: StrictBool | None = None
    approver_role: str | None = None
    caps: dict | None = None
    description: str | None = None
    valid_from: SiteDateTime | None = None
    valid_until: SiteDateTime | None = None
    expiry: dict | None = None
    active: StrictBool | None = None


class RuleOut(Schema):
    id: int
    name: str
    event_type: str
    category: str
    condition: str
    condition_rows: dict | None
    formula: dict
    caps: dict
    requires_approval: bool
    approver_role: str
    valid_from: datetime | None
    valid_until: datetime | None
    expiry: dict | None
    active: bool
    version: int
    status: str = Field(description="`draft` (never published) or `published`.")
    draft: dict | None = Field(description="Unpublished changes: `fields`, `reason`, `by`, `at`.")

    @staticmethod
    def resolve_event_type(obj: Rule) -> str:
        return obj.event_type.code

    @staticmethod
    def resolve_status(obj: Rule) -> str:
        return "draft" if obj.is_draft else "published"




class VersionOut(Schema):
    number: int
    created_at: datetime
    created_by: str
    reason: str
    diff: list[dict]
    snapshot: dict


    @staticmethod
    def resolve_created_by(obj: RuleVersion) -> str:
        return obj.created_by_label


@router.post("/rules", response={201: RuleOut})
def create_rule(request: HttpRequest, payload: RuleIn):
    """Create a rule (scope ``admin``). A bad CEL condition is a 422 ``invalid_condition``
    whose details give the line and column."""
    caller = principal(request)
    caller.require("admin")
    data = payload.dict(exclude_none=True)

    def handle() -> tuple[int, Any]:
        rule = services.create_rule(actor=caller.actor, **data)
        return 201, RuleOut.from_orm(rule).dict()

    return idempotent(request, caller.id, handle)


@router.get("/rules", response=list[RuleOut])
def list_rules(request: HttpRequest, active: bool | None = None):
    """Every rule (scope ``admin`` or ``events:write``)."""
    caller = principal(request)
    if not caller.can("events:write"):
        caller.require("admin")
    return selectors.rules(active=active)


@router.get("/rules/published", tags=["me"])
def published_rules(request: HttpRequest) -> list[dict]:
    """"How to earn": every active rule in plain words (any signed-in caller)."""
    return selectors.published_rules()


@router.patch("/rules/{int:rule_id}", response=RuleOut)
def update_rule(request: HttpRequest, rule_id: UrlRowId, payload: RulePatch):
    """Change a rule (scope ``admin``): a new version with the reason and the diff."""
    caller = principal(request)
    caller.require("admin")
    rule = _rule(rule_id)
    changes = payload.dict(exclude_unset=True)
    reason = changes.pop("reason")
    return services.update_rule(rule=rule, actor=caller.actor, reason=reason, **changes)


@router.get("/rules/{int:rule_id}/versions", response=list[VersionOut])
def rule_versions(request: HttpRequest, rule_id: UrlRowId):
    caller = principal(request)
    if not caller.can("events:write"):
        caller.require("admin")
    return selectors.rule_versions(_rule(rule_id))


class PreviewIn(Schema):
    rule: RuleIn
    payload: Any = None
    employee_no: str | None = None
    occurred_at: SiteDateTime | None = None


@router.post("/rules/preview")
def preview_rule(request: HttpRequest, payload: PreviewIn) -> dict:
    """What a rule would give a sample event, and why. Writes nothing. An unknown
    `employee_no` is a 422 `unknown_employee`."""
    caller = principal(request)
    caller.require("admin")
    employee = employee_by_no(payload.employee_no) if payload.employee_no else None
    return services.preview_rule(data=payload.rule.dict(exclude_none=True), employee=employee,
                                 payload=payload.payload if payload.payload is not None else {},
                                 occurred_at=payload.occurred_at)


class DraftIn(RuleIn):
    reason: str | None = Field(default=None, max_length=500)


class DraftPatch(RulePatch):
    reason: str | None = Field(default=None, max_length=500)  # optional for a draft


class PublishIn(Schema):
    reason: str | None = Field(default=None, max_length=500)


@router.post("/rules/drafts", response={201: RuleOut})
def create_rule_draft(request: HttpRequest, payload: DraftIn):
    """Save a new rule as a draft (scope ``admin``): checked like a rule, applied to no event
    until published (``status`` ``draft``, ``version`` 0)."""
    caller = principal(request)
    caller.require("admin")
    data = payload.dict(exclude_none=True)
    reason = data.pop("reason", "")

    def handle() -> tuple[int, Any]:
        rule = services.save_rule_draft(actor=caller.actor, reason=reason, **data)
        return 201, RuleOut.from_orm(rule).dict()

    return idempotent(request, caller.id, handle)


@router.put("/rules/{int:rule_id}/draft", response=RuleOut)
def save_rule_draft(request: HttpRequest, rule_id: UrlRowId, payload: DraftPatch):
    """Save changes to a rule as its draft (scope ``admin``): send what changes; the rule
    keeps scoring with its current version until the draft is published."""
    caller = principal(request)
    caller.require("admin")
    rule = _rule(rule_id)
    changes = payload.dict(exclude_unset=True)
    reason = changes.pop("reason", None) or ""
    return services.save_rule_draft(actor=caller.actor, rule=rule, reason=reason, **changes)


@router.post("/rules/{int:rule_id}/publish", response=RuleOut)
def publish_rule(request: HttpRequest, rule_id: UrlRowId, payload: PublishIn | None = None):
    """Publish the rule's draft as its next version (scope ``admin``); 409 ``no_draft``
    without one."""
    caller = principal(request)
    caller.require("admin")
    rule = _rule(rule_id)
    reason = (payload.reason if payload else None) or ""
    return services.publish_rule(rule=rule, actor=caller.actor, reason=reason)


class BacktestIn(Schema):
    rule: RuleIn | None = Field(default=None, description="The rule to try; without it, the "
                                "path's rule (its draft when it has one).")
    since: SiteDateTime | None = None
    until: SiteDateTime | None = None


def _backtest_answer(result: dict[str, Any]) -> dict[str, Any]:
    return {**result, "points": from_units(result["points"]),
            "by_department": [{**row, "points": from_units(row["points"])}
                              for row in result["by_department"]]}


@router.post("/rules/backtest")
def backtest_rule(request: HttpRequest, payload: BacktestIn) -> dict:
    """What a rule would have given the real events of its type between ``since`` and
    ``until`` (default: last month), by department, with a ``summary`` in words. Writes
    nothing; at most 5,000 events are examined (``truncated`` says when there were more)."""
    caller = principal(request)
    caller.require("admin")
    if payload.rule is None:
        raise errors.ValidationError(_("Send the rule to try."),
                                     code=errors.ErrorCode.VALIDATION_ERROR)
    return _backtest_answer(selectors.rule_backtest(
        data=payload.rule.dict(exclude_none=True), since=payload.since, until=payload.until))


@router.post("/rules/{int:rule_id}/backtest")
def backtest_saved_rule(request: HttpRequest, rule_id: UrlRowId,
                        payload: BacktestIn | None = None) -> dict:
    """The backtest of a saved rule: its draft when it has one, else its current version."""
    caller = principal(request)
    caller.require("admin")
    rule = _rule(rule_id)
    data = (payload.rule.dict(exclude_none=True) if payload and payload.rule
            else dict(rule.draft["fields"]) if rule.draft else services.rule_snapshot(rule))
    return _backtest_answer(selectors.rule_backtest(
        data=data, since=payload.since if payload else None,
        until=payload.until if payload else None))


# --- event types --------------------------------------------------------------------------


class EventTypeIn(Schema):
    code: str = Field(min_length=1, max_length=60)
    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    payload_schema: dict = Field(default_factory=lambda: {"type": "object"},
                                 alias="schema")


class EventTypeOut(Schema):
    code: str
    name: str
    description: str
    payload_schema: dict = Field(alias="schema")
    builtin: bool
    active: bool

    # A built-in type's name and description in the site's language, as the pages show
    # them (they are stored as English message ids).
    @staticmethod
    def resolve_name(obj: EventType) -> str:
        return obj.display_name

    @staticmethod
    def resolve_description(obj: EventType) -> str:
        return obj.display_description


@router.get("/event-types", response=list[EventTypeOut], by_alias=True)
def list_event_types(request: HttpRequest):
    caller = principal(request)
    if not caller.can("events:write"):
        caller.require("admin")
    return selectors.event_types()


@router.post("/event-types", response={201: EventTypeOut}, by_alias=True)
def create_event_type(request: HttpRequest, payload: EventTypeIn):
    """Register a custom event type with its payload JSON Schema (scope ``admin``)."""
    caller = principal(request)
    caller.require("admin")

    def handle() -> tuple[int, Any]:
        event_type = services.create_event_type(
            actor=caller.actor, code=payload.code, name=payload.name,
            description=payload.description, schema=payload.payload_schema)
        return 201, EventTypeOut.from_orm(event_type).dict(by_alias=True)

    return idempotent(request, caller.id, handle)


class EventTypePatch(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    payload_schema: dict | None = Field(default=None, alias="schema")
    active: StrictBool | None = None


@router.patch("/event-types/{code}", response=EventTypeOut, by_alias=True)
def update_event_type(request: HttpRequest, code: str, payload: EventTypePatch):
    """Rename an event type, change its payload schema, or stop it accepting events (scope
    ``admin``). The same service as the console; audited."""
    caller = principal(request)
    caller.require("admin")
    event_type = selectors.event_types().filter(code=code).first()
    if event_type is None:
        raise errors.NotFound(_("Unknown event type %s.") % code)
    changes = payload.dict(exclude_unset=True)
    return services.update_event_type(
        event_type=event_type, actor=caller.actor, name=changes.get("name"),
        description=changes.get("description"), schema=changes.get("payload_schema"),
        active=changes.get("active"))


# --- approvals ----------------------------------------------------------------------------


class PendingOut(Schema):
    id: int
    employee_no: str
    employee_name: str
    rule: str
    event_type: str
    occurred_at: datetime
    payload: dict
    min_points: float | int
    max_points: float | int

    @staticmethod
    def resolve_employee_no(obj: Award) -> str:
        return obj.employee.employee_no

    @staticmethod
    def resolve_employee_name(obj: Award) -> str:
        return obj.employee.name

    @staticmethod
    def resolve_rule(obj: Award) -> str:
        return obj.rule.name

    @staticmethod
    def resolve_event_type(obj: Award) -> str:
        return obj.event.type_code


    @staticmethod
    def resolve_payload(obj: Award) -> dict:
        return obj.event.payload

    @staticmethod
    def resolve_min_points(obj: Award) -> float | int:
        return from_units(obj.min_points or 0)

    @staticmethod
    def resolve_max_points(obj: Award) -> float | int:
        return from_units(obj.max_points or 0)


def _approver(request: HttpRequest) -> Any:
    caller = principal(request)
    if caller.kind != "employee" or not user_can(caller.user, Cap.APPROVE_AWARDS):
        raise errors.PermissionDenied(
            _("Approvals are decided by managers and HR with their own token."),
            code=errors.ErrorCode.FORBIDDEN)
    return caller.user


@router.get("/approvals", response=list[PendingOut])
def pending_approvals(request: HttpRequest):
    """Awards waiting for the caller: a manager's own subtree, everything for HR."""
    return list(selectors.approval_queue(_approver(request))[:500])


class ApproveIn(Schema):
    points: StrictInt
    reason: str = ""


class RejectIn(Schema):
    reason: str = Field(min_length=1, max_length=500)


@router.post("/approvals/{award_id}/approve")
def approve(request: HttpRequest, award_id: UrlRowId, payload: ApproveIn) -> dict:
    user = _approver(request)
    award = services.approve_award(award=_award(award_id), actor=user,
                                   points=payload.points, reason=payload.reason)
    return {"id": award.pk, "status": award.status, "points": from_units(award.points)}


@router.post("/approvals/{award_id}/reject")
def reject(request: HttpRequest, award_id: UrlRowId, payload: RejectIn) -> dict:
    user = _approver(request)
    award = services.reject_award(award=_award(award_id), actor=user,
                                  reason=payload.reason)
    return {"id": award.pk, "status": award.status, "points": 0}


# --- recognition --------------------------------------------------------------------------


class RecognitionIn(Schema):
    recipient_employee_no: str = Field(examples=["E002"])
    points: StrictInt
    message: str = Field(min_length=1, max_length=500)
    value: str | None = Field(default=None, max_length=60,
                              description="One company value by name (kept for older clients).")
    values: list[str] = Field(default_factory=list, max_length=5,
                              description="Company values as tags, by name or English name.")
    mentions: list[str] = Field(
        default_factory=list, max_length=10,
        description="Employee numbers of colleagues the message names as \"@name\"; a "
                    "mention whose \"@name\" is not in the message is dropped.")


def _company_value(name: str) -> Any:
    value = selectors.company_value(name)
    if value is None:
        choices = selectors.company_value_names()
        raise errors.ValidationError(
            _("%(value)s is not one of the company values: %(choices)s.")
            % {"value": name, "choices": "、".join(choices)},
            code=errors.ErrorCode.UNKNOWN_VALUE, details={"choices": choices})
    return value


@router.post("/recognitions", tags=["me"], response={201: dict})
def give(request: HttpRequest, payload: RecognitionIn):
    """Thank a colleague from your monthly giving allowance, with company values as tags
    and colleagues mentioned in the message. An unknown ``recipient_employee_no`` or
    mention is a 422 ``unknown_employee``; a value that is not one of the company values a
    422 ``unknown_value`` listing them."""
    caller = principal(request)
    giver = caller.require_employee()
    recipient = employee_by_no(payload.recipient_employee_no)
    tags = [_company_value(name) for name in [*([payload.value] if payload.value else []),
                                               *payload.values]]
    mentioned = [employee_by_no(number) for number in dict.fromkeys(payload.mentions)]

    def handle() -> tuple[int, dict]:
        gift = services.give_recognition(giver=giver, recipient=recipient,
                                         points=payload.points, message=payload.message,
                                         values=tags, mentions=mentioned)
        return 201, {"id": gift.pk, "points": from_units(gift.points),
                     "values": [v.name for v in gift.values.all()],
                     "mentions": [m.employee_no for m in gift.mentions.all()],
                     "allowance_left": services.allowance_left(giver)}

    return idempotent(request, caller.id, handle)


@router.get("/recognitions", tags=["me"])
def recognition_feed(request: HttpRequest, department: str | None = Query(None),
                     cursor: str | None = None,
                     limit: UrlInt = Query(50, ge=1, le=200)) -> dict:  # noqa: B008
    """The recognition feed, newest first (company, or one department's subtree by code),
    a page of ``limit`` at a time (follow ``next_cursor``): any employee's own token, or an
    API key with scope ``ledger:read`` — each gift is a movement of points between two
    named employees, as private as their balances."""
    caller = principal(request)
    if caller.kind != "employee":
        caller.require("ledger:read")
    page = keyset_page(selectors.recognition_feed(department_code=department),
                       order=("-created_at", "-pk"), limit=limit, after=cursor)
    items = page.object_list
    return {"items": [
        {"id": r.pk, "giver": r.giver.name, "giver_employee_no": r.giver.employee_no,
         "recipient": r.recipient.name, "recipient_employee_no": r.recipient.employee_no,
         "points": from_units(r.points), "message": r.message,
         "value": r.value.name if r.value else None,
         "values": [v.name for v in r.values.all()],
         "mentions": [{"employee_no": m.employee_no, "name": m.name} for m in r.mentions.all()],
         "created_at": r.created_at}
        for r in items], "next_cursor": page.next_cursor}


class CompanyValueOut(Schema):
    id: int
    name: str
    name_en: str
    active: bool


class CompanyValueIn(Schema):
    name: str = Field(min_length=1, max_length=60, examples=["客户第一"])
    name_en: str = Field(default="", max_length=60, examples=["Customer first"])


class CompanyValuePatch(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=60)
    name_en: str | None = Field(default=None, max_length=60)
    active: StrictBool | None = None


@router.get("/company-values", response=list[CompanyValueOut], tags=["me"])
def list_company_values(request: HttpRequest, include_inactive: bool = False):
    """The company values a thank-you can carry as tags, in their order. Anyone signed in;
    ``include_inactive`` also lists those out of use (scope ``admin``)."""
    caller = principal(request)
    if include_inactive:
        caller.require("admin")
    return list(selectors.company_values(include_inactive=include_inactive))


@router.post("/company-values", response={201: CompanyValueOut})
def create_company_value(request: HttpRequest, payload: CompanyValueIn):
    """Add a company value (scope ``admin``); a name in use is a 409 ``conflict``."""
    caller = principal(request)
    caller.require("admin")

    def handle() -> tuple[int, Any]:
        value = services.create_company_value(actor=caller.actor, name=payload.name,
                                               name_en=payload.name_en)
        return 201, CompanyValueOut.from_orm(value).dict()

    return idempotent(request, caller.id, handle)


@router.patch("/company-values/{value_id}", response=CompanyValueOut)
def update_company_value(request: HttpRequest, value_id: UrlRowId, payload: CompanyValuePatch):
    """Rename a company value or take it out of use (scope ``admin``)."""
    caller = principal(request)
    caller.require("admin")
    value = selectors.company_values(include_inactive=True).filter(pk=value_id).first()
    if value is None:
        raise errors.NotFound(_("Company value not found."))
    return services.update_company_value(actor=caller.actor, value=value, name=payload.name,
                                         name_en=payload.name_en, active=payload.active)


# --- rule feedback ------------------------------------------------------------------------


class FeedbackOut(Schema):
    id: int
    rule: str
    employee_no: str
    employee_name: str
    message: str
    status: str
    answer: str
    answered_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_rule(obj: RuleFeedback) -> str:
        return obj.rule.name

    @staticmethod
    def resolve_employee_no(obj: RuleFeedback) -> str:
        return obj.employee.employee_no

    @staticmethod
    def resolve_employee_name(obj: RuleFeedback) -> str:
        return obj.employee.name


class FeedbackAnswerIn(Schema):
    answer: str = Field(min_length=1, max_length=4000)
    status: Literal["answered", "planned", "declined"] = "answered"


def _feedback(feedback_id: int) -> RuleFeedback:
    item = selectors.feedback().filter(pk=feedback_id).first()
    if item is None:
        raise errors.NotFound(_("Feedback not found."))
    return item


@router.get("/rule-feedback", response=CursorPage[FeedbackOut])
def list_rule_feedback(request: HttpRequest,
                       status: Literal["open", "answered", "planned", "declined", ""] = "open",
                       cursor: str | None = None,
                       limit: UrlInt = Query(50, ge=1, le=200)):  # noqa: B008 - ninja's marker
    """Employees' feedback on rules, newest first (scope ``admin``); ``status`` empty lists
    all. The console's feedback page."""
    principal(request).require("admin")
    return paginate(selectors.feedback(status=status), cursor=cursor, limit=limit,
                    descending=True)


@router.post("/rule-feedback/{feedback_id}/answer", response=FeedbackOut)
def answer_rule_feedback(request: HttpRequest, feedback_id: UrlRowId,
                         payload: FeedbackAnswerIn):
    """Answer an employee's feedback and set its status (scope ``admin``); the employee is
    notified. Answering again replaces the answer."""
    caller = principal(request)
    caller.require("admin")
    return services.answer_rule_feedback(feedback=_feedback(feedback_id), actor=caller.actor,
                                         answer=payload.answer, status=payload.status)


# --- budgets and the giving allowance ------------------------------------------------------


class BudgetIn(Schema):
    department_code: str = Field(min_length=1, max_length=40, examples=["RD"])
    points: StrictInt = Field(ge=1)
    category: Category = Category.PERFORMANCE
    period: str = Field(default="", pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$",
                        examples=["2026-11"])


class BudgetOut(Schema):
    id: int
    department_code: str
    period: str
    category: str
    points: float | int

    @staticmethod
    def resolve_department_code(obj: BudgetAllocation) -> str:
        return obj.department.code

    @staticmethod
    def resolve_points(obj: BudgetAllocation) -> float | int:
        return from_units(obj.amount)


@router.post("/budgets", response={201: BudgetOut})
def fund_budget(request: HttpRequest, payload: BudgetIn):
    """Add points to a department's budget for a month (scope ``admin``), as the console's
    budgets page does: its manager awards from it. Takes ``Idempotency-Key``."""
    caller = principal(request)
    caller.require("admin")
    department = department_by_code(payload.department_code.strip())
    if department is None:
        raise errors.NotFound(_("Unknown department %s.") % payload.department_code)

    def handle() -> tuple[int, Any]:
        allocation = services.fund_department_budget(
            department=department, points=payload.points, category=payload.category,
            period=payload.period, actor=caller.actor)
        return 201, BudgetOut.from_orm(allocation).dict()

    return idempotent(request, caller.id, handle)


class AllowanceIn(Schema):
    monthly_allowance: StrictInt = Field(ge=0)


@router.put("/recognition-allowance")
def set_recognition_allowance(request: HttpRequest, payload: AllowanceIn) -> dict:
    """The points each employee may give as thank-yous per month, from now on (scope
    ``admin``; the console's budgets page)."""
    caller = principal(request)
    caller.require("admin")
    current = services.update_earning_settings(actor=caller.actor,
                                               monthly_allowance=payload.monthly_allowance)
    return {"monthly_allowance": current.monthly_allowance}
