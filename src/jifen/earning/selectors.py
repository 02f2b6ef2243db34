"""Earning reads: rules as published, queues, logs and reports."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.db.models import Count, Min, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import get_language, gettext

from jifen.core.roles import ROLE_CAPABILITIES, Cap, user_can
from jifen.core.selectors import site_settings
from jifen.earning import display, engine
from jifen.earning.builtins import BUILTIN_EVENT_TYPES
from jifen.earning.engine import builder
from jifen.earning.models import (
    ApproverRole,
    Award,
    AwardStatus,
    CompanyValue,
    Event,
    EventStatus,
    EventType,
    FeedbackStatus,
    ManagerAward,
    Recognition,
    RejectReason,
    Rule,
    RuleFeedback,
    RuleVersion,
)
from jifen.earning.services.rules import employee_attribute_label, evaluate, normalize_rule
from jifen.ledger.amounts import from_units, site_decimals
from jifen.ledger.models import Account, AccountKind
from jifen.people.models import Department, Employee, User
from jifen.people.selectors import managed_department_paths


def rules(*, active: bool | None = None, q: str = "") -> QuerySet[Rule]:
    found = Rule.objects.select_related("event_type")
    if active is not None:
        found = found.filter(active=active)
    if q:
        # A built-in type's stored name is an English message id: match it as the reader
        # sees it too.
        matches = Q(name__icontains=q) | Q(event_type__code__icontains=q) | Q(
            event_type__name__icontains=q)
        for code, seed in BUILTIN_EVENT_TYPES.items():
            if q.casefold() in gettext(seed.name).casefold():
                matches |= Q(event_type__builtin=True, event_type__code=code,
                             event_type__name=seed.name)
        found = found.filter(matches)
    return found.order_by("event_type__code", "name", "pk")


def event_types() -> QuerySet[EventType]:
    return EventType.objects.order_by("-builtin", "code")


def event_types_by_code() -> QuerySet[EventType]:
    """Every event type in code order (the event log's type filter)."""
    return EventType.objects.order_by("code")


def rule_versions(rule: Rule) -> list[RuleVersion]:
    """The rule's versions, newest first."""
    return list(rule.versions.order_by("-number"))


def rule_history(rule: Rule) -> list[RuleVersion]:
    """The rule's versions, newest first, each with ``award_count``: the awards it
    scored."""
    versions = rule_versions(rule)
    counts = dict(Award.objects.filter(rule=rule).values_list("rule_version__number")
                  .annotate(n=Count("id")).values_list("rule_version__number", "n"))
    for version in versions:
        version.award_count = counts.get(version.number, 0)
    return versions


def unit() -> str:
    """The point unit in the reader's language."""
    return _unit()


def _unit() -> str:
    settings = site_settings()
    return settings.point_unit_zh if (get_language() or "").startswith("zh") else (
        settings.point_unit_en)


def published_rules(now: datetime | None = None) -> list[dict[str, Any]]:
    """Every rule in force now, in plain words, grouped by category order."""
    now = now or timezone.now()
    unit = _unit()
    found = (rules(active=True)
             .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=now))
             .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now)))
    return [{
        "id": rule.pk, "name": rule.name, "description": rule.description,
        "category": rule.category, "category_label": str(rule.get_category_display()),
        "event_type": rule.event_type.display_name,
        "points": display.describe_formula(rule.formula, unit, rule.event_type),
        "caps": engine.describe_caps(rule.caps, unit),
        "requires_approval": rule.requires_approval,
        "penalty": rule.formula.get("kind") == "fixed" and rule.formula["points"] < 0,
        "condition": rule.condition,
        "valid_until": rule.valid_until,
    } for rule in found]


def approval_queue(user: Any) -> QuerySet[Award]:
    """Pending awards this user may decide: all of them for HR; for a manager, those of
    their own subtree waiting for a manager. Never the user's own."""
    pending = (Award.objects.filter(status=AwardStatus.PENDING)
               .select_related("employee__department", "rule", "event__event_type")
               .order_by("occurred_at", "pk"))
    if not user_can(user, Cap.APPROVE_AWARDS):
        return pending.none()
    employee = getattr(user, "employee", None)
    if employee is not None:
        pending = pending.exclude(employee=employee)
    if user_can(user, Cap.VIEW_ALL_PEOPLE):
        return pending
    paths = managed_department_paths(user)
    if not paths:
        return pending.none()
    subtree = Q(pk__in=[])
    for path in paths:
        subtree |= Q(employee__department__path__startswith=path)
    return pending.filter(subtree, approver_role=ApproverRole.MANAGER)


def event_log(*, employee: str = "", type_code: str = "", source: str = "", status: str = "",
              import_job: int | None = None, employee_no: str = "") -> QuerySet[Event]:
    """The console's event log, newest first, searchable by employee (number or name),
    type, source and outcome; ``employee_no`` keeps one employee's events (the API)."""
    found = Event.objects.select_related("employee", "event_type").order_by("-pk")
    if employee_no:
        found = found.filter(employee_no=employee_no)
    if employee:
        found = found.filter(Q(employee_no__icontains=employee)
                             | Q(employee__name__icontains=employee))
    if type_code:
        found = found.filter(type_code=type_code)
    if source:
        found = found.filter(source=source)
    if status:
        if status in ("cap_reached", "no_matching_rule", "unknown_employee",
                      "schema_violation", "unknown_event_type", "invalid"):
            found = found.filter(reason=status)
        else:
            found = found.filter(status=status)
    if import_job:
        found = found.filter(import_job_id=import_job).order_by("row_number", "pk")
    return found


def penalty_shortfalls() -> QuerySet[Award]:
    """Penalties the wallet could not fully cover, newest first."""
    return (Award.objects.filter(uncollected__gt=0)
            .select_related("employee__department", "rule", "event").order_by("-pk"))


def penalty_shortfall_total() -> int:
    return Award.objects.filter(uncollected__gt=0).aggregate(t=Sum("uncollected"))["t"] or 0


def recognition_feed(*, department_code: str | None = None,
                     person: Employee | None = None) -> QuerySet[Recognition]:
    """Thank-yous, newest first, with their tags and mentions: all, one department's
    subtree (giver or recipient in it), or those given to, by or mentioning ``person``."""
    found = (Recognition.objects
             .select_related("giver__department", "recipient__department", "value")
             .prefetch_related("values", "mentions"))
    if person is not None:
        found = found.filter(Q(recipient=person) | Q(giver=person)
                             | Q(pk__in=Recognition.mentions.through.objects
                                 .filter(employee=person).values("recognition_id")))
    if department_code:
        dept = Department.objects.filter(code=department_code).first()
        if dept is None:
            return found.none()
        found = found.filter(Q(recipient__department__path__startswith=dept.path)
                             | Q(giver__department__path__startswith=dept.path))
    return found.order_by("-created_at", "-pk")


def budget_balance(department: Department) -> int:
    """Units left in the department's budget."""
    return budget_balances([department.pk]).get(department.pk, 0)


def budget_balances(department_ids: list[int] | None = None) -> dict[int, int]:
    """Department id → units left in its budget, in one query."""
    accounts = Account.objects.filter(kind=AccountKind.BUDGET)
    if department_ids is not None:
        accounts = accounts.filter(department_id__in=department_ids)
    return dict(accounts.values_list("department_id", "balance"))


def budget_rows() -> list[dict[str, Any]]:
    """Every department, in tree order, with what is left in its budget."""
    balances = budget_balances()
    return [{"department": d, "balance": balances.get(d.pk, 0)}
            for d in Department.objects.select_related("manager").order_by("path")]


def manages_a_department(employee: Employee | None) -> bool:
    """Whether the employee manages some department (and so awards from a budget)."""
    return bool(employee and Department.objects.filter(manager=employee).exists())


def company_value(name: str) -> CompanyValue | None:
    """The active company value with this name (or this English name)."""
    return (CompanyValue.objects.filter(active=True)
            .filter(Q(name=name) | Q(name_en__iexact=name) & ~Q(name_en="")).first())


def company_values(*, include_inactive: bool = False) -> QuerySet[CompanyValue]:
    """The company values in their order (those in use, unless ``include_inactive``)."""
    found = CompanyValue.objects.all()
    return found if include_inactive else found.filter(active=True)


def company_values_by_id(ids: list[int]) -> list[CompanyValue]:
    """The values in use among ``ids``, in their order."""
    return list(CompanyValue.objects.filter(pk__in=ids, active=True))


def company_value_names() -> list[str]:
    """The active company values' names."""
    return list(CompanyValue.objects.filter(active=True).values_list("name", flat=True))


def managed_budgets(employee: Employee) -> list[dict[str, Any]]:
    """The departments an employee manages with what is left in each budget."""
    return [{"department": d, "balance": budget_balance(d)}
            for d in Department.objects.filter(manager=employee).order_by("path")]


def team_members(employee: Employee) -> QuerySet[Employee]:
    """Active employees in the subtrees the employee manages (not the manager)."""
    paths = list(Department.objects.filter(manager=employee).values_list("path", flat=True))
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(department__path__startswith=path)
    return (Employee.objects.filter(q, status="active").exclude(pk=employee.pk)
            .select_related("department").order_by("department__path", "employee_no"))


def manager_awards(employee: Employee) -> QuerySet[ManagerAward]:
    return ManagerAward.objects.filter(manager=employee).select_related("recipient")


def my_events(employee: Employee) -> QuerySet[Award]:
    """The employee's recent awards (credited, pending, rejected) with their rule."""
    return (Award.objects.filter(employee=employee).select_related("rule", "event")
            .order_by("-occurred_at", "-pk"))


def feedback(*, status: str = "") -> QuerySet[RuleFeedback]:
    found = RuleFeedback.objects.select_related("rule", "employee").order_by("-pk")
    return found.filter(status=status) if status else found


def my_feedback(employee: Employee) -> QuerySet[RuleFeedback]:
    return RuleFeedback.objects.filter(employee=employee).select_related("rule").order_by("-pk")


def open_feedback_count() -> int:
    return RuleFeedback.objects.filter(status=FeedbackStatus.OPEN).count()


def scale() -> int:
    return 10 ** site_decimals()


# --- who decides, and what waits (notifications and dashboards) ---------------------------


def _roles_with(*caps: str) -> list[str]:
    return [role for role, held in ROLE_CAPABILITIES.items() if all(c in held for c in caps)]


def hr_approver_ids() -> list[int]:
    """Active users who may decide every award (HR, super admins)."""
    return list(User.objects.filter(
        Q(groups__name__in=_roles_with(Cap.APPROVE_AWARDS, Cap.VIEW_ALL_PEOPLE))
        | Q(is_superuser=True), is_active=True).order_by("pk").values_list("pk", flat=True)
        .distinct())


class AwardToTell(NamedTuple):
    """What telling people about an award needs (read without building model objects:
    an intake batch tells about up to a thousand)."""

    pk: int
    status: str
    points: int
    user_id: int | None  # the employee's sign-in
    rule_name: str
    approver_role: str
    path: str  # the employee's department's path


def approvers_of(awards: list[AwardToTell]) -> dict[int, list[AwardToTell]]:
    """Who is told of each pending award: for an award waiting for a manager, the nearest
    manager above the employee (their own department's, else its parent's …) who may
    approve and is not the employee; for an award waiting for HR, or with no such
    manager, HR. Returns {user id: awards}. A few queries however many awards."""
    if not awards:
        return {}
    chains = {award.path: [int(p) for p in award.path.strip("/").split("/") if p]
              for award in awards}
    managers = dict(Department.objects.filter(
        pk__in={d for chain in chains.values() for d in chain}, manager__isnull=False,
    ).values_list("pk", "manager__user_id"))
    may_approve = set(User.objects.filter(
        pk__in=[u for u in managers.values() if u],
        groups__name__in=_roles_with(Cap.APPROVE_AWARDS), is_active=True,
    ).values_list("pk", flat=True))
    hr: list[int] | None = None
    found: dict[int, list[AwardToTell]] = {}
    for award in awards:
        chosen: list[int] = []
        if award.approver_role == ApproverRole.MANAGER:
            for department_id in reversed(chains[award.path]):
                user_id = managers.get(department_id)
                if user_id and user_id in may_approve and user_id != award.user_id:
                    chosen = [user_id]
                    break
        if not chosen:
            if hr is None:
                hr = hr_approver_ids()
            chosen = [u for u in hr if u != award.user_id]
        for user_id in chosen:
            found.setdefault(user_id, []).append(award)
    return found


def awards_to_tell(event_ids: list[int]) -> list[AwardToTell]:
    """The pending and credited awards of these events, as telling needs them."""
    return [AwardToTell(*row) for row in Award.objects.filter(
        event_id__in=event_ids, status__in=[AwardStatus.PENDING, AwardStatus.CREDITED])
        .order_by("pk").values_list("pk", "status", "points", "employee__user_id",
                                    "rule__name", "approver_role", "employee__department__path")]


def approval_waiting(user: Any) -> dict[str, Any]:
    """What waits for this user's decision: {count, oldest} (oldest: when the longest
    waiting award arrived, or None)."""
    found = approval_queue(user).order_by().aggregate(count=Count("pk"),
                                                      oldest=Min("created_at"))
    return {"count": found["count"] or 0, "oldest": found["oldest"]}


def approver_users() -> QuerySet[User]:
    """Every active user who may decide some award (the daily reminder's readers)."""
    return User.objects.filter(
        Q(groups__name__in=_roles_with(Cap.APPROVE_AWARDS)) | Q(is_superuser=True),
        is_active=True).distinct().order_by("pk")


def feedback_waiting() -> dict[str, Any]:
    """Rule feedback not yet answered: {count, oldest}."""
    found = (RuleFeedback.objects.filter(status=FeedbackStatus.OPEN).order_by()
             .aggregate(count=Count("pk"), oldest=Min("created_at")))
    return {"count": found["count"] or 0, "oldest": found["oldest"]}


# --- rule builder -------------------------------------------------------------------------

BACKTEST_MAX_EVENTS = 5000
# Events no rule could have scored (a payload against its schema, a person unknown or gone).
_NOT_SCORABLE = (RejectReason.SCHEMA_VIOLATION, RejectReason.INVALID,
                 RejectReason.UNKNOWN_EMPLOYEE, RejectReason.INACTIVE_EMPLOYEE,
                 RejectReason.UNKNOWN_EVENT_TYPE)


def last_month(now: datetime | None = None) -> tuple[datetime, datetime]:
    """[first moment of last month, first moment of this month) in the site's zone."""
    local = timezone.localtime(now or timezone.now())
    this_month = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (this_month - timedelta(days=1)).replace(day=1)
    return start, this_month


def rule_backtest(*, data: dict[str, Any], since: datetime | None = None,
                  until: datetime | None = None,
                  limit: int = BACKTEST_MAX_EVENTS) -> dict[str, Any]:
    """What a rule (as ``data``, the fields the rule services take) would have given the
    real events of its type between ``since`` and ``until`` (default: last month): points,
    people and events, by department. Writes nothing. Caps are applied as if this rule had
    been the only one scoring them; awards needing approval are counted apart. Events no
    rule could have scored (schema violations, unknown or departed people) are skipped. At
    most ``limit`` events are examined, oldest first; ``truncated`` says
    when there were more."""
    if since is None or until is None:
        default_since, default_until = last_month()
        since, until = since or default_since, until or default_until
    clean = normalize_rule({**data, "active": True})
    candidate = Rule(**clean)
    found = list(Event.objects
                 .filter(event_type=clean["event_type"], occurred_at__gte=since,
                         occurred_at__lt=until, employee__isnull=False)
                 .exclude(status=EventStatus.DUPLICATE)
                 .exclude(reason__in=_NOT_SCORABLE)
                 .select_related("employee__department")
                 .order_by("occurred_at", "pk")[:limit + 1])
    truncated = len(found) > limit
    found = found[:limit]
    codes = dict(Department.objects.values_list("pk", "code"))
    step = scale()
    used: dict[tuple[int, str, datetime], int] = {}
    totals: dict[int, dict[str, Any]] = {}
    people: set[int] = set()
    points = matched = pending = 0
    for event in found:
        employee = event.employee
        assert employee is not None
        context = engine.employee_context(
            employee, event.occurred_at, engine.department_path_codes(employee.department,
                                                                      codes))
        outcome = evaluate(candidate, event.payload, context, event.occurred_at)
        if not outcome.matched or outcome.score is None:
            continue
        matched += 1
        if clean["requires_approval"] or outcome.score.is_range:
            pending += 1
            continue
        given = outcome.score.points * step
        if given > 0:
            for period, cap in clean["caps"].items():
                key = (employee.pk, period, engine.period_start(period, event.occurred_at))
                given = max(0, min(given, cap * step - used.get(key, 0)))
            for period in clean["caps"]:
                key = (employee.pk, period, engine.period_start(period, event.occurred_at))
                used[key] = used.get(key, 0) + given
        if given == 0:
            continue
        points += given
        people.add(employee.pk)
        row = totals.setdefault(employee.department_id, {
            "department": employee.department.code, "name": employee.department.name,
            "points": 0, "people": set()})
        row["points"] += given
        row["people"].add(employee.pk)
    by_department = sorted(
        ({"department": r["department"], "name": r["name"], "points": r["points"],
          "people": len(r["people"])} for r in totals.values()),
        key=lambda r: (-r["points"], r["department"]))
    result = {"since": since, "until": until, "examined": len(found), "limit": limit,
              "truncated": truncated, "matched": matched, "pending_approval": pending,
              "points": points, "people": len(people), "by_department": by_department}
    result["summary"] = backtest_summary(result)
    return result


def backtest_summary(result: dict[str, Any]) -> str:
    """A backtest in words: the period, the points and people, how many events matched
    and were examined, and whether the examination stopped at its limit."""
    text = gettext("%(start)s – %(end)s: would have given %(points)s %(unit)s to %(people)d "
                   "people (%(matched)d matching events of %(examined)d examined).") % {
        "start": timezone.localtime(result["since"]).date().isoformat(),
        "end": (timezone.localtime(result["until"]) - timedelta(days=1)).date().isoformat(),
        "points": f"{from_units(result['points']):,}", "unit": _unit(),
        "people": result["people"], "matched": result["matched"],
        "examined": result["examined"]}
    if result["by_department"]:
        text += " " + gettext("By department: %s.") % ", ".join(
            f"{row['name']} {from_units(row['points']):,}" for row in result["by_department"][:5])
    if result["pending_approval"]:
        text += " " + gettext("%d of them would have waited for approval.") % result[
            "pending_approval"]
    if result["truncated"]:
        text += " " + gettext("Only the first %d events were examined.") % result["limit"]
    return text


def rule_builder_data() -> dict[str, Any]:
    """What the rule builder on the page offers, per active event type (by code): the
    fields a condition row may test, with their labels, types, values to choose from and
    the operators that fit; and the sample-event fields (the payload's)."""
    operators = {"eq": "=", "ne": "≠", "gt": ">", "ge": "≥", "lt": "<", "le": "≤",
                 "in": gettext("is one of"), "contains": gettext("contains"),
                 "set": gettext("is set")}
    types: dict[str, Any] = {}
    for event_type in EventType.objects.filter(active=True).order_by("code"):
        labels = display.payload_labels(event_type)
        found = []
        for field in builder.fields(event_type.schema):
            on_payload = field.on_payload
            found.append({
                "key": field.key, "name": field.name, "type": field.type,
                "payload": on_payload, "required": field.required,
                "label": labels.field(field.name) if on_payload
                else gettext("Employee: %s") % employee_attribute_label(field.name),
                "choices": [{"value": c, "label": labels.value(field.name, c)}
                            for c in field.choices]
                or ([{"value": True, "label": gettext("Yes")},
                     {"value": False, "label": gettext("No")}]
                    if field.type == "boolean" else []),
                "operators": [{"value": op, "label": operators[op]}
                              for op in builder.OPERATORS[field.type]
                              if not (op == "set" and field.type == "number"
                                      and not on_payload)],
            })
        types[event_type.code] = {"fields": found}
    return {"types": types}


def rule_by_id(rule_id: int) -> Rule | None:
    return Rule.objects.filter(pk=rule_id).first()


def award_by_id(award_id: int) -> Award | None:
    return Award.objects.filter(pk=award_id).first()
