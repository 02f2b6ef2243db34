"""Cursor pagination for API lists: ``{"items": [...], "next_cursor": "..." | null}``.

The cursor is the opaque (base64) value of the ordering key of the last item returned, so
pages stay stable while rows are being added — unlike offsets. It comes back from the
client, so what it holds is checked against the key's field before it reaches a query: a
cursor that is not one of ours is a 422 ``invalid_cursor``, never a database error."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.core.exceptions import BadRequest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from ninja import Schema

from jifen.core import errors
from jifen.core.schema_types import INT64_MAX, INT64_MIN, aware_in_range

T = TypeVar("T")


class CursorPage(Schema, Generic[T]):
    items: list[T]
    next_cursor: str | None


def _invalid() -> errors.ValidationError:
    return errors.ValidationError(_("The cursor is not valid."),
                                  code=errors.ErrorCode.INVALID_CURSOR)


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise _invalid() from exc


def _plain_text(value: Any) -> str:
    """``value`` when it is text a database can store and compare: no NUL (PostgreSQL
    refuses it) and no lone surrogate (no database encodes one)."""
    if not isinstance(value, str) or "\x00" in value:
        raise _invalid()
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _invalid() from exc
    return value


def cursor_value(field: models.Field, value: Any) -> Any:
    """``value``, decoded from a client's cursor, as a value of model ``field`` that is
    safe to compare with in a query; ValidationError (``invalid_cursor``) when it cannot be
    one. Integers must be JSON integers within the column's range, text must be text that
    fits the column, a time must be ISO 8601 text with an offset and a UTC equivalent (a
    cursor holding 0001-01-01T00:00+05:00 would otherwise overflow in the driver)."""
    if isinstance(field, models.IntegerField):
        # bool is an int to Python, never to us.
        if type(value) is not int or not INT64_MIN <= value <= INT64_MAX:
            raise _invalid()
    elif isinstance(field, models.DateTimeField):
        try:
            value = datetime.fromisoformat(_plain_text(value))
        except ValueError as exc:
            raise _invalid() from exc
        if value.tzinfo is None or aware_in_range(value) is None:
            raise _invalid()
        return value
    elif isinstance(field, models.CharField | models.TextField):
        _plain_text(value)
    elif not isinstance(value, str | int) or isinstance(value, bool):
        raise _invalid()
    try:
        value = field.to_python(value)
        field.run_validators(value)
    except (DjangoValidationError, TypeError, ValueError) as exc:
        raise _invalid() from exc
    return value


def _field(model: type[models.Model], name: str) -> models.Field:
    return model._meta.pk if name == "pk" else model._meta.get_field(name)


def decode_keyset_cursor(cursor: str, model: type[models.Model], keys: list[str]) -> list[Any]:
    """The values of a cursor made of several keys (``encode_cursor([v1, v2, …])`` for the
    fields ``keys`` of ``model``), each checked by ``cursor_value``."""
    values = decode_cursor(cursor)
    if not isinstance(values, list) or len(values) != len(keys):
        raise _invalid()
    return [cursor_value(_field(model, key), value)
            for key, value in zip(keys, values, strict=True)]


def paginate(
    queryset: QuerySet, *, cursor: str | None, limit: int, key: str = "pk",
    descending: bool = False,
) -> dict[str, Any]:
    """One page of ``queryset`` ordered by the unique field ``key``."""
    ordered = queryset.order_by(f"-{key}" if descending else key)
    if cursor:
        after = cursor_value(_field(queryset.model, key), decode_cursor(cursor))
        ordered = ordered.filter(**{f"{key}__{'lt' if descending else 'gt'}": after})
    rows = list(ordered[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(getattr(rows[-1], key))
    return {"items": rows, "next_cursor": next_cursor}


# --- keyset pages for the console's lists ----------------------------------------------


class KeysetPage:
    """One page of a list read by seeking on its ordering key: page 100 costs what page 1
    costs (no OFFSET, no COUNT). ``next_cursor``/``previous_cursor`` are opaque values for
    the ``after``/``before`` query parameters."""

    def __init__(self, items: list[Any], *, next_cursor: str | None,
                 previous_cursor: str | None) -> None:
        self.object_list = items
        self.next_cursor = next_cursor
        self.previous_cursor = previous_cursor

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None

    def __iter__(self) -> Any:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def _keys(order: Sequence[str]) -> list[tuple[str, bool]]:
    return [(key.lstrip("-"), key.startswith("-")) for key in order]


def _key_field(queryset: QuerySet, name: str) -> models.Field:
    annotation = queryset.query.annotations.get(name)
    if annotation is not None:
        return annotation.output_field
    return _field(queryset.model, name)


def _key_values(row: Any, keys: list[tuple[str, bool]]) -> str:
    values = []
    for name, _descending in keys:
        value = row.pk if name == "pk" else getattr(row, name)
        values.append(value.isoformat() if isinstance(value, datetime) else value)
    return encode_cursor(values)


def _seek(keys: list[tuple[str, bool]], values: list[Any], forward: bool) -> Q:
    """Rows after ``values`` in the order of ``keys`` (before them when not ``forward``):
    ``k1 ≥ v1 AND (k1 > v1 OR (k1 = v1 AND (k2 > v2 OR …)))`` — the leading ``k1 ≥ v1``
    lets the database start its index range scan at the cursor."""

    def beyond(descending: bool) -> str:
        return "lt" if descending == forward else "gt"

    (last_name, last_desc), last_value = keys[-1], values[-1]
    condition = Q(**{f"{last_name}__{beyond(last_desc)}": last_value})
    for (name, descending), value in zip(keys[-2::-1], values[-2::-1], strict=True):
        condition = (Q(**{f"{name}__{beyond(descending)}": value})
                     | (Q(**{name: value}) & condition))
    first_name, first_desc = keys[0]
    return Q(**{f"{first_name}__{beyond(first_desc)}e": values[0]}) & condition


def keyset_page(queryset: QuerySet, *, order: Sequence[str], limit: int,
                after: str | None = None, before: str | None = None) -> KeysetPage:
    """The page of ``queryset`` in ``order`` (field names, ``-`` for descending; the last
    key, or the keys together, unique — end with ``pk``) that follows the cursor ``after``,
    or precedes the cursor ``before``, or the first page. A cursor that is not one of ours
    is a ValidationError ``invalid_cursor``."""
    keys = _keys(order)
    cursor = after or before
    forward = not before
    backwards = [name if descending else f"-{name}" for name, descending in keys]
    ordered = queryset.order_by(*(order if forward else backwards))
    if cursor:
        values = decode_cursor(cursor)
        if not isinstance(values, list) or len(values) != len(keys):
            raise _invalid()
        values = [cursor_value(_key_field(queryset, name), value)
                  for (name, _descending), value in zip(keys, values, strict=True)]
        ordered = ordered.filter(_seek(keys, values, forward))
    rows = list(ordered[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    if not forward:
        rows.reverse()
    if not rows:
        return KeysetPage([], next_cursor=None, previous_cursor=None)
    first, last = _key_values(rows[0], keys), _key_values(rows[-1], keys)
    if forward:
        return KeysetPage(rows, next_cursor=last if more else None,
                          previous_cursor=first if after else None)
    return KeysetPage(rows, next_cursor=last, previous_cursor=first if more else None)


def keyset_page_for(request: Any, queryset: QuerySet, *, order: Sequence[str],
                    limit: int) -> KeysetPage:
    """``keyset_page`` at the cursor in ``request``'s ``after`` or ``before`` parameter; a
    cursor that was changed by hand is a 400 page (``BadRequest``), not a server error."""
    try:
        return keyset_page(queryset, order=order, limit=limit,
                           after=request.GET.get("after") or None,
                           before=request.GET.get("before") or None)
    except errors.ValidationError as exc:
        raise BadRequest(exc.message) from exc
