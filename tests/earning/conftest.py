from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from jifen.core.roles import Role
from jifen.earning import services
from jifen.earning.services import EventIn
from tests.conftest import assert_ledger_sound
from tests.factories import DepartmentFactory, EmployeeFactory


@pytest.fixture
def verify_clean():
    """Call after moving points: the ledger's invariants must all hold."""
    return assert_ledger_sound


@pytest.fixture
def make_rule(db, hr_admin):
    def make(**data):
        data.setdefault("name", "rule")
        data.setdefault("category", "performance")
        return services.create_rule(actor=hr_admin.user, reason="test", **data)

    return make


def at(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text))


_counter = iter(range(1, 10**9))


def event(employee, type_: str, payload: dict | None = None, *, when: str = "2026-03-02T10:00",
          source: str = "hr", id_: str | None = None) -> EventIn:
    return EventIn(source=source, id=id_ or f"ev{next(_counter)}", type=type_,
                   employee_no=employee.employee_no if hasattr(employee, "employee_no")
                   else employee, occurred_at=at(when), payload=payload or {})


def ingest(*events: EventIn):
    return services.ingest_events(events=list(events), received_by="test")


def ops_team() -> tuple:
    """运营部 (OPS) with the built-in event types: its manager 王经理 (M001), 李小明 (E001)
    and 赵人事 (H001, HR admin) — whom the browser tests sign in as."""
    services.ensure_builtin_event_types()
    team = DepartmentFactory(code="OPS", name="运营部")
    manager = EmployeeFactory(department=team, employee_no="M001", name="王经理",
                              roles=[Role.MANAGER])
    team.manager = manager
    team.save()
    worker = EmployeeFactory(department=team, employee_no="E001", name="李小明")
    hr = EmployeeFactory(department=team, employee_no="H001", name="赵人事",
                         roles=[Role.HR_ADMIN])
    return manager, worker, hr
