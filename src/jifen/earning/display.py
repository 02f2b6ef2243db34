"""Plain words for the earning pages: payload fields and values by the titles their event
type's schema gives them, and a rule version's changes by field name and readable value.

A property's ``title`` names a field; its values are named by ``enumNames`` (labels in
the order of ``enum``) or by ``oneOf``/``anyOf`` entries with a ``const`` and a
``title``. A built-in type's titles are English message ids and are translated; an
admin's are shown as typed. Anything without a title falls back to its raw name."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils import dateformat, timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from jifen.earning import engine
from jifen.earning.models import ApproverRole, EventType, Rule
from jifen.ledger.models import Category, ExpiryMode

EMPTY = "—"


def yes_no(value: Any) -> str:
    return _("Yes") if value else _("No")


class PayloadLabels:
    """Field titles and value labels from one payload JSON Schema."""

    def __init__(self, schema: Any = None, *, translate: bool = False):
        self.schema = schema if isinstance(schema, dict) else {}
        self.translate = translate

    def _text(self, text: Any) -> str:
        text = str(text)
        return gettext(text) if self.translate and text else text

    def _property(self, name: str) -> dict[str, Any]:
        node: Any = self.schema
        for part in str(name).split("."):
            properties = node.get("properties") if isinstance(node, dict) else None
            node = properties.get(part) if isinstance(properties, dict) else None
            if not isinstance(node, dict):
                return {}
        return node

    def field(self, name: str) -> str:
        """The field's title, or its name when the schema gives none."""
        title = self._property(name).get("title")
        return self._text(title) if isinstance(title, str) and title.strip() else str(name)

    def _value_labels(self, prop: dict[str, Any]) -> dict[str, str]:
        labels: dict[str, str] = {}
        values, names = prop.get("enum"), prop.get("enumNames")
        if isinstance(values, list) and isinstance(names, list) and len(names) == len(values):
            labels.update({_key(v): str(n) for v, n in zip(values, names, strict=True)
                           if isinstance(n, str) and n.strip()})
        for keyword in ("oneOf", "anyOf"):
            for option in prop.get(keyword) or []:
                if (isinstance(option, dict) and "const" in option
                        and isinstance(option.get("title"), str) and option["title"].strip()):
                    labels.setdefault(_key(option["const"]), option["title"])
        return labels

    def value(self, name: str, value: Any) -> str:
        """A payload value (or a formula table's key, which is the value as text) in
        words: its label from the schema, yes/no for a boolean, else the value itself."""
        prop = self._property(name)
        label = self._value_labels(prop).get(_key(value))
        if label is not None:
            return self._text(label)
        if isinstance(value, bool) or (value in ("true", "false")
                                       and prop.get("type") in (None, "boolean")):
            return yes_no(value in (True, "true"))
        if value is None:
            return EMPTY
        if isinstance(value, list):
            return ", ".join(self.value(name, item) if not isinstance(item, dict | list)
                             else _json(item) for item in value)
        if isinstance(value, dict):
            return _json(value)
        return str(value)

    def order(self, name: str, keys: list[str]) -> list[str]:
        """A formula table's keys (values as text) in the order the schema lists the
        values (the database may keep a JSON object's keys in any order), yes before no,
        then the rest as they came."""
        prop = self._property(name)
        listed = [_key(v) for v in prop.get("enum") or [] if not isinstance(v, dict | list)]
        listed += [_key(o["const"]) for keyword in ("oneOf", "anyOf")
                   for o in prop.get(keyword) or [] if isinstance(o, dict) and "const" in o]
        listed += ["true", "false"]
        rank = {key: i for i, key in reversed(list(enumerate(listed)))}
        return sorted(keys, key=lambda k: rank.get(k, len(rank)))

    def pairs(self, payload: Any) -> list[tuple[str, str]]:
        """The payload as (label, value) pairs, in the schema's order of fields, then any
        others in the order they came."""
        if not isinstance(payload, dict):
            return [] if payload in (None, "") else [("", _json(payload))]
        order = list((self.schema.get("properties") or {}).keys())
        keys = [k for k in order if k in payload] + [k for k in payload if k not in order]
        return [(self.field(k), self.value(k, payload[k])) for k in keys]


def _key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def payload_labels(event_type: EventType | None) -> PayloadLabels:
    if event_type is None:
        return PayloadLabels()
    return PayloadLabels(event_type.schema, translate=event_type.builtin)


def describe_formula(formula: Any, unit: str, event_type: EventType | None) -> str:
    """The formula in words, naming payload fields and values by the event type's schema."""
    try:
        return engine.describe_formula(formula, unit, payload_labels(event_type))
    except (KeyError, TypeError, ValueError):  # a stored formula older than its checks
        return _json(formula)


# --- rule versions ----------------------------------------------------------------------


def _moment(value: Any) -> str:
    moment = parse_datetime(value) if isinstance(value, str) else value
    if moment is None:
        return EMPTY if value in (None, "") else str(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return dateformat.format(moment, "Y-m-d H:i")


def describe_expiry(expiry: Any) -> str:
    if not isinstance(expiry, dict) or not expiry.get("mode"):
        return _("Site default")
    mode = expiry["mode"]
    if mode == ExpiryMode.MONTHS and isinstance(expiry.get("months"), int):
        return _("%(months)d months after earning") % {"months": expiry["months"]}
    if mode == ExpiryMode.YEAR_END:
        return _("End of year Y+%(years)d for points earned in year Y") % {
            "years": int(expiry.get("years_after") or 0)}
    return str(ExpiryMode(mode).label) if mode in ExpiryMode.values else str(mode)


def _choice_label(choices: Any, value: Any) -> str:
    if value in (None, ""):
        return EMPTY
    return str(dict(choices.choices).get(value, value))


class RuleValues:
    """Readable values of a rule snapshot's fields (``services.rule_snapshot``)."""

    def __init__(self, unit: str, event_types: dict[str, EventType]):
        self.unit = unit
        self.event_types = event_types

    def show(self, field: str, value: Any, snapshot: dict[str, Any]) -> str:
        if field == "event_type":
            found = self.event_types.get(value)
            return found.display_name if found else (value or EMPTY)
        if field == "formula":
            if not value:
                return EMPTY
            return describe_formula(value, self.unit,
                                    self.event_types.get(snapshot.get("event_type")))
        if field == "caps":
            try:
                return engine.describe_caps(value, self.unit) if value else _("No caps")
            except (KeyError, TypeError, ValueError):
                return _json(value)
        if field in ("requires_approval", "active"):
            return EMPTY if value is None else yes_no(value)
        if field == "category":
            return _choice_label(Category, value)
        if field == "approver_role":
            return _choice_label(ApproverRole, value)
        if field in ("valid_from", "valid_until"):
            return _moment(value)
        if field == "expiry":
            return describe_expiry(value)
        if value in (None, ""):
            return EMPTY
        return value if isinstance(value, str) else _json(value)


def field_label(field: str) -> str:
    """A rule field's verbose name, as the rule's own form and admin call it."""
    try:
        return capfirst(str(Rule._meta.get_field(field).verbose_name))
    except FieldDoesNotExist:
        return field


def version_changes(versions: list[Any], *, unit: str) -> None:
    """Give each of a rule's versions ``changes``: its diff as rows of {field, label, old,
    new, code} in words; ``old`` is None where there was no version before."""
    snapshots = {v.number: v.snapshot if isinstance(v.snapshot, dict) else {}
                 for v in versions}
    codes = {s.get("event_type") for s in snapshots.values()} - {None, ""}
    values = RuleValues(unit, {t.code: t for t in EventType.objects.filter(code__in=codes)})
    for version in versions:
        after = snapshots[version.number]
        before = snapshots.get(version.number - 1)
        version.changes = [{
            "field": change.get("field", ""), "label": field_label(change.get("field", "")),
            "old": None if before is None and change.get("old") is None
            else values.show(change.get("field", ""), change.get("old"), before or after),
            "new": values.show(change.get("field", ""), change.get("new"), after),
            "code": change.get("field") == "condition",
        } for change in (version.diff or []) if isinstance(change, dict)]
