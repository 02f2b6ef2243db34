"""Rules and their versions: checking a rule's fields, creating and changing rules (each
change a new version with its diff), and what a rule makes of one event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor, actor_label, actor_user
from jifen.core.selectors import site_settings
from jifen.core.services import record_audit
from jifen.earning import display, engine, outcomes
from jifen.earning.engine import builder
from jifen.earning.models import (
    ApproverRole,
    EventType,
    FormulaKind,
    RejectReason,
    Rule,
    RuleVersion,
)
from jifen.earning.outcomes import Note
from jifen.earning.services.common import scale
from jifen.earning.services.scoring import cap_room
from jifen.ledger.models import Category, ExpiryMode
from jifen.people.models import Employee

RULE_FIELDS = ("name", "description", "event_type", "category", "condition", "condition_rows",
               "formula", "caps", "requires_approval", "approver_role", "valid_from",
               "valid_until", "expiry", "active")


def _check_expiry(expiry: Any) -> dict | None:
    if expiry in (None, "", {}):
        return None
    if not isinstance(expiry, dict) or expiry.get("mode") not in ExpiryMode.values:
        raise errors.ValidationError(
            _("The expiry override needs a mode: never, months or year_end."),
            code=errors.ErrorCode.INVALID_EXPIRY)
    cleaned: dict[str, Any] = {"mode": expiry["mode"]}
    if expiry["mode"] == ExpiryMode.MONTHS:
        months = expiry.get("months")
        if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 120:
            raise errors.ValidationError(_("Months must be between 1 and 120."),
                                         code=errors.ErrorCode.INVALID_EXPIRY)
        cleaned["months"] = months
    if expiry["mode"] == ExpiryMode.YEAR_END:
        years = expiry.get("years_after", 1)
        if isinstance(years, bool) or not isinstance(years, int) or not 0 <= years <= 10:
            raise errors.ValidationError(_("Years after must be between 0 and 10."),
                                         code=errors.ErrorCode.INVALID_EXPIRY)
        cleaned["years_after"] = years
    return cleaned


def _moment(value: Any, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            raise errors.ValidationError(_("%s is not a date and time.") % name,
                                         code=errors.ErrorCode.INVALID_DATETIME)
        value = parsed
    if not isinstance(value, datetime):
        raise errors.ValidationError(_("%s is not a date and time.") % name,
                                     code=errors.ErrorCode.INVALID_DATETIME)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def normalize_rule(data: dict[str, Any]) -> dict[str, Any]:
    """Check every rule field and return them in stored form (event_type as a model).
    Raises ValidationError with a stable code naming the first problem."""
    clean: dict[str, Any] = {}
    clean["name"] = str(data.get("name") or "").strip()[:120]
    if not clean["name"]:
        raise errors.ValidationError(_("Give the rule a name."),
                                     code=errors.ErrorCode.NAME_REQUIRED)
    clean["description"] = str(data.get("description") or "").strip()
    event_type = data.get("event_type")
    if not isinstance(event_type, EventType):
        event_type = EventType.objects.filter(code=str(event_type or "")).first()
    if event_type is None:
        raise errors.ValidationError(_("Unknown event type %s.") % data.get("event_type"),
                                     code=errors.ErrorCode.UNKNOWN_EVENT_TYPE)
    clean["event_type"] = event_type
    if data.get("category") not in Category.values:
        raise errors.ValidationError(
            _("The category must be one of: %s.") % ", ".join(Category.values),
            code=errors.ErrorCode.UNKNOWN_CATEGORY)
    clean["category"] = data["category"]
    rows = data.get("condition_rows")
    if rows is not None:
        # The builder's rows are the source: the condition is compiled from them.
        clean["condition_rows"], clean["condition"] = builder.compile_rows(
            rows, event_type.schema)
    else:
        clean["condition_rows"] = None
        clean["condition"] = engine.check_condition(data.get("condition") or "")
    clean["formula"] = engine.check_formula(data.get("formula"))
    clean["caps"] = engine.check_caps(data.get("caps"))
    clean["requires_approval"] = bool(data.get("requires_approval")) or (
        clean["formula"]["kind"] == FormulaKind.RANGE)
    role = data.get("approver_role") or ApproverRole.MANAGER
    if role not in ApproverRole.values:
        raise errors.ValidationError(_("The approver must be manager or hr."),
                                     code=errors.ErrorCode.INVALID_APPROVER_ROLE)
    clean["approver_role"] = role
    clean["valid_from"] = _moment(data.get("valid_from"), "valid_from")
    clean["valid_until"] = _moment(data.get("valid_until"), "valid_until")
    if clean["valid_from"] and clean["valid_until"] and clean["valid_until"] <= clean[
            "valid_from"]:
        raise errors.ValidationError(_("The rule must end after it starts."),
                                     code=errors.ErrorCode.INVALID_VALIDITY)
    clean["expiry"] = _check_expiry(data.get("expiry"))
    clean["active"] = bool(data.get("active", True))
    return clean


def rule_snapshot(rule: Rule) -> dict[str, Any]:
    """The rule's fields as JSON (what a version keeps and a diff compares)."""
    return {
        "name": rule.name, "description": rule.description,
        "event_type": rule.event_type.code, "category": rule.category,
        "condition": rule.condition, "condition_rows": rule.condition_rows,
        "formula": rule.formula, "caps": rule.caps,
        "requires_approval": rule.requires_approval, "approver_role": rule.approver_role,
        "valid_from": rule.valid_from.isoformat() if rule.valid_from else None,
        "valid_until": rule.valid_until.isoformat() if rule.valid_until else None,
        "expiry": rule.expiry, "active": rule.active,
    }


def _diff(before: dict[str, Any] | None, after: dict[str, Any]) -> list[dict[str, Any]]:
    before = before or {}
    return [{"field": key, "old": before.get(key), "new": after.get(key)}
            for key in RULE_FIELDS if before.get(key) != after.get(key)]


def _new_version(rule: Rule, *, actor: Actor, reason: str, before: dict | None) -> RuleVersion:
    after = rule_snapshot(rule)
    return RuleVersion.objects.create(
        rule=rule, number=rule.version, snapshot=after, diff=_diff(before, after),
        reason=(reason or "")[:500], created_by=actor_user(actor),
        created_by_label=actor_label(actor),
    )


@transaction.atomic
def create_rule(*, actor: Actor, reason: str = "", **data: Any) -> Rule:
    """Create a rule and its version 1. A bad CEL condition is a 422
    ``invalid_condition`` with the line and column. Audited."""
    unknown = set(data) - set(RULE_FIELDS)
    if unknown:
        raise errors.ValidationError(_("Unknown rule fields: %s") % ", ".join(sorted(unknown)),
                                     code=errors.ErrorCode.UNKNOWN_FIELDS)
    clean = normalize_rule(data)
    rule = Rule.objects.create(**clean, version=1)
    version = _new_version(rule, actor=actor, reason=reason, before=None)
    record_audit(actor=actor, action="earning.rule.create", obj=rule, after=version.snapshot)
    return rule


@transaction.atomic
def update_rule(*, rule: Rule, actor: Actor, reason: str = "", **changes: Any) -> Rule:
    """Change a rule: a new version with who, when, why and the diff; nothing happens when
    nothing changed. Events already scored stay linked to the version that scored them."""
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise errors.ValidationError(_("Unknown rule fields: %s") % ", ".join(sorted(unknown)),
                                     code=errors.ErrorCode.UNKNOWN_FIELDS)
    rule = Rule.objects.select_for_update().select_related("event_type").get(pk=rule.pk)
    if rule.is_draft:
        raise errors.ValidationError(_("This rule is a draft: publish it first."),
                                     code=errors.ErrorCode.RULE_IS_DRAFT)
    if "condition" in changes and "condition_rows" not in changes:
        changes = {**changes, "condition_rows": None}  # hand-written CEL replaces the rows
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


# --- drafts -------------------------------------------------------------------------------


def _draft_snapshot(clean: dict[str, Any]) -> dict[str, Any]:
    return rule_snapshot(Rule(**clean))


@transaction.atomic
def save_rule_draft(*, actor: Actor, rule: Rule | None = None, reason: str = "",
                    **data: Any) -> Rule:
    """Keep a new rule, or the next version of ``rule``, as a draft: checked like a
    published rule but applied to no event until ``publish_rule``. A new rule's draft is a
    rule at version 0 that stays inactive; an existing rule keeps scoring with its current
    version meanwhile. Audited."""
    unknown = set(data) - set(RULE_FIELDS)
    if unknown:
        raise errors.ValidationError(_("Unknown rule fields: %s") % ", ".join(sorted(unknown)),
                                     code=errors.ErrorCode.UNKNOWN_FIELDS)
    if rule is not None:
        rule = Rule.objects.select_for_update().select_related("event_type").get(pk=rule.pk)
        if "condition" in data and "condition_rows" not in data:
            data = {**data, "condition_rows": None}
        base = rule.draft["fields"] if rule.draft else rule_snapshot(rule)
        data = {**base, **data}
        if not rule.is_draft:
            data["event_type"] = rule.event_type  # a published rule keeps its event type
    clean = normalize_rule(data)
    draft: dict[str, Any] = {"fields": _draft_snapshot(clean), "reason": (reason or "")[:500],
             "by": actor_label(actor), "at": timezone.now().isoformat()}
    if rule is None:
        rule = Rule.objects.create(**{**clean, "active": False}, version=0, draft=draft)
    else:
        if rule.is_draft:
            for name, value in clean.items():
                setattr(rule, name, value)
            rule.active = False
        rule.draft = draft
        rule.save()
    record_audit(actor=actor, action="earning.rule.draft", obj=rule, after=draft["fields"])
    return rule


@transaction.atomic
def publish_rule(*, rule: Rule, actor: Actor, reason: str = "") -> Rule:
    """Make the rule's draft its next version (version 1 for a new rule): from now on
    events are scored by it. 409 ``no_draft`` without a draft. Audited."""
    rule = Rule.objects.select_for_update().select_related("event_type").get(pk=rule.pk)
    if not rule.draft:
        raise errors.Conflict(_("This rule has no draft to publish."),
                              code=errors.ErrorCode.NO_DRAFT)
    reason = reason or rule.draft.get("reason") or ""
    clean = normalize_rule(rule.draft["fields"])
    before = None if rule.is_draft else rule_snapshot(rule)
    for name, value in clean.items():
        setattr(rule, name, value)
    rule.draft = None
    if before is not None and rule_snapshot(rule) == before:
        rule.save()
        return rule
    rule.version += 1
    rule.save()
    version = _new_version(rule, actor=actor, before=before,
                           reason=reason)
    record_audit(actor=actor, action="earning.rule.publish", obj=rule, before=before,
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
    note: Note | None = None  # ``why`` as a code, for what is stored

    @property
    def notes(self) -> list[Note]:
        """Why, as stored: about this rule, by name."""
        found = self.note or outcomes.text(self.why)
        return [found.about(self.rule.name) if self.rule else found]

    @property
    def refused(self) -> bool:
        """The payload gives this rule a value beyond what the ledger can post."""
        return self.score is not None and self.score.refused


def refusal(results: list[RuleOutcome]) -> tuple[str, list[Note]]:
    """(reason, notes) rejecting the event when a rule's result is out of range, so that
    it stands alone: nothing of it is scored, the rest of its batch is."""
    refused = [o for o in results if o.refused]
    if not refused:
        return "", []
    return RejectReason.INVALID, [n for o in refused for n in o.notes]


def evaluate(rule: Rule, payload: dict[str, Any], employee_ctx: dict[str, Any],
             occurred_at: datetime | None = None) -> RuleOutcome:
    """Does ``rule`` match, and what would it give, ignoring caps? No side effects."""
    if occurred_at is not None:
        if rule.valid_from and occurred_at < rule.valid_from:
            return RuleOutcome(rule, False, why=_("The rule is not yet valid then."),
                               note=outcomes.note("not_yet_valid"))
        if rule.valid_until and occurred_at >= rule.valid_until:
            return RuleOutcome(rule, False, why=_("The rule had ended by then."),
                               note=outcomes.note("ended"))
    result = engine.evaluate_condition(rule.condition,
                                       {"payload": payload, "employee": employee_ctx})
    if not result.matched:
        if result.error:
            return RuleOutcome(rule, False, why=result.error, note=result.note)
        return RuleOutcome(rule, False, why=_("The condition is false."),
                           note=outcomes.note("condition_false"))
    scored = engine.score(rule.formula, payload)
    if scored.error:
        return RuleOutcome(rule, False, scored, why=scored.error, note=scored.note)
    return RuleOutcome(rule, True, scored, why=scored.explanation, note=scored.note)


def _employee_label(employee: Employee | None) -> str:
    if employee is None:
        return _("A sample employee")
    return f"{employee.employee_no} {employee.name} · {employee.department.name}"


def _row_words(row: dict[str, Any], seen: Any, labels: display.PayloadLabels) -> str:
    root, name = row["field"].split(".", 1)
    label = labels.field(name) if root == "payload" else employee_attribute_label(name)
    if seen is None and root == "payload":
        return _("%(field)s is missing") % {"field": label}
    if row["op"] == "set":
        return _("%(field)s is empty") % {"field": label}
    value = row.get("value")
    shown_value = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    shown_seen = ", ".join(map(str, seen)) if isinstance(seen, list) else str(seen)
    if row["op"] == "in":
        need = _("one of %s") % shown_value
    elif row["op"] == "contains":
        need = _("contains %s") % shown_value
    else:
        need = f"{builder.SYMBOLS[row['op']]} {shown_value}"
    return _("%(field)s is %(seen)s, the rule needs %(need)s") % {
        "field": label, "seen": shown_seen or "—", "need": need}


def condition_in_words(spec: Any, event_type: EventType | None) -> str:
    """Builder rows in words ("Hours ≥ 2 and Grade ≠ P1"), or "" when there are none."""
    if not isinstance(spec, dict) or not spec.get("rows"):
        return ""
    labels = display.payload_labels(event_type)
    parts = []
    for row in spec["rows"]:
        if not isinstance(row, dict) or "." not in str(row.get("field", "")):
            continue
        root, name = str(row["field"]).split(".", 1)
        label = labels.field(name) if root == "payload" else employee_attribute_label(name)
        value = row.get("value")
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        op = row.get("op")
        if op == "set":
            parts.append(_("%s is set") % label)
        elif op == "in":
            parts.append(_("%(field)s is one of %(values)s") % {"field": label, "values": shown})
        elif op == "contains":
            parts.append(_("%(field)s contains %(value)s") % {"field": label, "value": shown})
        else:
            parts.append(f"{label} {builder.SYMBOLS.get(str(op), op)} {shown}")
    glue = _(" and ") if spec.get("join") != "any" else _(" or ")
    return glue.join(parts)


def employee_attribute_label(name: str) -> str:
    """An employee attribute a condition can test, in words."""
    return str({
        "department": _("Department"), "department_path": _("Department or a parent"),
        "position": _("Position"), "grade": _("Grade"), "tenure_years": _("Years of service"),
        "employee_no": _("Employee number"),
    }.get(name, name))


def preview_rule(*, data: dict[str, Any], employee: Employee | None, payload: Any,
                 occurred_at: datetime | None = None, rule: Rule | None = None
                 ) -> dict[str, Any]:
    """"Try it on a sample event": what an unsaved rule would give and why, with a
    ``summary`` in words (who, whether it matches, the points and what the caps leave; or
    each condition row that fails). Writes nothing; caps are reported, not applied (the
    room left counts ``rule``'s awards when the rule already exists)."""
    clean = normalize_rule({**data, "active": True})
    candidate = Rule(**clean)
    who = _employee_label(employee)
    problem = engine.schema_problem(clean["event_type"].schema, payload)
    if problem:
        why = _("Schema violation: %s") % problem
        return {"matched": False, "points": None, "why": why,
                "summary": _("%(who)s: the sample is not valid — %(why)s") % {
                    "who": who, "why": problem}}
    ctx = engine.employee_context(employee, occurred_at) if employee else {
        "employee_no": "", "department": "", "department_path": [], "position": "",
        "grade": "", "tenure_years": 0}
    outcome = evaluate(candidate, payload, ctx, occurred_at)
    answer: dict[str, Any] = {"matched": outcome.matched, "why": outcome.why, "employee": ctx,
                              "points": None, "range": None,
                              "requires_approval": clean["requires_approval"],
                              "caps": clean["caps"], "failed_rows": [], "cap_left": None}
    labels = display.payload_labels(clean["event_type"])
    unit = _unit_label()
    if not outcome.matched:
        reasons = [outcome.why]
        if clean["condition_rows"] and clean["condition_rows"]["rows"]:
            failed = builder.failing_rows(clean["condition_rows"], clean["event_type"].schema,
                                          {"payload": payload, "employee": ctx})
            answer["failed_rows"] = [
                {"row": clean["condition_rows"]["rows"].index(row) + 1, "field": row["field"],
                 "seen": seen, "text": _row_words(row, seen, labels)} for row, seen in failed]
            if answer["failed_rows"]:
                reasons = [f["text"] for f in answer["failed_rows"]]
                if clean["condition_rows"]["join"] == "any":
                    reasons = [_("none of the rows holds: %s") % "; ".join(reasons)]
        answer["summary"] = _("%(who)s: does not match — %(why)s") % {
            "who": who, "why": "; ".join(r for r in reasons if r) or _("the condition is false")}
        return answer
    assert outcome.score is not None
    if outcome.score.is_range:
        answer["range"] = [outcome.score.low, outcome.score.high]
        answer["summary"] = _(
            "%(who)s: matches — an approver picks %(low)s–%(high)s %(unit)s") % {
            "who": who, "low": outcome.score.low, "high": outcome.score.high, "unit": unit}
    else:
        answer["points"] = outcome.score.points
        answer["summary"] = _("%(who)s: matches — %(points)+d %(unit)s") % {
            "who": who, "points": outcome.score.points, "unit": unit}
        if clean["requires_approval"]:
            answer["summary"] += _(" after approval")
    if clean["caps"]:
        when = occurred_at or timezone.now()
        candidate.pk = rule.pk if rule is not None and rule.pk else None
        if employee is not None and candidate.pk:
            room = cap_room(candidate, employee.pk, when)
        else:
            room = min(cap * scale() for cap in clean["caps"].values())
        if room is not None:
            left = max(0, room // scale() - max(0, answer["points"] or 0))
            period = min(clean["caps"], key=lambda p: clean["caps"][p])
            answer["cap_left"] = left
            answer["summary"] += "; " + _("the %(period)s cap leaves %(left)s") % {
                "period": _period_label(period), "left": left}
    return answer


def _period_label(period: str) -> str:
    return str({"day": _("daily"), "week": _("weekly"), "month": _("monthly"),
                "year": _("yearly")}.get(period, period))


def _unit_label() -> str:
    settings = site_settings()
    return settings.point_unit_zh if (get_language() or "").startswith("zh") else (
        settings.point_unit_en)
