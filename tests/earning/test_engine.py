"""tests/earning/test_engine.py mirrors jifen/earning/engine/: conditions, schemas,
payload bounds and formulas, without a database."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone, translation

from jifen.earning import engine
from jifen.earning.builtins import BUILTIN_EVENT_TYPES
from jifen.earning.display import PayloadLabels


def at(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text))


# --- conditions -------------------------------------------------------------------------------


@pytest.mark.parametrize("source, code", [
    ('payload.note.matches(payload.pattern)', "condition_too_costly"),
    ('payload.items.exists(i, i.matches("^a"))', "condition_too_costly"),
    ('payload.items.map(i, 1).size() > 0', "condition_too_costly"),
    ('payload.a > 1 &&\n  payload.items.filter(i, i > 1).size() > 0', "condition_too_costly"),
    ('"a".matches("a") && "b".matches("b") && "c".matches("c")', "condition_too_costly"),
    ('matches(payload.note, "a")', "condition_too_costly"),
    ('payload.note.matches("(a)\\\\1")', "condition_too_costly"),
    (" + ".join(["payload.s"] * 40) + ' == ""', "condition_too_costly"),
])
def test_other_expensive_constructs_are_refused(source, code):
    with pytest.raises(Exception) as caught:
        engine.check_condition(source)
    assert getattr(caught.value, "code", "") == code
    assert {"line", "column"} <= set(caught.value.details)

@pytest.mark.parametrize("source", [
    '"SALES" in employee.department_path && payload.percent >= 100',
    '"gold" in payload.kinds && size(payload.items) < 10 && has(payload.a.b)',
    'payload.code.matches("^PRJ-[0-9]+$")',
    "has(payload.on_time) && payload.on_time // a comment (with a bracket",
    "'it\\'s' != \"x)\" && r'\\' != '' && payload.a + payload.b > 1",
    'payload.mapping == {"filter": "all(x, y)"} && payload.exists',
])
def test_ordinary_conditions_pass(source):
    assert engine.check_condition(source) == source.strip()


def test_a_condition_that_cannot_be_evaluated_does_not_hold_and_says_why():
    assert engine.evaluate_condition("", {}).matched
    held = engine.evaluate_condition("payload.minutes > 5", {"payload": {"minutes": 6}})
    assert held == engine.ConditionResult(True)
    missing = engine.evaluate_condition("payload.minutes > 5", {"payload": {}})
    assert not missing.matched and missing.error
    with translation.override("en"):
        not_bool = engine.evaluate_condition("payload.minutes", {"payload": {"minutes": 6}})
    assert (not_bool.matched, not_bool.error) == (False, "The condition must give true or false.")


# --- schemas ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(BUILTIN_EVENT_TYPES))
def test_every_built_in_schema_passes_the_checks(code):
    assert engine.check_schema(BUILTIN_EVENT_TYPES[code].schema)


def test_a_payload_is_checked_against_its_schema():
    schema = {"type": "object", "required": ["level"], "properties": {"level": {"type": "integer"}}}
    assert engine.schema_problem(schema, {"level": 2}) == ""
    assert "level" in engine.schema_problem(schema, {"level": "high"})
    with translation.override("en"):
        assert engine.schema_problem(schema, [1]) == "The payload must be a JSON object."


# --- payloads ---------------------------------------------------------------------------------


@pytest.mark.parametrize("payload, problem", [
    ({"minutes": 3, "tags": ["a", "b"]}, ""),
    ({"x": float("nan")}, "x must be a finite number."),
    ({"x": 2**63}, "x is out of range."),
    ({"x": list(range(engine.MAX_PAYLOAD_VALUES))}, "The payload holds more than 500 values."),
    ({"x": "y" * engine.MAX_PAYLOAD_CHARS}, "The payload is longer than 16,384 characters."),
])
def test_payload_bounds(payload, problem):
    with translation.override("en"):
        assert engine.payload_problem(payload) == problem


def test_a_payload_nested_too_deep_is_refused():
    payload: dict = {}
    for _n in range(engine.MAX_PAYLOAD_DEPTH + 1):
        payload = {"a": payload}
    with translation.override("en"):
        assert engine.payload_problem(payload) == "The payload is nested more than 20 levels deep."


# --- formulas ---------------------------------------------------------------------------------


def test_each_formula_kind_scores_a_payload():
    assert engine.score({"kind": "fixed", "points": -5}, {}).points == -5
    per_unit = engine.check_formula({"kind": "per_unit", "field": "hours", "points": 2})
    assert engine.score(per_unit, {"hours": 3}).points == 6
    assert engine.score(per_unit, {}).error
    table = engine.check_formula({"kind": "table", "field": "ok", "points": {"true": 4}})
    assert engine.score(table, {"ok": True}).points == 4
    ranged = engine.score(engine.check_formula({"kind": "range", "min": 1, "max": 9}), {})
    assert ranged.is_range and (ranged.low, ranged.high) == (1, 9)


def test_a_per_unit_result_beyond_the_ledger_refuses_the_event():
    formula = {"kind": "per_unit", "field": "n", "points": 1000}
    assert engine.score(formula, {"n": 10**15}).refused


@pytest.mark.parametrize("formula", [
    {"kind": "fixed", "points": 0}, {"kind": "fixed", "points": 1.5},
    {"kind": "range", "min": 5, "max": 1}, {"kind": "table", "field": "x", "points": {}},
    {"kind": "nope"}, "fixed",
])
def test_bad_formulas_are_a_422_invalid_formula(formula):
    with pytest.raises(Exception) as caught:
        engine.check_formula(formula)
    assert getattr(caught.value, "code", "") == "invalid_formula"


def test_caps_are_kept_in_period_order_and_must_be_positive():
    assert engine.check_caps({"month": 100, "day": 5, "week": ""}) == {"day": 5, "month": 100}
    with pytest.raises(Exception) as caught:
        engine.check_caps({"hour": 1})
    assert getattr(caught.value, "code", "") == "invalid_caps"


@pytest.mark.parametrize("period, start, end", [
    ("day", "2026-03-04T00:00", "2026-03-05T00:00"),
    ("week", "2026-03-02T00:00", "2026-03-09T00:00"),  # Monday to Monday
    ("month", "2026-03-01T00:00", "2026-04-01T00:00"),
    ("year", "2026-01-01T00:00", "2027-01-01T00:00"),
])
def test_cap_periods_are_half_open_in_the_sites_zone(period, start, end):
    moment = at("2026-03-04T23:59")
    assert engine.period_start(period, moment) == at(start)
    assert engine.period_end(period, moment) == at(end)


def test_a_table_lists_values_in_the_schemas_order_whatever_order_the_database_keeps():
    schema = BUILTIN_EVENT_TYPES["task_delivered"].schema
    stored = {"kind": "table", "field": "difficulty",  # as PostgreSQL's jsonb keeps them
              "points": {"low": 50, "high": 150, "medium": 100, "critical": 200, "odd": 1}}
    with translation.override("en"):
        text = engine.describe_formula(stored, "points", PayloadLabels(schema, translate=True))
    assert text == "by Difficulty (Low: +50, Medium: +100, High: +150, Critical: +200, " \
                   "odd: +1) points"
