from __future__ import annotations

import io
import random
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from jifen.core.models import AuditEntry
from jifen.demo import builder
from jifen.demo.builder import DemoContext, build_demo, demo_step
from jifen.demo.people import plan_company
from jifen.people.models import Department, Employee
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def run_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def names_by_number() -> dict[str, str]:
    return dict(Employee.objects.values_list("employee_no", "name"))


def test_if_empty_creates_the_company_once_and_then_only_prints_the_logins():
    first = run_demo("--if-empty", "--only", "people")
    counts = (Employee.objects.count(), Department.objects.count(), AuditEntry.objects.count())
    assert counts[0] >= 280

    second = run_demo("--if-empty", "--only", "people")

    assert (Employee.objects.count(), Department.objects.count(),
            AuditEntry.objects.count()) == counts
    assert "no demo data created" in second
    for output in (first, second):
        assert "http://127.0.0.1:8000" in output
        assert "jifen-demo-2026" in output and "admin" in output


def test_the_demo_refuses_a_database_that_already_has_employees():
    EmployeeFactory()
    with pytest.raises(CommandError, match="already has 1 employees"):
        run_demo()
    assert Employee.objects.count() == 1


def test_if_empty_leaves_real_employees_alone_and_says_there_are_no_demo_logins():
    EmployeeFactory()
    output = run_demo("--if-empty")
    assert Employee.objects.count() == 1
    assert "No demo logins" in output


def test_the_same_seed_gives_the_same_company():
    with transaction.atomic():
        run_demo("--seed", "5", "--only", "people")
        first = names_by_number()
        transaction.set_rollback(True)
    assert not Employee.objects.exists()

    run_demo("--seed", "5", "--only", "people")

    assert names_by_number() == first


def test_a_different_seed_gives_different_people():
    today = date(2026, 3, 1)
    plan = [p.name for p in plan_company(random.Random(1), today).employees]
    again = [p.name for p in plan_company(random.Random(1), today).employees]
    other = [p.name for p in plan_company(random.Random(2), today).employees]
    assert plan == again
    assert len(set(plan) & set(other)) < len(plan) // 4


@pytest.fixture
def extra_step():
    """Register steps for one test only."""
    added: list[str] = []

    def register(order: int, name: str, func):
        demo_step(order=order, name=name)(func)
        added.append(name)

    yield register
    for name in added:
        builder._STEPS.pop(name, None)


def test_a_later_step_gets_the_people_through_the_context(extra_step):
    seen = {}

    def count_people(ctx: DemoContext) -> None:
        seen["employees"] = len(ctx.employees)
        seen["managers"] = len(ctx.employees_with_role("manager"))
        seen["actor"] = ctx.actor().username
        seen["before"] = ctx.rng.random()

    extra_step(99, "test.count_people", count_people)
    extra_step(5, "test.early_dice", lambda ctx: [ctx.rng.random() for _ in range(50)])
    ctx = build_demo(seed=3, only=["people", "test.count_people", "test.early_dice"])

    assert seen["employees"] == len(ctx.employees) >= 280
    assert seen["managers"] == Department.objects.count()
    assert seen["actor"] == "admin"
    # Each step draws from its own generator, so a new step changes nothing else.
    assert seen["before"] == random.Random("3/test.count_people").random()
    plan = plan_company(random.Random("3/people"), ctx.today)
    assert names_by_number() == {p.employee_no: p.name for p in plan.employees}


def test_an_unknown_step_name_is_refused_before_anything_is_written():
    with pytest.raises(CommandError, match="Unknown demo steps: nope"):
        run_demo("--only", "nope")
    assert not Employee.objects.exists()
