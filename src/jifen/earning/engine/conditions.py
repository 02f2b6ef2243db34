"""CEL conditions: compiling them (refusing constructs whose cost is not bounded,
decision 0010), evaluating them, and what a condition sees of the employee."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import cel
import re2
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.earning import outcomes
from jifen.earning.engine.schemas import linear_pattern
from jifen.earning.outcomes import Note
from jifen.people.models import Department

_POSITION = re.compile(r"<input>:(\d+):(\d+)")


@lru_cache(maxsize=512)
def compile_condition(source: str) -> Any:
    """The compiled CEL program, or a 422 ``invalid_condition`` naming line and column, or
    ``condition_too_costly`` (also with line and column) for a construct whose cost is not
    bounded (see ``_cost_refusal``)."""
    try:
        program = cel.compile(source)
    except (ValueError, TypeError, RuntimeError) as exc:
        text = str(exc)
        found = _POSITION.search(text)
        line, column = (int(found.group(1)), int(found.group(2))) if found else (1, 1)
        detail = text.split("ERROR: ", 1)[-1].split("\n", 1)[0]
        raise errors.ValidationError(
            _("The condition is not valid CEL at line %(line)d, column %(column)d: %(detail)s")
            % {"line": line, "column": column, "detail": detail},
            code=errors.ErrorCode.INVALID_CONDITION,
            details={"line": line, "column": column, "message": text},
        ) from exc
    refusal = _cost_refusal(source)
    if refusal is not None:
        offset, why = refusal
        line = source.count("\n", 0, offset) + 1
        column = offset - (source.rfind("\n", 0, offset) + 1) + 1
        raise errors.ValidationError(
            _("The condition may cost too much at line %(line)d, column %(column)d: %(why)s")
            % {"line": line, "column": column, "why": why},
            code=errors.ErrorCode.CONDITION_TOO_COSTLY,
            details={"line": line, "column": column, "message": why})
    return program


# The CEL binding has no cost limit, so a condition's cost is bounded by what it may
# contain (decision 0010): without loops an expression's work grows with its size and its
# input, both bounded (4,000 characters; ``MAX_PAYLOAD_CHARS``). The comprehension macros
# are the loops, and this binding's cost for them grows faster than the square of the
# list (``l.map(x, 1)`` over 400 items: 21 ms; over 5,000: seconds), so they are refused
# (``x in list`` still tests membership); ``+`` builds values whose sizes add up, so it is
# rationed; ``matches`` compiles its pattern on every call, so the pattern must be a small
# literal that RE2 accepts.
MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
MAX_PLUS = 16
MAX_MATCHES = 2
MAX_MATCHES_PROGRAM = 100  # RE2 program size of a ``matches`` pattern
_Q3, _A3 = '"' * 3, "'" * 3
_CEL_TOKEN = re.compile(
    r"(?P<space>\s+|//[^\n]*)"
    r"|(?P<string>(?:[rR][bB]?|[bB][rR]?)?"
    + "(?:" + _Q3 + r"(?:\\.|[^\\])*?" + _Q3 + "|" + _A3 + r"(?:\\.|[^\\])*?" + _A3
    + r'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))'''
    r"|(?P<number>0[xX][0-9a-fA-F]+[uU]?|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[uU]?"
    r"|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>.)", re.DOTALL)
# In a raw string a backslash escapes nothing, so it may end a raw string.
_RAW_STRING = re.compile(
    r"(?:[rR][bB]?|[bB][rR])(?:" + _Q3 + r"[\s\S]*?" + _Q3 + "|" + _A3 + r"[\s\S]*?" + _A3
    + r'''|"[^"\n]*"|'[^'\n]*')''')


def _cel_tokens(source: str) -> list[tuple[str, str, int]]:
    """(kind, text, offset) of each token of a condition that has compiled, which is all
    the cost check needs to know of its structure (the binding gives no syntax tree)."""
    tokens = []
    position = 0
    while position < len(source):
        found = _RAW_STRING.match(source, position)
        kind = "string"
        if found is None:
            found = _CEL_TOKEN.match(source, position)
            assert found is not None  # the last alternative matches any character
            kind = str(found.lastgroup)
        if kind != "space":
            tokens.append((kind, found.group(0), position))
        position = found.end()
    return tokens


def _matches_refusal(tokens: list[tuple[str, str, int]], index: int) -> str:
    """Why the ``matches(`` whose parenthesis is ``tokens[index]`` is refused, or ""."""
    if index < 2 or tokens[index - 2][1] != ".":
        return _('write text.matches("pattern")')
    if (len(tokens) < index + 3 or tokens[index + 1][0] != "string"
            or tokens[index + 2][1] != ")"):
        return _("the pattern of matches must be written as a string literal")
    try:
        pattern = ast.literal_eval(tokens[index + 1][1])
    except (ValueError, SyntaxError):
        pattern = None
    if not isinstance(pattern, str):
        return _("the pattern of matches must be a plain string literal")
    try:
        compiled = linear_pattern(pattern)
    except re2.error as exc:
        return _("%(pattern)s cannot run in linear time (%(why)s)") % {
            "pattern": pattern[:100], "why": exc}
    if compiled.programsize > MAX_MATCHES_PROGRAM:
        return _("the pattern %s is too large") % pattern[:100]
    return ""


def _cost_refusal(source: str) -> tuple[int, str] | None:
    """(offset, why) of the first construct whose cost the limits above do not bound."""
    tokens = _cel_tokens(source)
    plus = matches = 0
    for index, (kind, text, offset) in enumerate(tokens):
        if kind != "op":
            continue
        previous = tokens[index - 1] if index else ("", "", 0)
        called = previous[1] if text == "(" and previous[0] == "name" else ""
        if called in MACROS and index >= 2 and tokens[index - 2][1] == ".":
            return previous[2], _("%s loops over a list, and loops are not allowed in "
                                  "conditions (write x in list to test membership)") % called
        if called == "matches":
            matches += 1
            if matches > MAX_MATCHES:
                return previous[2], _("more than %d uses of matches") % MAX_MATCHES
            if why := _matches_refusal(tokens, index):
                return previous[2], why
        elif text == "+":
            plus += 1
            if plus > MAX_PLUS:
                return offset, _("more than %d additions") % MAX_PLUS
    return None


def check_condition(source: str) -> str:
    source = (source or "").strip()
    if source:
        compile_condition(source)
    return source


@dataclass(frozen=True)
class ConditionResult:
    matched: bool
    error: str = ""
    note: Note | None = None  # the error as a code, for what is stored


def evaluate_condition(source: str, context: dict[str, Any]) -> ConditionResult:
    """Whether the condition holds. An empty condition always holds; one that cannot be
    evaluated (a missing payload field, a wrong type) does not, and says why."""
    if not source:
        return ConditionResult(True)
    try:
        value = compile_condition(source).execute(context)
    except errors.ValidationError as exc:
        return ConditionResult(False, exc.message, outcomes.text(exc.message))
    except Exception as exc:
        # Whatever the binding raises (ZeroDivisionError, OverflowError, IndexError…)
        # fails this condition for this event, never the batch.
        return ConditionResult(False, _("The condition could not be evaluated: %s") % exc,
                               outcomes.note("condition_error", error=str(exc)[:300]))
    if not isinstance(value, bool):
        return ConditionResult(False, _("The condition must give true or false."),
                               outcomes.note("condition_not_bool"))
    return ConditionResult(value)


def department_path_ids(department: Any) -> list[int]:
    """The ids of the department and its ancestors, root first."""
    return [int(part) for part in department.path.strip("/").split("/") if part]


def department_path_codes(department: Any, codes: dict[int, str] | None = None) -> list[str]:
    """The codes of the department and its ancestors, root first (``codes``: id → code
    already loaded for them)."""
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
