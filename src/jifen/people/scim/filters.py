"""SCIM filter expressions (RFC 7644 §3.4.2.2) → Django Q objects.

A small recursive-descent parser over the whole grammar the RFC gives (``and``, ``or``,
``not (…)``, parentheses, ``pr``, value paths such as ``emails[type eq "work"]``) with a
map per resource from attribute paths to model fields. An attribute the map does not know,
or anything malformed, is a 400 ``invalidFilter`` — never a 500. Input is bounded (length
and nesting) so a filter cannot run unbounded."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils.dateparse import parse_datetime

from jifen.people.scim.errors import bad_request

MAX_FILTER_LENGTH = 2000
MAX_DEPTH = 20

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:user:"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:group:"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:"

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<punct>[()\[\]])|(?P<word>[^\s()\[\]"]+))'
)
_OPERATORS = {"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"}


def normalise_path(path: str) -> str:
    """An attribute path in one spelling: lower case, the core schema's URN dropped, the
    enterprise extension's URN shortened to ``enterprise:``."""
    lowered = path.strip().lower()
    for prefix in (CORE_USER, CORE_GROUP):
        if lowered.startswith(prefix):
            return lowered[len(prefix):]
    if lowered.startswith(ENTERPRISE):
        return "enterprise:" + lowered[len(ENTERPRISE):]
    return lowered


@dataclass(frozen=True)
class Field:
    """Where an attribute lives: the ORM lookup, its kind and whether it compares exactly."""

    lookup: str
    kind: str = "str"  # "str", "bool", "int", "datetime"
    case_exact: bool = False
    # For booleans stored as something else: value → Q.
    bool_q: Callable[[bool], Q] | None = None


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise bad_request(f"Cannot read the filter near position {position}.", "invalidFilter")
        position = match.end()
        kind = match.lastgroup or "word"
        found.append((kind, match.group(kind)))
    return found


class _Parser:
    def __init__(self, text: str, fields: dict[str, Field]):
        if len(text) > MAX_FILTER_LENGTH:
            raise bad_request("The filter is too long.", "invalidFilter")
        self.tokens = _tokens(text)
        self.position = 0
        self.fields = fields
        self.depth = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise bad_request("The filter ends too early.", "invalidFilter")
        self.position += 1
        return token

    def expect(self, punct: str) -> None:
        kind, value = self.take()
        if kind != "punct" or value != punct:
            raise bad_request(f"Expected {punct!r} in the filter, found {value!r}.",
                              "invalidFilter")

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token and token[0] == "word" and token[1].lower() == word:
            self.position += 1
            return True
        return False

    def parse(self) -> Q:
        if not self.tokens:
            raise bad_request("The filter is empty.", "invalidFilter")
        q = self.or_expr("")
        if self.peek() is not None:
            raise bad_request(f"Unexpected {self.peek()[1]!r} in the filter.",  # type: ignore[index]
                              "invalidFilter")
        return q

    def or_expr(self, prefix: str) -> Q:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise bad_request("The filter is nested too deeply.", "invalidFilter")
        q = self.and_expr(prefix)
        while self.keyword("or"):
            q = q | self.and_expr(prefix)
        self.depth -= 1
        return q

    def and_expr(self, prefix: str) -> Q:
        q = self.not_expr(prefix)
        while self.keyword("and"):
            q = q & self.not_expr(prefix)
        return q

    def not_expr(self, prefix: str) -> Q:
        if self.keyword("not"):
            self.expect("(")
            q = self.or_expr(prefix)
            self.expect(")")
            return ~q
        token = self.peek()
        if token == ("punct", "("):
            self.take()
            q = self.or_expr(prefix)
            self.expect(")")
            return q
        return self.attr_expr(prefix)

    def attr_expr(self, prefix: str) -> Q:
        kind, path = self.take()
        if kind != "word":
            raise bad_request(f"Expected an attribute name, found {path!r}.", "invalidFilter")
        path = normalise_path(path)
        if prefix:
            path = f"{prefix}.{path}"
        if self.peek() == ("punct", "["):
            # A value path: attr[filter], optionally followed by .sub op value.
            self.take()
            q = self.or_expr(path)
            self.expect("]")
            return q
        kind, op = self.take()
        op = op.lower()
        if kind != "word" or (op not in _OPERATORS and op != "pr"):
            raise bad_request(f"Unknown operator {op!r} in the filter.", "invalidFilter")
        field = self.fields.get(path)
        if field is None:
            raise bad_request(f"Filtering on {path!r} is not supported.", "invalidFilter")
        if op == "pr":
            return _present(field)
        return _compare(field, op, self.value())

    def value(self) -> Any:
        kind, raw = self.take()
        if kind == "str":
            try:
                return json.loads(raw)
            except ValueError as exc:
                raise bad_request("A string in the filter is malformed.", "invalidFilter") from exc
        if kind == "word":
            lowered = raw.lower()
            if lowered in ("true", "false"):
                return lowered == "true"
            if lowered == "null":
                return None
            try:
                return json.loads(raw) if re.fullmatch(r"-?\d+(\.\d+)?", raw) else _bad(raw)
            except ValueError:
                pass
        raise bad_request(f"Expected a value in the filter, found {raw!r}.", "invalidFilter")


def _bad(raw: str) -> Any:
    raise ValueError(raw)


def _present(field: Field) -> Q:
    if field.kind == "bool":
        return Q(pk__isnull=False)
    if field.kind == "str":
        return ~Q(**{field.lookup: ""}) & Q(**{f"{field.lookup}__isnull": False})
    return Q(**{f"{field.lookup}__isnull": False})


def _compare(field: Field, op: str, value: Any) -> Q:
    if field.kind == "bool":
        if not isinstance(value, bool) or op not in ("eq", "ne"):
            raise bad_request("A boolean attribute compares with eq or ne and true or false.",
                              "invalidFilter")
        q = field.bool_q(value) if field.bool_q else Q(**{field.lookup: value})
        return ~q if op == "ne" else q
    if field.kind == "int":
        try:
            number = int(value)
        except (TypeError, ValueError):
            return Q(pk__in=[])  # no resource has a non-numeric id
        return _ordered(field.lookup, op, number, exact=True)
    if field.kind == "datetime":
        moment: datetime | None = parse_datetime(str(value)) if value is not None else None
        if moment is None:
            raise bad_request("A date in the filter is not an RFC 3339 date-time.",
                              "invalidFilter")
        return _ordered(field.lookup, op, moment, exact=True)
    if value is None:
        q = Q(**{field.lookup: ""}) | Q(**{f"{field.lookup}__isnull": True})
        return ~q if op == "ne" else q
    if not isinstance(value, str):
        value = str(value).lower() if isinstance(value, bool) else str(value)
    return _ordered(field.lookup, op, value, exact=field.case_exact)


def _ordered(lookup: str, op: str, value: Any, *, exact: bool) -> Q:
    prefix = "" if exact else "i"
    table = {
        "eq": f"{lookup}__{prefix}exact" if not exact else lookup,
        "ne": f"{lookup}__{prefix}exact" if not exact else lookup,
        "co": f"{lookup}__{prefix}contains",
        "sw": f"{lookup}__{prefix}startswith",
        "ew": f"{lookup}__{prefix}endswith",
        "gt": f"{lookup}__gt", "ge": f"{lookup}__gte",
        "lt": f"{lookup}__lt", "le": f"{lookup}__lte",
    }
    if op in ("co", "sw", "ew") and not isinstance(value, str):
        raise bad_request(f"{op} compares strings.", "invalidFilter")
    q = Q(**{table[op]: value})
    return ~q if op == "ne" else q


def parse_filter(text: str, fields: dict[str, Field]) -> Q:
    """The Q object that selects what ``text`` describes, or a 400 ``invalidFilter``."""
    return _Parser(text, fields).parse()
