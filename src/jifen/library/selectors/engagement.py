"""Engagement reads: an employee's month of check-ins and streak, the comments and ratings
of a target, the moderation queue and the operators' figures (check-in rate per day, the
weekday × hour heatmap, comment and share activity, top commenters).

A hidden comment is read by nothing here except the moderation queue: pages, the API and
exports all read comments through ``shown_comments``."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, QuerySet
from django.utils import timezone

from jifen.library.models import (
    CheckIn,
    Comment,
    CommentStatus,
    EngagementSettings,
    Rating,
    ShareLink,
    ShareVisit,
)
from jifen.library.services.engagement import (
    company_day,
    company_zone,
    current_settings,
    makeup_cards_left,
)
from jifen.library.targets import TargetInfo, find_target
from jifen.people.models import Employee, EmployeeStatus

SHOWN = (CommentStatus.VISIBLE, CommentStatus.REPORTED)


def engagement_settings() -> EngagementSettings:
    return current_settings()


def today(now: datetime | None = None) -> date:
    return company_day(now or timezone.now())


# --- check-in --------------------------------------------------------------------------


def current_streak(employee: Any, on: date) -> int:
    """The run that is still alive on ``on``: today's, or yesterday's if today is not
    checked in yet; 0 once a day was missed."""
    rows = dict(CheckIn.objects.filter(employee=employee, day__in=[on, on - timedelta(days=1)])
                .values_list("day", "streak"))
    return rows.get(on) or rows.get(on - timedelta(days=1)) or 0


def longest_streak(employee: Any) -> int:
    best = CheckIn.objects.filter(employee=employee).order_by("-streak").values_list(
        "streak", flat=True).first()
    return best or 0


def check_ins_in_month(employee: Any, year: int, month: int) -> list[CheckIn]:
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    return list(CheckIn.objects.filter(employee=employee, day__gte=first, day__lte=last)
                .order_by("day"))


@dataclass(frozen=True)
class CalendarDay:
    day: date | None  # None: a blank before the 1st or after the last day
    checked: bool = False
    made_up: bool = False
    is_today: bool = False
    future: bool = False
    can_make_up: bool = False


@dataclass(frozen=True)
class CheckInMonth:
    year: int
    month: int
    weeks: list[list[CalendarDay]]  # Monday first
    days_checked: int
    streak: int
    checked_today: bool
    cards_left: int
    previous: date
    following: date | None  # None: no months after the current one


def check_in_month(employee: Any, year: int, month: int, now: datetime | None = None,
                   ) -> CheckInMonth:
    on = today(now)
    config = current_settings()
    rows = {c.day: c for c in check_ins_in_month(employee, year, month)}
    cards = makeup_cards_left(employee, config)
    window_start = on - timedelta(days=config.makeup_window_days)
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        cells = []
        for d in week:
            if d.month != month:
                cells.append(CalendarDay(day=None))
                continue
            row = rows.get(d)
            cells.append(CalendarDay(
                day=d, checked=row is not None, made_up=bool(row and row.made_up),
                is_today=d == on, future=d > on,
                can_make_up=row is None and cards > 0 and window_start <= d < on))
        weeks.append(cells)
    first = date(year, month, 1)
    following = (first + timedelta(days=32)).replace(day=1)
    return CheckInMonth(
        year=year, month=month, weeks=weeks, days_checked=len(rows),
        streak=current_streak(employee, on), checked_today=CheckIn.objects.filter(
            employee=employee, day=on).exists(), cards_left=cards,
        previous=(first - timedelta(days=1)).replace(day=1),
        following=following if following <= on else None)


@dataclass(frozen=True)
class CheckInCard:
    checked_today: bool
    streak: int
    days_this_month: int


def check_in_card(employee: Any, now: datetime | None = None) -> CheckInCard | None:
    """What the portal home's check-in card shows (None for a user without an employee)."""
    if employee is None:
        return None
    on = today(now)
    return CheckInCard(
        checked_today=CheckIn.objects.filter(employee=employee, day=on).exists(),
        streak=current_streak(employee, on),
        days_this_month=CheckIn.objects.filter(employee=employee, day__gte=on.replace(day=1),
                                               day__lte=on).count())


# --- comments and ratings --------------------------------------------------------------


def shown_comments(kind: str | None = None, target_id: int | None = None) -> QuerySet[Comment]:
    """Comments anyone may read (never hidden ones), newest first."""
    rows = Comment.objects.filter(status__in=SHOWN)
    if kind is not None:
        rows = rows.filter(target_kind=kind)
    if target_id is not None:
        rows = rows.filter(target_id=target_id)
    return rows.select_related("author", "author__department").order_by("-created_at", "-pk")


@dataclass(frozen=True)
class RatingSummary:
    average: float | None
    count: int
    mine: int | None

    @property
    def rounded(self) -> int:
        return round(self.average or 0)


def rating_summary(kind: str, target_id: int, employee: Any = None) -> RatingSummary:
    rows = Rating.objects.filter(target_kind=kind, target_id=target_id)
    figures = rows.aggregate(average=Avg("stars"), count=Count("pk"))
    mine = (rows.filter(employee=employee).values_list("stars", flat=True).first()
            if employee is not None else None)
    average = figures["average"]
    return RatingSummary(average=round(float(average), 1) if average is not None else None,
                         count=figures["count"], mine=mine)


def share_link_for(employee: Any, kind: str, target_id: int) -> ShareLink | None:
    return ShareLink.objects.filter(sharer=employee, target_kind=kind,
                                    target_id=target_id).first()


def share_link_by_code(code: str) -> ShareLink | None:
    code = (code or "").strip()
    if not code or len(code) > 16:
        return None
    return ShareLink.objects.select_related("sharer").filter(code=code).first()


def moderation_queue(status: str = CommentStatus.REPORTED) -> QuerySet[Comment]:
    rows = Comment.objects.annotate(report_count=Count("reports"))
    if status in CommentStatus.values:
        rows = rows.filter(status=status)
    return rows.select_related("author").prefetch_related("reports").order_by(
        "-created_at", "-pk")


def targets_of(comments: list[Comment]) -> dict[tuple[str, int], TargetInfo | None]:
    """Each distinct target of ``comments``, found once (for titles and links)."""
    keys = {(c.target_kind, c.target_id) for c in comments}
    return {key: find_target(key[0], key[1]) for key in keys}


# --- operators' view -------------------------------------------------------------------


def _days(since: date, until: date) -> list[date]:
    return [since + timedelta(days=n) for n in range((until - since).days + 1)]


def _active_employees() -> int:
    return Employee.objects.filter(status=EmployeeStatus.ACTIVE).count()


@dataclass(frozen=True)
class DayFigures:
    day: date
    check_ins: int
    rate: float  # check-ins / active employees, 0–1
    comments: int
    share_visits: int


def daily_figures(since: date, until: date) -> list[DayFigures]:
    """One row per day of [since, until]: check-ins and their rate among today's active
    employees, comments shown (never hidden ones), colleagues' share visits."""
    people = _active_employees() or 1
    checks = dict(CheckIn.objects.filter(day__gte=since, day__lte=until, made_up=False)
                  .values("day").annotate(n=Count("pk")).values_list("day", "n"))
    visits = dict(ShareVisit.objects.filter(day__gte=since, day__lte=until)
                  .values("day").annotate(n=Count("pk")).values_list("day", "n"))
    zone = company_zone()
    comments: dict[date, int] = {}
    start = datetime.combine(since, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    for moment in shown_comments().filter(created_at__gte=start, created_at__lt=end) \
            .values_list("created_at", flat=True):
        day = moment.astimezone(zone).date()
        comments[day] = comments.get(day, 0) + 1
    return [DayFigures(day=d, check_ins=checks.get(d, 0),
                       rate=round(checks.get(d, 0) / people, 4), comments=comments.get(d, 0),
                       share_visits=visits.get(d, 0)) for d in _days(since, until)]


def check_in_heatmap(since: date, until: date) -> list[list[int]]:
    """Check-ins by weekday (0 = Monday) × hour of the day, in the company's time zone."""
    zone = company_zone()
    grid = [[0] * 24 for _ in range(7)]
    for moment in CheckIn.objects.filter(day__gte=since, day__lte=until, made_up=False) \
            .values_list("created_at", flat=True).iterator():
        local = moment.astimezone(zone)
        grid[local.weekday()][local.hour] += 1
    return grid


@dataclass(frozen=True)
class Commenter:
    employee_id: int
    name: str
    department: str
    comments: int


def top_commenters(since: date, until: date, limit: int = 10) -> list[Commenter]:
    zone = company_zone()
    start = datetime.combine(since, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    rows = (shown_comments().filter(created_at__gte=start, created_at__lt=end)
            .order_by().values("author_id", "author__name", "author__department__name")
            .annotate(n=Count("pk")).order_by("-n", "author_id")[:limit])
    return [Commenter(employee_id=r["author_id"], name=r["author__name"],
                      department=r["author__department__name"] or "", comments=r["n"])
            for r in rows]


@dataclass(frozen=True)
class Sharer:
    employee_id: int
    name: str
    visits: int


def top_sharers(since: date, until: date, limit: int = 10) -> list[Sharer]:
    rows = (ShareVisit.objects.filter(day__gte=since, day__lte=until).order_by()
            .values("link__sharer_id", "link__sharer__name").annotate(n=Count("pk"))
            .order_by("-n", "link__sharer_id")[:limit])
    return [Sharer(employee_id=r["link__sharer_id"], name=r["link__sharer__name"],
                   visits=r["n"]) for r in rows]


def comment_for_answer(pk: int) -> Comment:
    """A comment with what its answer shows (author, department)."""
    return Comment.objects.select_related("author__department").get(pk=pk)
