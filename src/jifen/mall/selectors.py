"""Mall reads: the catalogue with its filters and prices, windows, eligibility, orders."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core.db import instances_from_row, select_columns, statement
from jifen.core.pagination import decode_keyset_cursor, encode_cursor
from jifen.core.roles import Role
from jifen.mall.models import (
    OPEN_STATUSES,
    Campaign,
    Category,
    Code,
    Favourite,
    Item,
    ItemStatus,
    LimitPeriod,
    Order,
    OrderStatus,
    PurchaseCounter,
    RedemptionWindow,
    WindowMode,
)
from jifen.mall.search import query_terms

SORTS = {
    "popular": ("sold_count", True),
    "new": ("created_at", True),
    "points_asc": ("points", False),
    "points_desc": ("points", True),
}

# --- categories ------------------------------------------------------------------------


def category_tree() -> list[Category]:
    """Every category, parents before children, each with ``depth`` set."""
    categories = list(Category.objects.all())
    children: dict[int | None, list[Category]] = {}
    for c in categories:
        children.setdefault(c.parent_id, []).append(c)
    ordered: list[Category] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for c in children.get(parent_id, []):
            c.depth = depth
            ordered.append(c)
            walk(c.pk, depth + 1)

    walk(None, 0)
    return ordered


def category_and_descendants(category: Category) -> list[int]:
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    ids = {category.pk}
    changed = True
    while changed:
        more = {pk for pk, parent in parents.items() if parent in ids and pk not in ids}
        ids |= more
        changed = bool(more)
    return sorted(ids)


def category_ancestors(category: Category | None) -> list[Category]:
    """The category and its ancestors, nearest first."""
    chain = []
    seen: set[int] = set()
    while category is not None and category.pk not in seen:
        chain.append(category)
        seen.add(category.pk)
        category = category.parent
    return chain


# --- redemption windows ------------------------------------------------------------------


@dataclass
class WindowState:
    open: bool
    next_opens_at: datetime | None = None
    closes_at: datetime | None = None
    window: RedemptionWindow | None = None


def window_for(category: Category | None) -> RedemptionWindow | None:
    """The window that governs a category: its own, an ancestor's, else the mall default
    (None: always open)."""
    for c in category_ancestors(category):
        if c.window_id:
            return c.window
    return RedemptionWindow.objects.filter(is_default=True).order_by("pk").first()


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _clamp(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def window_state(window: RedemptionWindow | None, now: datetime | None = None) -> WindowState:
    """Whether ``window`` is open at ``now`` and, if not, when it next opens."""
    now = now or timezone.now()
    if window is None or window.mode == WindowMode.ALWAYS:
        return WindowState(open=True, window=window)
    if window.mode == WindowMode.PERIODS:
        periods = list(window.periods.filter(ends_at__gt=now).order_by("starts_at"))
        current = next((p for p in periods if p.starts_at <= now), None)
        if current is not None:
            return WindowState(open=True, closes_at=current.ends_at, window=window)
        upcoming = next((p for p in periods if p.starts_at > now), None)
        return WindowState(open=False, window=window,
                           next_opens_at=upcoming.starts_at if upcoming else None)
    today = timezone.localdate(now)
    d1, d2 = window.day_from or 1, window.day_to or 31
    first = _clamp(today.year, today.month, d1)
    last = _clamp(today.year, today.month, d2)
    # d1 > d2 wraps the month end, e.g. 25th–5th.
    is_open = first <= today <= last if d1 <= d2 else (today >= first or today <= last)
    if is_open:
        end = last if today <= last else _clamp(*_next_month(today), d2)
        return WindowState(open=True, window=window,
                           closes_at=_local_midnight(end + timedelta(days=1)))
    opens = first if today < first else _clamp(*_next_month(today), d1)
    return WindowState(open=False, window=window, next_opens_at=_local_midnight(opens))


def _next_month(day: date) -> tuple[int, int]:
    return (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)


@dataclass(frozen=True)
class ClosedSpell:
    """A stretch of time the mall's own window keeps it closed: from ``closes_at`` (None:
    it is closed now) until ``opens_at`` (None: no opening is planned after it)."""

    closes_at: datetime | None
    opens_at: datetime | None


def next_closed_spell(now: datetime | None = None) -> ClosedSpell | None:
    """The mall's current or next closed spell — to warn employees whose points expire
    while they cannot spend them. None: the mall never closes, or it is closed with no
    opening planned (nothing to say about when to spend)."""
    now = now or timezone.now()
    window = window_for(None)
    state = window_state(window, now)
    if state.open:
        if state.closes_at is None:
            return None
        return ClosedSpell(state.closes_at, window_state(window, state.closes_at).next_opens_at)
    if state.next_opens_at is None:
        return None
    return ClosedSpell(None, state.next_opens_at)


def item_window_state(item: Item, now: datetime | None = None) -> WindowState:
    return window_state(window_for(item.category), now)


# --- eligibility and limits ------------------------------------------------------------


def eligibility_problem(item: Item, employee: Any, on: date | None = None, *,
                        restricted: bool = True) -> str:
    """Why the employee may not redeem the item ("" when they may). ``restricted=False``
    says the caller knows the item names no eligible departments."""
    departments = list(item.eligible_departments.all()) if restricted else []
    if departments:
        path = employee.department.path
        if not any(path.startswith(d.path) for d in departments):
            return _("Only for %(departments)s.") % {
                "departments": "、".join(d.name for d in departments)}
    grades = item.grade_list
    if grades and (employee.grade or "").strip() not in grades:
        return _("Only for grades %(grades)s.") % {"grades": ", ".join(grades)}
    if item.min_tenure_years and employee.tenure_years(on) < item.min_tenure_years:
        return _("Only for employees with at least %(years)s years of service.") % {
            "years": item.min_tenure_years}
    return ""


def limit_period_key(period: str, now: datetime | None = None) -> str:
    today = timezone.localdate(now or timezone.now())
    if period == LimitPeriod.DAY:
        return f"d{today:%Y-%m-%d}"
    if period == LimitPeriod.WEEK:
        year, week, _day = today.isocalendar()
        return f"w{year}-{week:02d}"
    if period == LimitPeriod.MONTH:
        return f"m{today:%Y-%m}"
    if period == LimitPeriod.YEAR:
        return f"y{today:%Y}"
    return "all"


def bought_in_period(item: Item, employee: Any, now: datetime | None = None) -> int:
    key = limit_period_key(item.limit_period, now)
    return (PurchaseCounter.objects.filter(employee=employee, item=item, period_key=key)
            .values_list("quantity", flat=True).first() or 0)


# --- prices ----------------------------------------------------------------------------


@dataclass
class Price:
    points: int
    original: int
    campaign: Campaign | None = None

    @property
    def discounted(self) -> bool:
        return self.campaign is not None and self.points < self.original

    @property
    def ends_at(self) -> datetime | None:
        return self.campaign.ends_at if self.campaign else None


@dataclass
class _CampaignIndex:
    by_item: dict[int, list[Campaign]] = field(default_factory=dict)
    by_category: dict[int, list[Campaign]] = field(default_factory=dict)
    parents: dict[int, int | None] = field(default_factory=dict)


def _campaign_index(now: datetime) -> _CampaignIndex:
    index = _CampaignIndex()
    campaigns = list(Campaign.objects.filter(is_active=True, starts_at__lte=now, ends_at__gt=now)
                     .prefetch_related("items", "categories"))
    if not campaigns:
        return index
    for c in campaigns:
        for item in c.items.all():
            index.by_item.setdefault(item.pk, []).append(c)
        for category in c.categories.all():
            index.by_category.setdefault(category.pk, []).append(c)
    if index.by_category:
        index.parents = dict(Category.objects.values_list("pk", "parent_id"))
    return index


def _best(item: Item, index: _CampaignIndex) -> Price:
    candidates = list(index.by_item.get(item.pk, []))
    category_id: int | None = item.category_id
    seen: set[int] = set()
    while category_id is not None and category_id not in seen and index.by_category:
        seen.add(category_id)
        candidates += index.by_category.get(category_id, [])
        category_id = index.parents.get(category_id)
    price = Price(points=item.points, original=item.points)
    for c in candidates:
        points = c.price(item.points)
        if points < price.points:
            price = Price(points=points, original=item.points, campaign=c)
    return price


def prices_for(items: list[Item], now: datetime | None = None) -> dict[int, Price]:
    """The price of each item now: the lowest any running campaign gives, else its own."""
    index = _campaign_index(now or timezone.now())
    return {item.pk: _best(item, index) for item in items}


def price_of(item: Item, now: datetime | None = None) -> Price:
    return prices_for([item], now)[item.pk]


# --- the order hot path ----------------------------------------------------------------


@dataclass
class OrderContext:
    """What placing an order needs to know about its item, read in one statement."""

    item: Item
    window: RedemptionWindow | None
    restricted: bool  # the item names eligible departments
    campaigns_running: bool  # some campaign runs now (the item may or may not be in it)


_CONTEXT_MODELS = (Item, Category, Category, RedemptionWindow)  # item, category, parent, window


def _order_context_sql() -> str:
    """The statement: the item, category, parent category and window, in that order,
    then whether the item names departments and whether any campaign runs."""
    from django.db import connection

    qn = connection.ops.quote_name
    columns = [c for model, alias in zip(_CONTEXT_MODELS, "icpw", strict=True)
               for c in select_columns(model, alias)]
    through = Item.eligible_departments.through._meta.db_table
    default = (f"(SELECT d.{qn('id')} FROM {qn(RedemptionWindow._meta.db_table)} d "
               f"WHERE d.{qn('is_default')} = %s ORDER BY d.{qn('id')} LIMIT 1)")
    return (
        f"SELECT {', '.join(columns)}, "
        f"EXISTS (SELECT 1 FROM {qn(through)} e WHERE e.{qn('item_id')} = i.{qn('id')}), "
        f"EXISTS (SELECT 1 FROM {qn(Campaign._meta.db_table)} k "
        f"WHERE k.{qn('is_active')} = %s AND k.{qn('starts_at')} <= %s "
        f"AND k.{qn('ends_at')} > %s) "
        f"FROM {qn(Item._meta.db_table)} i "
        f"JOIN {qn(Category._meta.db_table)} c ON c.{qn('id')} = i.{qn('category_id')} "
        f"LEFT JOIN {qn(Category._meta.db_table)} p ON p.{qn('id')} = c.{qn('parent_id')} "
        f"LEFT JOIN {qn(RedemptionWindow._meta.db_table)} w ON w.{qn('id')} = "
        f"COALESCE(c.{qn('window_id')}, p.{qn('window_id')}, {default}) "
        f"WHERE i.{qn('id')} = %s"
    )


def order_context(item_id: int, now: datetime) -> OrderContext | None:
    """The item (with its category and parent category loaded), the redemption window that
    governs it, whether it is limited to some departments and whether any discount campaign
    runs at ``now`` — one statement instead of one per question. None: no such item."""
    from django.db import connection

    moment = Campaign._meta.get_field("starts_at").get_db_prep_value(now, connection)
    with connection.cursor() as cursor:
        cursor.execute(statement(("order-context",), _order_context_sql),
                       [True, moment, moment, True, item_id])
        row = cursor.fetchone()
    if row is None:
        return None
    (item, category, parent, window), (restricted, campaigns) = instances_from_row(
        _CONTEXT_MODELS, row)
    category.parent = parent
    item.category = category
    if (not category.window_id and parent is not None and not parent.window_id
            and parent.parent_id is not None):
        # Deeper than two levels with no window yet: an ancestor further up may have one.
        window = window_for(category)
    return OrderContext(item=item, window=window, restricted=bool(restricted),
                        campaigns_running=bool(campaigns))


# --- catalogue -------------------------------------------------------------------------


@dataclass
class ItemFilters:
    q: str = ""
    category: Category | None = None
    min_points: int | None = None
    max_points: int | None = None
    affordable_for: int | None = None  # spendable points of the caller
    in_stock: bool = False
    sort: str = "popular"


def listed_items(filters: ItemFilters | None = None, *, include_unlisted: bool = False,
                 now: datetime | None = None) -> QuerySet[Item]:
    """Listed items matching ``filters``, in the filter's sort order (then newest id)."""
    f = filters or ItemFilters()
    items = Item.objects.select_related("category").prefetch_related("images")
    if not include_unlisted:
        items = items.filter(status=ItemStatus.LISTED)
    for term in query_terms(f.q):
        items = items.filter(search_text__contains=term)
    if f.category is not None:
        items = items.filter(category_id__in=category_and_descendants(f.category))
    if f.min_points is not None:
        items = items.filter(points__gte=f.min_points)
    if f.max_points is not None:
        items = items.filter(points__lte=f.max_points)
    if f.in_stock:
        items = items.filter(Q(stock__isnull=True) | Q(stock__gt=0))
    if f.affordable_for is not None:
        cheap = Q(points__lte=f.affordable_for)
        discounted = _discounted_ids_affordable(f.affordable_for, now)
        items = items.filter(cheap | Q(pk__in=discounted) if discounted else cheap)
    field_name, descending = SORTS.get(f.sort, SORTS["popular"])
    if descending:
        return items.order_by(F(field_name).desc(), "-pk")
    return items.order_by(field_name, "pk")


def _discounted_ids_affordable(spendable: int, now: datetime | None) -> list[int]:
    index = _campaign_index(now or timezone.now())
    if not index.by_item and not index.by_category:
        return []
    candidates = Item.objects.filter(status=ItemStatus.LISTED, points__gt=spendable)
    if index.by_category:
        return [i.pk for i in candidates if _best(i, index).points <= spendable]
    candidates = candidates.filter(pk__in=list(index.by_item))
    return [i.pk for i in candidates if _best(i, index).points <= spendable]


def page_of_items(items: QuerySet[Item], *, sort: str, cursor: str | None,
                  limit: int) -> tuple[list[Item], str | None]:
    """Keyset pagination over (sort field, id): stable while items are added or sold."""
    field_name, descending = SORTS.get(sort, SORTS["popular"])
    if cursor:
        # Each part must be a value of its column before the query compares with it.
        value, last_id = decode_keyset_cursor(cursor, Item, [field_name, "pk"])
        op = "lt" if descending else "gt"
        items = items.filter(Q(**{f"{field_name}__{op}": value})
                             | Q(**{field_name: value, f"pk__{op}": last_id}))
    rows = list(items[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        value = getattr(last, field_name)
        next_cursor = encode_cursor([value.isoformat() if isinstance(value, datetime) else value,
                                     last.pk])
    return rows, next_cursor


def hot_items(limit: int = 8) -> list[Item]:
    return list(listed_items(ItemFilters(sort="popular"))[:limit])


def new_items(limit: int = 8) -> list[Item]:
    return list(listed_items(ItemFilters(sort="new"))[:limit])


def affordable_items(spendable: int, limit: int = 8) -> list[Item]:
    return list(listed_items(ItemFilters(sort="points_desc", affordable_for=spendable,
                                         in_stock=True))[:limit])


def favourite_item_ids(employee: Any) -> set[int]:
    if employee is None:
        return set()
    return set(Favourite.objects.filter(employee=employee).values_list("item_id", flat=True))


def favourites(employee: Any) -> list[Item]:
    return [f.item for f in Favourite.objects.filter(employee=employee)
            .select_related("item__category").prefetch_related("item__images")]


def remaining_codes(item: Item) -> int:
    return Code.objects.filter(item=item, order__isnull=True).count()


def code_pool_counts() -> list[dict[str, Any]]:
    """Code items with how many codes they have in total and left."""
    return list(Item.objects.filter(fulfilment="code")
                .annotate(total=Count("codes"), left=Count("codes", filter=Q(codes__order=None)))
                .values("pk", "name", "status", "total", "left").order_by("name"))


# --- orders ----------------------------------------------------------------------------


def orders_of(employee: Any) -> QuerySet[Order]:
    return (Order.objects.filter(employee=employee).select_related("item")
            .prefetch_related("item__images").order_by("-created_at", "-pk"))


def order_for_employee(employee: Any, order_id: int) -> Order | None:
    """The employee's own order, or None (another's order does not exist for them)."""
    return (Order.objects.filter(pk=order_id, employee=employee)
            .select_related("item", "employee").prefetch_related("events").first())


def order_desk(*, status: str = "", q: str = "", fulfilment: str = "",
               item_id: int | None = None) -> QuerySet[Order]:
    orders = Order.objects.select_related("employee__department", "item").order_by("pk")
    if status:
        orders = orders.filter(status=status)
    if fulfilment:
        orders = orders.filter(fulfilment=fulfilment)
    if item_id:
        orders = orders.filter(item_id=item_id)
    if q:
        q = q.strip()
        match = (Q(item_name__icontains=q) | Q(employee__name__icontains=q)
                 | Q(employee__employee_no=q) | Q(tracking_no=q))
        pk = order_pk_from_number(q)
        if pk is not None:
            match |= Q(pk=pk)
        orders = orders.filter(match)
    return orders


def order_pk_from_number(text: str) -> int | None:
    """"M000042", "m42" or "42" → 42."""
    text = (text or "").strip().upper().removeprefix("M")
    return int(text) if text.isdigit() and len(text) < 18 else None


def status_counts() -> dict[str, int]:
    counts = dict(Order.objects.order_by().values_list("status").annotate(n=Count("pk")))
    return {s: counts.get(s, 0) for s in OrderStatus.values}


def open_orders_for_item(item: Item) -> QuerySet[Order]:
    return Order.objects.filter(item=item, status__in=OPEN_STATUSES).select_related(
        "employee__user")


def mall_admin_users() -> QuerySet[Any]:
    from jifen.people.models import User

    return User.objects.filter(
        Q(groups__name__in=[Role.MALL_ADMIN, Role.SUPER_ADMIN]) | Q(is_superuser=True),
        is_active=True,
    ).distinct()
