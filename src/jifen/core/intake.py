"""Facts that apps beside earning report to it (a daily check-in, a comment, a share, a
download, an approved contribution), so that they earn points through the rules HR
already keeps — and earning stays the one place that decides how many.

``jifen.core`` imports no domain app, and apps of one layer are independent (DESIGN.md
§2), so earning registers its intake here (``register_intake``) and the others call
``report_facts``. A fact is an event as the events API takes it: unique by (source, id),
so reporting the same fact twice credits once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Fact:
    source: str  # the reporting app, e.g. "library"
    id: str  # unique within the source, e.g. "checkin:42:2026-12-04"
    type: str  # an event type code, e.g. "daily_check_in"
    employee_no: str
    occurred_at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FactResult:
    id: str
    status: str  # credited, pending_approval, duplicate or rejected (as the events API)
    points: int = 0  # units; 0 when no rule gave any
    reason: str = ""  # why rejected: no_matching_rule, cap_reached, …


Intake = Callable[..., list[FactResult]]
_intake: Intake | None = None


def register_intake(func: Intake | None) -> None:
    """Earning's intake (called at start-up): ``func(facts, actor=…, received_by=…)``."""
    global _intake
    _intake = func


def report_facts(facts: list[Fact], *, actor: Any = None,
                 received_by: str = "") -> list[FactResult]:
    """Score the facts as events, in the caller's transaction (a savepoint inside it), and
    answer per fact. Without an intake (earning not installed) nothing is credited."""
    if _intake is None:
        return [FactResult(id=fact.id, status="rejected", reason="no_intake") for fact in facts]
    return _intake(facts, actor=actor, received_by=received_by)
