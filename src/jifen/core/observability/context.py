"""The request id of the work in hand: set per request by the middleware and per task by
``tasklog``, read by the log formatter, so every line logged while serving it — an error
report too — carries the same id as the answer's ``X-Request-ID`` header."""

from __future__ import annotations

import contextvars
import re
import uuid

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("jifen_request_id", default="")

HEADER = "X-Request-ID"
# A proxy's or client's id is kept when it is plain and short: it goes into logs and a header.
_VALID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def new_id() -> str:
    return uuid.uuid4().hex


def accepted_id(value: str | None) -> str:
    """``value`` when it is a usable request id (≤ 64 of ``A-Za-z0-9._-``), else a new one."""
    return value if value and _VALID.match(value) else new_id()
