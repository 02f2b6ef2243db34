"""Formulas and caps: checking them, what a formula gives for a payload, the periods caps
count in, and both in plain words."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.earning import outcomes
from jifen.earning.models import FormulaKind
from jifen.earning.outcomes import Note
from jifen.ledger.amounts import MAX_POINTS

CAP_PERIODS = ("day", "week", "month", "year")


def _number(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise errors.ValidationError(_("%s must be a number.") % name,
                                     code=errors.ErrorCode.INVALID_FORMULA)
    if isinstance(value, float) and not value.is_integer():
        raise errors.ValidationError(_("%s must be a whole number of points.") % name,
                                     code=errors.ErrorCode.INVALID_FORMULA)
    if abs(value) > MAX_POINTS:  # the ledger would refuse every event the rule scores
        raise errors.ValidationError(
            _("%(name)s may be at most %(max)s points.") % {"name": name,
                                                            "max": f"{MAX_POINTS:,}"},
            code=errors.ErrorCode.INVALID_FORMULA)
    return int(value)


def check_formula(formula: Any) -> dict[str, Any]:
    """The formula in its stored form, or a 422 ``invalid_formula``."""
    if not isinstance(formula, dict):
        raise errors.ValidationError(_("The formula must be an object with a kind."),
                                     code=errors.ErrorCode.INVALID_FORMULA)
    kind = formula.get("kind")
    if kind == FormulaKind.FIXED:
        points = _number(formula.get("points"), "points")
        if points == 0:
            raise errors.ValidationError(_("Fixed points cannot be zero."),
                                         code=errors.ErrorCode.INVALID_FORMULA)
        return {"kind": kind, "points": points}
    if kind == FormulaKind.PER_UNIT:
        field = str(formula.get("field") or "").strip()
        if not field:
            raise errors.ValidationError(_("Name the payload field that counts the units."),
                                         code=errors.ErrorCode.INVALID_FORMULA)
        points = _number(formula.get("points"), "points")
        if points == 0:
            raise errors.ValidationError(_("Points per unit cannot be zero."),
                                         code=errors.ErrorCode.INVALID_FORMULA)
        return {"kind": kind, "field": field, "points": points}
    if kind == FormulaKind.TABLE:
        field = str(formula.get("field") or "").strip()
        table = formula.get("points")
        if not field or not isinstance(table, dict) or not table:
            raise errors.ValidationError(
                _("A table needs a payload field and points for at least one value."),
                code=errors.ErrorCode.INVALID_FORMULA)
        return {"kind": kind, "field": field,
                "points": {str(k): _number(v, str(k)) for k, v in table.items()}}
    if kind == FormulaKind.RANGE:
        low, high = _number(formula.get("min"), "min"), _number(formula.get("max"), "max")
        if not 0 < low <= high:
            raise errors.ValidationError(_("A range needs 0 < min ≤ max."),
                                         code=errors.ErrorCode.INVALID_FORMULA)
        return {"kind": kind, "min": low, "max": high}
    raise errors.ValidationError(
        _("The formula kind must be fixed, per_unit, table or range."),
        code=errors.ErrorCode.INVALID_FORMULA)


def check_caps(caps: Any) -> dict[str, int]:
    if caps in (None, ""):
        return {}
    if not isinstance(caps, dict):
        raise errors.ValidationError(_("Caps must be an object like {\"month\": 100}."),
                                     code=errors.ErrorCode.INVALID_CAPS)
    cleaned = {}
    for period, value in caps.items():
        if period not in CAP_PERIODS:
            raise errors.ValidationError(_("Caps are per day, week, month or year."),
                                         code=errors.ErrorCode.INVALID_CAPS)
        if value in (None, ""):
            continue
        number = _number(value, period)
        if number <= 0:
            raise errors.ValidationError(_("A cap must be positive."),
                                         code=errors.ErrorCode.INVALID_CAPS)
        cleaned[period] = number
    return {p: cleaned[p] for p in CAP_PERIODS if p in cleaned}


@dataclass(frozen=True)
class Score:
    """What a formula gives for a payload: ``points`` (signed), or a ``range`` for an
    approver, or nothing with ``error`` saying why (``refused``: a value beyond what the
    ledger can post, which rejects the event rather than leaving the rule unmatched)."""

    points: int = 0
    low: int | None = None
    high: int | None = None
    explanation: str = ""
    error: str = ""
    refused: bool = False  # the payload is out of range: the event is rejected
    note: Note | None = None  # the explanation or the error as a code, for what is stored

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
                     explanation=_("%(points)+d fixed") % {"points": formula["points"]},
                     note=outcomes.note("fixed", points=formula["points"]))
    if kind == FormulaKind.PER_UNIT:
        units = _field(payload, formula["field"])
        if isinstance(units, bool) or not isinstance(units, int | float):
            return Score(error=_("The payload has no number in %s.") % formula["field"],
                         note=outcomes.note("no_number", field=formula["field"]))
        product = units * formula["points"]
        if ((isinstance(product, float) and not math.isfinite(product))
                or abs(product) > MAX_POINTS):
            return Score(refused=True, error=_(
                "%(field)s = %(units)s gives more than the %(max)s points the ledger can "
                "post.") % {"field": formula["field"], "units": units,
                            "max": f"{MAX_POINTS:,}"},
                note=outcomes.note("too_large", field=formula["field"], units=str(units),
                                   max=f"{MAX_POINTS:,}"))
        points = int(product)
        return Score(points=points, explanation=_("%(units)s × %(per)d per %(field)s")
                     % {"units": units, "per": formula["points"], "field": formula["field"]},
                     note=outcomes.note("per_unit", units=units, per=formula["points"],
                                        field=formula["field"]))
    if kind == FormulaKind.TABLE:
        value = _field(payload, formula["field"])
        key = "true" if value is True else "false" if value is False else str(value)
        if value is None or key not in formula["points"]:
            return Score(error=_("No points are listed for %(field)s = %(value)s.")
                         % {"field": formula["field"], "value": value},
                         note=outcomes.note("no_table_entry", field=formula["field"],
                                            value=str(value)[:100]))
        points = formula["points"][key]
        return Score(points=points, explanation=_("%(field)s = %(value)s → %(points)+d")
                     % {"field": formula["field"], "value": key, "points": points},
                     note=outcomes.note("table", field=formula["field"], value=key[:100],
                                        points=points))
    return Score(low=formula["min"], high=formula["max"],
                 explanation=_("%(min)d–%(max)d, settled by an approver")
                 % {"min": formula["min"], "max": formula["max"]},
                 note=outcomes.note("range", min=formula["min"], max=formula["max"]))


def period_start(period: str, moment: datetime) -> datetime:
    """The start of the day/week/month/year holding ``moment``, in the site's zone."""
    local = timezone.localtime(moment).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        return local - timedelta(days=local.weekday())
    if period == "month":
        return local.replace(day=1)
    if period == "year":
        return local.replace(month=1, day=1)
    return local


def period_end(period: str, moment: datetime) -> datetime:
    """The end (exclusive) of the day/week/month/year holding ``moment``."""
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
