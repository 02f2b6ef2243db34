"""Payroll period export: the bonus policies, the export's column mapping and benefit
setting, computing a month's figures per employee, and closing (freezing) a period.

What counts (docs/decisions/0027-payroll-period-export.md):

- **points by category**: the month's ranked points (``rollups.RANKED``: earned minus
  penalties, with HR's categorised adjustments and reversals) from ``EmployeeMonth``.
- **factor** of a policy = min(points / target, 1) × weight / 100, never below 0, a
  ``Decimal`` rounded half-up to 4 places; the **total factor** is the sum of the rounded
  factors of the active policies.
- **benefit (CNY)**: for each mall order approved in the month (its ``approve`` step) and
  not rejected or cancelled since, quantity × the item's market value — the item's
  *current* market value, as the order does not store one — when the item's fulfilment
  type is one HR chose to count. No tax rule is applied: it is a figure for payroll.
- **who**: every employee active in the month (hired before its end and not gone before it
  started), including those who left during it, with zeros when they have nothing, plus
  anyone with points moved in the month.

An open period is computed live (pending rollups folded first); a closed one is read only
from its stored lines, policies and columns, so its export is the same bytes every time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jifen.core import errors
from jifen.core.actors import Actor, actor_fields
from jifen.core.exports import xlsx_bytes
from jifen.core.services import record_audit
from jifen.insights.models import (
    BonusPolicy,
    EmployeeMonth,
    PayrollLine,
    PayrollPeriod,
    PayrollPeriodStatus,
    PayrollSettings,
)
from jifen.insights.services import rollups
from jifen.ledger.amounts import from_units, site_decimals
from jifen.ledger.models import Category
from jifen.mall.models import CLOSED_STATUSES, Fulfilment, OrderEvent, OrderStatus
from jifen.people.models import Employee, EmployeeStatus

FACTOR_PLACES = Decimal("0.0001")
MONEY_PLACES = Decimal("0.01")
BATCH = 2000
MAX_HEADER = 100

# The fields a column can show; per-category ones are "points:<category>" and
# "factor:<category>".
FIELD_LABELS: dict[str, Any] = {
    "employee_no": gettext_lazy("Employee number"),
    "name": gettext_lazy("Name"),
    "department": gettext_lazy("Department"),
    "department_code": gettext_lazy("Department code"),
    "total_factor": gettext_lazy("Total bonus factor"),
    "benefit_cny": gettext_lazy("Rewards redeemed (CNY market value)"),
}


def categories() -> list[str]:
    return [str(value) for value in Category.values]


def field_choices() -> list[tuple[str, str]]:
    """Every field a column may show, with its default header in the current language."""
    choices = [(name, str(label)) for name, label in FIELD_LABELS.items()]
    for category in categories():
        label = str(Category(category).label)
        choices.append((f"points:{category}", _("%(category)s points") % {"category": label}))
        choices.append((f"factor:{category}", _("%(category)s factor") % {"category": label}))
    return choices


def default_columns() -> list[dict[str, str]]:
    """Employee number, name, department, every category's points, the active policies'
    factors, total factor, benefit — headed in the current language."""
    labels = dict(field_choices())
    names = ["employee_no", "name", "department",
             *(f"points:{c}" for c in categories()),
             *(f"factor:{p.category}" for p in BonusPolicy.objects.filter(active=True)),
             "total_factor", "benefit_cny"]
    return [{"field": name, "header": labels[name]} for name in names]


def default_fulfilments() -> list[str]:
    return [str(value) for value in Fulfilment.values]


def current_settings() -> PayrollSettings:
    found = PayrollSettings.objects.filter(pk=1).first()
    return found or PayrollSettings(pk=1, columns=[], benefit_enabled=True,
                                    benefit_fulfilments=default_fulfilments())


def current_columns() -> list[dict[str, str]]:
    """The saved mapping, or the default one (headers in the site's default language, so
    a period closed from anyone's session gets the same headers)."""
    saved = current_settings().columns
    if saved:
        return [dict(column) for column in saved]
    with translation.override(settings.LANGUAGE_CODE):
        return default_columns()


# --- months -----------------------------------------------------------------------------


def parse_month(text: str) -> date:
    """"2026-11" → 1 November 2026; 422 ``invalid_period`` for anything else."""
    if (len(text) != 7 or text[4] != "-" or not text[:4].isdigit()
            or not text[5:].isdigit() or not 1 <= int(text[5:]) <= 12
            or not 2000 <= int(text[:4]) <= 2999):
        raise errors.ValidationError(_("Give the month as YYYY-MM."),
                                     code=errors.ErrorCode.INVALID_PERIOD,
                                     details={"field": "month"})
    return date(int(text[:4]), int(text[5:]), 1)


def next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[start, end) of the month in the site's time zone."""
    following = next_month(month)
    return (timezone.make_aware(datetime(month.year, month.month, 1)),
            timezone.make_aware(datetime(following.year, following.month, 1)))


# --- the figures ------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    category: str
    target: int  # units
    weight: Decimal  # percent
    label: str

    def as_json(self) -> dict[str, Any]:
        return {"category": self.category, "target": self.target,
                "weight": str(self.weight), "label": self.label}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Policy:
        return cls(category=data["category"], target=int(data["target"]),
                   weight=Decimal(data["weight"]), label=data.get("label", ""))


def factor(points: int, policy: Policy) -> Decimal:
    """min(points / target, 1) × weight / 100, at least 0, rounded half-up to 4 places."""
    share = min(Decimal(max(points, 0)) / Decimal(policy.target), Decimal(1))
    return (share * policy.weight / 100).quantize(FACTOR_PLACES, rounding=ROUND_HALF_UP)


@dataclass
class Line:
    employee_id: int
    employee_no: str
    name: str
    department: str
    department_code: str
    points: dict[str, int] = field(default_factory=dict)  # units
    factors: dict[str, Decimal] = field(default_factory=dict)
    total_factor: Decimal = Decimal("0.0000")
    benefit: Decimal = Decimal("0.00")

    def figures(self) -> dict[str, Any]:
        """As stored in ``PayrollLine.figures``: decimals as text."""
        return {"points": self.points,
                "factors": {k: str(v) for k, v in self.factors.items()},
                "total_factor": str(self.total_factor), "benefit": str(self.benefit)}

    @classmethod
    def from_stored(cls, row: PayrollLine) -> Line:
        data = row.figures
        return cls(employee_id=row.employee_id, employee_no=row.employee_no, name=row.name,
                   department=row.department, department_code=row.department_code,
                   points={k: int(v) for k, v in data["points"].items()},
                   factors={k: Decimal(v) for k, v in data["factors"].items()},
                   total_factor=Decimal(data["total_factor"]),
                   benefit=Decimal(data["benefit"]))

    def value(self, name: str, decimals: int) -> Any:
        """One column's cell (points with the site's ``decimals``)."""
        if name.startswith("points:"):  # a number cell, in points
            return from_units(self.points.get(name[7:], 0), decimals)
        if name.startswith("factor:"):
            found = self.factors.get(name[7:])
            return None if found is None else found
        return {"employee_no": self.employee_no, "name": self.name,
                "department": self.department, "department_code": self.department_code,
                "total_factor": self.total_factor, "benefit_cny": self.benefit}.get(name)


def active_policies() -> list[Policy]:
    return [Policy(category=p.category, target=p.target, weight=p.weight, label=p.label)
            for p in BonusPolicy.objects.filter(active=True).order_by("category")]


def payroll_employees(month: date) -> QuerySet[Employee]:
    """Who gets a line: employees active during the month (hired before it ended, not
    gone before it began), and anyone whose points moved in it; by employee number."""
    start, end = month, next_month(month)
    hired = Q(hire_date__isnull=True) | Q(hire_date__lt=end)
    present = (Q(status=EmployeeStatus.ACTIVE) | Q(left_on__gte=start)) & hired
    moved = Q(pk__in=EmployeeMonth.objects.filter(month=month).values("employee_id"))
    return (Employee.objects.filter(present | moved).select_related("department")
            .order_by("employee_no"))


def compute_lines(month: date, employees: Iterable[Employee], *, policies: list[Policy],
                  benefit: dict[str, Any]) -> list[Line]:
    """The live figures of ``employees`` for ``month`` (rollups as folded so far)."""
    people = list(employees)
    ids = [person.pk for person in people]
    points: dict[int, dict[str, int]] = defaultdict(dict)
    for employee_id, category, total in (
            EmployeeMonth.objects.filter(rollups.RANKED, month=month, employee_id__in=ids)
            .exclude(category="").values_list("employee_id", "category")
            .annotate(total=Sum("amount")).order_by()):
        points[employee_id][category] = int(total)
    benefits = _benefits(month, ids, benefit)
    lines = []
    for person in people:
        mine = {category: points[person.pk].get(category, 0) for category in categories()}
        factors = {p.category: factor(mine.get(p.category, 0), p) for p in policies}
        lines.append(Line(
            employee_id=person.pk, employee_no=person.employee_no, name=person.name,
            department=person.department.name, department_code=person.department.code,
            points=mine, factors=factors,
            total_factor=sum(factors.values(), Decimal("0.0000")),
            benefit=benefits.get(person.pk, Decimal(0)).quantize(MONEY_PLACES)))
    return lines


def _benefits(month: date, employee_ids: list[int], benefit: dict[str, Any]) -> dict[int, Decimal]:
    if not benefit.get("enabled") or not benefit.get("fulfilments") or not employee_ids:
        return {}
    start, end = month_bounds(month)
    rows = (OrderEvent.objects
            .filter(to_status=OrderStatus.APPROVED, created_at__gte=start, created_at__lt=end,
                    order__employee_id__in=employee_ids,
                    order__fulfilment__in=benefit["fulfilments"])
            .exclude(order__status__in=CLOSED_STATUSES)
            .values_list("order_id", "order__employee_id", "order__quantity",
                         "order__item__market_value"))
    seen: set[int] = set()
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for order_id, employee_id, quantity, market_value in rows:
        if order_id in seen:
            continue
        seen.add(order_id)
        totals[employee_id] += Decimal(quantity) * (market_value or Decimal(0))
    return totals


def current_benefit() -> dict[str, Any]:
    found = current_settings()
    return {"enabled": found.benefit_enabled, "fulfilments": list(found.benefit_fulfilments)}


# --- reading a period -------------------------------------------------------------------


@dataclass
class PeriodView:
    month: date
    status: str
    closed_at: datetime | None
    policies: list[Policy]
    columns: list[dict[str, str]]
    benefit: dict[str, Any]
    lines: list[Line]
    next_after: str | None  # the employee number to continue after, or None at the end


def read_period(*, month: date, after: str = "", limit: int = 100) -> PeriodView:
    """One page of a period's lines (by employee number, after ``after``): a closed period
    from its stored lines only; an open one live, once pending rollups are folded."""
    period = PayrollPeriod.objects.filter(month=month).first()
    if period is not None and period.status == PayrollPeriodStatus.CLOSED:
        stored = list(period.lines.filter(employee_no__gt=after).order_by("employee_no")
                      [:limit + 1])
        lines = [Line.from_stored(row) for row in stored[:limit]]
        return PeriodView(month=month, status=period.status, closed_at=period.closed_at,
                          policies=[Policy.from_json(p) for p in period.policies],
                          columns=period.columns, benefit=period.benefit, lines=lines,
                          next_after=_after(lines, len(stored) > limit))
    rollups.fold_pending()
    policies, benefit = active_policies(), current_benefit()
    people = list(payroll_employees(month).filter(employee_no__gt=after)[:limit + 1])
    lines = compute_lines(month, people[:limit], policies=policies, benefit=benefit)
    return PeriodView(month=month, status=PayrollPeriodStatus.OPEN, closed_at=None,
                      policies=policies, columns=current_columns(), benefit=benefit,
                      lines=lines,
                      next_after=_after(lines, len(people) > limit))


def _after(lines: list[Line], more: bool) -> str | None:
    return lines[-1].employee_no if lines and more else None


def count_lines(month: date) -> int:
    """How many lines the period has (a closed one: stored; an open one: would have)."""
    period = PayrollPeriod.objects.filter(month=month).first()
    if period is not None and period.status == PayrollPeriodStatus.CLOSED:
        return period.lines.count()
    return payroll_employees(month).count()


def all_lines(month: date, *, on_progress: Callable[[int], None] | None = None,
              ) -> tuple[PeriodView, list[Line]]:
    """Every line of the period (for the export and the console page); ``on_progress``
    hears the number of lines read so far, batch by batch."""
    view = read_period(month=month, limit=0)
    period = PayrollPeriod.objects.filter(month=month).first()
    lines: list[Line] = []
    if view.status == PayrollPeriodStatus.CLOSED and period is not None:
        for row in period.lines.order_by("employee_no").iterator(chunk_size=BATCH):
            lines.append(Line.from_stored(row))
            if on_progress is not None and len(lines) % BATCH == 0:
                on_progress(len(lines))
    else:
        people = payroll_employees(month)
        batch: list[Employee] = []
        for person in people.iterator(chunk_size=BATCH):
            batch.append(person)
            if len(batch) == BATCH:
                lines += compute_lines(month, batch, policies=view.policies,
                                       benefit=view.benefit)
                batch = []
                if on_progress is not None:
                    on_progress(len(lines))
        lines += compute_lines(month, batch, policies=view.policies, benefit=view.benefit)
    if on_progress is not None:
        on_progress(len(lines))
    return view, lines


def export_xlsx(*, month: date, on_progress: Callable[[int], None] | None = None) -> bytes:
    """The period as xlsx under its column mapping; employee numbers are text cells.
    A closed period's file is built from what was stored at closing, timed at the closing
    moment, so it is the same bytes on every call. The file is built by the worker
    (``payroll_exports``): tens of seconds for tens of thousands of lines."""
    view, lines = all_lines(month, on_progress=on_progress)
    columns = view.columns
    header = [column["header"] for column in columns]
    decimals = site_decimals()  # once: it is a cached settings read per call
    rows = ([line.value(column["field"], decimals) for column in columns] for line in lines)
    return xlsx_bytes(header, rows, sheet_title=f"{month:%Y-%m}", styled_header=True,
                      fixed_time=view.closed_at)


# --- settings ---------------------------------------------------------------------------

POLICY_FIELDS = ("category", "target", "weight", "label", "active")


@transaction.atomic
def save_policy(*, actor: Actor, category: str, target: int, weight: Decimal | str,
                label: str = "", active: bool = True) -> BonusPolicy:
    """Create or change the bonus policy of ``category``. 422 ``unknown_category``,
    ``invalid_target`` (target must be above 0), ``invalid_value`` (weight 0–100 %).
    Closed periods keep the policies they were closed with."""
    if category not in categories():
        raise errors.ValidationError(_("Unknown category %s.") % category,
                                     code=errors.ErrorCode.UNKNOWN_CATEGORY,
                                     details={"field": "category"})
    if not isinstance(target, int) or isinstance(target, bool) or target <= 0:
        raise errors.ValidationError(_("The target must be more than 0 points."),
                                     code=errors.ErrorCode.INVALID_TARGET,
                                     details={"field": "target"})
    try:
        weight = Decimal(str(weight))
    except InvalidOperation as exc:
        raise _bad_weight() from exc
    if not weight.is_finite() or not Decimal(0) < weight <= Decimal(100) \
            or weight != weight.quantize(FACTOR_PLACES):
        raise _bad_weight()
    policy = next(iter(BonusPolicy.objects.select_for_update().filter(category=category)),
                  None)
    before = _policy_json(policy) if policy else None
    if policy is None:
        policy = BonusPolicy(category=category)
    policy.target, policy.weight, policy.label, policy.active = (
        target, weight, label.strip()[:100], active)
    policy.save()
    record_audit(actor=actor, action="payroll.policy.save", obj=policy, before=before,
                 after=_policy_json(policy))
    return policy


def _bad_weight() -> errors.ValidationError:
    return errors.ValidationError(
        _("The weight is a percentage above 0 and at most 100, with up to 4 decimals."),
        code=errors.ErrorCode.INVALID_VALUE, details={"field": "weight"})


def _policy_json(policy: BonusPolicy) -> dict[str, Any]:
    return {"category": policy.category, "target": policy.target,
            "weight": str(policy.weight), "label": policy.label, "active": policy.active}


@transaction.atomic
def save_columns(*, actor: Actor, columns: list[dict[str, str]]) -> PayrollSettings:
    """Set the export's columns: a list of ``{"field", "header"}`` in order. 422
    ``invalid_value`` for an unknown or repeated field, an empty or too long header, or no
    column at all."""
    known = dict(field_choices())
    cleaned: list[dict[str, str]] = []
    for index, column in enumerate(columns):
        name, header = str(column.get("field", "")), str(column.get("header", "")).strip()
        if name not in known or any(c["field"] == name for c in cleaned):
            raise errors.ValidationError(_("Column %(n)s: unknown or repeated field.")
                                         % {"n": index + 1},
                                         code=errors.ErrorCode.INVALID_VALUE,
                                         details={"field": f"columns.{index}.field"})
        if not header or len(header) > MAX_HEADER:
            raise errors.ValidationError(
                _("Column %(n)s: give a header of at most %(max)s characters.")
                % {"n": index + 1, "max": MAX_HEADER},
                code=errors.ErrorCode.INVALID_VALUE,
                details={"field": f"columns.{index}.header"})
        cleaned.append({"field": name, "header": header})
    if not cleaned:
        raise errors.ValidationError(_("Keep at least one column."),
                                     code=errors.ErrorCode.INVALID_VALUE,
                                     details={"field": "columns"})
    found = _locked_settings()
    before = {"columns": found.columns}
    found.columns = cleaned
    found.save()
    record_audit(actor=actor, action="payroll.columns.save", obj=found, before=before,
                 after={"columns": cleaned})
    return found


@transaction.atomic
def save_benefit_setting(*, actor: Actor, enabled: bool,
                         fulfilments: list[str]) -> PayrollSettings:
    """Whether the export shows a benefit figure and which item fulfilment types count
    towards it. 422 ``invalid_fulfilment`` for an unknown type."""
    unknown = sorted(set(fulfilments) - set(default_fulfilments()))
    if unknown:
        raise errors.ValidationError(_("Unknown fulfilment type %s.") % ", ".join(unknown),
                                     code=errors.ErrorCode.INVALID_FULFILMENT,
                                     details={"field": "fulfilments"})
    found = _locked_settings()
    before = {"benefit_enabled": found.benefit_enabled,
              "benefit_fulfilments": found.benefit_fulfilments}
    found.benefit_enabled = enabled
    found.benefit_fulfilments = [f for f in default_fulfilments() if f in fulfilments]
    found.save()
    record_audit(actor=actor, action="payroll.benefit.save", obj=found, before=before,
                 after={"benefit_enabled": found.benefit_enabled,
                        "benefit_fulfilments": found.benefit_fulfilments})
    return found


def _locked_settings() -> PayrollSettings:
    PayrollSettings.objects.get_or_create(
        pk=1, defaults={"benefit_fulfilments": default_fulfilments()})
    return PayrollSettings.objects.select_for_update().get(pk=1)


# --- closing ----------------------------------------------------------------------------


def _locked_period(month: date) -> PayrollPeriod:
    PayrollPeriod.objects.get_or_create(month=month)
    return PayrollPeriod.objects.select_for_update().get(month=month)


@transaction.atomic
def close_period(*, month: date, actor: Actor, now: datetime | None = None) -> PayrollPeriod:
    """Freeze ``month``: fold pending rollups, then store every employee's line with the
    active policies, the column mapping and the benefit setting of this moment. Closing a
    closed period changes nothing (idempotent). 409 ``period_not_ended`` until the month is
    over in the site's time zone — payroll closes a finished month."""
    now = now or timezone.now()
    if month_bounds(month)[1] > now:
        raise errors.Conflict(_("%(month)s has not ended yet; close it once it is over.")
                              % {"month": f"{month:%Y-%m}"},
                              code=errors.ErrorCode.PERIOD_NOT_ENDED)
    rollups.fold_pending()
    period = _locked_period(month)
    if period.status == PayrollPeriodStatus.CLOSED:
        return period
    policies, benefit = active_policies(), current_benefit()
    columns = current_columns()
    count = 0
    batch: list[Employee] = []

    def store(people: list[Employee]) -> int:
        lines = compute_lines(month, people, policies=policies, benefit=benefit)
        PayrollLine.objects.bulk_create([
            PayrollLine(period=period, employee_id=line.employee_id,
                        employee_no=line.employee_no, name=line.name,
                        department=line.department, department_code=line.department_code,
                        figures=line.figures()) for line in lines], batch_size=1000)
        return len(lines)

    for person in payroll_employees(month).iterator(chunk_size=BATCH):
        batch.append(person)
        if len(batch) == BATCH:
            count += store(batch)
            batch = []
    count += store(batch)
    fields = actor_fields(actor)
    period.status = PayrollPeriodStatus.CLOSED
    # Whole seconds: the export's file times cannot hold more, and the API shows the same.
    period.closed_at = now.replace(microsecond=0)
    period.closed_by = fields.get("actor")
    period.closed_by_label = fields.get("actor_label", "")[:150]
    period.policies = [p.as_json() for p in policies]
    period.columns = columns
    period.benefit = benefit
    period.reopen_reason = ""
    period.save()
    record_audit(actor=actor, action="payroll.period.close", obj=period,
                 object_repr=f"{month:%Y-%m}", before={"status": PayrollPeriodStatus.OPEN},
                 after={"status": PayrollPeriodStatus.CLOSED, "lines": count})
    return period


@transaction.atomic
def reopen_period(*, month: date, actor: Actor, reason: str) -> PayrollPeriod:
    """Unfreeze a closed period (its stored lines are dropped; it is computed live again
    until closed anew). 422 ``reason_required``. Reopening an open period changes nothing
    and logs nothing."""
    reason = (reason or "").strip()
    if not reason:
        raise errors.ValidationError(_("Say why the period is reopened."),
                                     code=errors.ErrorCode.REASON_REQUIRED,
                                     details={"field": "reason"})
    period = _locked_period(month)
    if period.status != PayrollPeriodStatus.CLOSED:
        return period
    before = {"status": period.status, "closed_at": period.closed_at.isoformat()
              if period.closed_at else None, "lines": period.lines.count()}
    period.lines.all().delete()
    period.status = PayrollPeriodStatus.OPEN
    period.closed_at = None
    period.closed_by = None
    period.closed_by_label = ""
    period.reopen_reason = reason[:300]
    period.save()
    record_audit(actor=actor, action="payroll.period.reopen", obj=period,
                 object_repr=f"{month:%Y-%m}", before=before,
                 after={"status": period.status, "reason": period.reopen_reason})
    return period
