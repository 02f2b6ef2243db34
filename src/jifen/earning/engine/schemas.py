"""Payload schemas: checking an admin's JSON Schema once, when it is saved, and checking
payloads against it.

Schemas are written by admins and evaluated against payloads sent by other systems: they
may refer only to their own parts (a registry that retrieves nothing: no file, no
network), must be JSON Schema 2020-12, are bounded in size and depth, and their patterns
run on RE2, whose time is linear in the text (decision 0010)."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

import jsonschema
import re2
import referencing
import referencing.exceptions
from django.utils.translation import gettext as _
from referencing.jsonschema import DRAFT202012

from jifen.core import errors

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
    return errors.ValidationError(text, code=errors.ErrorCode.INVALID_SCHEMA,
                                  details={"path": where, "message": message})


@lru_cache(maxsize=1024)
def linear_pattern(pattern: str) -> Any:
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
        linear_pattern(pattern)
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
    if validator.is_type(instance, "string") and not linear_pattern(pattern).search(instance):
        yield jsonschema.ValidationError(
            _("%(value)s does not match %(pattern)s") % {"value": repr(instance[:100]),
                                                          "pattern": repr(pattern)})


def _re2_pattern_properties(validator: Any, properties: dict[str, Any], instance: Any,
                            schema: Any) -> Any:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in properties.items():
        compiled = linear_pattern(pattern)
        for key, value in instance.items():
            if compiled.search(key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _pattern_matched(schema: dict[str, Any], key: str) -> bool:
    return any(linear_pattern(pattern).search(key)
               for pattern in schema.get("patternProperties", {}))


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
