"""Mall reads: the catalogue with its filters and prices, windows, eligibility, orders."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

from django.db.models import Count, F, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.pagination import decode_keyset_cursor, encode_cursor
from jifen.core.roles import Role
from jifen.mall import sql
from jifen.mall.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    ORDER_TRANSITIONS,
    Campaign,
    Category,
    Code,
    Favourite,
    Item,
    ItemImage,
    ItemStatus,
    LimitPeriod,
    Order,
    OrderEvent,
    OrderStatus,
    PurchaseCounter,
    RedemptionWindow,
    ShippingAddress,
    WindowMode,
)
from jifen.mall.search import query_terms
from jifen.people.models import Employee, User
from jifen.people.selectors import audience_problem

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


def eligibility_problem(item: Item, employee: Employee, on: date | None = None, *,
                        restricted: bool = True) -> str:
    """Why the employee may not redeem the item ("" when they may). ``restricted=False``
    says the caller knows the item names no eligible departments."""
    departments = list(item.eligible_departments.all()) if restricted else []
    if problem := audience_problem(employee, departments, item.grade_list):
        return problem
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


def bought_in_period(item: Item, employee: Employee, now: datetime | None = None) -> int:
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


def order_context(item_id: int, now: datetime) -> OrderContext | None:
    """The item (with its category and parent category loaded), the redemption window that
    governs it, whether it is limited to some departments and whether any discount campaign
    runs at ``now`` — one statement instead of one per question. None: no such item."""
    row = sql.order_context_row(item_id, now)
    if row is None:
        return None
    item, category, parent, window = row.item, row.category, row.parent, row.window
    category.parent = parent
    item.category = category
    if (not category.window_id and parent is not None and not parent.window_id
            and parent.parent_id is not None):
        # Deeper than two levels with no window yet: an ancestor further up may have one.
        window = window_for(category)
    return OrderContext(item=item, window=window, restricted=row.restricted,
                        campaigns_running=row.campaigns_running)


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


def desk_items(*, q: str = "", status: str = "") -> QuerySet[Item]:
    """The catalogue as mall admins manage it: every item, drafts and delisted ones too
    (only those in ``status`` when it is one), newest first."""
    items = listed_items(ItemFilters(q=q, sort="new"), include_unlisted=True)
    return items.filter(status=status) if status in ItemStatus.values else items


def item_by_id(item_id: int | None) -> Item | None:
    return Item.objects.filter(pk=item_id).first() if item_id is not None else None


def item_with_images(item_id: int) -> Item | None:
    """The item with its category and pictures loaded, as pages and the API show it."""
    return (Item.objects.select_related("category").prefetch_related("images")
            .filter(pk=item_id).first())


def item_for_page(item_id: int) -> Item | None:
    """The item with what its page shows: category, pictures, eligible departments."""
    return (Item.objects.select_related("category")
            .prefetch_related("images", "eligible_departments").filter(pk=item_id).first())


def item_image(item: Item, image_id: int | None) -> ItemImage | None:
    """One of the item's pictures."""
    if image_id is None:
        return None
    return ItemImage.objects.filter(pk=image_id, item=item).first()


def category_by_id(category_id: int | None) -> Category | None:
    return Category.objects.filter(pk=category_id).first() if category_id else None


def category_by_ref(ref: str) -> Category | None:
    """The category a client names by its slug, exact name or id."""
    ref = ref.strip()
    match = Q(slug=ref) | Q(name=ref)
    if ref.isdigit():
        match |= Q(pk=int(ref))
    return Category.objects.filter(match).first()


def window_by_id(window_id: int | None) -> RedemptionWindow | None:
    if window_id is None:
        return None
    return RedemptionWindow.objects.filter(pk=window_id).first()


def windows_with_state(now: datetime | None = None) -> list[dict[str, Any]]:
    """Every redemption window with whether it is open now (and when it next opens)."""
    return [{"window": w, "state": window_state(w, now)}
            for w in RedemptionWindow.objects.prefetch_related("periods", "categories")]


def campaign_by_id(campaign_id: int | None) -> Campaign | None:
    return Campaign.objects.filter(pk=campaign_id).first() if campaign_id is not None else None


def campaigns() -> QuerySet[Campaign]:
    return Campaign.objects.prefetch_related("items", "categories")


def favourite_item_ids(employee: Employee | None) -> set[int]:
    if employee is None:
        return set()
    return set(Favourite.objects.filter(employee=employee).values_list("item_id", flat=True))


def favourites(employee: Employee) -> list[Item]:
    return [f.item for f in Favourite.objects.filter(employee=employee)
            .select_related("item__category").prefetch_related("item__images")]


def remaining_codes(item: Item) -> int:
    return Code.objects.filter(item=item, order__isnull=True).count()


def code_pool_counts() -> list[dict[str, Any]]:
    """Code items with how many codes they have in total and left."""
    return list(Item.objects.filter(fulfilment="code")
                .annotate(total=Count("codes"), left=Count("codes", filter=Q(codes__order=None)))
                .values("pk", "name", "status", "total", "left").order_by("name"))


# --- the order state machine -----------------------------------------------------------


def action_allowed(order: Order, action: str) -> bool:
    """Whether ``action`` may move the order from the status it is in: the state machine
    (``ORDER_TRANSITIONS``) allows it from there for the order's kind of fulfilment, and an
    approved order is cancelled only once its item was delisted (what was approved for an
    employee is theirs otherwise). ``order.item`` is read for that last rule."""
    transition = ORDER_TRANSITIONS[action]
    if order.status not in transition.sources or not transition.applies_to(order.fulfilment):
        return False
    return not (action == "cancel" and order.status == OrderStatus.APPROVED
                and order.item.status != ItemStatus.DELISTED)


def allowed_actions(order: Order) -> list[str]:
    """The actions an admin could take on the order now."""
    return [action for action in ORDER_TRANSITIONS if action_allowed(order, action)]


@cache
def order_steps(fulfilment: str) -> tuple[str, ...]:
    """The statuses an order of this kind of fulfilment passes on its way to completion,
    walked from the state machine: from submitted, each time the one step forward (not a
    rejection or cancellation) its table allows for this fulfilment."""
    steps = [OrderStatus.SUBMITTED.value]
    while True:
        forward = [t.target for t in ORDER_TRANSITIONS.values()
                   if steps[-1] in t.sources and t.applies_to(fulfilment)
                   and t.target not in CLOSED_STATUSES]
        if not forward:
            return tuple(steps)
        if len(forward) > 1 or forward[0] in steps:
            raise ValueError(f"no single way forward from {steps[-1]} for {fulfilment}")
        steps.append(str(forward[0]))


def order_progress(order: Order) -> list[dict[str, Any]]:
    """The progress shown to the employee: each step of ``order_steps`` with its label and
    whether the order has reached it; nothing for a rejected or cancelled order."""
    if order.status in CLOSED_STATUSES:
        return []
    steps = order_steps(order.fulfilment)
    reached = steps.index(order.status) if order.status in steps else 0
    return [{"status": s, "label": OrderStatus(s).label, "done": i <= reached}
            for i, s in enumerate(steps)]


# --- orders ----------------------------------------------------------------------------


def orders_of(employee: Employee | None, *, status: str = "") -> QuerySet[Order]:
    """The employee's orders, newest first (only those in ``status`` when it is one)."""
    if employee is None:
        return Order.objects.none()
    orders = (Order.objects.filter(employee=employee).select_related("item")
              .prefetch_related("item__images").order_by("-created_at", "-pk"))
    if status in OrderStatus.values:
        orders = orders.filter(status=status)
    return orders


def orders_with_timeline_of(employee: Employee, *, status: str = "") -> QuerySet[Order]:
    """The employee's orders as the API shows them (owner, item, code and timeline
    loaded), in id order — for cursor pagination."""
    orders = (Order.objects.filter(employee=employee)
              .select_related("employee", "item", "code").prefetch_related("events"))
    return orders.filter(status=status) if status else orders


def order_with_timeline(order_id: int) -> Order:
    """The order with its owner, item, code and timeline loaded (no visibility check:
    for showing an order the caller was just allowed to act on)."""
    return (Order.objects.select_related("employee", "item", "code")
            .prefetch_related("events").get(pk=order_id))


def viewer_employee_id(caller: Any) -> int | None:
    """The employee a caller is — a signed-in user, or an API principal signed in with an
    employee's token — or None (a system's API key, a user who is no employee)."""
    if hasattr(caller, "can"):  # an API principal
        user = caller.user if caller.kind == "employee" else None
    else:
        user = caller
    employee = getattr(user, "employee", None)
    return employee.pk if employee is not None else None


def order_visible_to(caller: Any, order_id: int, *, scope: str | None = "orders:read",
                     timeline: bool = True) -> Order:
    """The order ``order_id`` if ``caller`` may see it — NotFound (404) otherwise, exactly
    like an order that does not exist, so nobody learns which numbers are taken.

    Who may see an order: its owner (``viewer_employee_id``); and an API caller (a
    principal) whose rights include ``scope`` (None: owners only) — any order. A user of
    the portal pages sees only their own: mall admins work on the order desk. With
    ``timeline`` the order comes with its owner, item, code and events loaded."""
    orders = Order.objects.select_related("employee", "item", "code")
    if timeline:
        orders = orders.prefetch_related("events")
    order = orders.filter(pk=order_id).first()
    if order is None or (order.employee_id != viewer_employee_id(caller) and not (
            scope is not None and hasattr(caller, "can") and caller.can(scope))):
        raise errors.NotFound(_("Order not found."))
    return order


def orders_by_ids(ids: list[int]) -> list[Order]:
    return list(Order.objects.filter(pk__in=ids).order_by("pk"))


def desk_order(order_id: int) -> Order | None:
    """An order as the order desk shows it (owner with department, item)."""
    return (Order.objects.select_related("employee__department", "item")
            .filter(pk=order_id).first())


def has_open_order(employee: Employee | None, item: Item) -> bool:
    return employee is not None and Order.objects.filter(
        item=item, employee=employee, status__in=OPEN_STATUSES).exists()


# The last step of an order's timeline when its supplier gave up (integrations.suppliers).
SUPPLIER_FAILED = "supplier_failed"


def _last_action() -> Subquery:
    return Subquery(OrderEvent.objects.filter(order=OuterRef("pk")).order_by("-pk")
                    .values("action")[:1])


def order_desk(*, status: str = "", q: str = "", fulfilment: str = "",
               item_id: int | None = None, supplier_failed: bool = False) -> QuerySet[Order]:
    """The order desk's list; ``supplier_failed``: only approved orders whose supplier
    gave up (its answer is the last step of their timeline), for someone to handle."""
    orders = (Order.objects.select_related("employee__department", "item").order_by("pk")
              .annotate(last_action=_last_action()))
    if supplier_failed:
        orders = orders.filter(status=OrderStatus.APPROVED, last_action=SUPPLIER_FAILED)
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


def mall_admin_users() -> QuerySet[User]:
    return User.objects.filter(
        Q(groups__name__in=[Role.MALL_ADMIN, Role.SUPER_ADMIN]) | Q(is_superuser=True),
        is_active=True,
    ).distinct()


# --- shoppers -----------------------------------------------------------------------------


def addresses_of(employee: Employee | None) -> QuerySet[ShippingAddress]:
    if employee is None:
        return ShippingAddress.objects.none()
    return ShippingAddress.objects.filter(employee=employee)


def address_of(employee: Employee, address_id: int | None) -> ShippingAddress | None:
    """One of the employee's own addresses (another's does not exist for them)."""
    if address_id is None:
        return None
    return ShippingAddress.objects.filter(pk=address_id, employee=employee).first()


# --- what waits at the order desk (reminders and dashboards) ------------------------------

# The statuses in which an order waits for someone at the desk: to be approved, then to be
# shipped or fulfilled. A shipped order waits for the carrier, not for the desk.
WAITING_STATUSES = (OrderStatus.SUBMITTED, OrderStatus.APPROVED)


def waiting_orders() -> dict[str, Any]:
    """Orders waiting at the desk, in one grouped query: {count, oldest, by_status:
    {status: {count, oldest}}} (oldest: when the longest-waiting order was placed)."""
    rows = (Order.objects.filter(status__in=WAITING_STATUSES).order_by()
            .values("status").annotate(n=Count("pk"), oldest=Min("created_at")))
    by_status = {s: {"count": 0, "oldest": None} for s in WAITING_STATUSES}
    for row in rows:
        by_status[row["status"]] = {"count": row["n"], "oldest": row["oldest"]}
    oldest = [v["oldest"] for v in by_status.values() if v["oldest"] is not None]
    return {"count": sum(v["count"] for v in by_status.values()),
            "oldest": min(oldest) if oldest else None, "by_status": by_status}


# --- for the API's administration calls ---------------------------------------------------


def categories_by_ids(ids: list[int]) -> list[Category]:
    return list(Category.objects.filter(pk__in=ids))


def items_by_ids(ids: list[int]) -> list[Item]:
    return list(Item.objects.filter(pk__in=ids))


def item_stock(item_id: int) -> int | None:
    return Item.objects.filter(pk=item_id).values_list("stock", flat=True).first()


def windows_with_periods() -> list[RedemptionWindow]:
    return list(RedemptionWindow.objects.prefetch_related("periods"))


def supplier_failed_count() -> int:
    """Approved orders whose supplier gave up (see ``order_desk``)."""
    return (Order.objects.filter(status=OrderStatus.APPROVED)
            .annotate(last_action=_last_action())
            .filter(last_action=SUPPLIER_FAILED).count())
