"""PATCH (RFC 7644 §3.5.2) applied to a resource's JSON representation.

The resource is read as the dict a GET returns, the operations change that dict, and the
result is saved the way a PUT is — so PATCH and PUT share one path into the services.
Entra ID's and Okta's habits are taken as they come: capitalised ops ("Replace", "Add"),
a no-path op whose value is an object (even with dotted keys such as "name.givenName"),
value-filtered paths such as ``emails[type eq "work"].value`` (creating the item when none
matches), and ``remove`` on ``members`` with a list of values."""

from __future__ import annotations

import copy
import re
from typing import Any

from jifen.people.scim.errors import bad_request
from jifen.people.scim.schema import ENTERPRISE, PATCH_OP

MAX_OPERATIONS = 1000

KNOWN_NAMES = [
    "schemas", "id", "externalId", "userName", "name", "displayName", "nickName", "title",
    "active", "emails", "phoneNumbers", "meta", "groups", "members", "formatted", "givenName",
    "familyName", "middleName", "value", "type", "primary", "display", "$ref",
    "employeeNumber", "department", "manager", "division", "organization", "costCenter",
    "password", "userType", "preferredLanguage", "locale", "timezone", "addresses",
]
CANONICAL = {name.lower(): name for name in KNOWN_NAMES}
MULTI_VALUED = {"emails", "phoneNumbers", "members", "groups", "addresses"}

_PATH = re.compile(
    r"^(?:(?P<urn>urn:[^\[\]]*):)?(?P<attr>[A-Za-z$][\w$-]*)"
    r"(?:\[(?P<filter>[^\]]*)\])?(?:\.(?P<sub>[A-Za-z$][\w$-]*))?$"
)
_CONDITION = re.compile(
    r'^\s*(?P<attr>[A-Za-z$][\w$-]*)\s+(?P<op>eq|ne|co|sw|ew|pr)\b\s*(?P<value>"(?:[^"\\]|\\.)*"|\S+)?\s*$',
    re.IGNORECASE,
)


def canonical_name(name: str) -> str:
    return CANONICAL.get(name.lower(), name)


def canonicalise(value: Any) -> Any:
    """``value`` with every known attribute name in its canonical spelling (SCIM attribute
    names are case-insensitive) and the enterprise extension's URN key spelled as ours."""
    if isinstance(value, list):
        return [canonicalise(item) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            continue
        if key.lower() == ENTERPRISE.lower():
            key = ENTERPRISE
        elif not key.lower().startswith("urn:"):
            key = canonical_name(key)
        out[key] = canonicalise(item)
    return out


def _split_path(path: str) -> tuple[str | None, str, str | None, str | None]:
    """(extension URN or None, attribute, value filter or None, sub-attribute or None)."""
    match = _PATH.match(path.strip())
    if not match:
        raise bad_request(f"Cannot read the path {path!r}.", "invalidPath")
    urn = match.group("urn")
    if urn is not None:
        if urn.lower() == ENTERPRISE.lower():
            urn = ENTERPRISE
        elif urn.lower().startswith("urn:ietf:params:scim:schemas:core:2.0:"):
            urn = None
        else:
            raise bad_request(f"Unknown schema in the path {path!r}.", "invalidPath")
    attr = canonical_name(match.group("attr"))
    sub = match.group("sub")
    return urn, attr, match.group("filter"), canonical_name(sub) if sub else None


def _conditions(text: str) -> list[tuple[str, str, Any]]:
    """A value filter as a list of conditions joined by ``and`` (what identity providers
    send inside brackets)."""
    found = []
    for part in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        match = _CONDITION.match(part)
        if not match:
            raise bad_request(f"Cannot read the value filter {text!r}.", "invalidPath")
        raw = match.group("value")
        op = match.group("op").lower()
        if op != "pr" and raw is None:
            raise bad_request(f"Cannot read the value filter {text!r}.", "invalidPath")
        value: Any = raw
        if raw is not None and raw.startswith('"'):
            value = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        elif raw is not None and raw.lower() in ("true", "false"):
            value = raw.lower() == "true"
        found.append((canonical_name(match.group("attr")), op, value))
    return found


def _matches(item: Any, conditions: list[tuple[str, str, Any]]) -> bool:
    if not isinstance(item, dict):
        return False
    for attr, op, expected in conditions:
        actual = item.get(attr)
        if op == "pr":
            if actual in (None, "", []):
                return False
            continue
        if isinstance(actual, bool) or isinstance(expected, bool):
            same = str(actual).lower() == str(expected).lower()
            if op not in ("eq", "ne") or same != (op == "eq"):
                return False
            continue
        left, right = str(actual if actual is not None else "").lower(), str(expected).lower()
        ok = {"eq": left == right, "ne": left != right, "co": right in left,
              "sw": left.startswith(right), "ew": left.endswith(right)}[op]
        if not ok:
            return False
    return True


def _same_item(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict) and "value" in a and "value" in b:
        return str(a["value"]) == str(b["value"])
    return bool(a == b)


def _apply(target: dict[str, Any], op: str, path: str | None, value: Any) -> None:
    if path is None or path == "":
        if op == "remove":
            raise bad_request("A remove operation needs a path.", "noTarget")
        if not isinstance(value, dict):
            raise bad_request("An operation without a path needs an object value.",
                              "invalidValue")
        for key, item in value.items():
            if key == ENTERPRISE and isinstance(item, dict):
                for sub_key, sub_item in item.items():
                    _apply(target, op, f"{ENTERPRISE}:{sub_key}", sub_item)
            elif key.lower().startswith("urn:") and key != ENTERPRISE and ":" in key:
                _apply(target, op, key, item)
            else:
                _apply(target, op, key, item)
        return
    if path.strip().lower() == ENTERPRISE.lower():
        value = canonicalise(value)
        if op == "remove":
            target.pop(ENTERPRISE, None)
        elif not isinstance(value, dict):
            raise bad_request("The enterprise extension must be an object.", "invalidValue")
        elif op == "add" and isinstance(target.get(ENTERPRISE), dict):
            target[ENTERPRISE].update(value)
        else:
            target[ENTERPRISE] = value
        return
    urn, attr, value_filter, sub = _split_path(path)
    container = target
    if urn is not None:
        container = target.setdefault(urn, {})
        if not isinstance(container, dict):
            container = target[urn] = {}
    value = canonicalise(value)

    if value_filter is None:
        if sub is not None:
            current = container.get(attr)
            if isinstance(current, list):
                for item in current:
                    if isinstance(item, dict):
                        _set_or_remove(item, op, sub, value)
                return
            if not isinstance(current, dict):
                if op == "remove":
                    return
                current = container[attr] = {}
            _set_or_remove(current, op, sub, value)
            return
        if op == "remove":
            current = container.get(attr)
            if isinstance(current, list) and isinstance(value, list):
                container[attr] = [item for item in current
                                   if not any(_same_item(item, v) for v in value)]
            else:
                container.pop(attr, None)
            return
        if op == "add" and attr in MULTI_VALUED:
            items = value if isinstance(value, list) else [value]
            current = container.get(attr)
            current = list(current) if isinstance(current, list) else []
            for item in items:
                if not any(_same_item(item, existing) for existing in current):
                    current.append(item)
            container[attr] = current
            return
        if op == "add" and isinstance(value, dict) and isinstance(container.get(attr), dict):
            container[attr].update(value)
            return
        container[attr] = value
        return

    conditions = _conditions(value_filter)
    current = container.get(attr)
    current = list(current) if isinstance(current, list) else []
    chosen = [item for item in current if _matches(item, conditions)]
    if op == "remove":
        if sub is None:
            container[attr] = [item for item in current if item not in chosen]
        else:
            for item in chosen:
                item.pop(sub, None)
            container[attr] = current
        return
    if not chosen:
        # Entra ID replaces emails[type eq "work"].value on a user who has no work e-mail
        # yet: build the item the filter describes.
        item = {a: v for a, o, v in conditions if o == "eq"}
        if not item:
            raise bad_request(f"No value matches {value_filter!r}.", "noTarget")
        current.append(item)
        chosen = [item]
    for item in chosen:
        if sub is not None:
            item[sub] = value
        elif isinstance(value, dict):
            item.update(value)
        else:
            raise bad_request("A filtered path without a sub-attribute needs an object value.",
                              "invalidValue")
    container[attr] = current


def _set_or_remove(item: dict[str, Any], op: str, sub: str, value: Any) -> None:
    if op == "remove":
        item.pop(sub, None)
    else:
        item[sub] = value


def apply_patch(resource: dict[str, Any], body: Any) -> dict[str, Any]:
    """The representation after the PatchOp ``body``; ``resource`` is not changed. Raises
    a 400 ScimError for anything malformed."""
    if not isinstance(body, dict):
        raise bad_request("The body must be a PatchOp object.", "invalidSyntax")
    schemas = body.get("schemas")
    if schemas is not None and (not isinstance(schemas, list) or PATCH_OP not in schemas):
        raise bad_request(f"A PATCH body's schemas must include {PATCH_OP}.", "invalidSyntax")
    operations = body.get("Operations", body.get("operations"))
    if not isinstance(operations, list) or not operations:
        raise bad_request("A PATCH body needs a non-empty Operations list.", "invalidSyntax")
    if len(operations) > MAX_OPERATIONS:
        raise bad_request("Too many operations in one PATCH.", "tooMany")
    result = copy.deepcopy(resource)
    for operation in operations:
        if not isinstance(operation, dict):
            raise bad_request("Each operation must be an object.", "invalidSyntax")
        op = str(operation.get("op", "")).lower()
        if op not in ("add", "replace", "remove"):
            raise bad_request(f"Unknown operation {operation.get('op')!r}.", "invalidSyntax")
        path = operation.get("path")
        if path is not None and not isinstance(path, str):
            raise bad_request("A path must be a string.", "invalidPath")
        if op != "remove" and "value" not in operation:
            raise bad_request(f"The {op} operation needs a value.", "invalidValue")
        _apply(result, op, path, operation.get("value"))
    return result
