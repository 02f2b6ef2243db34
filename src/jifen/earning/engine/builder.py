"""The visual rule builder's condition: rows of (field, operator, value) joined by all or
any, compiled here — and only here — into the CEL the engine runs.

A row's field is ``payload.<property>`` (a top-level property of the event type's schema,
typed by it) or ``employee.<attribute>`` (what ``employee_context`` exposes). Values never
reach CEL as text: each is checked against the field's type and written as a CEL literal
(strings quoted with every special character escaped), so a value that looks like CEL stays
a literal. The compiled condition still goes through ``compile_condition``'s checks."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.earning.engine.conditions import compile_condition, evaluate_condition

# What a condition sees of the employee (``employee_context``), with its type.
EMPLOYEE_FIELDS: dict[str, str] = {
    "department": "string",
    "department_path": "list",
    "position": "string",
    "grade": "string",
    "tenure_years": "number",
    "employee_no": "string",
}
# Operators fitting each type of field.
OPERATORS: dict[str, tuple[str, ...]] = {
    "string": ("eq", "ne", "in", "contains", "set"),
    "enum": ("eq", "ne", "in", "set"),
    "number": ("eq", "ne", "gt", "ge", "lt", "le", "in", "set"),
    "integer": ("eq", "ne", "gt", "ge", "lt", "le", "in", "set"),
    "boolean": ("eq", "set"),
    "list": ("contains", "set"),
}
SYMBOLS = {"eq": "=", "ne": "≠", "gt": ">", "ge": "≥", "lt": "<", "le": "≤"}
_CEL_OPS = {"eq": "==", "ne": "!=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
JOINS = ("all", "any")
MAX_ROWS = 20
MAX_LIST = 50
MAX_TEXT = 200
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# CEL's reserved words cannot follow a dot; such a property is reached by index instead.
_RESERVED = frozenset({
    "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for",
    "function", "if", "import", "let", "loop", "package", "namespace", "return", "var",
    "void", "while"})


@dataclass(frozen=True)
class Field:
    key: str  # "payload.hours" / "employee.grade"
    name: str  # "hours" / "grade"
    type: str  # a key of OPERATORS
    required: bool = True
    choices: tuple[Any, ...] = ()

    @property
    def on_payload(self) -> bool:
        return self.key.startswith("payload.")


def _prop_type(prop: dict[str, Any]) -> str | None:
    if isinstance(prop.get("enum"), list) and prop["enum"]:
        return "enum"
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind if kind in ("string", "number", "integer", "boolean") else None


def fields(schema: Any) -> list[Field]:
    """Every field a row may test for events with this payload schema: its top-level
    properties of a simple type, then the employee's attributes."""
    found: list[Field] = []
    schema = schema if isinstance(schema, dict) else {}
    properties = schema.get("properties")
    required = schema.get("required") if isinstance(schema.get("required"), list) else []
    if isinstance(properties, dict):
        for name, prop in properties.items():
            kind = _prop_type(prop) if isinstance(prop, dict) else None
            if kind is None or not isinstance(name, str) or len(name) > 60:
                continue
            found.append(Field(f"payload.{name}", name, kind, name in required,
                               tuple(prop["enum"]) if kind == "enum" else ()))
    found += [Field(f"employee.{name}", name, kind) for name, kind in EMPLOYEE_FIELDS.items()]
    return found


def catalogue(schema: Any) -> list[dict[str, Any]]:
    """The fields as JSON for the builder on the page."""
    return [{"key": f.key, "name": f.name, "type": f.type, "choices": list(f.choices),
             "operators": list(OPERATORS[f.type])} for f in fields(schema)]


def cel_string(text: str) -> str:
    """``text`` as a double-quoted CEL string literal: backslash, quote and every control
    character escaped; other characters (Chinese too) kept as they are."""
    out = ['"']
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 or 0xD800 <= ord(char) < 0xE000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _field_ref(field: Field) -> str:
    root, name = field.key.split(".", 1)
    if _IDENT.match(name) and name not in _RESERVED:
        return f"{root}.{name}"
    return f"{root}[{cel_string(name)}]"


class RowError(errors.ValidationError):
    """A row that cannot be compiled; ``details`` name the row (1-based) and its part."""


def _problem(number: int, part: str, message: str) -> RowError:
    return RowError(_("Condition row %(n)d: %(why)s") % {"n": number, "why": message},
                    code=errors.ErrorCode.INVALID_CONDITION,
                    details={"row": number, "part": part})


def _scalar(field: Field, value: Any, number: int) -> Any:
    """The value checked against the field's type, as Python (bool, int, float, str)."""
    kind = field.type
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if str(value).strip().lower() in ("true", "1", "yes"):
            return True
        if str(value).strip().lower() in ("false", "0", "no"):
            return False
        raise _problem(number, "value", _("choose yes or no"))
    if kind in ("number", "integer"):
        if isinstance(value, bool):
            raise _problem(number, "value", _("enter a number"))
        if isinstance(value, str):
            text = value.strip()
            try:
                value = int(text) if re.fullmatch(r"[-+]?\d{1,15}", text) else float(text)
            except ValueError:
                raise _problem(number, "value", _("enter a number")) from None
        if not isinstance(value, (int, float)) or (
                isinstance(value, float) and not math.isfinite(value)) or abs(value) > 1e15:
            raise _problem(number, "value", _("enter a number"))
        if kind == "integer" and isinstance(value, float):
            if not value.is_integer():
                raise _problem(number, "value", _("enter a whole number"))
            value = int(value)
        return value
    if not isinstance(value, str):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        else:
            raise _problem(number, "value", _("enter a text"))
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise _problem(number, "value", _("at most %d characters") % MAX_TEXT)
    if kind == "enum" and value not in [str(c) for c in field.choices]:
        raise _problem(number, "value", _("choose one of the listed values"))
    if kind == "enum":
        return next(c for c in field.choices if str(c) == value)
    return value


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return cel_string(str(value))


def _clean_row(row: Any, by_key: dict[str, Field], number: int) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise _problem(number, "field", _("choose a field"))
    field = by_key.get(str(row.get("field") or ""))
    if field is None:
        raise _problem(number, "field", _("choose a field"))
    op = row.get("op")
    if op not in OPERATORS[field.type]:
        raise _problem(number, "op", _("choose an operator that fits the field"))
    clean: dict[str, Any] = {"field": field.key, "op": op}
    if op == "set":
        return clean
    value = row.get("value")
    if op == "in":
        items = value if isinstance(value, list) else [
            part for part in str(value if value is not None else "").split(",")
            if part.strip()]
        if not items:
            raise _problem(number, "value", _("enter at least one value, separated by commas"))
        if len(items) > MAX_LIST:
            raise _problem(number, "value", _("at most %d values") % MAX_LIST)
        clean["value"] = [_scalar(field, item, number) for item in items]
        return clean
    if value is None or (isinstance(value, str) and not value.strip()
                         and field.type != "string"):
        raise _problem(number, "value", _("enter a value"))
    if field.type == "list":  # contains: one text
        clean["value"] = _scalar(Field(field.key, field.name, "string"), value, number)
    else:
        clean["value"] = _scalar(field, value, number)
    return clean


def row_cel(row: dict[str, Any], field: Field) -> str:
    """One clean row as CEL. An optional payload property is tested for presence first,
    so an event without it simply does not match that row."""
    ref, op = _field_ref(field), row["op"]
    name = field.key.split(".", 1)[1]
    if op == "set":
        if field.on_payload:
            return f"{cel_string(name)} in payload"
        if field.type == "list":
            return f"size({ref}) > 0"
        if field.type == "number":
            return "true"
        return f"{ref} != \"\""
    if op == "in":
        test = f"{ref} in [{', '.join(_literal(v) for v in row['value'])}]"
    elif op == "contains":
        test = (f"{_literal(row['value'])} in {ref}" if field.type == "list"
                else f"{ref}.contains({_literal(row['value'])})")
    else:
        test = f"{ref} {_CEL_OPS[op]} {_literal(row['value'])}"
    if field.on_payload and not field.required:
        return f"({cel_string(name)} in payload && {test})"
    return test


def clean_rows(spec: Any, schema: Any) -> dict[str, Any]:
    """The rows checked against the schema's fields and the operators of their types."""
    if not isinstance(spec, dict):
        raise errors.ValidationError(_("The condition rows must be an object with join and "
                                       "rows."), code=errors.ErrorCode.INVALID_CONDITION)
    join = spec.get("join") or "all"
    if join not in JOINS:
        raise errors.ValidationError(_("Join the rows with all or any."),
                                     code=errors.ErrorCode.INVALID_CONDITION)
    rows = spec.get("rows") or []
    if not isinstance(rows, list) or len(rows) > MAX_ROWS:
        raise errors.ValidationError(_("At most %d condition rows.") % MAX_ROWS,
                                     code=errors.ErrorCode.INVALID_CONDITION)
    by_key = {f.key: f for f in fields(schema)}
    return {"join": join,
            "rows": [_clean_row(row, by_key, n) for n, row in enumerate(rows, start=1)]}


def compile_rows(spec: Any, schema: Any) -> tuple[dict[str, Any], str]:
    """(clean rows, their CEL). No rows: the empty condition, which always holds."""
    clean = clean_rows(spec, schema)
    by_key = {f.key: f for f in fields(schema)}
    parts = [row_cel(row, by_key[row["field"]]) for row in clean["rows"]]
    glue = " && " if clean["join"] == "all" else " || "
    source = glue.join(f"({p})" if len(parts) > 1 and not p.startswith("(") else p
                       for p in parts)
    if source:
        compile_condition(source)
    return clean, source


def failing_rows(spec: dict[str, Any], schema: Any,
                 context: dict[str, Any]) -> list[tuple[dict[str, Any], Any]]:
    """The clean rows that do not hold for ``context``, each with the value it saw
    (``None`` when the event has no such field)."""
    by_key = {f.key: f for f in fields(schema)}
    failed = []
    for row in spec.get("rows", []):
        field = by_key.get(row["field"])
        if field is None:
            continue
        if not evaluate_condition(row_cel(row, field), context).matched:
            root, name = row["field"].split(".", 1)
            failed.append((row, (context.get(root) or {}).get(name)))
    return failed
