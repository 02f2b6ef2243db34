"""A small company with a known history for the dashboard tests; every figure the tests
expect is worked out by hand from what is posted here.

Departments: A with its child A1, and B. Active employees (grade):
  a1 (A, P5)   earns 10 learning on 10 Mar (expires 1 May), spends 4 on 20 Mar
  a2 (A1, P5)  earns 6 culture on 1 Feb (expires 20 Feb; the sweep on 25 Feb expires it),
               earns 10 teamwork on 10 Mar (expires 30 Jun)
  b1 (B, P6)   earns 20 learning on 5 Apr (expires 31 Dec), spends 5 on 10 Apr,
               holds 5 on 11 Apr (an open order)
  b2 (B, P6)   earns 3 learning on 10 Jan (never expires); nothing since
"Now" is 15 April 2026, 10:00 in Shanghai.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from jifen.insights.services import rollups
from jifen.ledger import expiry
from jifen.people.models import Department, Employee
from tests.factories import DepartmentFactory, EmployeeFactory
from tests.ledger.helpers import earn, hold, spend

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 4, 15, 10, 0, tzinfo=SHANGHAI)


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=SHANGHAI)


@dataclass
class Company:
    a: Department
    a1: Department
    b: Department
    a1_person: Employee
    a2: Employee
    b1: Employee
    b2: Employee


def build_company() -> Company:
    a = DepartmentFactory(code="A", name="研发部")
    a1 = DepartmentFactory(code="A1", name="平台组", parent=a)
    b = DepartmentFactory(code="B", name="销售部")
    p_a1 = EmployeeFactory(department=a, grade="P5", name="安一")
    p_a2 = EmployeeFactory(department=a1, grade="P5", name="安二")
    p_b1 = EmployeeFactory(department=b, grade="P6", name="白一")
    p_b2 = EmployeeFactory(department=b, grade="P6", name="白二")
    earn(p_a1, 10, category="learning", now=at(3, 10), expires_at=at(5, 1))
    spend(p_a1, 4, now=at(3, 20))
    earn(p_a2, 6, category="culture", now=at(2, 1), expires_at=at(2, 20))
    expiry.expire_lots(now=at(2, 25))
    earn(p_a2, 10, category="teamwork", now=at(3, 10), expires_at=at(6, 30))
    earn(p_b1, 20, category="learning", now=at(4, 5), expires_at=at(12, 31))
    spend(p_b1, 5, now=at(4, 10))
    hold(p_b1, 5, now=at(4, 11))
    earn(p_b2, 3, category="learning", now=at(1, 10), expires_at=None)
    rollups.fold_pending()
    return Company(a, a1, b, p_a1, p_a2, p_b1, p_b2)
