"""Earning writers: event types, rules and their versions, event intake, approvals,
department budgets, peer recognition, rule feedback.

Points move only through ``jifen.ledger.services`` (``credit``, ``penalize``,
``fund_budget``); each award's ledger idempotency key is derived from the award's id, so a
retried posting never pays twice. Scoring for one employee is serialised by a row lock on
the employee (taken before the ledger locks the wallet, always in that order), which is
what keeps caps and giving allowances exact under concurrency.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import DataError, IntegrityError, OperationalError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.db import insert_objects, is_transient_db_error
from jifen.core.roles import Cap, user_can
from jifen.core.schema_types import aware_in_range, out_of_range_message
from jifen.core.services import record_audit
from jifen.earning import engine
from jifen.earning.builtins import BUILTIN_EVENT_TYPES
from jifen.earning.models import (
    ApproverRole,
    Award,
    AwardStatus,
    BudgetAllocation,
    CompanyValue,
    EarningSettings,
    Event,
    EventStatus,
    EventType,
    FeedbackStatus,
    FormulaKind,
    ManagerAward,
    Recognition,
    RejectReason,
    Rule,
    RuleFeedback,
    RuleVersion,
)
from jifen.ledger import bulk as ledger_bulk
from jifen.ledger import services as ledger
from jifen.ledger.amounts import site_decimals
from jifen.ledger.expiry import ExpiryRule
from jifen.ledger.models import Category, ExpiryMode
from jifen.people.models import Department, Employee, EmployeeStatus

logger = logging.getLogger(__name__)
MAX_BATCH = 1000
BATCH_ATTEMPTS = 3
SCORED_ALONE_UP_TO = 8  # a refused batch of more events is scored again in halves
RETRYABLE_REASONS = {
    RejectReason.UNKNOWN_EMPLOYEE, RejectReason.INACTIVE_EMPLOYEE,
    RejectReason.UNKNOWN_EVENT_TYPE, RejectReason.SCHEMA_VIOLATION,
    RejectReason.NO_MATCHING_RULE, RejectReason.CAP_REACHED, RejectReason.INVALID,
}
DEFAULT_COMPANY_VALUES = ("客户第一", "团队合作", "拥抱变化", "诚信", "激情", "敬业")


def _scale() -> int:
    return 10 ** site_decimals()


def _actor_user(actor: Any) -> Any:
    from django.db import models

    return actor if isinstance(actor, models.Model) and getattr(actor, "pk", None) else None


def _actor_label(actor: Any) -> str:
    if actor is None:
        return ""
    return (getattr(actor, "audit_label", None) or getattr(actor, "username", "")
            or str(actor))[:150]


def _lock_employee(*employee_ids: int) -> dict[int, str]:
    """Serialise scoring, approvals and giving for these employees (see the module doc),
    locking in id order so two callers never deadlock. Returns their status as it is
    under the lock (someone may have marked them as left a moment ago). On PostgreSQL the
    lock is ``FOR NO KEY UPDATE``: it serialises these callers just the same, but leaves
    alone the key-share check of an order's foreign key to the employee at its COMMIT, which
    ``FOR UPDATE`` blocked into a deadlock (tests/gates/test_lock_order.py)."""
    no_key = connection.features.has_select_for_no_key_update
    return dict(Employee.objects.select_for_update(no_key=no_key).filter(pk__in=employee_ids)
                .order_by("pk").values_list("pk", "status"))


# --- event types --------------------------------------------------------------------------


@transaction.atomic
def ensure_builtin_event_types() -> int:
    """Create the built-in event types that are missing (idempotent; edits admins made to
    existing ones are kept). Returns how many were created."""
    existing = set(EventType.objects.filter(code__in=list(BUILTIN_EVENT_TYPES))
                   .values_list("code", flat=True))
    created = [
        EventType(code=code, name=seed.name, description=seed.description,
                  schema=seed.schema, builtin=True)
        for code, seed in BUILTIN_EVENT_TYPES.items() if code not in existing
    ]
    EventType.objects.bulk_create(created, ignore_conflicts=True)
    return len(created)


@transaction.atomic
def create_event_type(*, actor: Any, code: str, name: str, schema: dict | None = None,
                      description: str = "") -> EventType:
    """Register a custom event type whose payloads must satisfy ``schema`` (JSON Schema,
    checked now). Audited."""
    code = (code or "").strip()
    name = (name or "").strip()
    from django.utils.text import slugify

    if not code or slugify(code).replace("-", "_") != code:
        raise errors.ValidationError(
            _("The code may contain only lower-case letters, digits and underscores."),
            code="invalid_code")
    if not name:
        raise errors.ValidationError(_("Give the event type a name."), code="name_required")
    if EventType.objects.filter(code=code).exists():
        raise errors.Conflict(_("An event type with this code already exists."),
                              code="duplicate_event_type")
    schema = engine.check_schema(schema if schema is not None else {"type": "object"})
    event_type = EventType.objects.create(code=code, name=name, description=description,
                                          schema=schema)
    record_audit(actor=actor, action="earning.event_type.create", obj=event_type,
                 after={"code": code, "name": name, "schema": schema})
    return event_type


@transaction.atomic
def update_event_type(*, event_type: EventType, actor: Any, name: str | None = None,
                      description: str | None = None, schema: dict | None = None,
                      active: bool | None = None) -> EventType:
    """Change a type's name, schema or whether it accepts events. Audited."""
    event_type = EventType.objects.select_for_update().get(pk=event_type.pk)
    before = {"name": event_type.name, "schema": event_type.schema, "active": event_type.active}
    if name is not None:
        event_type.name = name.strip() or event_type.name
    if description is not None:
        event_type.description = description
    if schema is not None:
        event_type.schema = engine.check_schema(schema)
    if active is not None:
        event_type.active = active
    event_type.save()
    record_audit(actor=actor, action="earning.event_type.update", obj=event_type, before=before,
                 after={"name": event_type.name, "schema": event_type.schema,
                        "active": event_type.active})
    return event_type


# --- rules --------------------------------------------------------------------------------

RULE_FIELDS = ("name", "description", "event_type", "category", "condition", "formula", "caps",
               "requires_approval", "approver_role", "valid_from", "valid_until", "expiry",
               "active")


def _check_expiry(expiry: Any) -> dict | None:
    if expiry in (None, "", {}):
        return None
    if not isinstance(expiry, dict) or expiry.get("mode") not in ExpiryMode.values:
        raise errors.ValidationError(
            _("The expiry override needs a mode: never, months or year_end."),
            code="invalid_expiry")
    cleaned: dict[str, Any] = {"mode": expiry["mode"]}
    if expiry["mode"] == ExpiryMode.MONTHS:
        months = expiry.get("months")
        if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 120:
            raise errors.ValidationError(_("Months must be between 1 and 120."),
                                         code="invalid_expiry")
        cleaned["months"] = months
    if expiry["mode"] == ExpiryMode.YEAR_END:
        years = expiry.get("years_after", 1)
        if isinstance(years, bool) or not isinstance(years, int) or not 0 <= years <= 10:
            raise errors.ValidationError(_("Years after must be between 0 and 10."),
                                         code="invalid_expiry")
        cleaned["years_after"] = years
    return cleaned


def _moment(value: Any, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            raise errors.ValidationError(_("%s is not a date and time.") % name,
                                         code="invalid_datetime")
        value = parsed
    if not isinstance(value, datetime):
        raise errors.ValidationError(_("%s is not a date and time.") % name,
                                     code="invalid_datetime")
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def normalize_rule(data: dict[str, Any]) -> dict[str, Any]:
    """Check every rule field and return them in stored form (event_type as a model).
    Raises ValidationError with a stable code naming the first problem."""
    clean: dict[str, Any] = {}
    clean["name"] = str(data.get("name") or "").strip()[:120]
    if not clean["name"]:
        raise errors.ValidationError(_("Give the rule a name."), code="name_required")
    clean["description"] = str(data.get("description") or "").strip()
    event_type = data.get("event_type")
    if not isinstance(event_type, EventType):
        event_type = EventType.objects.filter(code=str(event_type or "")).first()
    if event_type is None:
        raise errors.ValidationError(_("Unknown event type %s.") % data.get("event_type"),
                                     code="unknown_event_type")
    clean["event_type"] = event_type
    if data.get("category") not in Category.values:
        raise errors.ValidationError(
            _("The category must be one of: %s.") % ", ".join(Category.values),
            code="unknown_category")
    clean["category"] = data["category"]
    clean["condition"] = engine.check_condition(data.get("condition") or "")
    clean["formula"] = engine.check_formula(data.get("formula"))
    clean["caps"] = engine.check_caps(data.get("caps"))
    clean["requires_approval"] = bool(data.get("requires_approval")) or (
        clean["formula"]["kind"] == FormulaKind.RANGE)
    role = data.get("approver_role") or ApproverRole.MANAGER
    if role not in ApproverRole.values:
        raise errors.ValidationError(_("The approver must be manager or hr."),
                                     code="invalid_approver_role")
    clean["approver_role"] = role
    clean["valid_from"] = _moment(data.get("valid_from"), "valid_from")
    clean["valid_until"] = _moment(data.get("valid_until"), "valid_until")
    if clean["valid_from"] and clean["valid_until"] and clean["valid_until"] <= clean[
            "valid_from"]:
        raise errors.ValidationError(_("The rule must end after it starts."),
                                     code="invalid_validity")
    clean["expiry"] = _check_expiry(data.get("expiry"))
    clean["active"] = bool(data.get("active", True))
    return clean


def rule_snapshot(rule: Rule) -> dict[str, Any]:
    """The rule's fields as JSON (what a version keeps and a diff compares)."""
    return {
        "name": rule.name, "description": rule.description,
        "event_type": rule.event_type.code, "category": rule.category,
        "condition": rule.condition, "formula": rule.formula, "caps": rule.caps,
        "requires_approval": rule.requires_approval, "approver_role": rule.approver_role,
        "valid_from": rule.valid_from.isoformat() if rule.valid_from else None,
        "valid_until": rule.valid_until.isoformat() if rule.valid_until else None,
        "expiry": rule.expiry, "active": rule.active,
    }


def _diff(before: dict[str, Any] | None, after: dict[str, Any]) -> list[dict[str, Any]]:
    before = before or {}
    return [{"field": key, "old": before.get(key), "new": after.get(key)}
            for key in RULE_FIELDS if before.get(key) != after.get(key)]


def _new_version(rule: Rule, *, actor: Any, reason: str, before: dict | None) -> RuleVersion:
    after = rule_snapshot(rule)
    return RuleVersion.objects.create(
        rule=rule, number=rule.version, snapshot=after, diff=_diff(before, after),
        reason=(reason or "")[:500], created_by=_actor_user(actor),
        created_by_label=_actor_label(actor),
    )


@transaction.atomic
def create_rule(*, actor: Any, reason: str = "", **data: Any) -> Rule:
    """Create a rule and its version 1. A bad CEL condition is a 422
    ``invalid_condition`` with the line and column. Audited."""
    unknown = set(data) - set(RULE_FIELDS)
    if unknown:
        raise errors.ValidationError(_("Unknown rule fields: %s") % ", ".join(sorted(unknown)),
                                     code="unknown_fields")
    clean = normalize_rule(data)
    rule = Rule.objects.create(**clean, version=1)
    version = _new_version(rule, actor=actor, reason=reason or _("Created"), before=None)
    record_audit(actor=actor, action="earning.rule.create", obj=rule, after=version.snapshot)
    return rule


@transaction.atomic
def update_rule(*, rule: Rule, actor: Any, reason: str = "", **changes: Any) -> Rule:
    """Change a rule: a new version with who, when, why and the diff; nothing happens when
    nothing changed. Events already scored stay linked to the version that scored them."""
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise errors.ValidationError(_("Unknown rule fields: %s") % ", ".join(sorted(unknown)),
                                     code="unknown_fields")
    rule = Rule.objects.select_for_update().select_related("event_type").get(pk=rule.pk)
    before = rule_snapshot(rule)
    clean = normalize_rule({**before, "event_type": rule.event_type, **changes})
    for name, value in clean.items():
        setattr(rule, name, value)
    if rule_snapshot(rule) == before:
        return rule
    rule.version += 1
    rule.save()
    version = _new_version(rule, actor=actor, reason=reason, before=before)
    record_audit(actor=actor, action="earning.rule.update", obj=rule, before=before,
                 after=version.snapshot)
    return rule


# --- scoring ------------------------------------------------------------------------------


@dataclass
class RuleOutcome:
    """How one rule treats one event (for intake and for the editor's preview)."""

    rule: Rule | None
    matched: bool
    score: engine.Score | None = None
    why: str = ""

    @property
    def refused(self) -> bool:
        """The payload gives this rule a value beyond what the ledger can post."""
        return self.score is not None and self.score.refused


def _refusal(outcomes: list[RuleOutcome]) -> tuple[str, str]:
    """(reason, detail) rejecting the event when a rule's result is out of range, so that
    it stands alone: nothing of it is scored, the rest of its batch is."""
    refused = [o for o in outcomes if o.refused]
    if not refused:
        return "", ""
    return RejectReason.INVALID, "; ".join(
        f"{o.rule.name}: {o.why}" if o.rule else o.why for o in refused)[:500]


def evaluate(rule: Rule, payload: dict[str, Any], employee_ctx: dict[str, Any],
             occurred_at: datetime | None = None) -> RuleOutcome:
    """Does ``rule`` match, and what would it give, ignoring caps? No side effects."""
    if occurred_at is not None:
        if rule.valid_from and occurred_at < rule.valid_from:
            return RuleOutcome(rule, False, why=_("The rule is not yet valid then."))
        if rule.valid_until and occurred_at >= rule.valid_until:
            return RuleOutcome(rule, False, why=_("The rule had ended by then."))
    result = engine.evaluate_condition(rule.condition,
                                       {"payload": payload, "employee": employee_ctx})
    if not result.matched:
        return RuleOutcome(rule, False, why=result.error or _("The condition is false."))
    scored = engine.score(rule.formula, payload)
    if scored.error:
        return RuleOutcome(rule, False, scored, why=scored.error)
    return RuleOutcome(rule, True, scored, why=scored.explanation)


def preview_rule(*, data: dict[str, Any], employee: Employee | None, payload: Any,
                 occurred_at: datetime | None = None) -> dict[str, Any]:
    """"Try it on a sample event": what an unsaved rule would give and why. Writes
    nothing; caps are reported, not applied."""
    clean = normalize_rule({**data, "active": True})
    rule = Rule(**clean)
    problem = engine.schema_problem(clean["event_type"].schema, payload)
    if problem:
        return {"matched": False, "points": None, "why": _("Schema violation: %s") % problem}
    ctx = engine.employee_context(employee, occurred_at) if employee else {
        "employee_no": "", "department": "", "department_path": [], "position": "",
        "grade": "", "tenure_years": 0}
    outcome = evaluate(rule, payload, ctx, occurred_at)
    answer: dict[str, Any] = {"matched": outcome.matched, "why": outcome.why, "employee": ctx,
                              "points": None, "range": None,
                              "requires_approval": clean["requires_approval"],
                              "caps": clean["caps"]}
    if outcome.matched and outcome.score:
        if outcome.score.is_range:
            answer["range"] = [outcome.score.low, outcome.score.high]
        else:
            answer["points"] = outcome.score.points
    return answer


@dataclass
class EventIn:
    source: str
    id: str
    type: str
    employee_no: str
    occurred_at: Any
    payload: Any = None
    row_number: int | None = None


@dataclass
class EventResult:
    id: str
    status: str
    points: int = 0  # units
    reason: str = ""
    detail: str = ""
    uncollected: int = 0
    source: str = ""
    event_id: int | None = None


@dataclass
class _Batch:
    """What scoring a batch loads once."""

    types: dict[str, EventType | None] = field(default_factory=dict)
    employees: dict[str, Employee | None] = field(default_factory=dict)
    rules: dict[int, list[Rule]] = field(default_factory=dict)
    contexts: dict[int, dict[str, Any]] = field(default_factory=dict)
    paths: dict[int, list[str]] = field(default_factory=dict)
    versions: dict[int, RuleVersion] = field(default_factory=dict)
    scale: int = 1

    def load(self, events: list[EventIn]) -> None:
        self.scale = _scale()
        codes = {e.type for e in events} - set(self.types)
        for t in EventType.objects.filter(code__in=codes):
            self.types[t.code] = t
        numbers = {e.employee_no for e in events} - set(self.employees)
        for emp in Employee.objects.filter(employee_no__in=numbers).select_related("department"):
            self.employees[emp.employee_no] = emp
        self._load_paths({e.department for e in self.employees.values() if e})
        type_ids = {t.pk for t in self.types.values() if t} - set(self.rules)
        for t_id in type_ids:
            self.rules[t_id] = []
        loaded = list(Rule.objects.filter(event_type_id__in=type_ids, active=True)
                      .select_related("event_type").order_by("pk"))
        for rule in loaded:
            self.rules[rule.event_type_id].append(rule)
        self.versions.update(_versions(loaded))

    def _load_paths(self, departments: set[Department]) -> None:
        """Every department's path of codes, root first, in one query."""
        departments = {d for d in departments if d.pk not in self.paths}
        ids = {i for d in departments for i in engine.department_path_ids(d)}
        codes = dict(Department.objects.filter(pk__in=ids).values_list("pk", "code"))
        for department in departments:
            self.paths[department.pk] = engine.department_path_codes(department, codes)

    def context(self, employee: Employee, on: datetime) -> dict[str, Any]:
        if employee.pk not in self.contexts:
            department = employee.department
            if department.pk not in self.paths:
                self.paths[department.pk] = engine.department_path_codes(department)
            self.contexts[employee.pk] = engine.employee_context(
                employee, on, path_codes=self.paths[department.pk])
        ctx = self.contexts[employee.pk]
        return {**ctx, "tenure_years": employee.tenure_years(timezone.localtime(on).date())}


def _versions(rules: Iterable[Rule]) -> dict[int, RuleVersion]:
    pairs = {(r.pk, r.version) for r in rules}
    found = {}
    for version in RuleVersion.objects.filter(rule_id__in=[p[0] for p in pairs]):
        if (version.rule_id, version.number) in pairs:
            found[version.rule_id] = version
    return found


def _cap_room(rule: Rule, employee_id: int, occurred_at: datetime) -> int | None:
    """Units the rule may still give the employee in every capped period holding
    ``occurred_at`` (None: uncapped). Call under the employee's lock."""
    room = None
    for period, cap in rule.caps.items():
        used = (Award.objects.filter(
            employee_id=employee_id, rule_id=rule.pk, status=AwardStatus.CREDITED,
            occurred_at__gte=engine.period_start(period, occurred_at),
            occurred_at__lt=engine.period_end(period, occurred_at), points__gt=0,
        ).aggregate(total=Sum("points"))["total"] or 0)
        left = max(0, cap * _scale() - used)
        room = left if room is None else min(room, left)
    return room


def _expiry(rule: Rule) -> ExpiryRule | None:
    if not rule.expiry:
        return None
    return ExpiryRule(mode=rule.expiry["mode"], months=rule.expiry.get("months", 12),
                      years_after=rule.expiry.get("years_after", 1))


def _post_award(award: Award, rule: Rule, employee: Employee, units: int, *, actor: Any,
                now: datetime | None) -> None:
    """Move the award's points through the ledger and record the outcome on it. The key
    names the event and the rule, so one event never pays one rule twice."""
    key = f"earning:event:{award.event_id}:rule:{rule.pk}"
    cause = ("earning.event", award.event_id)
    if units > 0:
        award.transaction = ledger.credit(
            employee=employee, amount=units, category=rule.category, idempotency_key=key,
            cause=cause, reason=rule.name[:200], actor=actor,
            expiry=_expiry(rule), earned_at=award.occurred_at if now else None, now=now)
        award.points = units
    elif units < 0:
        result = ledger.penalize(
            employee=employee, amount=-units, category=rule.category, idempotency_key=key,
            cause=cause, reason=rule.name[:200], actor=actor, now=now)
        award.transaction = result.transaction
        award.points = -result.collected
        award.uncollected = result.uncollected
    award.status = AwardStatus.CREDITED


def _settle_event(event: Event, awards: list[Award] | None = None) -> None:
    """The event's outcome from its awards."""
    awards = list(event.awards.all()) if awards is None else awards
    event.points = sum(a.points for a in awards if a.status == AwardStatus.CREDITED)
    event.uncollected = sum(a.uncollected for a in awards)
    statuses = {a.status for a in awards}
    event.reason = ""
    if AwardStatus.PENDING in statuses:
        event.status = EventStatus.PENDING
    elif AwardStatus.CREDITED in statuses:
        event.status = EventStatus.CREDITED
    elif AwardStatus.REJECTED in statuses:
        event.status, event.reason = EventStatus.REJECTED, RejectReason.REJECTED_BY_APPROVER
    elif AwardStatus.CAPPED in statuses:
        event.status, event.reason = EventStatus.REJECTED, RejectReason.CAP_REACHED
    else:
        event.status, event.reason = EventStatus.REJECTED, RejectReason.NO_MATCHING_RULE


def _score(event: Event, batch: _Batch, *, actor: Any, now: datetime | None) -> None:
    """Find the rules an accepted event matches and award what each gives."""
    employee = event.employee
    assert employee is not None and event.event_type is not None  # and locked by the caller
    ctx = batch.context(employee, event.occurred_at)
    outcomes = [evaluate(rule, event.payload, ctx, event.occurred_at)
                for rule in batch.rules.get(event.event_type_id, [])]
    reason, detail = _refusal(outcomes)
    if reason:
        event.status, event.reason, event.detail = EventStatus.REJECTED, reason, detail
        return
    matched = [o for o in outcomes if o.matched and o.score is not None]
    if not matched:
        event.status, event.reason = EventStatus.REJECTED, RejectReason.NO_MATCHING_RULE
        event.detail = "; ".join(f"{o.rule.name}: {o.why}" for o in outcomes if o.rule)[:500]
        return
    missing = [o.rule for o in matched if o.rule and o.rule.pk not in batch.versions]
    if missing:
        batch.versions.update(_versions(missing))
    awards = []
    for outcome in matched:
        rule, scored = outcome.rule, outcome.score
        assert rule is not None and scored is not None
        award = Award(event=event, rule=rule, rule_version=batch.versions[rule.pk],
                      employee=employee,
                      category=rule.category, occurred_at=event.occurred_at,
                      explanation=outcome.why[:500], status=AwardStatus.PENDING)
        if scored.is_range or rule.requires_approval:
            low = scored.low if scored.is_range else scored.points
            high = scored.high if scored.is_range else scored.points
            award.min_points, award.max_points = low * _scale(), high * _scale()
            award.approver_role = rule.approver_role
            award.save()
            awards.append(award)
            continue
        units = scored.points * _scale()
        if units > 0 and rule.caps:
            room = _cap_room(rule, employee.pk, event.occurred_at)
            if room is not None and room <= 0:
                award.status = AwardStatus.CAPPED
                award.save()
                awards.append(award)
                continue
            if room is not None and units > room:
                award.explanation = (award.explanation + " " + _("(cut to the cap)"))[:500]
                units = room
        _post_award(award, rule, employee, units, actor=actor, now=now)
        award.save()
        awards.append(award)
    event.detail = ""
    _settle_event(event, awards)


def _parse_event(raw: EventIn) -> tuple[datetime | None, str]:
    if not str(raw.source or "").strip() or not str(raw.id or "").strip():
        return None, _("source and id are required.")
    if len(str(raw.source)) > 60 or len(str(raw.id)) > 120:
        return None, _("source is at most 60 and id at most 120 characters.")
    if any("\x00" in str(value or "") for value in (raw.source, raw.id, raw.type,
                                                      raw.employee_no)):
        return None, _("source, id, type and employee_no may not contain NUL characters.")
    moment = raw.occurred_at
    if isinstance(moment, str):
        try:
            moment = parse_datetime(moment)
        except ValueError:  # well-formed but impossible, e.g. 30 February or +99:00
            moment = None
    if not isinstance(moment, datetime):
        return None, _("occurred_at must be an ISO 8601 date and time.")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    # Scoring counts the event's day, week, month and year, which must exist too.
    if aware_in_range(moment, site_zone=True) is None:
        return None, out_of_range_message(site_zone=True)
    return moment, ""


def _ingest_one(raw: EventIn, batch: _Batch, existing: dict[tuple[str, str], Event], *,
                actor: Any, received_by: str, import_job: Any, now: datetime | None,
                ) -> EventResult:
    source, ext_id = str(raw.source or "").strip(), str(raw.id or "").strip()
    result = EventResult(id=ext_id, source=source, status=EventStatus.REJECTED)
    occurred_at, problem = _parse_event(raw)
    if problem:
        result.reason, result.detail = RejectReason.INVALID, problem
        return result
    assert occurred_at is not None
    event = existing.get((source, ext_id))
    if event is not None and not _retryable(event):
        return EventResult(id=ext_id, source=source, status=EventStatus.DUPLICATE,
                           points=event.points, event_id=event.pk)
    event_type = batch.types.get(raw.type)
    employee = batch.employees.get(raw.employee_no)
    payload = raw.payload if raw.payload is not None else {}
    # The payload and schema checks need no lock: done before taking the employee's.
    payload_problem = engine.payload_problem(payload)
    checked = _payload_rejection(raw, batch, payload_problem)
    try:
        with transaction.atomic():
            if event is None:
                event = Event(source=source, external_id=ext_id)
            else:
                event = Event.objects.select_for_update().get(pk=event.pk)
                if not _retryable(event):
                    return EventResult(id=ext_id, source=source, status=EventStatus.DUPLICATE,
                                       points=event.points, event_id=event.pk)
                event.awards.all().delete()  # capped awards only: nothing was posted
            event.event_type, event.type_code = event_type, str(raw.type or "")[:60]
            event.employee, event.employee_no = employee, str(raw.employee_no or "")[:40]
            event.occurred_at = occurred_at
            event.payload = _storable(payload, payload_problem)
            event.import_job, event.row_number = import_job, raw.row_number
            event.received_by = received_by[:150]
            event.status, event.reason, event.detail = EventStatus.REJECTED, "", ""
            event.points = event.uncollected = 0
            status = None
            if employee is not None:
                # Before the insert: on MySQL the insert's foreign-key check takes a shared
                # lock on the employee, and upgrading it later deadlocks with a twin.
                status = _lock_employee(employee.pk).get(employee.pk, "")
            event.reason, event.detail = _rejection(raw, batch, status=status,
                                                    checked=checked)
            event.save()
            if not event.reason:
                _score(event, batch, actor=actor, now=now)
                event.save(update_fields=["status", "reason", "detail", "points",
                                          "uncollected", "updated_at"])
    except errors.JifenError as exc:
        # Refused further down (e.g. by the ledger): this event only, nothing of it kept.
        return EventResult(id=ext_id, source=source, status=EventStatus.REJECTED,
                           reason=RejectReason.INVALID, detail=exc.message[:500])
    except DataError:
        # A value the database refuses (PostgreSQL: a NUL character in the payload).
        return EventResult(id=ext_id, source=source, status=EventStatus.REJECTED,
                           reason=RejectReason.INVALID,
                           detail=_("A value is too long or out of range."))
    except IntegrityError:
        # The same (source, id) arrived concurrently or earlier in this batch.
        first = Event.objects.filter(source=source, external_id=ext_id).first()
        if first is None:  # no: a value the database refused (a CHECK constraint)
            return EventResult(id=ext_id, source=source, status=EventStatus.REJECTED,
                               reason=RejectReason.INVALID,
                               detail=_("A value is too long or out of range."))
        return EventResult(id=ext_id, source=source, status=EventStatus.DUPLICATE,
                           points=first.points if first else 0,
                           event_id=first.pk if first else None)
    existing[(source, ext_id)] = event
    return EventResult(id=ext_id, source=source, status=event.status, points=event.points,
                       reason=event.reason, detail=event.detail, uncollected=event.uncollected,
                       event_id=event.pk)


def ingest_events(*, events: list[EventIn], actor: Any = None, received_by: str = "",
                  import_job: Any = None, backdate: bool = False) -> list[EventResult]:
    """Score each event at once and answer per event: ``credited`` (points), ``pending_approval``,
    ``duplicate`` or ``rejected`` with a reason. Events are unique by (source, id); one bad
    event never blocks the others. New events are scored together in one transaction (a
    savepoint inside a caller's): a batch the database or the ledger refuses as a whole is
    scored again in halves, each a batch of its own, down to a few events scored one by
    one; every event is fully applied or not at all.
    ``backdate`` posts each credit at the time the event occurred (demo history and
    back-fills)."""
    if len(events) > MAX_BATCH:
        raise errors.ValidationError(_("Send at most %d events per call.") % MAX_BATCH,
                                     code="batch_too_large")
    return _ingest(events, actor=actor, received_by=received_by, import_job=import_job,
                   backdate=backdate)


def ingest_many(*, events: list[EventIn], actor: Any = None, received_by: str = "",
                import_job: Any = None, backdate: bool = False,
                after_chunk: Callable[[list[EventIn], list[EventResult]], None] | None = None,
                ) -> list[EventResult]:
    """``ingest_events`` for any number of events (spreadsheets, the demo), scored in
    chunks of ``MAX_BATCH``, each committed on its own; ``after_chunk(events, results)``
    is called after each."""
    results: list[EventResult] = []
    for start in range(0, len(events), MAX_BATCH):
        chunk = events[start:start + MAX_BATCH]
        scored = _ingest(chunk, actor=actor, received_by=received_by, import_job=import_job,
                         backdate=backdate)
        results += scored
        if after_chunk is not None:
            after_chunk(chunk, scored)
    return results


def _ingest(events: list[EventIn], *, actor: Any, received_by: str, import_job: Any,
            backdate: bool) -> list[EventResult]:
    results: list[EventResult | None] = [None] * len(events)
    parsed: list[_Fresh] = []
    for index, raw in enumerate(events):
        source, ext_id = str(raw.source or "").strip(), str(raw.id or "").strip()
        occurred_at, problem = _parse_event(raw)
        if problem:
            results[index] = EventResult(id=ext_id, source=source, status=EventStatus.REJECTED,
                                         reason=RejectReason.INVALID, detail=problem)
        else:
            assert occurred_at is not None
            parsed.append(_Fresh(index, raw, source, ext_id, occurred_at))
    batch = _Batch()
    batch.load([item.raw for item in parsed])
    existing = _existing_events({(f.source, f.ext_id) for f in parsed})
    options = {"actor": actor, "received_by": received_by, "import_job": import_job}

    def one_by_one(index: int) -> None:
        raw = events[index]
        when = _parse_event(raw)[0] if backdate else None
        results[index] = _ingest_one(raw, batch, existing, now=when, **options)

    def flush(run: list[_Fresh]) -> None:
        later, refused = _score_batch_retrying(run, batch, existing, results,
                                               backdate=backdate, **options)
        for index in later:
            one_by_one(index)
        if len(refused) > SCORED_ALONE_UP_TO:
            # Find the bad events by halves, the first half first: caps and penalties
            # then count the events in the order sent, as one by one would.
            flush(refused[:len(refused) // 2])
            flush(refused[len(refused) // 2:])
        else:
            for item in refused:
                one_by_one(item.index)

    # New events are scored together, in runs; an event sent before that may be scored
    # again (a retry after a rejection) is scored one by one at its place in the order,
    # so what it does to caps and penalties is what one-by-one scoring would do. Repeats
    # of an id within this request come last: by then the first is in.
    run: list[_Fresh] = []
    repeats: list[int] = []
    seen: set[tuple[str, str]] = set()
    for item in parsed:
        key = (item.source, item.ext_id)
        known = existing.get(key)
        if key in seen:
            repeats.append(item.index)
        elif known is not None and not _retryable(known):
            results[item.index] = EventResult(
                id=item.ext_id, source=item.source, status=EventStatus.DUPLICATE,
                points=known.points, event_id=known.pk)
        elif known is not None:
            flush(run)
            run = []
            one_by_one(item.index)
        else:
            run.append(item)
        seen.add(key)
    flush(run)
    for index in repeats:
        one_by_one(index)
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]


def _retryable(event: Event) -> bool:
    """A stored event that is scored again when sent again (see ``RETRYABLE_REASONS``)."""
    return event.status == EventStatus.REJECTED and event.reason in RETRYABLE_REASONS


_CapKey = tuple[int, int, str, datetime]  # employee, rule, period, start of the period


@dataclass
class _Fresh:
    """An event of the batch whose (source, id) was not seen before."""

    index: int
    raw: EventIn
    source: str
    ext_id: str
    occurred_at: datetime
    rejection: tuple[str, str] = ("", "")  # why it cannot be scored at all
    payload_problem: str = ""  # engine.payload_problem, worked out once
    outcomes: list[RuleOutcome] = field(default_factory=list)
    caps: dict[int, dict[_CapKey, datetime]] = field(default_factory=dict)  # by rule
    event: Event | None = None
    awards: list[Award] = field(default_factory=list)


def _score_batch_retrying(fresh: list[_Fresh], batch: _Batch,
                          existing: dict[tuple[str, str], Event],
                          results: list[EventResult | None], *, actor: Any, received_by: str,
                          import_job: Any, backdate: bool) -> tuple[list[int], list[_Fresh]]:
    """Score the fresh events together in one transaction. Returns the indexes left for
    scoring one by one — events received concurrently meanwhile, and all of a batch that
    still loses a race on an event's (source, id) or a lock after ``BATCH_ATTEMPTS``
    tries — and the events of a batch the ledger or the database refuses as a whole,
    for the caller to score again in smaller batches, so one bad event never blocks the
    others."""
    if not fresh:
        return [], []
    # What needs no lock is worked out before taking any: concurrent batches for the same
    # people queue on the employees' locks, so the time under them bounds throughput.
    for item in fresh:
        item.payload_problem = engine.payload_problem(
            item.raw.payload if item.raw.payload is not None else {})
        item.rejection = _rejection(item.raw, batch, payload_problem=item.payload_problem)
        if not item.rejection[0]:
            employee = batch.employees[item.raw.employee_no]
            ctx = batch.context(employee, item.occurred_at)
            item.outcomes = [evaluate(rule, item.raw.payload or {}, ctx, item.occurred_at)
                             for rule in batch.rules.get(batch.types[item.raw.type].pk, [])]
            item.rejection = _refusal(item.outcomes)
            if item.rejection[0]:
                item.outcomes = []
                continue
            item.caps = {o.rule.pk: _cap_windows(o.rule, employee.pk, item.occurred_at)
                         for o in item.outcomes if o.matched and o.rule and o.rule.caps}
    nested = transaction.get_connection().in_atomic_block
    problem: Exception | None = None
    later: list[int] = []
    refused: list[_Fresh] = []
    for attempt in range(1, BATCH_ATTEMPTS + 1):
        # The caller looked for events already received just before; should one arrive
        # between that read and the insert, its unique key refuses the insert and the
        # batch is tried again after reading again.
        found = {} if attempt == 1 else _existing_events({(f.source, f.ext_id)
                                                          for f in fresh})
        existing.update(found)
        later += [f.index for f in fresh if (f.source, f.ext_id) in found]
        fresh = [f for f in fresh if (f.source, f.ext_id) not in found]
        for item in fresh:
            item.event = _new_event(item, batch, received_by, import_job)
            item.awards = []
        try:
            with transaction.atomic():
                _score_batch(fresh, batch, actor=actor, backdate=backdate)
        except IntegrityError as exc:
            problem = exc  # the same (source, id) arrived concurrently
        except (errors.JifenError, DataError) as exc:
            problem, refused = exc, fresh  # a posting or a value refused: find which event
            break
        except OperationalError as exc:
            # MySQL undoes the whole transaction on a deadlock, not only the savepoint.
            if nested or not is_transient_db_error(exc):
                raise
            problem = exc
            time.sleep(random.uniform(0, 0.05 * attempt))
        else:
            # Only once committed: a batch undone at COMMIT must leave no trace here.
            for item in fresh:
                event = item.event
                existing[(item.source, item.ext_id)] = event
                results[item.index] = EventResult(
                    id=item.ext_id, source=item.source, status=event.status,
                    points=event.points, reason=event.reason, detail=event.detail,
                    uncollected=event.uncollected, event_id=event.pk)
            return later, []
    logger.warning("event batch of %d %s: %s", len(fresh),
                   "refused" if refused else "scored one by one", problem)
    existing.update(_existing_events({(f.source, f.ext_id) for f in fresh}))
    return (later, refused) if refused else (later + [item.index for item in fresh], [])


def _existing_events(keys: set[tuple[str, str]]) -> dict[tuple[str, str], Event]:
    if not keys:
        return {}
    found = Event.objects.filter(source__in={k[0] for k in keys},
                                 external_id__in=[k[1] for k in keys])
    return {(e.source, e.external_id): e for e in found if (e.source, e.external_id) in keys}


def _score_batch(todo: list[_Fresh], batch: _Batch, *, actor: Any, backdate: bool) -> None:
    """The batch path: what ``_ingest_one`` does per event, for many events in a dozen
    statements. Locks every employee of the batch (id order), then their wallets (the
    ledger plan), then the issuance accounts — the global lock order, so concurrent
    batches queue instead of deadlocking. Caps are summed once per employee, rule and
    period and then counted on in memory, exact because the employees stay locked."""
    employee_ids = sorted({e.pk for f in todo if (e := batch.employees.get(f.raw.employee_no))})
    statuses = _lock_employee(*employee_ids) if employee_ids else {}
    for item in todo:  # left since the batch was read: as if scored one by one
        event = item.event
        if not event.reason and statuses.get(event.employee_id) != EmployeeStatus.ACTIVE:
            event.reason, event.detail = _rejection(
                item.raw, batch, status=statuses.get(event.employee_id, ""))
    matched_rules = [o.rule for f in todo for o in f.outcomes if o.matched and o.rule]
    missing = {r.pk: r for r in matched_rules if r.pk not in batch.versions}
    if missing:
        batch.versions.update(_versions(missing.values()))
    used = _caps_used(todo)

    postings: list[ledger_bulk.EarningPosting] = []
    posted: list[tuple[Award, int]] = []
    for item in todo:
        event = item.event
        matched = [o for o in item.outcomes if o.matched and o.score is not None]
        if event.reason:
            continue
        if not matched:
            event.status, event.reason = EventStatus.REJECTED, RejectReason.NO_MATCHING_RULE
            event.detail = "; ".join(f"{o.rule.name}: {o.why}" for o in item.outcomes
                                     if o.rule)[:500]
            continue
        for outcome in matched:
            award, units = _new_award(item, outcome, batch, used)
            item.awards.append(award)
            if award.status == AwardStatus.CREDITED and units:
                rule = outcome.rule
                postings.append(ledger_bulk.EarningPosting(
                    employee=event.employee, amount=units, category=rule.category,
                    reason=rule.name[:200], expiry=_expiry(rule),
                    earned_at=item.occurred_at if backdate else None,
                    now=item.occurred_at if backdate else None))
                posted.append((award, len(postings) - 1))

    plan = ledger_bulk.plan_earnings(postings)
    for award, index in posted:
        if award.points < 0:
            award.uncollected = plan.results[index].uncollected
            award.points = -plan.results[index].collected
    for item in todo:
        if item.awards:
            item.event.detail = ""
            _settle_event(item.event, item.awards)
    # In (source, id) order: two batches inserting overlapping ids then wait on each
    # other's unique keys in one order, never in a cycle.
    insert_objects(sorted((item.event for item in todo),
                          key=lambda e: (e.source, e.external_id)),
                   key=("source", "external_id"))

    def insert_awards(transaction_ids: list[int | None]) -> None:
        for award, index in posted:
            award.transaction_id = transaction_ids[index]
        insert_objects([a for item in todo for a in item.awards])

    # ``posted[i]`` is posting ``i``; the awards go in before the company accounts are
    # touched, which on PostgreSQL is the last thing before COMMIT.
    plan.write(keys=[f"earning:event:{a.event.pk}:rule:{a.rule_id}" for a, _i in posted],
               causes=[("earning.event", a.event.pk) for a, _i in posted], actor=actor,
               before_company=insert_awards)


def _rejection(raw: EventIn, batch: _Batch, *, status: str | None = None,
               checked: tuple[str, str] | None = None,
               payload_problem: str | None = None) -> tuple[str, str]:
    """Why the event cannot be scored at all (reason, detail), or ("", ""). ``status`` is
    the employee's as read under their lock, when the caller has taken it; ``checked``
    is ``_payload_rejection`` when the caller has worked it out (before that lock), and
    ``payload_problem`` is ``engine.payload_problem`` of the payload when known."""
    event_type = batch.types.get(raw.type)
    employee = batch.employees.get(raw.employee_no)
    if event_type is None or not event_type.active:
        return RejectReason.UNKNOWN_EVENT_TYPE, (_("Unknown event type %s.") % raw.type)[:500]
    if employee is None:
        return (RejectReason.UNKNOWN_EMPLOYEE,
                (_("No employee has the number %s.") % raw.employee_no)[:500])
    if (employee.status if status is None else status) != EmployeeStatus.ACTIVE:
        return (RejectReason.INACTIVE_EMPLOYEE,
                (_("Employee %s has left.") % raw.employee_no)[:500])
    if checked is not None:
        return checked
    if payload_problem is None:
        payload_problem = engine.payload_problem(raw.payload if raw.payload is not None else {})
    return _payload_rejection(raw, batch, payload_problem)


def _payload_rejection(raw: EventIn, batch: _Batch, payload_problem: str) -> tuple[str, str]:
    """(reason, detail) when the payload is out of bounds (``payload_problem``, from
    ``engine.payload_problem``) or breaks its event type's schema, or ("", "")."""
    event_type = batch.types.get(raw.type)
    # Before the schema: the schema, the conditions and the database see only payloads
    # within bounds (size, depth, numbers a column and a condition can hold).
    if payload_problem:
        return RejectReason.INVALID, payload_problem[:500]
    if event_type is None:
        return "", ""
    payload = raw.payload if raw.payload is not None else {}
    if problem := engine.schema_problem(event_type.schema, payload):
        return RejectReason.SCHEMA_VIOLATION, problem[:500]
    return "", ""


def _storable(payload: Any, payload_problem: str) -> dict[str, Any]:
    """The payload as the event keeps it: one out of bounds (``payload_problem``, from
    ``engine.payload_problem``, which the event's detail states) is not kept, as no JSON
    column can hold NaN."""
    if payload_problem:
        return {}
    return payload if isinstance(payload, dict) else {"value": payload}


def _new_event(item: _Fresh, batch: _Batch, received_by: str, import_job: Any) -> Event:
    """The event row, rejected with its reason if it cannot be scored at all."""
    raw = item.raw
    payload = raw.payload if raw.payload is not None else {}
    reason, detail = item.rejection
    return Event(
        source=item.source, external_id=item.ext_id, event_type=batch.types.get(raw.type),
        type_code=str(raw.type or "")[:60], employee=batch.employees.get(raw.employee_no),
        employee_no=str(raw.employee_no or "")[:40], occurred_at=item.occurred_at,
        payload=_storable(payload, item.payload_problem), import_job=import_job,
        row_number=raw.row_number,
        received_by=received_by[:150],
        status=EventStatus.REJECTED, reason=reason, detail=detail)


def _cap_windows(rule: Rule, employee_id: int, occurred_at: datetime,
                 ) -> dict[_CapKey, datetime]:
    """The rule's capped periods holding ``occurred_at``: {key: end of the period}."""
    return {(employee_id, rule.pk, period, engine.period_start(period, occurred_at)):
            engine.period_end(period, occurred_at) for period in rule.caps}


def _caps_used(items: list[_Fresh]) -> dict[_CapKey, int]:
    """Units already credited per employee, capped rule and period of the batch's events:
    on PostgreSQL one join, elsewhere UNION ALLs of indexed range sums
    (``earning_award_cap``), a few hundred a statement."""
    wanted: dict[_CapKey, datetime] = {}
    for item in items:
        for windows in item.caps.values():
            wanted.update(windows)
    if not wanted:
        return {}
    keys = list(wanted)
    moment = Award._meta.get_field("occurred_at")
    table = connection.ops.quote_name(Award._meta.db_table)
    where = ("a.employee_id = %s AND a.rule_id = %s AND a.status = %s AND a.points > 0 "
             "AND a.occurred_at >= %s AND a.occurred_at < %s")
    used: dict[_CapKey, int] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One join against the windows as arrays: planning a UNION of hundreds of
            # sums cost more than running them.
            cursor.execute(
                f"SELECT w.n, COALESCE(SUM(a.points), 0) FROM unnest(%s::int[], "
                f"%s::bigint[], %s::bigint[], %s::timestamptz[], %s::timestamptz[]) "
                f"AS w(n, employee_id, rule_id, since, until) LEFT JOIN {table} a "
                f"ON a.employee_id = w.employee_id AND a.rule_id = w.rule_id "
                f"AND a.status = %s AND a.points > 0 AND a.occurred_at >= w.since "
                f"AND a.occurred_at < w.until GROUP BY w.n",
                [list(range(len(keys))), [k[0] for k in keys], [k[1] for k in keys],
                 [k[3] for k in keys], [wanted[k] for k in keys], AwardStatus.CREDITED])
            used = {keys[n]: int(total) for n, total in cursor.fetchall()}
            return used
        one = f"SELECT %s, COALESCE(SUM(a.points), 0) FROM {table} a WHERE {where}"
        for start in range(0, len(keys), 300):
            chunk = keys[start:start + 300]
            params: list[Any] = []
            for n, key in enumerate(chunk):
                params += [start + n, key[0], key[1], AwardStatus.CREDITED,
                           moment.get_db_prep_value(key[3], connection),
                           moment.get_db_prep_value(wanted[key], connection)]
            cursor.execute(" UNION ALL ".join([one] * len(chunk)), params)
            for n, total in cursor.fetchall():
                used[keys[int(n)]] = int(total)
    return used


def _new_award(item: _Fresh, outcome: RuleOutcome, batch: _Batch,
               used: dict[_CapKey, int]) -> tuple[Award, int]:
    """The award one matched rule gives the event, and the units to post (counted
    against the caps in ``used`` at once)."""
    rule, scored, event = outcome.rule, outcome.score, item.event
    assert rule is not None and scored is not None
    award = Award(event=event, rule=rule, rule_version=batch.versions[rule.pk],
                  employee=event.employee, category=rule.category,
                  occurred_at=item.occurred_at, explanation=outcome.why[:500],
                  status=AwardStatus.PENDING)
    if scored.is_range or rule.requires_approval:
        low = scored.low if scored.is_range else scored.points
        high = scored.high if scored.is_range else scored.points
        award.min_points, award.max_points = low * batch.scale, high * batch.scale
        award.approver_role = rule.approver_role
        return award, 0
    units = scored.points * batch.scale
    if units > 0 and rule.caps:
        keys = list(item.caps[rule.pk])
        room = min(rule.caps[key[2]] * batch.scale - used.get(key, 0) for key in keys)
        if room <= 0:
            award.status = AwardStatus.CAPPED
            return award, 0
        if units > room:
            award.explanation = (award.explanation + " " + _("(cut to the cap)"))[:500]
            units = room
        for key in keys:
            used[key] = used.get(key, 0) + units
    award.status, award.points = AwardStatus.CREDITED, units
    return award, units


# --- approvals ----------------------------------------------------------------------------


def can_decide(user: Any, award: Award) -> bool:
    """HR (and anyone who sees everyone) decides any award; a manager decides the awards
    of their own subtree that wait for a manager. Nobody decides their own."""
    from jifen.people.selectors import managed_department_paths

    if not user_can(user, Cap.APPROVE_AWARDS):
        return False
    if getattr(award.employee, "user_id", None) == getattr(user, "pk", None):
        return False
    if user_can(user, Cap.VIEW_ALL_PEOPLE):
        return True
    if award.approver_role != ApproverRole.MANAGER:
        return False
    path = award.employee.department.path
    return any(path.startswith(p) for p in managed_department_paths(user))


def _pending_award(award: Award, actor: Any) -> Award:
    _lock_employee(award.employee_id)
    # Lock the award row alone (PostgreSQL refuses FOR UPDATE across the nullable join to
    # the user), then read it with what deciding needs.
    list(Award.objects.select_for_update().filter(pk=award.pk).values_list("pk"))
    award = (Award.objects.select_related("employee__department", "employee__user", "rule",
                                          "event").get(pk=award.pk))
    if award.status != AwardStatus.PENDING:
        raise errors.Conflict(_("This award has already been decided."),
                              code="already_decided")
    if not can_decide(actor, award):
        raise errors.PermissionDenied(_("You may not decide this award."), code="forbidden")
    return award


def _notify_employee(employee: Employee, *, kind: str, title: str, body: str,
                     dedupe_key: str) -> None:
    from django.urls import reverse

    from jifen.notifications.services import notify

    if employee.user_id:
        notify(recipient=employee.user, kind=kind, title=title, body=body,
               url=reverse("portal:earn"), dedupe_key=dedupe_key)


@transaction.atomic
def approve_award(*, award: Award, actor: Any, points: int, reason: str = "") -> Award:
    """Settle a pending award at ``points`` (whole points, inside its range) and credit
    them, within the rule's caps (409 ``cap_reached`` names what is left). The employee is
    notified. Audited."""
    award = _pending_award(award, actor)
    if award.employee.status != EmployeeStatus.ACTIVE:
        raise errors.Conflict(
            _("%s has left the company; this award can only be rejected.") % award.employee.name,
            code="inactive_employee")
    if isinstance(points, bool) or not isinstance(points, int):
        raise errors.ValidationError(_("Points must be a whole number."), code="invalid_amount")
    units = points * _scale()
    if not (award.min_points or 0) <= units <= (award.max_points or 0):
        raise errors.ValidationError(
            _("Choose points between %(min)s and %(max)s.")
            % {"min": (award.min_points or 0) // _scale(),
               "max": (award.max_points or 0) // _scale()},
            code="out_of_range")
    rule = award.rule
    if rule.caps and units > 0:
        room = _cap_room(rule, award.employee_id, award.occurred_at)
        if room is not None and units > room:
            raise errors.Conflict(_("The rule's cap leaves only %s points.") % (room // _scale()),
                                  code="cap_reached", details={"remaining": room // _scale()})
    _post_award(award, rule, award.employee, units, actor=actor, now=None)
    award.decided_by, award.decided_at = _actor_user(actor), timezone.now()
    award.decision_reason = (reason or "")[:500]
    award.save()
    _settle_event(award.event)
    award.event.save()
    record_audit(actor=actor, action="earning.award.approve", obj=award,
                 before={"status": AwardStatus.PENDING},
                 after={"status": award.status, "points": award.points})
    _notify_employee(award.employee, kind="earning.award_approved",
                     title=_("%(points)s points for %(rule)s")
                     % {"points": points, "rule": rule.name},
                     body=reason, dedupe_key=f"earning:award:{award.pk}:decided")
    return award


@transaction.atomic
def reject_award(*, award: Award, actor: Any, reason: str) -> Award:
    """Refuse a pending award with a reason; nothing is credited; the employee is
    notified. Audited."""
    reason = (reason or "").strip()
    if not reason:
        raise errors.ValidationError(_("Give a reason for the rejection."),
                                     code="reason_required")
    award = _pending_award(award, actor)
    award.status = AwardStatus.REJECTED
    award.decided_by, award.decided_at = _actor_user(actor), timezone.now()
    award.decision_reason = reason[:500]
    award.save()
    _settle_event(award.event)
    award.event.save()
    record_audit(actor=actor, action="earning.award.reject", obj=award,
                 before={"status": AwardStatus.PENDING},
                 after={"status": award.status, "reason": reason})
    _notify_employee(award.employee, kind="earning.award_rejected",
                     title=_("Not awarded: %s") % award.rule.name, body=reason,
                     dedupe_key=f"earning:award:{award.pk}:decided")
    return award


# --- department budgets and manager awards ------------------------------------------------


def current_period(now: datetime | None = None) -> str:
    return timezone.localtime(now or timezone.now()).strftime("%Y-%m")


@transaction.atomic
def fund_department_budget(*, department: Department, points: int, actor: Any,
                           category: str = Category.PERFORMANCE, period: str = "",
                           reason: str = "", idempotency_key: str = "") -> BudgetAllocation:
    """Add ``points`` to a department's budget for ``period`` (default this month) through
    the ledger; its manager awards from it. Audited by the ledger."""
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise errors.ValidationError(_("The budget must be a positive whole number."),
                                     code="invalid_amount")
    period = period or current_period()
    key = idempotency_key or f"earning:budget:{department.pk}:{uuid.uuid4().hex}"
    txn = ledger.fund_budget(department=department, amount=points * _scale(), category=category,
                             idempotency_key=key, actor=actor,
                             reason=reason or _("Budget for %s") % period)
    found = BudgetAllocation.objects.filter(transaction=txn).first()
    if found is not None:
        return found
    return BudgetAllocation.objects.create(department=department, period=period,
                                           category=category, amount=txn.amount,
                                           transaction=txn, created_by=_actor_user(actor))


def _awarding_department(manager: Employee, recipient: Employee) -> Department | None:
    """The department the manager manages that holds the recipient, nearest first."""
    managed = list(Department.objects.filter(manager=manager))
    path = recipient.department.path
    holding = [d for d in managed if path.startswith(d.path)]
    return max(holding, key=lambda d: len(d.path)) if holding else None


@transaction.atomic
def award_from_budget(*, manager: Employee, recipient: Employee, points: int, message: str,
                      category: str = Category.PERFORMANCE, actor: Any = None,
                      idempotency_key: str = "") -> ManagerAward:
    """A manager awards ``points`` to someone in a department they manage, from that
    department's budget. An exhausted budget is a 409 ``insufficient_budget`` saying what
    is left; nothing is written then. The recipient is notified."""
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise errors.ValidationError(_("Points must be a positive whole number."),
                                     code="invalid_amount")
    message = (message or "").strip()
    if not message:
        raise errors.ValidationError(_("Say what the award is for."), code="message_required")
    if category not in Category.values:
        raise errors.ValidationError(_("Unknown category %s.") % category,
                                     code="unknown_category")
    if manager.pk == recipient.pk:
        raise errors.ValidationError(_("Managers cannot award themselves."),
                                     code="self_award")
    department = _awarding_department(manager, recipient)
    if department is None:
        raise errors.PermissionDenied(
            _("%s is not in a department you manage.") % recipient.name, code="not_your_team")
    award = ManagerAward.objects.create(department=department, manager=manager,
                                        recipient=recipient, category=category,
                                        points=points * _scale(), message=message[:500])
    award.transaction = ledger.credit(
        employee=recipient, amount=points * _scale(), category=category,
        idempotency_key=idempotency_key or f"earning:manager_award:{award.pk}",
        cause=("earning.manageraward", award.pk), reason=message[:200],
        actor=actor or manager.user, budget=department)
    award.save(update_fields=["transaction"])
    _notify_employee(recipient, kind="earning.manager_award",
                     title=_("%(name)s awarded you %(points)s points")
                     % {"name": manager.name, "points": points},
                     body=message, dedupe_key=f"earning:manager_award:{award.pk}")
    return award


# --- peer recognition ---------------------------------------------------------------------


def earning_settings() -> EarningSettings:
    found = EarningSettings.objects.first()
    return found if found is not None else EarningSettings.objects.create()


@transaction.atomic
def update_earning_settings(*, actor: Any, monthly_allowance: int) -> EarningSettings:
    """Change the monthly giving allowance (applies from now on). Audited."""
    if isinstance(monthly_allowance, bool) or not isinstance(monthly_allowance, int) or (
            monthly_allowance < 0):
        raise errors.ValidationError(_("The allowance must be a whole number ≥ 0."),
                                     code="invalid_amount")
    current = earning_settings()
    before = {"monthly_allowance": current.monthly_allowance}
    current.monthly_allowance = monthly_allowance
    current.save()
    record_audit(actor=actor, action="earning.settings.update", obj=current, before=before,
                 after={"monthly_allowance": monthly_allowance})
    return current


@transaction.atomic
def ensure_company_values() -> None:
    if not CompanyValue.objects.exists():
        CompanyValue.objects.bulk_create(
            [CompanyValue(name=n, position=i) for i, n in enumerate(DEFAULT_COMPANY_VALUES)],
            ignore_conflicts=True)


def allowance_left(giver: Employee, now: datetime | None = None) -> int:
    """Points (whole) the giver may still give this month; unused points never roll over."""
    used = (Recognition.objects.filter(giver=giver, month=current_period(now))
            .aggregate(total=Sum("points"))["total"] or 0)
    return max(0, earning_settings().monthly_allowance - used // _scale())


@transaction.atomic
def give_recognition(*, giver: Employee, recipient: Employee, points: int, message: str,
                     value: CompanyValue | None = None, now: datetime | None = None,
                     ) -> Recognition:
    """Thank a colleague with points from this month's giving allowance, a message and a
    company value. No self-giving; the allowance is checked under the giver's lock so two
    gifts at once cannot overdraw it. The recipient is notified."""
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise errors.ValidationError(_("Points must be a positive whole number."),
                                     code="invalid_amount")
    message = (message or "").strip()
    if not message:
        raise errors.ValidationError(_("Write a message to go with the thanks."),
                                     code="message_required")
    if giver.pk == recipient.pk:
        raise errors.ValidationError(_("You cannot give points to yourself."),
                                     code="self_giving")
    if recipient.status != EmployeeStatus.ACTIVE:
        raise errors.ValidationError(_("%s has left the company.") % recipient.name,
                                     code="inactive_employee")
    # Both: the gift row's foreign keys would otherwise take shared locks on MySQL that a
    # gift the other way round wants to upgrade.
    _lock_employee(giver.pk, recipient.pk)
    left = allowance_left(giver, now)
    if points > left:
        raise errors.Conflict(
            _("You have %(left)s points left to give this month.") % {"left": left},
            code="allowance_exceeded", details={"left": left})
    settings = earning_settings()
    gift = Recognition.objects.create(giver=giver, recipient=recipient, points=points * _scale(),
                                      message=message[:500], value=value,
                                      month=current_period(now))
    gift.transaction = ledger.credit(
        employee=recipient, amount=points * _scale(), category=settings.recognition_category,
        idempotency_key=f"earning:recognition:{gift.pk}",
        cause=("earning.recognition", gift.pk), reason=message[:200], actor=giver.user,
        now=now)
    gift.save(update_fields=["transaction"])
    _notify_employee(recipient, kind="earning.recognition",
                     title=_("%(name)s thanked you with %(points)s points")
                     % {"name": giver.name, "points": points},
                     body=message, dedupe_key=f"earning:recognition:{gift.pk}")
    return gift


# --- rule feedback ------------------------------------------------------------------------


@transaction.atomic
def send_rule_feedback(*, employee: Employee, rule: Rule, message: str) -> RuleFeedback:
    """An employee's comment on a published rule, for the rule admins."""
    message = (message or "").strip()
    if not message:
        raise errors.ValidationError(_("Write your feedback."), code="message_required")
    if not rule.active:
        raise errors.NotFound(_("This rule is not published."))
    return RuleFeedback.objects.create(rule=rule, employee=employee, message=message[:4000])


@transaction.atomic
def answer_rule_feedback(*, feedback: RuleFeedback, actor: Any, answer: str,
                         status: str = FeedbackStatus.ANSWERED) -> RuleFeedback:
    """Answer feedback and set its status; the employee is notified. Audited."""
    if status not in FeedbackStatus.values:
        raise errors.ValidationError(_("Unknown status."), code="invalid_status")
    answer = (answer or "").strip()
    if not answer:
        raise errors.ValidationError(_("Write an answer."), code="answer_required")
    feedback = RuleFeedback.objects.select_for_update().get(pk=feedback.pk)
    before = {"status": feedback.status, "answer": feedback.answer}
    feedback.answer, feedback.status = answer[:4000], status
    feedback.answered_by, feedback.answered_at = _actor_user(actor), timezone.now()
    feedback.save()
    record_audit(actor=actor, action="earning.feedback.answer", obj=feedback, before=before,
                 after={"status": status, "answer": feedback.answer})
    _notify_employee(feedback.employee, kind="earning.feedback_answered",
                     title=_("Your feedback on %s was answered") % feedback.rule.name,
                     body=feedback.answer,
                     dedupe_key=f"earning:feedback:{feedback.pk}:{feedback.answered_at}")
    return feedback


# --- periodic work ------------------------------------------------------------------------


def daily_tick(*, now: datetime | None = None) -> dict[str, int]:
    """The daily jobs: the ledger's expiry sweep and 30-day notices. (The giving allowance
    needs no reset: it is computed per calendar month.)"""
    return {"expired": ledger.expire_lots(now=now),
            "noticed": ledger.record_expiry_notices(now=now)}


def row_event_id(*parts: Any) -> str:
    """A stable id for a spreadsheet row without one, so a re-run is a duplicate."""
    return "row-" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]
