"""Scoring without side effects: CEL conditions, formulas, payload schemas and the plain
words a rule is published in. Services and the rule preview both use these."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import cel
import jsonschema
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.earning.models import FormulaKind
from jifen.ledger.amounts import MAX_POINTS

CAP_PERIODS = ("day", "week", "month", "year")
_POSITION = re.compile(r"<input>:(\d+):(\d+)")


# --- conditions -------------------------------------------------------------------------


@lru_cache(maxsize=512)
def compile_condition(source: str) -> Any:
    """The compiled CEL program, or a 422 ``invalid_condition`` naming line and column."""
    try:
        return cel.compile(source)
    except (ValueError, TypeError, RuntimeError) as exc:
        text = str(exc)
        found = _POSITION.search(text)
        line, column = (int(found.group(1)), int(found.group(2))) if found else (1, 1)
        detail = text.split("ERROR: ", 1)[-1].split("\n", 1)[0]
        raise errors.ValidationError(
            _("The condition is not valid CEL at line %(line)d, column %(column)d: %(detail)s")
            % {"line": line, "column": column, "detail": detail},
            code="invalid_condition",
            details={"line": line, "column": column, "message": text},
        ) from exc


def check_condition(source: str) -> str:
    source = (source or "").strip()
    if source:
        compile_condition(source)
    return source


@dataclass(frozen=True)
class ConditionResult:
    matched: bool
    error: str = ""


def evaluate_condition(source: str, context: dict[str, Any]) -> ConditionResult:
    """Whether the condition holds. An empty condition always holds; one that cannot be
    evaluated (a missing payload field, a wrong type) does not, and says why."""
    if not source:
        return ConditionResult(True)
    try:
        value = compile_condition(source).execute(context)
    except errors.ValidationError as exc:
        return ConditionResult(False, exc.message)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        return ConditionResult(False, _("The condition could not be evaluated: %s") % exc)
    if not isinstance(value, bool):
        return ConditionResult(False, _("The condition must give true or false."))
    return ConditionResult(value)


def department_path_ids(department: Any) -> list[int]:
    """The ids of the department and its ancestors, root first."""
    return [int(part) for part in department.path.strip("/").split("/") if part]


def department_path_codes(department: Any, codes: dict[int, str] | None = None) -> list[str]:
    """The codes of the department and its ancestors, root first (``codes``: id → code
    already loaded for them)."""
    from jifen.people.models import Department

    ids = department_path_ids(department)
    if codes is None:
        codes = dict(Department.objects.filter(pk__in=ids).values_list("pk", "code"))
    return [codes[i] for i in ids if i in codes] or [department.code]


def employee_context(employee: Any, on: datetime | None = None,
                     path_codes: list[str] | None = None) -> dict[str, Any]:
    """What a condition sees as ``employee``."""
    department = employee.department
    if path_codes is None:
        path_codes = department_path_codes(department)
    on = on or timezone.now()
    return {
        "employee_no": employee.employee_no,
        "department": department.code,
        "department_path": path_codes,
        "position": employee.position or "",
        "grade": employee.grade or "",
        "tenure_years": employee.tenure_years(timezone.localtime(on).date()),
    }


# --- payload schemas -----------------------------------------------------------------------


def check_schema(schema: Any) -> dict[str, Any]:
    if not isinstance(schema, dict):
        raise errors.ValidationError(_("The payload schema must be a JSON object."),
                                     code="invalid_schema")
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise errors.ValidationError(_("The payload schema is not valid: %s") % exc.message,
                                     code="invalid_schema") from exc
    return schema


@lru_cache(maxsize=256)
def _validator(schema_json: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(schema_json))


def schema_problem(schema: dict[str, Any], payload: Any) -> str:
    """Why the payload breaks the schema ("" when it does not)."""
    if not isinstance(payload, dict):
        return _("The payload must be a JSON object.")
    schema_json = json.dumps(schema, sort_keys=True)
    payload_json = json.dumps(payload, sort_keys=True, default=str)
    if len(payload_json) <= 1000:  # attendance and the like repeat the same few payloads
        return _payload_problem(schema_json, payload_json)
    return _problem(_validator(schema_json), payload)


@lru_cache(maxsize=4096)
def _payload_problem(schema_json: str, payload_json: str) -> str:
    return _problem(_validator(schema_json), json.loads(payload_json))


def _problem(validator: jsonschema.Draft202012Validator, payload: Any) -> str:
    error = next(iter(validator.iter_errors(payload)), None)
    if error is None:
        return ""
    where = ".".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


# --- formulas --------------------------------------------------------------------------------


def _number(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise errors.ValidationError(_("%s must be a number.") % name, code="invalid_formula")
    if isinstance(value, float) and not value.is_integer():
        raise errors.ValidationError(_("%s must be a whole number of points.") % name,
                                     code="invalid_formula")
    if abs(value) > MAX_POINTS:  # the ledger would refuse every event the rule scores
        raise errors.ValidationError(
            _("%(name)s may be at most %(max)s points.") % {"name": name,
                                                            "max": f"{MAX_POINTS:,}"},
            code="invalid_formula")
    return int(value)


def check_formula(formula: Any) -> dict[str, Any]:
    """The formula in its stored form, or a 422 ``invalid_formula``."""
    if not isinstance(formula, dict):
        raise errors.ValidationError(_("The formula must be an object with a kind."),
                                     code="invalid_formula")
    kind = formula.get("kind")
    if kind == FormulaKind.FIXED:
        points = _number(formula.get("points"), "points")
        if points == 0:
            raise errors.ValidationError(_("Fixed points cannot be zero."),
                                         code="invalid_formula")
        return {"kind": kind, "points": points}
    if kind == FormulaKind.PER_UNIT:
        field = str(formula.get("field") or "").strip()
        if not field:
            raise errors.ValidationError(_("Name the payload field that counts the units."),
                                         code="invalid_formula")
        points = _number(formula.get("points"), "points")
        if points == 0:
            raise errors.ValidationError(_("Points per unit cannot be zero."),
                                         code="invalid_formula")
        return {"kind": kind, "field": field, "points": points}
    if kind == FormulaKind.TABLE:
        field = str(formula.get("field") or "").strip()
        table = formula.get("points")
        if not field or not isinstance(table, dict) or not table:
            raise errors.ValidationError(
                _("A table needs a payload field and points for at least one value."),
                code="invalid_formula")
        return {"kind": kind, "field": field,
                "points": {str(k): _number(v, str(k)) for k, v in table.items()}}
    if kind == FormulaKind.RANGE:
        low, high = _number(formula.get("min"), "min"), _number(formula.get("max"), "max")
        if not 0 < low <= high:
            raise errors.ValidationError(_("A range needs 0 < min ≤ max."),
                                         code="invalid_formula")
        return {"kind": kind, "min": low, "max": high}
    raise errors.ValidationError(
        _("The formula kind must be fixed, per_unit, table or range."), code="invalid_formula")


def check_caps(caps: Any) -> dict[str, int]:
    if caps in (None, ""):
        return {}
    if not isinstance(caps, dict):
        raise errors.ValidationError(_("Caps must be an object like {\"month\": 100}."),
                                     code="invalid_caps")
    cleaned = {}
    for period, value in caps.items():
        if period not in CAP_PERIODS:
            raise errors.ValidationError(_("Caps are per day, week, month or year."),
                                         code="invalid_caps")
        if value in (None, ""):
            continue
        number = _number(value, period)
        if number <= 0:
            raise errors.ValidationError(_("A cap must be positive."), code="invalid_caps")
        cleaned[period] = number
    return {p: cleaned[p] for p in CAP_PERIODS if p in cleaned}


@dataclass(frozen=True)
class Score:
    """What a formula gives for a payload: ``points`` (signed), or a ``range`` for an
    approver, or nothing with ``error`` saying why."""

    points: int = 0
    low: int | None = None
    high: int | None = None
    explanation: str = ""
    error: str = ""

    @property
    def is_range(self) -> bool:
        return self.low is not None


def _field(payload: dict[str, Any], name: str) -> Any:
    value: Any = payload
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def score(formula: dict[str, Any], payload: dict[str, Any]) -> Score:
    kind = formula["kind"]
    if kind == FormulaKind.FIXED:
        return Score(points=formula["points"],
                     explanation=_("%(points)+d fixed") % {"points": formula["points"]})
    if kind == FormulaKind.PER_UNIT:
        units = _field(payload, formula["field"])
        if isinstance(units, bool) or not isinstance(units, int | float):
            return Score(error=_("The payload has no number in %s.") % formula["field"])
        points = int(units * formula["points"])
        return Score(points=points, explanation=_("%(units)s × %(per)d per %(field)s")
                     % {"units": units, "per": formula["points"], "field": formula["field"]})
    if kind == FormulaKind.TABLE:
        value = _field(payload, formula["field"])
        key = "true" if value is True else "false" if value is False else str(value)
        if value is None or key not in formula["points"]:
            return Score(error=_("No points are listed for %(field)s = %(value)s.")
                         % {"field": formula["field"], "value": value})
        points = formula["points"][key]
        return Score(points=points, explanation=_("%(field)s = %(value)s → %(points)+d")
                     % {"field": formula["field"], "value": key, "points": points})
    return Score(low=formula["min"], high=formula["max"],
                 explanation=_("%(min)d–%(max)d, settled by an approver")
                 % {"min": formula["min"], "max": formula["max"]})


def period_start(period: str, moment: datetime) -> datetime:
    """The start of the day/week/month/year holding ``moment``, in the site's zone."""
    local = timezone.localtime(moment).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        from datetime import timedelta

        return local - timedelta(days=local.weekday())
    if period == "month":
        return local.replace(day=1)
    if period == "year":
        return local.replace(month=1, day=1)
    return local


def period_end(period: str, moment: datetime) -> datetime:
    from datetime import timedelta

    start = period_start(period, moment)
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    if period == "month":
        return (start + timedelta(days=32)).replace(day=1)
    return start.replace(year=start.year + 1)


# --- plain words ----------------------------------------------------------------------------


class _RawLabels:
    def field(self, name: str) -> str:
        return name

    def value(self, name: str, value: Any) -> str:
        return str(value)

    def order(self, name: str, keys: list[str]) -> list[str]:
        return keys


def describe_formula(formula: dict[str, Any], unit: str, labels: Any = None) -> str:
    """The formula in words. ``labels`` (``display.PayloadLabels``) names the payload's
    fields and values; without it they appear as they are written in the formula."""
    labels = labels or _RawLabels()
    kind = formula["kind"]
    if kind == FormulaKind.FIXED:
        return f"{formula['points']:+d} {unit}"
    if kind == FormulaKind.PER_UNIT:
        return _("%(points)+d %(unit)s × %(field)s") % {
            "points": formula["points"], "unit": unit, "field": labels.field(formula["field"])}
    if kind == FormulaKind.TABLE:
        field = formula["field"]
        table = formula["points"]
        parts = ", ".join(f"{labels.value(field, k)}: {table[k]:+d}"
                          for k in labels.order(field, list(table)))
        return _("by %(field)s (%(parts)s) %(unit)s") % {
            "field": labels.field(field), "parts": parts, "unit": unit}
    return _("%(min)d–%(max)d %(unit)s, decided by an approver") % {
        "min": formula["min"], "max": formula["max"], "unit": unit}


def describe_caps(caps: dict[str, int], unit: str) -> str:
    labels = {"day": _("per day"), "week": _("per week"), "month": _("per month"),
              "year": _("per year")}
    return "; ".join(_("at most %(n)d %(unit)s %(period)s")
                     % {"n": n, "unit": unit, "period": labels[p]} for p, n in caps.items())
