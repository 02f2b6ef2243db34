"""Rules and their versions: checking a rule's fields, creating and changing rules (each
change a new version with its diff), and what a rule makes of one event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor, actor_label, actor_user
from jifen.core.services import record_audit
from jifen.earning import engine, outcomes
from jifen.earning.models import (
    ApproverRole,
    EventType,
    FormulaKind,
    RejectReason,
    Rule,
    RuleVersion,
)
from jifen.earning.outcomes import Note
from jifen.ledger.models import Category, ExpiryMode
from jifen.people.models import Employee

RULE_FIELDS = ("name", "description", "event_type", "category", "condition", "formula", "caps",
               "requires_approval", "approver_role", "valid_from", "valid_until", "expiry",
               "active")


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
    version = _new_version(rule, actor=actor, reason=reason or _("Created"), before=None)
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
