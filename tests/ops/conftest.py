from __future__ import annotations

import json
import logging

import pytest

from jifen.core.observability.logs import JsonFormatter
from tests.mall.conftest import category, make_item, mall_admin  # noqa: F401 - shared fixtures


class JsonLines(logging.Handler):
    """Every record any logger emits, formatted as the production handler formats it."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def parsed(self, logger: str | None = None) -> list[dict]:
        rows = [json.loads(line) for line in self.lines]
        return [row for row in rows if logger is None or row["logger"] == logger]


@pytest.fixture
def json_log():
    """The JSON lines logged during the test, at every level."""
    handler = JsonLines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
