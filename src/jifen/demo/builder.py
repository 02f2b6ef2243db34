"""The demo company generator: an ordered registry of steps sharing one context.

Each step is a function taking a :class:`DemoContext`, registered with ``@demo_step``::

    # src/jifen/demo/ledger.py
    from jifen.demo.builder import DemoContext, demo_step

    @demo_step(order=20)
    def opening_balances(ctx: DemoContext) -> None:
        for employee in ctx.employees:
            ...  # call the ledger's services, never write models directly

Every module of the ``jifen.demo`` package (except those whose name starts with ``_``, the
app's ``apps`` module and ``management`` package) is imported before a run, so a new step
only needs a new module. Steps run by ``order``
(then name), each inside its own transaction, each with its own random generator seeded
from the run's seed and the step's name: adding a step never changes what the others make.

Steps write only through services. The people step (order 10) fills the context with the
departments, employees and demo logins; later steps read them from there.
"""

from __future__ import annotations

import importlib
import pkgutil
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from jifen.core.roles import Role
from jifen.people.models import Department, Employee, User

DEMO_PASSWORD = "jifen-demo-2026"
DEFAULT_SEED = 2026
DEMO_URL = "http://127.0.0.1:8000"

# One login per role, in the order they are printed: (role, username).
DEMO_LOGINS: tuple[tuple[str, str], ...] = (
    (Role.EMPLOYEE, "employee"),
    (Role.MANAGER, "manager"),
    (Role.HR_ADMIN, "hr"),
    (Role.MALL_ADMIN, "mall"),
    (Role.AUDITOR, "auditor"),
    (Role.SUPER_ADMIN, "admin"),
)


@dataclass
class DemoContext:
    """What the steps share. ``rng`` is replaced before each step by that step's own
    generator; everything else accumulates as the steps run."""

    seed: int
    today: date
    password: str = DEMO_PASSWORD
    rng: random.Random = field(default_factory=random.Random)
    log: Callable[[str], None] = lambda message: None
    # Filled by the people step.
    departments: dict[str, Department] = field(default_factory=dict)  # code → department
    employees: list[Employee] = field(default_factory=list)  # active, by employee number
    former_employees: list[Employee] = field(default_factory=list)  # status "left"
    managers: dict[str, Employee] = field(default_factory=dict)  # department code → manager
    logins: dict[str, Employee] = field(default_factory=dict)  # role → the demo login
    # Anything a step wants to hand to later steps, under the step's name.
    created: dict[str, Any] = field(default_factory=dict)

    def employees_with_role(self, role: str) -> list[Employee]:
        """Active employees who hold ``role`` in the demo: everyone for ``employee``,
        department managers for ``manager``, the demo login for the admin roles."""
        if role == Role.EMPLOYEE:
            return list(self.employees)
        if role == Role.MANAGER:
            return list(dict.fromkeys(self.managers.values()))
        login = self.logins.get(role)
        return [login] if login is not None else []

    def actor(self, role: str = Role.SUPER_ADMIN) -> User | None:
        """The demo login's account for ``role``, to pass as ``actor=`` to services."""
        login = self.logins.get(role)
        return login.user if login is not None else None


@dataclass(frozen=True)
class Step:
    name: str
    order: int
    func: Callable[[DemoContext], None]
    atomic: bool = True


_STEPS: dict[str, Step] = {}


def demo_step(*, order: int, name: str | None = None, atomic: bool = True,
              ) -> Callable[[Callable[[DemoContext], None]], Callable[[DemoContext], None]]:
    """Register a step. ``name`` defaults to ``<module>.<function>``; ``atomic=False`` is
    for a step that calls services which must not run inside another transaction
    (``durable=True``); such a step keeps its own writes consistent."""

    def register(func: Callable[[DemoContext], None]) -> Callable[[DemoContext], None]:
        step_name = name or f"{func.__module__.rsplit('.', 1)[-1]}.{func.__name__}"
        _STEPS[step_name] = Step(name=step_name, order=order, func=func, atomic=atomic)
        return func

    return register


def discover_steps() -> None:
    """Import every module of ``jifen.demo`` so their ``@demo_step``s register (not the
    app's own plumbing: the builder, the AppConfig, the command package)."""
    package = importlib.import_module("jifen.demo")
    for module in pkgutil.iter_modules(package.__path__):
        if (not module.name.startswith("_") and not module.ispkg
                and module.name not in {"builder", "apps"}):
            importlib.import_module(f"jifen.demo.{module.name}")


def registered_steps() -> list[Step]:
    discover_steps()
    return sorted(_STEPS.values(), key=lambda step: (step.order, step.name))


def build_demo(*, seed: int = DEFAULT_SEED, today: date | None = None,
               log: Callable[[str], None] | None = None,
               only: Iterable[str] | None = None) -> DemoContext:
    """Run every registered step in order and return the filled context. The same seed
    gives the same company (names, departments, numbers); dates count back from ``today``.
    ``only`` names the steps to run (e.g. ``["people"]`` for just the company's people)."""
    ctx = DemoContext(seed=seed, today=today or timezone.localdate(),
                      log=log or (lambda message: None))
    wanted = set(only) if only is not None else None
    steps = registered_steps()
    if wanted is not None:
        unknown = wanted - {step.name for step in steps}
        if unknown:
            raise ValueError(f"Unknown demo steps: {', '.join(sorted(unknown))}")
        steps = [step for step in steps if step.name in wanted]
    for step in steps:
        ctx.rng = random.Random(f"{seed}/{step.name}")
        if step.atomic:
            with transaction.atomic():
                step.func(ctx)
        else:
            step.func(ctx)
        ctx.log(f"  ✓ {step.name}")
    return ctx


@dataclass(frozen=True)
class LoginRow:
    role: str
    username: str
    password: str
    employee: str  # "name · department", or "" for an account without an employee record


def demo_logins() -> list[LoginRow]:
    """The demo logins that exist in this database, in print order."""
    usernames = [username for _role, username in DEMO_LOGINS]
    users = {
        user.username: user
        for user in User.objects.filter(username__in=usernames)
        .select_related("employee__department")
    }
    rows = []
    for role, username in DEMO_LOGINS:
        user = users.get(username)
        if user is None:
            continue
        employee = getattr(user, "employee", None)
        label = f"{employee.name} · {employee.department.name}" if employee else ""
        rows.append(LoginRow(role=str(role), username=username, password=DEMO_PASSWORD,
                             employee=label))
    return rows
