"""Rollups for a bulk load: the rows ``rollups.rebuild()`` would compute, accumulated while
a loader writes its postings month by month in time order — so a load of millions of
postings does not read them all back (at 100,000 employees that re-read took longer than
the load). The loader hands over each employee change (the net of one transaction on an
employee's wallet and hold, as the posting observer records it) and, at the end of each
month, writes the rows ``close_month`` returns; rows whose period is over are handed out
once, so memory holds only the periods still open.

The rows are new: the loader's employees and departments have none yet. Item and company
rows may meet rows of earlier orders and postings and are added with
``insights.sql.add_to_rows`` (``write_item_months``, ``rollups.write_company_months``).
``jifen ledger verify`` (``rollups_match_ledger``) and the tests check that the result
equals a rebuild."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from jifen.insights import sql
from jifen.insights.models import (
    CompanyMonth,
    DepartmentMonth,
    EmployeeMonth,
    ItemMonth,
    LastActive,
    Standing,
)
from jifen.insights.services.rollups import ACTIVE_KINDS, is_ranked, periods_of

EMPLOYEE_MONTH_FIELDS = ("employee_id", "department_id", "month", "category", "kind",
                         "amount", "count")
DEPARTMENT_MONTH_FIELDS = ("department_id", "month", "category", "kind", "amount", "count")
STANDING_FIELDS = ("period", "category", "employee_id", "department_id", "points")
_LEVELS = ("all", "year", "quarter", "month")  # the order of ``periods_of``


class RollupRows:
    """Accumulates one month's changes at a time (feed months in order)."""

    def __init__(self) -> None:
        self._employees: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        self._departments: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        self._items: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        self._standings: dict[str, dict[tuple, int]] = {
            level: defaultdict(int) for level in _LEVELS}
        self._last_active: dict[int, date] = {}
        self._periods: tuple[str, ...] = ()
        self._month: date | None = None

    def start_month(self, month: date) -> None:
        self._month = month
        self._periods = periods_of(month)

    def add(self, *, employee_id: int, department_id: int, kind: str, category: str,
            amount: int, item_id: int | None = None) -> None:
        """One transaction's net change to an employee's points (never 0) in this month."""
        employee = self._employees[(employee_id, department_id, category, kind)]
        employee[0] += amount
        employee[1] += 1
        department = self._departments[(department_id, category, kind)]
        department[0] += amount
        department[1] += 1
        if kind in ACTIVE_KINDS:
            assert self._month is not None
            self._last_active[employee_id] = self._month  # months come in order
        if item_id is not None:
            item = self._items[(item_id, kind)]
            item[0] += amount
            item[1] += 1
        if is_ranked(kind, category):
            for level, period in zip(_LEVELS, self._periods, strict=True):
                standings = self._standings[level]
                standings[(period, "", employee_id, department_id)] += amount
                if category:
                    standings[(period, category, employee_id, department_id)] += amount

    def close_month(self, *, last: bool = False) -> dict[type, list[tuple]]:
        """The rows finished with this month: its employee, department, company and item
        rows, and the standings of every period that ends with it (all of them when
        ``last``), and with ``last`` each employee's last active month
        (``write_last_active``)."""
        month = self._month
        assert month is not None, "start_month first"
        company: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        for (_d, c, k), (amount, count) in self._departments.items():
            company[(c, k)][0] += amount
            company[(c, k)][1] += count
        rows: dict[type, list[tuple]] = {
            EmployeeMonth: [(e, d, month, c, k, amount, count) for (e, d, c, k), (amount, count)
                            in self._employees.items()],
            DepartmentMonth: [(d, month, c, k, amount, count) for (d, c, k), (amount, count)
                              in self._departments.items()],
            CompanyMonth: [(month, c, k, amount, count) for (c, k), (amount, count)
                           in company.items()],
            ItemMonth: [(i, month, k, amount, count) for (i, k), (amount, count)
                        in self._items.items()],
            Standing: [],
            LastActive: [],
        }
        ending = {"month"}
        if month.month % 3 == 0:
            ending.add("quarter")
        if month.month == 12:
            ending.add("year")
        if last:
            ending = set(_LEVELS)
            rows[LastActive] = sorted(self._last_active.items())
        for level in ending:
            rows[Standing] += [(*key, points) for key, points in self._standings[level].items()]
            self._standings[level] = defaultdict(int)
        self._employees.clear()
        self._departments.clear()
        self._items.clear()
        return rows


def write_item_months(rows: list[tuple]) -> None:
    """Item rows (item_id, month, kind, amount, count), added to any already there."""
    sql.add_to_rows(ItemMonth, ("item_id", "month", "kind"), ("amount", "count"), rows)


def write_last_active(rows: list[tuple]) -> None:
    """Last active months (employee_id, month), raising any already recorded."""
    sql.raise_rows(LastActive, "employee_id", "month", rows)
