"""Scoring without side effects: CEL conditions (``conditions``), payload schemas
(``schemas``), the bounds on any payload (``payloads``), formulas, caps and their plain
words (``formulas``). Services and the rule preview both use these; callers write
``from jifen.earning import engine`` and ``engine.score(...)``."""

from __future__ import annotations

from jifen.earning.engine.conditions import (
    MACROS,
    MAX_MATCHES,
    MAX_MATCHES_PROGRAM,
    MAX_PLUS,
    ConditionResult,
    check_condition,
    compile_condition,
    department_path_codes,
    department_path_ids,
    employee_context,
    evaluate_condition,
)
from jifen.earning.engine.formulas import (
    CAP_PERIODS,
    Score,
    check_caps,
    check_formula,
    describe_caps,
    describe_formula,
    period_end,
    period_start,
    score,
)
from jifen.earning.engine.payloads import (
    MAX_PAYLOAD_CHARS,
    MAX_PAYLOAD_DEPTH,
    MAX_PAYLOAD_VALUES,
    payload_problem,
)
from jifen.earning.engine.schemas import (
    DIALECT,
    MAX_PATTERN_PROGRAM,
    MAX_SCHEMA_CHARS,
    MAX_SCHEMA_DEPTH,
    MAX_SCHEMA_NODES,
    MAX_SCHEMA_STEPS,
    check_schema,
    linear_pattern,
    schema_problem,
)

__all__ = [
    "CAP_PERIODS", "DIALECT", "MACROS", "MAX_MATCHES", "MAX_MATCHES_PROGRAM",
    "MAX_PATTERN_PROGRAM", "MAX_PAYLOAD_CHARS", "MAX_PAYLOAD_DEPTH", "MAX_PAYLOAD_VALUES",
    "MAX_PLUS", "MAX_SCHEMA_CHARS", "MAX_SCHEMA_DEPTH", "MAX_SCHEMA_NODES",
    "MAX_SCHEMA_STEPS", "ConditionResult", "Score", "check_caps", "check_condition",
    "check_formula", "check_schema", "compile_condition", "department_path_codes",
    "department_path_ids", "describe_caps", "describe_formula", "employee_context",
    "evaluate_condition", "linear_pattern", "payload_problem", "period_end", "period_start",
    "schema_problem", "score",
]
