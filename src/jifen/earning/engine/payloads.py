"""Bounds on what any event may carry, whatever its type."""

from __future__ import annotations

import json
import math
from typing import Any

from django.utils.translation import gettext as _

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
