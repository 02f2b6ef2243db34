"""Cursor pagination for API lists: ``{"items": [...], "next_cursor": "..." | null}``.

The cursor is the opaque (base64) value of the ordering key of the last item returned, so
pages stay stable while rows are being added — unlike offsets."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Generic, TypeVar

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from ninja import Schema

from jifen.core import errors

T = TypeVar("T")


class CursorPage(Schema, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise errors.ValidationError(_("The cursor is not valid."), code="invalid_cursor") from exc


def paginate(
    queryset: QuerySet, *, cursor: str | None, limit: int, key: str = "pk",
    descending: bool = False,
) -> dict[str, Any]:
    """One page of ``queryset`` ordered by the unique field ``key``."""
    ordered = queryset.order_by(f"-{key}" if descending else key)
    if cursor:
        after = decode_cursor(cursor)
        if not isinstance(after, str | int):
            raise errors.ValidationError(_("The cursor is not valid."), code="invalid_cursor")
        ordered = ordered.filter(**{f"{key}__{'lt' if descending else 'gt'}": after})
    rows = list(ordered[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(getattr(rows[-1], key))
    return {"items": rows, "next_cursor": next_cursor}
