"""The console's insight dashboards: one function per chart, each returning plain data
(series for the chart, rows for its table and spreadsheet) for a period of months and a
department subtree.

Figures come from the rollups (``CompanyMonth``, ``DepartmentMonth``, ``EmployeeMonth``,
``ItemMonth``) and from small tables (items, lottery entries, auction bids, check-ins,
orders); no chart groups ledger entries at request time. Points are returned in points (the site's
decimals applied), CNY as ``Decimal`` rounded to the fen.
"""

from __future__ import annotations

import hashlib
import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jifen.activities.models import (
    ActivityStatus,
    AuctionOutcome,
    Bid,
    EntryStatus,
    Lottery,
)
from jifen.activities.models import Auction as AuctionModel
from jifen.activities.models import Entry as LotteryEntry
from jifen.core import errors
from jifen.core.roles import Cap, user_can
from jifen.insights.models import (
    CompanyMonth,
    DashboardSettings,
    DepartmentMonth,
    EmployeeMonth,
    ItemMonth,
    LastActive,
    RollupState,
)
from jifen.insights.services.rollups import month_of
from jifen.ledger.amounts import from_units, site_decimals
from jifen.ledger.models import Account, AccountKind, Category, Lot, TransactionKind
from jifen.library.models import CheckIn
from jifen.mall.models import Item, ItemStatus, Order
from jifen.people.models import Department, Employee, EmployeeStatus
from jifen.people.selectors import managed_department_paths

UTC = ZoneInfo("UTC")
DEFAULT_MONTHS = 12
MAX_MONTHS = 120
INACTIVE_DAYS = (30, 60, 90)
INACTIVE_PAGE = 50
# Price versus market value: an item is flagged when its price in CNY (points × the CNY
# value of a point) is more than 1.5 times its market value, or less than two thirds.
PRICE_TOO_HIGH = Decimal("1.5")
PRICE_TOO_LOW = Decimal("0.67")
FEN = Decimal("0.01")

SPENT_KINDS = (TransactionKind.REDEEM, TransactionKind.CAPTURE, TransactionKind.REFUND)
ORDER_KINDS = (TransactionKind.REDEEM, TransactionKind.CAPTURE)

CHARTS: dict[str, Any] = {
    "flows": gettext_lazy("Points issued, spent and expired"),
    "categories": gettext_lazy("Points issued by category"),
    "per-head": gettext_lazy("Points per head by department"),
    "items": gettext_lazy("Redemptions per item"),
    "activities": gettext_lazy("Activity participation"),
    "liability": gettext_lazy("Outstanding liability"),
    "inactive": gettext_lazy("Inactive employees"),
    "fairness": gettext_lazy("Fairness"),
    "heatmap": gettext_lazy("Check-ins and redemptions by weekday and hour"),
}

# Column keys → their labels (the tables, the spreadsheets; the API uses the keys).
COLUMNS: dict[str, Any] = {
    "month": gettext_lazy("Month"),
    "issued": gettext_lazy("Issued"),
    "spent": gettext_lazy("Spent"),
    "expired": gettext_lazy("Expired"),
    "category": gettext_lazy("Category"),
    "points": gettext_lazy("Points"),
    "share": gettext_lazy("Share (%)"),
    "department": gettext_lazy("Department"),
    "headcount": gettext_lazy("Active headcount"),
    "per_head": gettext_lazy("Points per head"),
    "item": gettext_lazy("Item"),
    "redemptions": gettext_lazy("Redemptions"),
    "per_month": gettext_lazy("Redemptions per month"),
    "stock": gettext_lazy("Stock"),
    "price_cny": gettext_lazy("Price in CNY"),
    "market_value": gettext_lazy("Market value (CNY)"),
    "attention": gettext_lazy("Needs attention"),
    "kind": gettext_lazy("Kind"),
    "activity": gettext_lazy("Activity"),
    "starts": gettext_lazy("Opens"),
    "participants": gettext_lazy("Participants"),
    "entries": gettext_lazy("Entries or bids"),
    "collected": gettext_lazy("Points collected"),
    "bucket": gettext_lazy("Expires"),
    "cny": gettext_lazy("CNY"),
    "breakage": gettext_lazy("Projected breakage (points)"),
    "breakage_cny": gettext_lazy("Projected breakage (CNY)"),
    "employee_no": gettext_lazy("Employee no."),
    "name": gettext_lazy("Name"),
    "last_active": gettext_lazy("Last activity (month)"),
    "group": gettext_lazy("Group by"),
    "value": gettext_lazy("Department or grade"),
    "people": gettext_lazy("People"),
    "mean": gettext_lazy("Mean"),
    "median": gettext_lazy("Median"),
    "p10": gettext_lazy("10th percentile"),
    "p90": gettext_lazy("90th percentile"),
    "gini": gettext_lazy("Gini"),
    "weekday": gettext_lazy("Weekday"),
    "checkins": gettext_lazy("Check-ins"),
    "orders": gettext_lazy("Redemptions"),
    "hour": gettext_lazy("Hour"),
}
WEEKDAYS = (gettext_lazy("Mon"), gettext_lazy("Tue"), gettext_lazy("Wed"),
            gettext_lazy("Thu"), gettext_lazy("Fri"), gettext_lazy("Sat"), gettext_lazy("Sun"))
BUCKETS: tuple[tuple[str, Any], ...] = (
    ("30", gettext_lazy("Within 30 days")),
    ("90", gettext_lazy("In 31–90 days")),
    ("365", gettext_lazy("In 91–365 days")),
    ("later", gettext_lazy("Later than a year")),
    ("never", gettext_lazy("Never")),
)


@dataclass(frozen=True)
class Filters:
    """A period of whole months (``start`` and ``end`` are first days, both included) and
    the departments in scope (``None``: every department)."""

    start: date
    end: date
    department_ids: tuple[int, ...] | None = None
    department: Department | None = None

    @property
    def months(self) -> list[date]:
        months, month = [], self.start
        while month <= self.end:
            months.append(month)
            month = _next_month(month)
        return months

    def between(self) -> tuple[datetime, datetime]:
        """The period as aware datetimes in the site's zone: [start, day after the end)."""
        zone = _zone()
        start = datetime(self.start.year, self.start.month, 1, tzinfo=zone)
        after = _next_month(self.end)
        return start, datetime(after.year, after.month, 1, tzinfo=zone)

    def employees_q(self, prefix: str = "") -> Q:
        if self.department_ids is None:
            return Q()
        return Q(**{f"{prefix}department_id__in": self.department_ids})

    def query_string(self) -> str:
        text = f"from={self.start:%Y-%m}&to={self.end:%Y-%m}"
        return text + (f"&department={self.department.code}" if self.department else "")


@dataclass
class Chart:
    """One chart's figures: ``series`` draws it, ``rows`` (dicts keyed by ``columns``) are
    its table and spreadsheet, ``facts`` the single figures shown beside it."""

    key: str
    columns: list[str]
    rows: list[dict[str, Any]]
    series: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return str(CHARTS[self.key])

    @property
    def headers(self) -> list[str]:
        return [str(COLUMNS[c]) for c in self.columns]

    def table(self) -> list[list[Any]]:
        return [[row.get(c) for c in self.columns] for row in self.rows]

    def as_json(self) -> dict[str, Any]:
        return {"chart": self.key, "columns": self.columns, "rows": self.rows,
                "series": self.series, "facts": self.facts}


# --- filters --------------------------------------------------------------------------


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _months_back(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def parse_month(text: str, *, name: str) -> date:
    """"2026-03" → 1 March 2026; anything else is a 422 ``invalid_period``."""
    parts = text.strip().split("-") if isinstance(text, str) else []
    if (len(parts) == 2 and all(p.isascii() and p.isdigit() for p in parts)
            and len(parts[0]) == 4 and len(parts[1]) == 2 and 1 <= int(parts[1]) <= 12
            and int(parts[0]) >= 1900):
        return date(int(parts[0]), int(parts[1]), 1)
    raise errors.ValidationError(_("Give months as YYYY-MM."), code=errors.ErrorCode.INVALID_PERIOD,
                                 details={"field": name, "value": str(text)[:20]})


def visible_paths(user: Any) -> list[str] | None:
    """The department paths whose subtrees ``user`` may see (None: all). API keys with the
    reports scope (``user`` None) see everything."""
    if user is None or user_can(user, Cap.VIEW_ALL_PEOPLE):
        return None
    return managed_department_paths(user)


def filters_for(*, user: Any, start: str | None = None, end: str | None = None,
                department: str | None = None, now: datetime | None = None) -> Filters:
    """The filters a request asks for, within what ``user`` may see: a manager sees only
    their own subtrees (asking for another department is a 404, as if it did not exist).
    Without months: the last twelve months up to this one."""
    this_month = month_of(now or timezone.now())
    last = parse_month(end, name="to") if end else this_month
    first = parse_month(start, name="from") if start else _months_back(last, DEFAULT_MONTHS - 1)
    if first > last:
        raise errors.ValidationError(_("The period starts after it ends."),
                                     code=errors.ErrorCode.INVALID_PERIOD,
                                     details={"from": f"{first:%Y-%m}", "to": f"{last:%Y-%m}"})
    if (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
        raise errors.ValidationError(_("A period can be at most ten years."),
                                     code=errors.ErrorCode.INVALID_PERIOD)
    paths = visible_paths(user)
    chosen = None
    if department:
        chosen = Department.objects.filter(code=department).first()
        if chosen is None or (paths is not None
                              and not any(chosen.path.startswith(p) for p in paths)):
            raise errors.NotFound(_("No such department."),
                                  code=errors.ErrorCode.UNKNOWN_DEPARTMENT,
                                  details={"department": department[:50]})
        paths = [chosen.path]
    ids = None
    if paths is not None:
        q = Q(pk__in=[])
        for path in paths:
            q |= Q(path__startswith=path)
        ids = tuple(Department.objects.filter(q).values_list("pk", flat=True))
    return Filters(start=first, end=last, department_ids=ids, department=chosen)


def departments_for(user: Any) -> QuerySet[Department]:
    """The departments offered in the filter."""
    paths = visible_paths(user)
    departments = Department.objects.order_by("path")
    if paths is None:
        return departments
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(path__startswith=path)
    return departments.filter(q)


def dashboard_settings() -> DashboardSettings:
    return DashboardSettings.objects.order_by("pk").first() or DashboardSettings()


# --- helpers ----------------------------------------------------------------------------


def _points(decimals: int) -> Callable[[int], int | float]:
    return lambda units: from_units(int(units or 0), decimals)


def _cny(points: int | float, rate: Decimal) -> Decimal:
    return (Decimal(str(points)) * rate).quantize(FEN, rounding=ROUND_HALF_UP)


def _department_months(filters: Filters) -> QuerySet[DepartmentMonth]:
    rows = DepartmentMonth.objects.filter(month__gte=filters.start, month__lte=filters.end)
    if filters.department_ids is not None:
        rows = rows.filter(department_id__in=filters.department_ids)
    return rows


def _months(filters: Filters, *, start: date | None = None,
            end: date | None = None) -> QuerySet[CompanyMonth] | QuerySet[DepartmentMonth]:
    """Month rows (month, category, kind, amount, count) of the scope from ``start`` to
    ``end`` (the filters' period by default): the company's own rows when every department
    is in scope (a few dozen a month), else the departments' (one per department)."""
    start, end = start or filters.start, end or filters.end
    if filters.department_ids is None:
        return CompanyMonth.objects.filter(month__gte=start, month__lte=end)
    return DepartmentMonth.objects.filter(month__gte=start, month__lte=end,
                                          department_id__in=filters.department_ids)


def _active_employees(filters: Filters) -> QuerySet[Employee]:
    return Employee.objects.filter(filters.employees_q(), status=EmployeeStatus.ACTIVE)


def _category_label(code: str) -> str:
    if not code:
        return _("No category")
    try:
        return str(Category(code).label)
    except ValueError:
        return code


# --- charts -----------------------------------------------------------------------------


def flows(filters: Filters) -> Chart:
    """Per month: points issued (earned), spent (redeemed or captured, less refunds) and
    expired."""
    pts = _points(site_decimals())
    figures: dict[date, dict[str, int]] = {m: {"issued": 0, "spent": 0, "expired": 0}
                                           for m in filters.months}
    totals = (_months(filters)
              .filter(kind__in=(TransactionKind.EARN, TransactionKind.EXPIRE, *SPENT_KINDS))
              .values_list("month", "kind").annotate(total=Sum("amount")).order_by())
    for month, kind, total in totals:
        slot = figures.setdefault(month, {"issued": 0, "spent": 0, "expired": 0})
        if kind == TransactionKind.EARN:
            slot["issued"] += total
        elif kind == TransactionKind.EXPIRE:
            slot["expired"] -= total
        else:
            slot["spent"] -= total
    rows = [{"month": f"{m:%Y-%m}", **{k: pts(v) for k, v in figures[m].items()}}
            for m in sorted(figures)]
    return Chart("flows", ["month", "issued", "spent", "expired"], rows, series={
        "months": [r["month"] for r in rows],
        **{k: [r[k] for r in rows] for k in ("issued", "spent", "expired")}})


def categories(filters: Filters) -> Chart:
    """Points issued per earning category: the period's totals and their monthly split."""
    pts = _points(site_decimals())
    by_month: dict[str, dict[date, int]] = defaultdict(dict)
    totals = (_months(filters).filter(kind=TransactionKind.EARN)
              .values_list("category", "month").annotate(total=Sum("amount")).order_by())
    for category, month, total in totals:
        by_month[category][month] = by_month[category].get(month, 0) + total
    grand = sum(sum(v.values()) for v in by_month.values())
    order = sorted(by_month, key=lambda c: (-sum(by_month[c].values()), c))
    rows = [{"category": _category_label(c), "code": c, "points": pts(sum(by_month[c].values())),
             "share": round(100 * sum(by_month[c].values()) / grand, 1) if grand else 0.0}
            for c in order]
    return Chart("categories", ["category", "points", "share"], rows, series={
        "months": [f"{m:%Y-%m}" for m in filters.months],
        "categories": [{"name": _category_label(c),
                        "data": [pts(by_month[c].get(m, 0)) for m in filters.months]}
                       for c in order]})


def per_head(filters: Filters) -> Chart:
    """Points issued in the period per active employee, department by department (the
    employee's department when the points were folded; headcount is today's)."""
    pts = _points(site_decimals())
    issued = dict(_department_months(filters).filter(kind=TransactionKind.EARN)
                  .values_list("department").annotate(total=Sum("amount")).order_by())
    heads = dict(_active_employees(filters).values_list("department")
                 .annotate(n=Count("id")).order_by())
    names = dict(Department.objects.filter(pk__in=set(issued) | set(heads))
                 .values_list("pk", "name"))
    rows = []
    for pk in set(issued) | set(heads):
        count, total = heads.get(pk, 0), issued.get(pk, 0)
        rows.append({"department": names.get(pk, ""), "headcount": count,
                     "issued": pts(total),
                     "per_head": round(pts(total) / count, 1) if count else None})
    rows.sort(key=lambda r: (-(r["per_head"] or 0), r["department"]))
    return Chart("per-head", ["department", "headcount", "issued", "per_head"], rows, series={
        "departments": [r["department"] for r in rows],
        "per_head": [r["per_head"] for r in rows]})


def items(filters: Filters, *, rate: Decimal | None = None) -> Chart:
    """Redemptions per mall item in the period (orders less refunds, from the item
    rollup; the department filter does not apply: items are company-wide) and the items
    that need attention: listed items redeemed less than once a month, out of stock or
    at their low-stock threshold now, or priced (in CNY) well above or below their market
    value."""
    rate = dashboard_settings().cny_per_point if rate is None else rate
    pts = _points(site_decimals())
    counted: dict[int, dict[str, int]] = defaultdict(lambda: {"n": 0, "points": 0})
    rollup = (ItemMonth.objects.filter(month__gte=filters.start, month__lte=filters.end)
              .values_list("item_id", "kind").annotate(n=Sum("count"), total=Sum("amount"))
              .order_by())
    for item_id, kind, n, total in rollup:
        if kind in ORDER_KINDS:
            counted[item_id]["n"] += n
        elif kind == TransactionKind.REFUND:
            counted[item_id]["n"] -= n
        counted[item_id]["points"] -= total
    months = len(filters.months)
    rows: list[dict[str, Any]] = []
    for item in Item.objects.filter(Q(status=ItemStatus.LISTED) | Q(pk__in=list(counted))):
        n = counted[item.pk]["n"] if item.pk in counted else 0
        price_cny = _cny(pts(item.points), rate)
        reasons = []
        if item.status == ItemStatus.LISTED:
            if n < months:
                reasons.append(_("rarely redeemed"))
            if item.stock is not None and item.stock <= item.low_stock_threshold:
                reasons.append(_("out of stock") if item.stock == 0 else _("low stock"))
            if item.market_value:
                ratio = price_cny / item.market_value
                if ratio > PRICE_TOO_HIGH:
                    reasons.append(_("priced above its market value"))
                elif ratio < PRICE_TOO_LOW:
                    reasons.append(_("priced below its market value"))
        rows.append({"item": item.name, "item_id": item.pk, "redemptions": n,
                     "points": pts(counted[item.pk]["points"] if item.pk in counted else 0),
                     "per_month": round(n / months, 2), "stock": item.stock,
                     "price_cny": price_cny, "market_value": item.market_value,
                     "attention": ", ".join(reasons)})
    rows.sort(key=lambda r: (-r["redemptions"], r["item"]))
    top = rows[:20]
    return Chart("items", ["item", "redemptions", "per_month", "points", "stock", "price_cny",
                           "market_value", "attention"], rows,
                 series={"items": [r["item"] for r in top],
                         "redemptions": [r["redemptions"] for r in top]},
                 facts={"attention": [r for r in rows if r["attention"]],
                        "rare_below": months})


def activities(filters: Filters) -> Chart:
    """Lotteries and auctions open during the period: who took part (employees in scope),
    how many entries or bids, and the points collected (entry costs of live entries; the
    winning bid of a sold auction)."""
    pts = _points(site_decimals())
    start, after = filters.between()
    when = Q(starts_at__lt=after, ends_at__gte=start) & ~Q(
        status__in=(ActivityStatus.DRAFT, ActivityStatus.CANCELLED))
    rows = []
    lotteries = list(Lottery.objects.filter(when))
    entries = {row[0]: row[1:] for row in LotteryEntry.objects.filter(
        filters.employees_q("employee__"), lottery__in=lotteries, status=EntryStatus.ACTIVE)
        .values_list("lottery_id").annotate(n=Count("id"), people=Count("employee", distinct=True))
        .order_by()}
    for lottery in lotteries:
        n, people = entries.get(lottery.pk, (0, 0))
        rows.append({"kind": str(_("Lottery")), "activity": lottery.title,
                     "starts": timezone.localtime(lottery.starts_at).date(),
                     "participants": people, "entries": n,
                     "collected": pts(n * lottery.entry_cost)})
    auctions = list(AuctionModel.objects.filter(when))
    bids = {row[0]: row[1:] for row in Bid.objects.filter(
        filters.employees_q("employee__"), auction__in=auctions)
        .values_list("auction_id").annotate(n=Count("id"), people=Count("employee", distinct=True))
        .order_by()}
    in_scope = set(_active_employees(filters).filter(
        pk__in=[a.leader_id for a in auctions if a.leader_id]).values_list("pk", flat=True)) \
        if filters.department_ids is not None else None
    for auction in auctions:
        n, people = bids.get(auction.pk, (0, 0))
        sold = auction.outcome == AuctionOutcome.WON and (
            in_scope is None or auction.leader_id in in_scope)
        rows.append({"kind": str(_("Auction")), "activity": auction.title,
                     "starts": timezone.localtime(auction.starts_at).date(),
                     "participants": people, "entries": n,
                     "collected": pts(auction.price) if sold else 0})
    rows.sort(key=lambda r: (r["starts"], r["activity"]))
    return Chart("activities", ["kind", "activity", "starts", "participants", "entries",
                                "collected"], rows, series={
        "activities": [r["activity"] for r in rows],
        "participants": [r["participants"] for r in rows],
        "collected": [r["collected"] for r in rows]},
        facts={"participants": sum(r["participants"] for r in rows),
               "collected": sum(r["collected"] for r in rows)})


def breakage_rate(filters: Filters, *, now: datetime | None = None) -> tuple[Decimal, int, int]:
    """Of the points that left employees in the last twelve whole months (spent or
    expired), the share that expired: (rate, expired, spent)."""
    this_month = month_of(now or timezone.now())
    rows = _months(filters, start=_months_back(this_month, 12),
                   end=_months_back(this_month, 1)).filter(
        kind__in=(TransactionKind.EXPIRE, *SPENT_KINDS))
    expired = -(rows.filter(kind=TransactionKind.EXPIRE).aggregate(t=Sum("amount"))["t"] or 0)
    spent = -(rows.exclude(kind=TransactionKind.EXPIRE).aggregate(t=Sum("amount"))["t"] or 0)
    if expired + spent <= 0:
        return Decimal(0), expired, spent
    return (Decimal(expired) / Decimal(expired + spent)).quantize(Decimal("0.0001")), expired, spent


def liability(filters: Filters, *, now: datetime | None = None,
              rate: Decimal | None = None) -> Chart:
    """What the company owes now: every employee's wallet and hold balances (in scope),
    in points and in CNY; split by when the points expire (open lots' remaining and held
    points by ``expires_at``); and the projected breakage — the points expected to expire
    unspent — as ``breakage rate × points that can expire`` (decision 0026). The period
    filter does not apply: this is today's position."""
    now = now or timezone.now()
    rate = dashboard_settings().cny_per_point if rate is None else rate
    pts = _points(site_decimals())
    outstanding = Account.objects.filter(
        filters.employees_q("employee__"), kind__in=(AccountKind.WALLET, AccountKind.HOLD),
    ).aggregate(t=Sum("balance"))["t"] or 0
    lots = Lot.objects.filter(filters.employees_q("wallet__employee__"))
    owned = Q(remaining__gt=0) | Q(held__gt=0)
    edges = {"30": now + timedelta(days=30), "90": now + timedelta(days=90),
             "365": now + timedelta(days=365)}
    amount = F("remaining") + F("held")
    sums = lots.filter(owned).aggregate(
        b30=Sum(amount, filter=Q(expires_at__lte=edges["30"])),
        b90=Sum(amount, filter=Q(expires_at__gt=edges["30"], expires_at__lte=edges["90"])),
        b365=Sum(amount, filter=Q(expires_at__gt=edges["90"], expires_at__lte=edges["365"])),
        blater=Sum(amount, filter=Q(expires_at__gt=edges["365"])),
        bnever=Sum(amount, filter=Q(expires_at__isnull=True)),
    )
    share, expired, spent = breakage_rate(filters, now=now)
    rows: list[dict[str, Any]] = []
    for key, label in BUCKETS:
        points = pts(sums[f"b{key}"] or 0)
        breakage = 0 if key == "never" else round(float(Decimal(str(points)) * share), 2)
        rows.append({"bucket": str(label), "code": key, "points": points,
                     "cny": _cny(points, rate), "breakage": breakage,
                     "breakage_cny": _cny(breakage, rate)})
    breakage_total = round(sum(r["breakage"] for r in rows), 2)
    return Chart("liability", ["bucket", "points", "cny", "breakage", "breakage_cny"], rows,
                 series={"buckets": [r["bucket"] for r in rows],
                         "points": [r["points"] for r in rows]},
                 facts={"outstanding": pts(outstanding),
                        "outstanding_cny": _cny(pts(outstanding), rate),
                        "cny_per_point": rate, "breakage_rate": share,
                        "expired_12m": pts(expired), "spent_12m": pts(spent),
                        "breakage": breakage_total, "breakage_cny": _cny(breakage_total, rate)})


def inactive(filters: Filters, *, days: int = 30, page: int = 1, size: int = INACTIVE_PAGE,
             now: datetime | None = None) -> Chart:
    """Active employees in scope with no earning and no spending since the month ``days``
    days ago began (month granularity: the rollups are monthly), with the last month they
    earned or spent; a page of ``size`` (``INACTIVE_PAGE``), by department and name. The period
    filter does not apply: this is counted back from today."""
    if days not in INACTIVE_DAYS:
        raise errors.ValidationError(_("Choose 30, 60 or 90 days."),
                                     code=errors.ErrorCode.INVALID_DAYS,
                                     details={"days": days})
    since = month_of((now or timezone.now()) - timedelta(days=days))
    # One row per employee with their last earning or spending month, kept by the fold.
    people = _active_employees(filters)
    idle = people.filter(~Exists(LastActive.objects.filter(employee=OuterRef("pk"),
                                                           month__gte=since)))
    # One grouped read gives the chart and the total (a separate count would run the
    # NOT EXISTS over every employee once more).
    by_department = list(idle.values_list("department__name").annotate(n=Count("id"))
                         .order_by("-n", "department__name"))
    total, headcount = sum(n for _d, n in by_department), people.count()
    page = max(1, page)
    last = Subquery(LastActive.objects.filter(employee=OuterRef("pk")).values("month")[:1])
    listed = (idle.select_related("department").annotate(last=last)
              .order_by("department__path", "name", "pk")
              [(page - 1) * size:page * size])
    rows = [{"employee_no": e.employee_no, "name": e.name, "department": e.department.name,
             "last_active": f"{e.last:%Y-%m}" if e.last else ""} for e in listed]
    by_department = by_department[:15]
    return Chart("inactive", ["employee_no", "name", "department", "last_active"], rows,
                 series={"departments": [d for d, _n in by_department],
                         "counts": [n for _d, n in by_department]},
                 facts={"days": days, "since": f"{since:%Y-%m}", "total": total,
                        "headcount": headcount, "page": page,
                        "pages": max(1, math.ceil(total / size)),
                        "share": round(100 * total / headcount, 1) if headcount else 0.0})


def gini(values: Iterable[float]) -> float:
    """The Gini coefficient of non-negative values: 0 when everyone has the same, towards
    1 when one has everything. Sorted ascending x₁…xₙ:
    G = 2·Σ i·xᵢ / (n·Σ xᵢ) − (n + 1)/n; 0 for no one or nothing."""
    xs = sorted(max(0.0, float(v)) for v in values)
    n, total = len(xs), sum(xs)
    if n == 0 or total == 0:
        return 0.0
    weighted = sum(i * x for i, x in enumerate(xs, start=1))
    return round(2 * weighted / (n * total) - (n + 1) / n, 4)


def percentile(sorted_values: list[float], p: int) -> float:
    """Nearest rank: the value at rank ⌈p/100 · n⌉ of the sorted values."""
    if not sorted_values:
        return 0
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _spread(values: list[float]) -> dict[str, Any]:
    xs = sorted(values)
    return {"people": len(xs), "mean": round(statistics.fmean(xs), 1) if xs else 0,
            "median": statistics.median(xs) if xs else 0, "p10": percentile(xs, 10),
            "p90": percentile(xs, 90), "gini": gini(xs)}


def fairness(filters: Filters) -> Chart:
    """Points earned in the period by each active employee in scope (zeros included): the
    Gini coefficient of them all, and the spread (mean, median, 10th and 90th percentile,
    Gini) per department and per grade."""
    pts = _points(site_decimals())
    earned = dict(EmployeeMonth.objects.filter(
        filters.employees_q(), month__gte=filters.start, month__lte=filters.end,
        kind=TransactionKind.EARN).values_list("employee").annotate(t=Sum("amount")).order_by())
    people = list(_active_employees(filters).values_list("pk", "department__name", "grade"))
    # Each distinct sum converted once (a Decimal each: a tenth of a second at 100,000).
    converted = {units: pts(units) for units in {0, *earned.values()}}
    values = {pk: converted[earned.get(pk, 0)] for pk, _d, _g in people}
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for pk, department, grade in people:
        groups[("department", department)].append(values[pk])
        groups[("grade", grade or _("No grade"))].append(values[pk])
    labels = {"department": str(_("Department")), "grade": str(_("Grade"))}
    rows = [{"group": labels[kind], "kind": kind, "value": name, **_spread(vs)}
            for (kind, name), vs in sorted(groups.items())]
    overall = gini(values.values())
    by_department = [r for r in rows if r["kind"] == "department"]
    return Chart("fairness", ["group", "value", "people", "mean", "median", "p10", "p90", "gini"],
                 rows, series={"departments": [r["value"] for r in by_department],
                               "p10": [r["p10"] for r in by_department],
                               "median": [r["median"] for r in by_department],
                               "p90": [r["p90"] for r in by_department]},
                 facts={"gini": overall, "people": len(values),
                        **{k: v for k, v in _spread(list(values.values())).items()
                           if k in ("mean", "median", "p10", "p90")}})


def heatmap(filters: Filters) -> Chart:
    """Check-ins and mall redemptions (orders placed by employees in scope) in the period
    by weekday (Monday first) and hour, in the site's time zone."""
    start, after = filters.between()
    zone = _zone()

    def grid(rows: QuerySet, moment: str) -> dict[tuple[int, int], int]:
        # Counted per UTC hour in the database (no time-zone tables needed on MySQL:
        # without them CONVERT_TZ answers NULL), then each hour placed in the site's zone
        # here — at most 24 rows a day of the period.
        found: dict[tuple[int, int], int] = defaultdict(int)
        hours = (rows.filter(**{f"{moment}__gte": start, f"{moment}__lt": after})
                 .annotate(h=TruncHour(moment, tzinfo=UTC))
                 .values_list("h").annotate(n=Count("id")).order_by())
        for hour, n in hours:
            local = hour.astimezone(zone)
            found[(local.isoweekday(), local.hour)] += n
        return dict(found)

    checkins = grid(CheckIn.objects.filter(filters.employees_q("employee__"), made_up=False),
                    "created_at")
    orders = grid(Order.objects.filter(filters.employees_q("employee__"), source=""),
                  "created_at")
    rows = [{"weekday": str(WEEKDAYS[d - 1]), "hour": h, "checkins": checkins.get((d, h), 0),
             "orders": orders.get((d, h), 0)}
            for d in range(1, 8) for h in range(24)
            if checkins.get((d, h)) or orders.get((d, h))]
    return Chart("heatmap", ["weekday", "hour", "checkins", "orders"], rows, series={
        "weekdays": [str(w) for w in WEEKDAYS], "hours": list(range(24)),
        # [hour, weekday index, count] as ECharts' heatmap reads them
        "checkins": [[h, d - 1, n] for (d, h), n in sorted(checkins.items())],
        "orders": [[h, d - 1, n] for (d, h), n in sorted(orders.items())]},
        facts={"checkins": sum(checkins.values()), "orders": sum(orders.values())})


def chart(key: str, filters: Filters, *, days: int = 30, page: int = 1,
          now: datetime | None = None, refresh: bool = False) -> Chart:
    """The chart named ``key`` (404 ``not_found`` for another name). The charts read only
    from the rollups — a row per employee (inactive, fairness) or per department and
    month (per head, and flows and categories for a subtree: 300,000 rows for the
    company's year at 2,600 departments) — are kept per fold (``_per_fold``), and so are
    the two that read the whole company's balances and lots (liability) or orders and
    check-ins (heatmap): half a second each at 100,000 employees; they show what happened
    up to a minute late."""
    cache.add(READ_RECENTLY, True, READ_RECENTLY_SECONDS)
    if key == "liability":
        # Today's position, kept like the rest; a new CNY value per point shows at once.
        rate = dashboard_settings().cny_per_point
        return _per_fold(f"liability:{rate}", filters,
                         lambda: liability(filters, now=now, rate=rate), refresh=refresh)
    if key == "inactive":
        since = month_of((now or timezone.now()) - timedelta(days=days))
        return _per_fold(f"inactive:{days}:{since:%Y-%m}:{max(1, page)}", filters,
                         lambda: inactive(filters, days=days, page=page, now=now),
                         refresh=refresh)
    if key in FOLDED_CHARTS:
        reader = FOLDED_CHARTS[key]
        return _per_fold(key, filters, lambda: reader(filters), refresh=refresh)
    readers: dict[str, Callable[[Filters], Chart]] = {
        "items": items, "activities": activities}
    if key not in readers:
        raise errors.NotFound(_("No such chart."), code=errors.ErrorCode.NOT_FOUND,
                              details={"chart": key[:40], "charts": list(CHARTS)})
    return readers[key](filters)


CHART_SECONDS = 60
# Someone opened a dashboard within the last hour: the worker refreshes the default view
# after each fold (``refresh_after_fold``), so the next reader does not compute it.
READ_RECENTLY = "insights:dashboards:read-recently"
READ_RECENTLY_SECONDS = 3600
REFRESHED_CHARTS = ("flows", "categories", "per-head", "liability", "inactive", "fairness",
                    "heatmap")
FOLDED_CHARTS: dict[str, Callable[[Filters], Chart]] = {
    "flows": flows, "categories": categories, "per-head": per_head, "fairness": fairness,
    "heatmap": heatmap}


def _per_fold(name: str, filters: Filters, compute: Callable[[], Chart], *,
              refresh: bool = False) -> Chart:
    """A chart computed from a row per employee (100,000 of them at size: hundreds of
    milliseconds), kept until the worker next folds the rollups (every minute) and for at
    most ``CHART_SECONDS``, like the leaderboard's ladder (decision 0025): the figures
    move only when a fold lands; a departure or a move between departments shows within
    the minute."""
    folded = RollupState.objects.filter(pk=1).values_list("folded_at", flat=True).first()
    scope = ("all" if filters.department_ids is None else hashlib.sha1(
        ",".join(map(str, filters.department_ids)).encode()).hexdigest()[:16])
    cache_key = (f"insights:chart:{name}:{filters.start:%Y-%m}:{filters.end:%Y-%m}:{scope}:"
                 f"{translation.get_language()}:{folded.timestamp() if folded else 0}")
    found = None if refresh else cache.get(cache_key)
    if found is None:
        found = compute()
        cache.set(cache_key, found, CHART_SECONDS)
    return found


def refresh_after_fold(*, now: datetime | None = None) -> list[str]:
    """Compute the charts of the dashboard's default view (the whole company, the last
    twelve months, in the site's language) into the cache right after the minute's fold,
    when someone opened a dashboard within the last hour; returns the charts computed.
    With Redis (the production cache) every web process reads them, so the first HR person
    after a fold does not wait the seconds fairness takes at 100,000 employees (decision
    0037)."""
    if cache.get(READ_RECENTLY) is None:
        return []
    filters = filters_for(user=None, now=now)
    with translation.override(settings.LANGUAGE_CODE):
        for key in REFRESHED_CHARTS:
            chart(key, filters, now=now, refresh=True)
    return list(REFRESHED_CHARTS)
