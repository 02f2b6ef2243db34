"""JSON log lines, with secrets taken out.

``JsonFormatter`` writes one JSON object per record: time, level, logger, message, the
request id of the work in hand, the exception's trace, and whatever ``extra`` fields the
caller passed (the request and task lines pass theirs). ``redact`` runs over the finished
line: bearer tokens, API keys (``jfk_``), employee tokens (``jft_``), webhook secrets
(``whsec_``) and ``password=``/``"password": …`` values never reach a log, whoever logged
them (docs/operations.md).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from jifen.core.observability.context import request_id

_HIDDEN = "[redacted]"
_PATTERNS = [
    # Authorization: Bearer …  /  Basic …
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + _HIDDEN),
    # Secrets jifen issues, wherever they appear.
    (re.compile(r"\b(jfk|jft)_[A-Za-z0-9_-]+"), r"\1_" + _HIDDEN),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=_-]+"), "whsec_" + _HIDDEN),
    # password=…, token: …, "secret": "…" in query strings, forms and dict reprs.
    (re.compile(r"""(?i)(["']?\b(?:[a-z0-9_]*password[a-z0-9_]*|passwd|secret|[a-z0-9_]*token|"""
                r"""api_key|apikey|authorization)["']?\s*[=:]\s*)(["'])(?:(?!\2).)*\2"""),
     r"\1\2" + _HIDDEN + r"\2"),
    (re.compile(r"""(?i)(\b(?:[a-z0-9_]*password[a-z0-9_]*|passwd|secret|[a-z0-9_]*token|api_key|"""
                r"""apikey|authorization)=)[^&\s"']+"""), r"\1" + _HIDDEN),
]

# The attributes every LogRecord has; anything else on a record came in through ``extra``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """One line of JSON per record (the ``json`` formatter of settings.LOGGING)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", "") or request_id.get()
        if rid:
            line["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc_info"] = record.exc_text
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        # Each text before encoding (inside JSON a quoted value is escaped), and the line
        # after it, for secrets inside values of other types.
        line = {key: redact(value) if isinstance(value, str) else value
                for key, value in line.items()}
        return redact(json.dumps(line, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    """Plain text for a terminal (JIFEN_LOG_FORMAT=text), redacted all the same, with the
    request id when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        rid = getattr(record, "request_id", "") or request_id.get()
        return redact(f"[{rid}] {text}" if rid else text)
