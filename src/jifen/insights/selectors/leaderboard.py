"""Leaderboards: who earned the most in a period (month, quarter, year, all time), company
wide, in one department or in a manager's team, overall or in one category.

Everything is read from ``Standing`` through its two indexes (DESIGN.md §6): a top N is
an index range read that stops after N rows, a person's rank is a count of the rows above
them, so a page costs a handful of cheap queries at any size. Competition ranking: equal
points share a rank ("1, 2, 2, 4"), then employee id keeps the order stable. People with
no ranked points in the period (no row, or a net of zero) are unranked. People who left
are never shown and never counted.

Names: an employee who chose to hide their name (``RankingPrivacy``) still ranks, but
others see "Anonymous colleague" without number or department; they see themselves, and
a manager looking at their own team sees names (decision 0025).
"""

from __future__ import annotations

import bisect
import hashlib
import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.roles import Cap, user_can
from jifen.insights.models import RankingPrivacy, RollupState, Standing
from jifen.ledger.models import Category
from jifen.people.models import Department, Employee, EmployeeStatus, User
from jifen.people.selectors import departments_visible_to, managed_department_paths

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
LADDER_SECONDS = 60
# Someone opened a leaderboard within the last hour: the worker refreshes the company's
# ladders of the current periods after each fold (``refresh_after_fold``).
READ_RECENTLY = "insights:leaderboard:read-recently"
READ_RECENTLY_SECONDS = 3600
SHORT_LIST = 100  # department ids a team filter lists as they are (see _among)
SCOPES = ("company", "department", "team")
CURRENT_PERIODS = ("month", "quarter", "year", "all")
_PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?:(?P<month>\d{2})|Q(?P<quarter>[1-4])))?$")


# --- periods ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    key: str  # as stored in Standing.period: "all", "2026", "2026-Q4", "2026-12"
    kind: str  # "all", "year", "quarter", "month"

    @property
    def label(self) -> str:
        if self.kind == "all":
            return _("All time")
        if self.kind == "quarter":
            return _("Q%(quarter)s %(year)s") % {"quarter": self.key[-1], "year": self.key[:4]}
        return self.key  # "2026", "2026-11" read the same in every language


def current_period(kind: str, *, today: date | None = None) -> Period:
    """This month, quarter or year in the site's time zone, or all time."""
    today = today or timezone.localdate()
    if kind == "all":
        return Period("all", "all")
    if kind == "year":
        return Period(f"{today.year}", "year")
    if kind == "quarter":
        return Period(f"{today.year}-Q{(today.month - 1) // 3 + 1}", "quarter")
    return Period(f"{today.year}-{today.month:02d}", "month")


def parse_period(text: str | None, *, today: date | None = None) -> Period:
    """``month`` (the default), ``quarter``, ``year``, ``all``, or a chosen period
    ``2026-11``, ``2026-Q3``, ``2026``; a ``ValidationError`` (invalid_period) otherwise."""
    text = (text or "month").strip()
    if text in CURRENT_PERIODS:
        return current_period(text, today=today)
    found = _PERIOD.match(text)
    if found is None or not 2000 <= int(found["year"]) <= 2100 or (
            found["month"] and not 1 <= int(found["month"]) <= 12):
        raise errors.ValidationError(
            _("Choose a period: month, quarter, year, all, or one like 2026-11, 2026-Q3 or "
              "2026."), code=errors.ErrorCode.INVALID_PERIOD, details={"period": text})
    kind = "month" if found["month"] else "quarter" if found["quarter"] else "year"
    return Period(text, kind)


def recent_periods(*, today: date | None = None, months: int = 12, quarters: int = 8,
                   years: int = 3) -> list[Period]:
    """Past periods to offer in a picker, newest first (the current ones excluded)."""
    today = today or timezone.localdate()
    found: list[Period] = []
    year, month = today.year, today.month
    for _n in range(months):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        found.append(Period(f"{year}-{month:02d}", "month"))
    year, quarter = today.year, (today.month - 1) // 3 + 1
    for _n in range(quarters):
        quarter -= 1
        if quarter == 0:
            year, quarter = year - 1, 4
        found.append(Period(f"{year}-Q{quarter}", "quarter"))
    found += [Period(f"{today.year - n}", "year") for n in range(1, years + 1)]
    return found


def parse_category(text: str | None) -> str:
    """"" (every category) or one earning category; ``unknown_category`` otherwise."""
    text = (text or "").strip()
    if text and text not in Category.values:
        raise errors.ValidationError(_("There is no such category."),
                                     code=errors.ErrorCode.UNKNOWN_CATEGORY,
                                     details={"category": text,
                                              "choices": list(Category.values)})
    return text


def parse_limit(value: int | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not 1 <= value <= MAX_LIMIT:
        raise errors.ValidationError(
            _("Ask for between 1 and %(max)s people.") % {"max": MAX_LIMIT},
            code=errors.ErrorCode.INVALID_LIMIT, details={"limit": value})
    return value


# --- scopes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    kind: str  # company, department, team
    department: Department | None = None  # for "department"
    department_ids: tuple[int, ...] = ()  # for "team": the manager's subtrees

    @property
    def label(self) -> str:
        if self.kind == "department" and self.department is not None:
            return self.department.name
        return {"company": _("Whole company"), "department": _("My department"),
                "team": _("My team")}[self.kind]


def team_department_ids(user: User) -> tuple[int, ...]:
    """The departments of the subtrees ``user`` manages (empty: not a manager)."""
    paths = managed_department_paths(user)
    if not paths:
        return ()
    subtree = Q(pk__in=[])
    for path in paths:
        subtree |= Q(path__startswith=path)
    return tuple(Department.objects.filter(subtree).order_by("pk").values_list("pk", flat=True))


def departments_to_choose(user: User) -> QuerySet[Department]:
    """Departments whose leaderboard ``user`` may open besides their own: every one for
    people who see all people, a manager's subtrees, none for others."""
    if user_can(user, Cap.VIEW_INSIGHTS):
        return departments_visible_to(user).order_by("path")
    return Department.objects.none()


def resolve_scope(user: User, scope: str | None, *, department_code: str | None = None) -> Scope:
    """The scope asked for, if ``user`` may see it: the company; their own department or
    another they may see (``department_code``); their team (managers)."""
    scope = (scope or "company").strip()
    if scope not in SCOPES:
        raise errors.ValidationError(
            _("Choose a scope: company, department or team."),
            code=errors.ErrorCode.INVALID_SCOPE, details={"scope": scope, "choices": SCOPES})
    employee: Employee | None = getattr(user, "employee", None)
    if scope == "company":
        return Scope("company")
    if scope == "team":
        ids = team_department_ids(user)
        if not ids:
            raise errors.PermissionDenied(_("Only managers have a team leaderboard."),
                                          code=errors.ErrorCode.FORBIDDEN)
        return Scope("team", department_ids=ids)
    if department_code:
        own = employee is not None and employee.department.code == department_code
        department = (employee.department if own and employee is not None else
                      departments_to_choose(user).filter(code=department_code).first())
        if department is None:
            raise errors.NotFound(_("There is no such department, or it is not yours to see."),
                                  code=errors.ErrorCode.NOT_FOUND,
                                  details={"department": department_code})
        return Scope("department", department=department)
    if employee is None:
        raise errors.ValidationError(_("Only employees have a department; choose one."),
                                     code=errors.ErrorCode.INVALID_SCOPE)
    return Scope("department", department=employee.department)


# --- the board -------------------------------------------------------------------------


@dataclass
class Row:
    rank: int
    points: int
    employee_id: int
    name: str  # "Anonymous colleague" when hidden from this viewer
    employee_no: str | None
    department: str | None
    anonymous: bool
    is_me: bool


@dataclass
class Board:
    period: Period
    scope: Scope
    category: str
    ranked_count: int
    rows: list[Row]
    me_rank: int  # 0: unranked (no points in the period) or not in this scope
    me_points: int
    me_in_scope: bool
    updated_at: datetime | None
    hidden_me: bool = False


def _in_scope(scope: Scope, period: Period, category: str) -> QuerySet[Standing]:
    rows = Standing.objects.filter(period=period.key, category=category)
    if scope.kind == "department" and scope.department is not None:
        rows = rows.filter(department_id=scope.department.pk)
    elif scope.kind == "team":
        rows = rows.filter(_among(scope.department_ids))
    # People who left: a NOT IN over the (few) who left, so the rank indexes stay usable.
    left = Employee.objects.filter(status=EmployeeStatus.LEFT).values("pk")
    return rows.exclude(points=0).exclude(employee_id__in=left)


def _among(department_ids: Sequence[int]) -> Q:
    """Rows of these departments, said the shorter way: a manager near the top of the tree
    manages nearly every department, and "not one of the few others" lets the top N stop
    after N rows of the rank index where "one of these 2,600" has the database test every
    row against the whole list (decision 0036)."""
    if len(department_ids) <= SHORT_LIST:
        return Q(department_id__in=department_ids)
    others = set(Department.objects.values_list("pk", flat=True)) - set(department_ids)
    if len(others) < len(department_ids):
        return ~Q(department_id__in=sorted(others))
    return Q(department_id__in=department_ids)


def is_hidden(employee: Employee) -> bool:
    return RankingPrivacy.objects.filter(employee=employee, hidden=True).exists()


def board(*, viewer: User, scope: Scope, period: Period, category: str = "",
          limit: int = DEFAULT_LIMIT) -> Board:
    """The top ``limit`` of ``scope`` for ``period`` and ``category``, the viewer's own rank
    and points (even outside the top), and how many people rank."""
    cache.add(READ_RECENTLY, True, READ_RECENTLY_SECONDS)
    employee: Employee | None = getattr(viewer, "employee", None)
    ranked = _in_scope(scope, period, category)
    top = list(ranked.select_related("employee__department")
               .order_by("-points", "employee_id")[:limit])
    hidden = set(RankingPrivacy.objects.filter(
        employee_id__in=[s.employee_id for s in top], hidden=True)
        .values_list("employee_id", flat=True)) if top else set()
    # A manager sees the names of their own team (decision 0025).
    names_visible = scope.kind == "team"
    rows: list[Row] = []
    for position, standing in enumerate(top):
        rank = rows[-1].rank if rows and rows[-1].points == standing.points else position + 1
        person = standing.employee
        is_me = employee is not None and person.pk == employee.pk
        anonymous = person.pk in hidden and not is_me and not names_visible
        rows.append(Row(
            rank=rank, points=standing.points, employee_id=person.pk,
            name=_("Anonymous colleague") if anonymous else person.name,
            employee_no=None if anonymous else person.employee_no,
            department=None if anonymous else person.department.name,
            anonymous=anonymous, is_me=is_me))

    updated_at = RollupState.objects.filter(pk=1).values_list("folded_at", flat=True).first()
    ladder = _ladder(ranked, scope=scope, period=period, category=category,
                     updated_at=updated_at)
    me_rank, me_points, me_in_scope = 0, 0, False
    if employee is not None:
        mine = ranked.filter(employee_id=employee.pk).values_list("points", flat=True).first()
        me_in_scope = _viewer_in_scope(scope, employee)
        if mine is not None:
            me_points, me_in_scope = mine, True
            me_row = next((r for r in rows if r.is_me), None)
            me_rank = (me_row.rank if me_row else
                       len(ladder) - bisect.bisect_right(ladder, mine) + 1)
    return Board(
        period=period, scope=scope, category=category, ranked_count=len(ladder),
        rows=rows, me_rank=me_rank, me_points=me_points, me_in_scope=me_in_scope,
        updated_at=updated_at, hidden_me=employee is not None and is_hidden(employee))


def _ladder(ranked: QuerySet[Standing], *, scope: Scope, period: Period, category: str,
            updated_at: datetime | None, refresh: bool = False) -> Sequence[int]:
    """Everyone's points in the scope, ascending: its length is the number ranked and a
    bisection gives anyone's rank. Counting 100,000 index entries takes ~100 ms, and the
    rankings only change when the worker folds (every minute), so the ladder is cached
    per fold and for at most a minute (decision 0025)."""
    where = (scope.department.pk if scope.department is not None else
             hashlib.sha1(",".join(map(str, scope.department_ids)).encode()).hexdigest()[:16])
    key = (f"insights:ladder:{period.key}:{category}:{scope.kind}:{where}:"
           f"{updated_at.timestamp() if updated_at else 0}")
    ladder = None if refresh else cache.get(key)
    if ladder is None:
        ladder = array("q", sorted(ranked.values_list("points", flat=True).order_by()))
        cache.set(key, ladder, LADDER_SECONDS)
    return ladder


def _viewer_in_scope(scope: Scope, employee: Employee) -> bool:
    if scope.kind == "company":
        return True
    if scope.kind == "team":
        return employee.department_id in scope.department_ids
    return scope.department is not None and employee.department_id == scope.department.pk


def refresh_after_fold(*, today: date | None = None) -> list[str]:
    """Rank the whole company for this month, quarter, year and all time into the cache
    right after the minute's fold, when someone opened a leaderboard within the last
    hour; returns the periods ranked. The first person to open the leaderboard after a
    fold then reads the ladder instead of sorting 100,000 rows (decision 0037)."""
    if cache.get(READ_RECENTLY) is None:
        return []
    updated_at = RollupState.objects.filter(pk=1).values_list("folded_at", flat=True).first()
    scope = Scope("company")
    periods = [current_period(kind, today=today) for kind in CURRENT_PERIODS]
    for period in periods:
        _ladder(_in_scope(scope, period, ""), scope=scope, period=period, category="",
                updated_at=updated_at, refresh=True)
    return [period.key for period in periods]
