"""Scoring without side effects: CEL conditions, formulas, payload schemas and the plain
words a rule is published in. Services and the rule preview both use these."""

from __future__ import annotations

import ast
import copy
import json
import math
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import cel
import jsonschema
import re2
import referencing
import referencing.exceptions
from django.utils import timezone
from django.utils.translation import gettext as _
from referencing.jsonschema import DRAFT202012

from jifen.core import errors
from jifen.earning.models import FormulaKind
from jifen.ledger.amounts import MAX_POINTS

CAP_PERIODS = ("day", "week", "month", "year")
_POSITION = re.compile(r"<input>:(\d+):(\d+)")


# --- conditions -------------------------------------------------------------------------


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
            code="invalid_condition",
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
            code="condition_too_costly",
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
        compiled = _re2(pattern)
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


def evaluate_condition(source: str, context: dict[str, Any]) -> ConditionResult:
    """Whether the condition holds. An empty condition always holds; one that cannot be
    evaluated (a missing payload field, a wrong type) does not, and says why."""
    if not source:
        return ConditionResult(True)
    try:
        value = compile_condition(source).execute(context)
    except errors.ValidationError as exc:
        return ConditionResult(False, exc.message)
    except Exception as exc:
        # Whatever the binding raises (ZeroDivisionError, OverflowError, IndexError…)
        # fails this condition for this event, never the batch.
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
#
# Schemas are written by admins and evaluated against payloads sent by other systems: they
# may refer only to their own parts (a registry that retrieves nothing: no file, no
# network), must be JSON Schema 2020-12, are bounded in size and depth, and their patterns
# run on RE2, whose time is linear in the text (decision 0010).

DIALECT = "https://json-schema.org/draft/2020-12/schema"
MAX_SCHEMA_CHARS = 64 * 1024
# Nested objects and arrays; the built-in schemas use 4, and MariaDB refuses to store JSON
# nested deeper than 32.
MAX_SCHEMA_DEPTH = 30
MAX_PATTERN_PROGRAM = 2000  # RE2's program size for one pattern
# Subschemas once every reference is replaced by what it refers to (decision 0010).
MAX_SCHEMA_NODES = 2_000
_ROOT_URI = "urn:jifen:event-type-schema"
# Where 2020-12 keeps subschemas (as ``referencing.jsonschema.DRAFT202012`` lists them).
_IN_VALUE = {"additionalProperties", "contains", "contentSchema", "else", "if", "items",
             "not", "propertyNames", "then", "unevaluatedItems", "unevaluatedProperties"}
_IN_ARRAY = {"allOf", "anyOf", "oneOf", "prefixItems"}
_IN_MAP = {"$defs", "definitions", "dependentSchemas", "patternProperties", "properties"}
_NOT_EVALUATED = {"$defs", "definitions"}  # only through a reference
_REF_ERRORS = (referencing.exceptions.Unresolvable, referencing.exceptions.Unretrievable,
               referencing.exceptions.NoSuchResource,
               referencing.exceptions.CannotDetermineSpecification)


def _retrieve_nothing(uri: str) -> Any:
    raise referencing.exceptions.NoSuchResource(ref=uri)


_REGISTRY: referencing.Registry = referencing.Registry(retrieve=_retrieve_nothing)


def _pointer(path: Iterable[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _schema_refused(message: str, path: Iterable[Any] = ()) -> errors.ValidationError:
    where = _pointer(path)
    text = _("The payload schema is refused at %(path)s: %(message)s") % {
        "path": where or "/", "message": message} if where else (
        _("The payload schema is refused: %s") % message)
    return errors.ValidationError(text, code="invalid_schema",
                                  details={"path": where, "message": message})


@lru_cache(maxsize=1024)
def _re2(pattern: str) -> Any:
    """The pattern compiled by RE2, or ``re2.error`` (backreferences, lookaround and the
    like, which only a backtracking engine runs — in exponential time)."""
    compiled = re2.compile(pattern)
    if compiled.programsize > MAX_PATTERN_PROGRAM:
        raise re2.error(_("the pattern is too large"))
    return compiled


def _pattern_refusal(pattern: Any) -> str:
    if not isinstance(pattern, str):
        return _("a pattern must be a string")
    try:
        _re2(pattern)
    except re2.error as exc:
        return _("%(pattern)s cannot run in linear time (%(why)s)") % {
            "pattern": pattern[:100], "why": exc}
    return ""


def _depth_refusal(schema: Any) -> list[Any] | None:
    """The path of the first value nested deeper than ``MAX_SCHEMA_DEPTH``, or None."""
    todo: list[tuple[Any, list[Any]]] = [(schema, [])]
    while todo:
        value, path = todo.pop()
        if len(path) > MAX_SCHEMA_DEPTH:
            return path
        if isinstance(value, dict):
            todo += [(v, [*path, k]) for k, v in value.items()]
        elif isinstance(value, list):
            todo += [(v, [*path, n]) for n, v in enumerate(value)]
    return None


def _subschemas(schema: dict[str, Any]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    for key, value in schema.items():
        if key in _IN_VALUE:
            yield (key,), value
        elif key in _IN_ARRAY and isinstance(value, list):
            yield from (((key, n), item) for n, item in enumerate(value))
        elif key in _IN_MAP and isinstance(value, dict):
            yield from (((key, name), item) for name, item in value.items())


def _ref_targets(node: dict[str, Any], resolver: Any,
                 dynamic_anchors: dict[str, list[Any]]) -> Iterator[tuple[str, Any, Any]]:
    """(keyword, target, its resolver) of each reference of ``node``; raises one of
    ``_REF_ERRORS`` for a reference that does not resolve within the document. A
    ``$dynamicRef`` may also land on any ``$dynamicAnchor`` of its name, as the dynamic
    scope decides at evaluation: each of those counts as a target too."""
    for key in ("$ref", "$dynamicRef"):
        if key not in node:
            continue
        ref = node[key]
        if not isinstance(ref, str):
            raise referencing.exceptions.Unresolvable(ref=str(ref))
        resolved = resolver.lookup(ref)
        yield key, resolved.contents, resolved.resolver
        if key == "$dynamicRef" and ref.startswith("#"):
            for anchor in dynamic_anchors.get(ref[1:], []):
                yield key, anchor, resolver


def _unresolvable(ref: Any, path: list[Any]) -> errors.ValidationError:
    return _schema_refused(
        _("%s cannot be resolved: a schema may refer only to its own parts "
          "(like #/$defs/name)") % str(ref)[:200], path)


def _walk_refusal(schema: dict[str, Any]) -> errors.ValidationError | None:
    """Check the dialect, references and patterns of every subschema, and that following
    the references neither loops nor expands the schema past ``MAX_SCHEMA_NODES``
    (decision 0010; no recursion)."""
    registry = _REGISTRY.with_resource(_ROOT_URI, DRAFT202012.create_resource(schema))
    root = registry.resolver(_ROOT_URI)
    # 1. Every object of the document, subschema or not (a reference may point anywhere):
    # its place, and each of its references must resolve within the document.
    paths: dict[int, list[Any]] = {}
    resolvers: dict[int, Any] = {}
    dynamic_anchors: dict[str, list[Any]] = {}
    todo: list[tuple[Any, list[Any], Any]] = [(schema, [], root)]
    while todo:
        value, path, resolver = todo.pop()
        if isinstance(value, list):
            todo += [(v, [*path, n], resolver) for n, v in reversed(list(enumerate(value)))]
            continue
        if not isinstance(value, dict):
            continue
        resolver = resolver.in_subresource(DRAFT202012.create_resource(value))
        paths[id(value)], resolvers[id(value)] = path, resolver
        if isinstance(value.get("$dynamicAnchor"), str):
            dynamic_anchors.setdefault(value["$dynamicAnchor"], []).append(value)
        for key in ("$ref", "$dynamicRef"):
            if isinstance(value.get(key), str):
                try:
                    resolver.lookup(value[key])
                except _REF_ERRORS:
                    return _unresolvable(value[key], [*path, key])
        todo += [(v, [*path, k], resolver) for k, v in reversed(value.items())]
    # 2. The subschemas, as the validator reaches them: through the keywords that hold
    # subschemas and through references, each an edge of a graph.
    edges: dict[int, list[tuple[Any, list[Any] | None, bool]]] = {}
    todo = [(schema, [], root)]
    while todo:
        node, path, resolver = todo.pop()
        if not isinstance(node, dict) or id(node) in edges:
            continue
        path = paths.get(id(node), path)
        dialect = node.get("$schema")
        if dialect is not None and str(dialect).rstrip("#") != DIALECT:
            return _schema_refused(_("only JSON Schema 2020-12 (%s) is supported") % DIALECT,
                                   [*path, "$schema"])
        try:
            targets = list(_ref_targets(node, resolvers.get(id(node), resolver),
                                        dynamic_anchors))
        except _REF_ERRORS:  # strings were looked up above: this one is not a string
            key = next((k for k in ("$ref", "$dynamicRef")
                        if k in node and not isinstance(node[k], str)), "$ref")
            return _unresolvable(node[key], [*path, key])
        if "pattern" in node and (why := _pattern_refusal(node["pattern"])):
            return _schema_refused(why, [*path, "pattern"])
        if isinstance(node.get("patternProperties"), dict):
            for pattern in node["patternProperties"]:
                if why := _pattern_refusal(pattern):
                    return _schema_refused(why, [*path, "patternProperties", pattern])
        children = [(sub, [*path, *where], where[0] not in _NOT_EVALUATED)
                    for where, sub in _subschemas(node)]
        edges[id(node)] = [(sub, None, counted) for sub, _p, counted in children] + [
            (target, [*path, key], True) for key, target, _r in targets]
        todo += [(target, paths.get(id(target), [*path, key]), target_resolver)
                 for key, target, target_resolver in reversed(targets)]
        todo += [(sub, sub_path, resolver) for sub, sub_path, _c in reversed(children)]
    return _graph_refusal(schema, edges, paths)


def _graph_refusal(schema: dict[str, Any], edges: dict[int, list[tuple[Any, list[Any] | None,
                                                                      bool]]],
                   paths: dict[int, list[Any]]) -> errors.ValidationError | None:
    """Refuse a reference cycle (any: the payload is bounded, but a cycle lets the
    validator recurse until Python stops it) and a schema that references expand past
    ``MAX_SCHEMA_NODES`` subschemas (a chain of $defs each referring twice to the next
    doubles at each step). Depth-first, without recursion; each node's expanded size is
    computed once."""
    size: dict[int, int] = {}
    on_stack: dict[int, int] = {}  # node id -> its place in ``stack``
    # (node, index of the next edge, the ref path the node was entered through)
    stack: list[tuple[Any, int, list[Any] | None]] = []
    for start in [schema, *(n for n in _all_nodes(schema, edges))]:
        if id(start) in size:
            continue
        stack.append((start, 0, None))
        on_stack[id(start)] = 0
        while stack:
            node, index, entered = stack[-1]
            out = edges.get(id(node), [])
            if index < len(out):
                stack[-1] = (node, index + 1, entered)
                child, ref_path, _counted = out[index]
                if not isinstance(child, dict) or id(child) in size:
                    continue
                if id(child) in on_stack:
                    refs = [e for _n, _i, e in stack[on_stack[id(child)] + 1:] if e]
                    where = ref_path or (refs[0] if refs else paths.get(id(child), []))
                    return _schema_refused(
                        _("its references form a cycle (a schema may not refer to itself "
                          "or to a schema that contains it)"), where)
                on_stack[id(child)] = len(stack)
                stack.append((child, 0, ref_path))
                continue
            stack.pop()
            del on_stack[id(node)]
            total = 1 + sum(size.get(id(child), 0) for child, _r, counted in out
                            if counted and isinstance(child, dict))
            if total > MAX_SCHEMA_NODES:
                return _schema_refused(
                    _("following its references, it expands to more than %s subschemas")
                    % f"{MAX_SCHEMA_NODES:,}", paths.get(id(node), []))
            size[id(node)] = total
    return None


def _all_nodes(schema: dict[str, Any], edges: dict[int, Any]) -> Iterator[Any]:
    """Every subschema the walk reached (so a cycle among unused $defs is found too)."""
    todo: list[Any] = [schema]
    seen: set[int] = set()
    while todo:
        node = todo.pop()
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        todo += [child for child, _r, _c in edges.get(id(node), [])]


def check_schema(schema: Any) -> dict[str, Any]:
    """The schema if it is safe to evaluate, or a 422 ``invalid_schema`` whose details
    name the place (``path``, a JSON pointer into the schema)."""
    if not isinstance(schema, dict):
        raise _schema_refused(_("The payload schema must be a JSON object."))
    _check_schema_json(json.dumps(schema, sort_keys=True, ensure_ascii=False, default=str))
    return schema


@lru_cache(maxsize=256)
def _schema_refusal(schema_json: str) -> errors.ValidationError | None:
    """Why the schema is refused (None: it is not); cached, as events check the schema
    their type has stored."""
    try:
        _check_schema_json(schema_json)
    except errors.ValidationError as exc:
        return exc
    return None


def _check_schema_json(schema_json: str) -> None:
    if len(schema_json) > MAX_SCHEMA_CHARS:
        raise _schema_refused(_("it is longer than %s characters") % f"{MAX_SCHEMA_CHARS:,}")
    schema = json.loads(schema_json)
    too_deep = _depth_refusal(schema)
    if too_deep is not None:
        raise _schema_refused(_("it is nested more than %d levels deep") % MAX_SCHEMA_DEPTH,
                              too_deep)
    dialect = schema.get("$schema")
    if dialect is not None and str(dialect).rstrip("#") != DIALECT:
        raise _schema_refused(_("only JSON Schema 2020-12 (%s) is supported") % DIALECT,
                              ["$schema"])
    try:
        _Validator.check_schema(schema, format_checker=_META_FORMATS)
    except jsonschema.SchemaError as exc:
        raise _schema_refused(exc.message, exc.absolute_path) from exc
    refusal = _walk_refusal(schema)
    if refusal is not None:
        raise refusal


# Work per payload is bounded by counting the keywords evaluated (a step each; about 25 µs
# each in jsonschema): the subschemas that apply to each value of the payload add up to
# far more than the schema's size (``items`` holding 500 subschemas, over a list of 500
# numbers: 250,000 steps, 12 s). A payload that needs more steps is rejected, saying so.
MAX_SCHEMA_STEPS = 5_000
_steps = threading.local()


class _TooCostly(Exception):
    pass


def _counted(check: Any) -> Any:
    def counted(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        left = getattr(_steps, "left", None)
        if left is not None:
            if left <= 0:
                raise _TooCostly
            _steps.left = left - 1
        return check(validator, value, instance, schema)

    return counted


def _re2_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if validator.is_type(instance, "string") and not _re2(pattern).search(instance):
        yield jsonschema.ValidationError(
            _("%(value)s does not match %(pattern)s") % {"value": repr(instance[:100]),
                                                          "pattern": repr(pattern)})


def _re2_pattern_properties(validator: Any, properties: dict[str, Any], instance: Any,
                            schema: Any) -> Any:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in properties.items():
        compiled = _re2(pattern)
        for key, value in instance.items():
            if compiled.search(key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _pattern_matched(schema: dict[str, Any], key: str) -> bool:
    return any(_re2(pattern).search(key) for pattern in schema.get("patternProperties", {}))


def _re2_additional_properties(validator: Any, additional: Any, instance: Any,
                               schema: Any) -> Any:
    """jsonschema's ``additionalProperties``, with ``patternProperties`` matched by RE2
    (its own runs Python's ``re`` over the payload's keys)."""
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    extras = sorted((key for key in instance
                     if key not in properties and not _pattern_matched(schema, key)), key=str)
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        yield jsonschema.ValidationError(
            _("Additional properties are not allowed (%s)") % ", ".join(
                repr(extra[:100]) for extra in extras[:10]))


def _valid(errors_found: Iterable[Any]) -> bool:
    return next(iter(errors_found), None) is None


def _evaluated_keys(validator: Any, instance: dict[str, Any], schema: Any) -> set[str]:
    """jsonschema's ``find_evaluated_property_keys_by_schema`` with ``patternProperties``
    matched by RE2 (the keys that some keyword of ``schema`` evaluates)."""
    if validator.is_type(schema, "boolean"):
        return set()
    keys: set[str] = set()
    for keyword in ("$ref", "$dynamicRef"):
        if (ref := schema.get(keyword)) is not None:
            resolved = validator._resolver.lookup(ref)
            keys |= _evaluated_keys(
                validator.evolve(schema=resolved.contents, _resolver=resolved.resolver),
                instance, resolved.contents)
    properties = schema.get("properties")
    if validator.is_type(properties, "object"):
        keys |= properties.keys() & instance.keys()
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        if (subschema := schema.get(keyword)) is not None:
            keys |= {key for key, value in instance.items()
                     if _valid(validator.descend(value, subschema))}
    if "patternProperties" in schema:
        keys |= {key for key in instance if _pattern_matched(schema, key)}
    for property, subschema in schema.get("dependentSchemas", {}).items():
        if property in instance:
            keys |= _evaluated_keys(validator, instance, subschema)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for subschema in schema.get(keyword, []):
            if _valid(validator.descend(instance, subschema)):
                keys |= _evaluated_keys(validator, instance, subschema)
    if "if" in schema:
        if validator.evolve(schema=schema["if"]).is_valid(instance):
            keys |= _evaluated_keys(validator, instance, schema["if"])
            if "then" in schema:
                keys |= _evaluated_keys(validator, instance, schema["then"])
        elif "else" in schema:
            keys |= _evaluated_keys(validator, instance, schema["else"])
    return keys


def _re2_unevaluated_properties(validator: Any, unevaluated: Any, instance: Any,
                                schema: Any) -> Any:
    """jsonschema's ``unevaluatedProperties`` on ``_evaluated_keys``."""
    if not validator.is_type(instance, "object"):
        return
    evaluated = _evaluated_keys(validator, instance, schema)
    wrong = [key for key in instance if key not in evaluated and not _valid(
        validator.descend(instance[key], unevaluated, path=key, schema_path=key))]
    if wrong:
        yield jsonschema.ValidationError(
            _("Unevaluated properties are not allowed (%s)") % ", ".join(
                repr(key[:100]) for key in sorted(wrong, key=str)[:10]))


# Every keyword of jsonschema that runs a regular expression, replaced by one that runs
# RE2 (``jsonschema/_keywords.py`` and ``_utils.py``: ``pattern``, ``patternProperties``,
# and the ``patternProperties`` matching inside ``additionalProperties`` and
# ``unevaluatedProperties``). ``format`` runs nothing, as payloads are validated without a
# format checker; the schema itself is checked against the metaschema with every format
# but ``regex`` (whose checker compiles with Python's ``re``; ``_walk_refusal`` compiles
# each pattern with RE2 instead).
_KEYWORDS = {**jsonschema.Draft202012Validator.VALIDATORS,
             "pattern": _re2_pattern, "patternProperties": _re2_pattern_properties,
             "additionalProperties": _re2_additional_properties,
             "unevaluatedProperties": _re2_unevaluated_properties}
_Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    {name: _counted(check) for name, check in _KEYWORDS.items()})
_META_FORMATS = copy.copy(jsonschema.Draft202012Validator.FORMAT_CHECKER)
_META_FORMATS.checkers = {name: check for name, check in _META_FORMATS.checkers.items()
                          if name != "regex"}


@lru_cache(maxsize=256)
def _validator(schema_json: str) -> Any:
    return _Validator(json.loads(schema_json), registry=_REGISTRY)


def schema_problem(schema: dict[str, Any], payload: Any) -> str:
    """Why the payload breaks the schema ("" when it does not). A schema stored before it
    was checked as it is now, and refused now, fails every payload and says why."""
    if not isinstance(payload, dict):
        return _("The payload must be a JSON object.")
    schema_json = json.dumps(schema, sort_keys=True, ensure_ascii=False, default=str)
    refusal = _schema_refusal(schema_json)
    if refusal is not None:
        return _("The event type's schema cannot be used: %s") % refusal.message
    payload_json = json.dumps(payload, sort_keys=True, default=str)
    try:
        if len(payload_json) <= 1000:  # attendance and the like repeat the same few payloads
            return _payload_problem(schema_json, payload_json)
        return _problem(_validator(schema_json), payload)
    except Exception as exc:
        # An unresolvable reference, a recursion too deep, or anything else the validator
        # raises on this payload rejects this event, never the batch.
        return _("The payload could not be checked against the schema: %s") % (
            type(exc).__name__)


@lru_cache(maxsize=4096)
def _payload_problem(schema_json: str, payload_json: str) -> str:
    return _problem(_validator(schema_json), json.loads(payload_json))


def _problem(validator: Any, payload: Any) -> str:
    _steps.left = MAX_SCHEMA_STEPS
    try:
        error = next(iter(validator.iter_errors(payload)), None)
    except _TooCostly:
        return _("Checking the payload against the schema takes more than %s steps.") % (
            f"{MAX_SCHEMA_STEPS:,}")
    finally:
        _steps.left = None
    if error is None:
        return ""
    where = ".".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


# --- payloads ---------------------------------------------------------------------------------

MAX_PAYLOAD_CHARS = 16 * 1024
MAX_PAYLOAD_DEPTH = 20  # MariaDB refuses to store JSON nested deeper than 32
# A condition's work grows with the values it reads: each use of a list copies its items
# (170 reads of a 5,400-number list: 0.19 s), so a payload holds at most this many.
MAX_PAYLOAD_VALUES = 500
_INT64 = 2**63


def payload_problem(payload: Any) -> str:
    """Why no event may carry this payload ("" when it may): conditions and schemas run
    over it for every rule, so it is bounded in size, depth and number of values, and its
    numbers must be finite and, when whole, fit the 64 bits a condition computes with."""
    todo: list[tuple[Any, list[Any]]] = [(payload, [])]
    seen = 0
    while todo:
        value, path = todo.pop()
        where = ".".join(map(str, path)) or "payload"
        seen += 1
        if seen > MAX_PAYLOAD_VALUES:
            return _("The payload holds more than %d values.") % MAX_PAYLOAD_VALUES
        if len(path) > MAX_PAYLOAD_DEPTH:
            return _("The payload is nested more than %d levels deep.") % MAX_PAYLOAD_DEPTH
        if isinstance(value, dict):
            todo += [(v, [*path, k]) for k, v in value.items()]
        elif isinstance(value, list):
            todo += [(v, [*path, n]) for n, v in enumerate(value)]
        elif isinstance(value, float) and not math.isfinite(value):
            return _("%s must be a finite number.") % where
        elif isinstance(value, int) and not isinstance(value, bool) and not (
                -_INT64 <= value < _INT64):
            return _("%s is out of range.") % where
    size = len(json.dumps(payload, ensure_ascii=False, default=str))
    if size > MAX_PAYLOAD_CHARS:
        return _("The payload is longer than %s characters.") % f"{MAX_PAYLOAD_CHARS:,}"
    return ""


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
    approver, or nothing with ``error`` saying why (``refused``: a value beyond what the
    ledger can post, which rejects the event rather than leaving the rule unmatched)."""

    points: int = 0
    low: int | None = None
    high: int | None = None
    explanation: str = ""
    error: str = ""
    refused: bool = False  # the payload is out of range: the event is rejected

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
        product = units * formula["points"]
        if ((isinstance(product, float) and not math.isfinite(product))
                or abs(product) > MAX_POINTS):
            return Score(refused=True, error=_(
                "%(field)s = %(units)s gives more than the %(max)s points the ledger can "
                "post.") % {"field": formula["field"], "units": units,
                            "max": f"{MAX_POINTS:,}"})
        points = int(product)
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
