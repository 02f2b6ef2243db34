"""Words for what the audit log names: an object stored as type + id ("mall.order", "171"
→ "Order M000171", with a link), and the values its before/after snapshots keep as codes
("GM" → the department's name, "shipped" → "Shipped").

Core knows no domain model, so each app registers, from its ``AppConfig.ready()``, how to
name its own objects and values. Every describer answers for many at once — one query for
a whole page of audit entries, never one per entry — and renders in the language active
when it is called (the reader's), so nothing it returns may be stored.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class Described:
    """An object in words: ``label`` ("Order M000171"), and where a reader holding
    ``capability`` may follow it (``url``; empty: nowhere)."""

    label: str
    url: str = ""
    capability: str = ""
    name: str = ""  # the object alone ("研发中心"), where a value names it; else the label


# ids as stored (text) → words, for the ids that still exist
ObjectDescriber = Callable[[Collection[str]], Mapping[str, Described]]
# stored values (as text) → words, for the values it knows
ValueDescriber = Callable[[Collection[str]], Mapping[str, str]]

# one stored value (a JSON object too) → words, with no query (a formula, a period …)
ValueFormatter = Callable[[object], str]

_objects: dict[str, ObjectDescriber] = {}
_values: dict[tuple[str, str], ValueDescriber] = {}
_formatters: dict[tuple[str, str], ValueFormatter] = {}


def register_object_describer(object_type: str, describer: ObjectDescriber) -> None:
    """Name objects of ``object_type`` (a model's ``app_label.modelname``, as the audit
    log stores it). Registering again replaces the describer."""
    _objects[object_type] = describer


def register_value_describer(object_type: str, field: str, describer: ValueDescriber) -> None:
    """Name the values a snapshot of ``object_type`` keeps in ``field`` when they are not
    the model's own (a department stored by its code, roles by their codes …)."""
    _values[(object_type, field)] = describer


def register_value_formatter(object_type: str, field: str, formatter: ValueFormatter) -> None:
    """Show the values a snapshot of ``object_type`` keeps in ``field`` through
    ``formatter`` (for structured values: a rule's formula, caps or expiry)."""
    _formatters[(object_type, field)] = formatter


def formatted(object_type: str, field: str, value: object) -> object:
    """``value`` through its field's formatter, if it has one and a value; else as is."""
    formatter = _formatters.get((object_type, field))
    if formatter is None or value in (None, ""):
        return value
    try:
        return formatter(value)
    except (KeyError, TypeError, ValueError):  # a value older than its formatter
        return value


def value_key(value: object) -> str:
    """The text a stored value is looked up by (JSON numbers and strings alike)."""
    return str(value)


def describe_objects(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Described]:
    """Words for each (object_type, object_id) some app can describe; one call per type."""
    wanted: dict[str, set[str]] = {}
    for object_type, object_id in pairs:
        if object_type in _objects and object_id not in ("", None):
            wanted.setdefault(object_type, set()).add(str(object_id))
    found: dict[tuple[str, str], Described] = {}
    for object_type, ids in wanted.items():
        for object_id, described in _objects[object_type](ids).items():
            found[(object_type, str(object_id))] = described
    return found


def _model_field(object_type: str, field: str) -> models.Field | None:
    try:
        found = apps.get_model(object_type)._meta.get_field(field)
    except (LookupError, ValueError, FieldDoesNotExist):
        return None
    return found if isinstance(found, models.Field) else None


def _scalars(value: object) -> list[object]:
    if isinstance(value, list):
        return [v for v in value if not isinstance(v, dict | list)]
    if isinstance(value, dict) or value in (None, ""):
        return []
    return [value]


def describe_values(
    requests: Mapping[tuple[str, str], Collection[object]],
) -> dict[tuple[str, str], dict[str, str]]:
    """For each (object_type, field) → the values seen there, their words: by a
    registered value describer, else by the model field's choices, else — for a foreign
    key, whose snapshot keeps the target's id — by the target type's object describer.
    Values nothing can name are left out (shown as stored)."""
    answer: dict[tuple[str, str], dict[str, str]] = {}
    targets: dict[str, set[str]] = {}
    through: dict[tuple[str, str], str] = {}
    for (object_type, field), values in requests.items():
        keys = {value_key(v) for value in values for v in _scalars(value)}
        if not keys:
            continue
        if (object_type, field) in _values:
            answer[(object_type, field)] = {
                k: str(v) for k, v in _values[(object_type, field)](keys).items()}
            continue
        model_field = _model_field(object_type, field)
        if model_field is None:
            continue
        if model_field.choices:
            labels = {value_key(k): str(v) for k, v in model_field.flatchoices}
            answer[(object_type, field)] = {k: labels[k] for k in keys if k in labels}
        elif model_field.is_relation and model_field.related_model is not None:
            target = model_field.related_model._meta.label_lower  # type: ignore[union-attr]
            if target in _objects:
                targets.setdefault(target, set()).update(keys)
                through[(object_type, field)] = target
    named = describe_objects((t, i) for t, ids in targets.items() for i in ids)
    for (object_type, field), target in through.items():
        answer[(object_type, field)] = {
            object_id: named[(target, object_id)].name or named[(target, object_id)].label
            for (t, object_id) in named if t == target}
    return answer


def words_for(value: object, labels: Mapping[str, str]) -> object:
    """A stored value with the words ``labels`` has for it (a list item by item); the
    value itself where there are none."""
    if isinstance(value, list):
        return [labels.get(value_key(v), v) if not isinstance(v, dict | list) else v
                for v in value]
    if isinstance(value, dict) or value in (None, ""):
        return value
    return labels.get(value_key(value), value)


def by_pk(
    model: type[models.Model],
    words: Callable[[models.Model], str],
    *,
    url_name: str = "",
    with_pk: bool = True,
    capability: str = "",
    name: Callable[[models.Model], str] | None = None,
    related: tuple[str, ...] = (),
) -> ObjectDescriber:
    """A describer of ``model`` rows by primary key, in one query: ``words(obj)`` names
    one (in the active language), ``url_name`` is the page it links to (given the pk
    unless ``with_pk`` is false), which readers holding ``capability`` may open."""

    def describe(ids: Collection[str]) -> dict[str, Described]:
        pks = [int(i) for i in ids if str(i).isdigit() and len(str(i)) < 19]
        found: dict[str, Described] = {}
        if not pks:
            return found
        rows = model._default_manager.filter(pk__in=pks)
        if related:
            rows = rows.select_related(*related)
        for obj in rows:
            url = ""
            if url_name:
                try:
                    url = reverse(url_name, args=[obj.pk] if with_pk else [])
                except NoReverseMatch:  # the page is not mounted (a trimmed deployment)
                    url = ""
            found[str(obj.pk)] = Described(words(obj), url, capability,
                                           name(obj) if name is not None else "")
        return found

    return describe
