"""What scoring one event and scoring a batch share: the events as sent and answered,
what a batch loads once, why an event cannot be scored, posting an award and settling
an event from its awards."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from jifen.core.actors import Actor
from jifen.core.schema_types import aware_in_range, out_of_range_message
from jifen.earning import engine, outcomes
from jifen.earning.models import (
    Award,
    AwardStatus,
    Event,
    EventStatus,
    EventType,
    RejectReason,
    Rule,
    RuleVersion,
)
from jifen.earning.outcomes import Note
from jifen.earning.services.common import scale
from jifen.ledger import services as ledger
from jifen.ledger.expiry import ExpiryRule
from jifen.people.models import Department, Employee, EmployeeStatus

# A stored rejected event with one of these reasons is scored again when sent again.
RETRYABLE_REASONS = {
    RejectReason.UNKNOWN_EMPLOYEE, RejectReason.INACTIVE_EMPLOYEE,
    RejectReason.UNKNOWN_EVENT_TYPE, RejectReason.SCHEMA_VIOLATION,
    RejectReason.NO_MATCHING_RULE, RejectReason.CAP_REACHED, RejectReason.INVALID,
}


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
class Batch:
    """What scoring a batch loads once."""

    types: dict[str, EventType | None] = field(default_factory=dict)
    employees: dict[str, Employee | None] = field(default_factory=dict)
    rules: dict[int, list[Rule]] = field(default_factory=dict)
    contexts: dict[int, dict[str, Any]] = field(default_factory=dict)
    paths: dict[int, list[str]] = field(default_factory=dict)
    versions: dict[int, RuleVersion] = field(default_factory=dict)
    scale: int = 1

    def load(self, events: list[EventIn]) -> None:
        self.scale = scale()
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
        self.versions.update(rule_versions(loaded))

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


def rule_versions(rules: Iterable[Rule]) -> dict[int, RuleVersion]:
    pairs = {(r.pk, r.version) for r in rules}
    found = {}
    for version in RuleVersion.objects.filter(rule_id__in=[p[0] for p in pairs]):
        if (version.rule_id, version.number) in pairs:
            found[version.rule_id] = version
    return found


def cap_room(rule: Rule, employee_id: int, occurred_at: datetime) -> int | None:
    """Units the rule may still give the employee in every capped period holding
    ``occurred_at`` (None: uncapped). Call under the employee's lock."""
    room = None
    for period, cap in rule.caps.items():
        used = (Award.objects.filter(
            employee_id=employee_id, rule_id=rule.pk, status=AwardStatus.CREDITED,
            occurred_at__gte=engine.period_start(period, occurred_at),
            occurred_at__lt=engine.period_end(period, occurred_at), points__gt=0,
        ).aggregate(total=Sum("points"))["total"] or 0)
        left = max(0, cap * scale() - used)
        room = left if room is None else min(room, left)
    return room


def expiry_rule(rule: Rule) -> ExpiryRule | None:
    if not rule.expiry:
        return None
    return ExpiryRule(mode=rule.expiry["mode"], months=rule.expiry.get("months", 12),
                      years_after=rule.expiry.get("years_after", 1))


def post_award(award: Award, rule: Rule, employee: Employee, units: int, *, actor: Actor,
                now: datetime | None) -> None:
    """Move the award's points through the ledger and record the outcome on it. The key
    names the event and the rule, so one event never pays one rule twice."""
    key = f"earning:event:{award.event_id}:rule:{rule.pk}"
    cause = ("earning.event", award.event_id)
    if units > 0:
        award.transaction = ledger.credit(
            employee=employee, amount=units, category=rule.category, idempotency_key=key,
            cause=cause, reason=rule.name[:200], actor=actor,
            expiry=expiry_rule(rule), earned_at=award.occurred_at if now else None, now=now)
        award.points = units
    elif units < 0:
        result = ledger.penalize(
            employee=employee, amount=-units, category=rule.category, idempotency_key=key,
            cause=cause, reason=rule.name[:200], actor=actor, now=now)
        award.transaction = result.transaction
        award.points = -result.collected
        award.uncollected = result.uncollected
    award.status = AwardStatus.CREDITED


def settle_event(event: Event, awards: list[Award] | None = None) -> None:
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


def parse_event(raw: EventIn) -> tuple[datetime | None, str]:
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


def retryable(event: Event) -> bool:
    """A stored event that is scored again when sent again (see ``RETRYABLE_REASONS``)."""
    return event.status == EventStatus.REJECTED and event.reason in RETRYABLE_REASONS


def existing_events(keys: set[tuple[str, str]]) -> dict[tuple[str, str], Event]:
    if not keys:
        return {}
    found = Event.objects.filter(source__in={k[0] for k in keys},
                                 external_id__in=[k[1] for k in keys])
    return {(e.source, e.external_id): e for e in found if (e.source, e.external_id) in keys}


Rejection = tuple[str, list[Note]]  # (reason, notes), or ("", [])


def set_notes(event: Event, notes: list[Note]) -> None:
    """Say why on the event, as codes (its ``detail`` text is for rows stored before)."""
    event.notes, event.detail = outcomes.stored(notes), ""


def no_match_notes(results: list[Any]) -> list[Note]:
    """Why no rule gave anything: each rule's own reason."""
    return [n for o in results if o.rule for n in o.notes]


def rejection_reason(raw: EventIn, batch: Batch, *, status: str | None = None,
               checked: Rejection | None = None,
               payload_problem: str | None = None) -> Rejection:
    """Why the event cannot be scored at all (reason, notes), or ("", []). ``status`` is
    the employee's as read under their lock, when the caller has taken it; ``checked``
    is ``payload_rejection`` when the caller has worked it out (before that lock), and
    ``payload_problem`` is ``engine.payload_problem`` of the payload when known."""
    event_type = batch.types.get(raw.type)
    employee = batch.employees.get(raw.employee_no)
    if event_type is None or not event_type.active:
        return RejectReason.UNKNOWN_EVENT_TYPE, [
            outcomes.note("unknown_event_type", type=str(raw.type)[:100])]
    if employee is None:
        return RejectReason.UNKNOWN_EMPLOYEE, [
            outcomes.note("unknown_employee", employee_no=str(raw.employee_no)[:100])]
    if (employee.status if status is None else status) != EmployeeStatus.ACTIVE:
        return RejectReason.INACTIVE_EMPLOYEE, [
            outcomes.note("employee_left", employee_no=str(raw.employee_no)[:100])]
    if checked is not None:
        return checked
    if payload_problem is None:
        payload_problem = engine.payload_problem(raw.payload if raw.payload is not None else {})
    return payload_rejection(raw, batch, payload_problem)


def payload_rejection(raw: EventIn, batch: Batch, payload_problem: str) -> Rejection:
    """(reason, notes) when the payload is out of bounds (``payload_problem``, from
    ``engine.payload_problem``) or breaks its event type's schema, or ("", [])."""
    event_type = batch.types.get(raw.type)
    # Before the schema: the schema, the conditions and the database see only payloads
    # within bounds (size, depth, numbers a column and a condition can hold).
    if payload_problem:
        return RejectReason.INVALID, [outcomes.text(payload_problem)]
    if event_type is None:
        return "", []
    payload = raw.payload if raw.payload is not None else {}
    if problem := engine.schema_problem(event_type.schema, payload):
        return RejectReason.SCHEMA_VIOLATION, [outcomes.text(problem)]
    return "", []


def storable_payload(payload: Any, payload_problem: str) -> dict[str, Any]:
    """The payload as the event keeps it: one out of bounds (``payload_problem``, from
    ``engine.payload_problem``, which the event's detail states) is not kept, as no JSON
    column can hold NaN."""
    if payload_problem:
        return {}
    return payload if isinstance(payload, dict) else {"value": payload}
