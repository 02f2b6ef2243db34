"""The points mall: catalogue (categories, items, images, code pools), redemption windows,
discount campaigns, favourites, shipping addresses, orders and their event timeline.

Stock and per-employee purchase counts only ever change through conditional updates in
``jifen.mall.services`` (``… SET stock = stock - q WHERE stock >= q``); the CHECK
constraints here are the second line behind them.
"""

from __future__ import annotations

from typing import NamedTuple

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CategoryKind(models.TextChoices):
    PHYSICAL = "physical", _("Physical goods")
    VIRTUAL = "virtual", _("Virtual goods")
    SERVICE = "service", _("Services")


class WindowMode(models.TextChoices):
    ALWAYS = "always", _("Always open")
    MONTHLY = "monthly", _("Days of each month")
    PERIODS = "periods", _("Listed periods")


class RedemptionWindow(models.Model):
    """When orders may be placed. The one marked ``is_default`` applies to the whole mall;
    a category may name its own (its children inherit it). No default: always open."""

    name = models.CharField(_("name"), max_length=100)
    mode = models.CharField(_("mode"), max_length=10, choices=WindowMode.choices,
                            default=WindowMode.ALWAYS)
    day_from = models.PositiveSmallIntegerField(_("from day"), null=True, blank=True)
    day_to = models.PositiveSmallIntegerField(_("to day"), null=True, blank=True)
    is_default = models.BooleanField(_("mall default"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("redemption window")
        verbose_name_plural = _("redemption windows")
        constraints = [
            models.CheckConstraint(
                condition=~Q(mode="monthly") | Q(day_from__gte=1, day_from__lte=31,
                                                 day_to__gte=1, day_to__lte=31),
                name="mall_window_days_1_31",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class WindowPeriod(models.Model):
    window = models.ForeignKey(RedemptionWindow, on_delete=models.CASCADE,
                               related_name="periods")
    starts_at = models.DateTimeField(_("opens"))
    ends_at = models.DateTimeField(_("closes"))

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                   name="mall_period_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} – {self.ends_at:%Y-%m-%d %H:%M}"


# The icons a category may show: a fixed list, because the icon font ships only the icons
# the code names (scripts/build_assets.py keeps every "ti-…" written in src/jifen).
CATEGORY_ICONS = [
    ("ti-gift", _("Gift")), ("ti-package", _("Parcel")), ("ti-shopping-bag", _("Shopping bag")),
    ("ti-device-mobile", _("Phone")), ("ti-device-laptop", _("Laptop")),
    ("ti-headphones", _("Headphones")), ("ti-camera", _("Camera")), ("ti-cup", _("Cup")),
    ("ti-coffee", _("Coffee")), ("ti-tools-kitchen-2", _("Kitchen")), ("ti-shirt", _("Clothing")),
    ("ti-book", _("Books")), ("ti-pencil", _("Stationery")), ("ti-school", _("Learning")),
    ("ti-certificate", _("Certificate")), ("ti-run", _("Sport")), ("ti-barbell", _("Fitness")),
    ("ti-stethoscope", _("Health")), ("ti-heart-handshake", _("Charity")),
    ("ti-beach", _("Holiday")), ("ti-plane", _("Travel")), ("ti-ticket", _("Tickets")),
    ("ti-movie", _("Films")), ("ti-credit-card", _("Vouchers")), ("ti-crown", _("Premium")),
    ("ti-plant", _("Plants")), ("ti-paw", _("Pets")), ("ti-car", _("Car")),
]
CATEGORY_ICON_NAMES = frozenset(name for name, _label in CATEGORY_ICONS)


class Category(models.Model):
    """A node of the category tree."""

    name = models.CharField(_("name"), max_length=60)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children", verbose_name=_("parent category"))
    kind = models.CharField(_("kind"), max_length=10, choices=CategoryKind.choices,
                            default=CategoryKind.PHYSICAL)
    icon = models.CharField(_("icon"), max_length=40, blank=True, default="ti-gift",
                            choices=CATEGORY_ICONS)
    sort_order = models.IntegerField(_("order"), default=0)
    window = models.ForeignKey(RedemptionWindow, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="categories",
                               verbose_name=_("redemption window"),
                               help_text=_("Overrides the mall's window for this category."))

    depth: int  # not a column: set by selectors.category_tree

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class Fulfilment(models.TextChoices):
    # How the item reaches the employee, worded so that it never reads like an order's
    # status: "Shipped" next to a completed order looked like the order's state.
    SHIPPED = "shipped", _("Delivery by courier")
    CODE = "code", _("Redemption code")
    SERVICE = "service", _("Service by HR")
    PICKUP = "pickup", _("Self pick-up")


class ItemStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    LISTED = "listed", _("Listed")
    DELISTED = "delisted", _("Delisted")


class LimitPeriod(models.TextChoices):
    DAY = "day", _("per day")
    WEEK = "week", _("per week")
    MONTH = "month", _("per month")
    YEAR = "year", _("per year")
    EVER = "ever", _("in total")


class Item(models.Model):
    """Something employees can redeem. ``stock`` null means unlimited. ``search_text`` is
    the normalised name, tags, supplier and category (see ``search.normalise``)."""

    name = models.CharField(_("name"), max_length=120)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="items",
                                 verbose_name=_("category"))
    description = models.TextField(_("description"), blank=True)
    points = models.BigIntegerField(_("points price"))
    market_value = models.DecimalField(_("market value (CNY)"), max_digits=10,
                                       decimal_places=2, default=0)
    stock = models.IntegerField(_("stock"), null=True, blank=True,
                                help_text=_("Empty means unlimited."))
    low_stock_threshold = models.PositiveIntegerField(_("low-stock threshold"), default=0)
    # True from the moment stock fell to the threshold until it is restocked above it, so
    # the alert goes out once per crossing.
    low_stock_alerted = models.BooleanField(default=False, editable=False)
    sold_count = models.PositiveIntegerField(_("redeemed"), default=0, editable=False)
    per_employee_limit = models.PositiveIntegerField(_("limit per employee"), null=True,
                                                     blank=True)
    limit_period = models.CharField(_("limit period"), max_length=10,
                                    choices=LimitPeriod.choices, default=LimitPeriod.MONTH)
    eligible_departments = models.ManyToManyField(
        "people.Department", blank=True, related_name="+",
        verbose_name=_("only these departments"),
        help_text=_("Empty means everyone; a department includes its sub-departments."),
    )
    eligible_grades = models.CharField(_("only these grades"), max_length=200, blank=True,
                                       help_text=_("Comma-separated; empty means every grade."))
    min_tenure_years = models.PositiveSmallIntegerField(_("minimum tenure (years)"), default=0)
    fulfilment = models.CharField(_("fulfilment"), max_length=10, choices=Fulfilment.choices,
                                  default=Fulfilment.SHIPPED)
    status = models.CharField(_("status"), max_length=10, choices=ItemStatus.choices,
                              default=ItemStatus.DRAFT, db_index=True)
    supplier = models.CharField(_("supplier"), max_length=100, blank=True)
    tags = models.CharField(_("tags"), max_length=200, blank=True,
                            help_text=_("Comma-separated."))
    auto_approve = models.BooleanField(_("approve orders automatically"), default=False)
    search_text = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("item")
        verbose_name_plural = _("items")
        indexes = [models.Index(fields=["status", "points"], name="mall_item_status_points")]
        constraints = [
            models.CheckConstraint(condition=Q(stock__isnull=True) | Q(stock__gte=0),
                                   name="mall_item_stock_not_negative"),
            models.CheckConstraint(condition=Q(points__gt=0), name="mall_item_points_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def unlimited(self) -> bool:
        return self.stock is None

    @property
    def grade_list(self) -> list[str]:
        return [g.strip() for g in self.eligible_grades.split(",") if g.strip()]

    @property
    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.tags.replace("，", ",").split(",") if t.strip()]

    @property
    def cover(self) -> ItemImage | None:
        images = getattr(self, "_prefetched_objects_cache", {}).get("images")
        if images is not None:
            return images[0] if images else None
        return self.images.first()


class ItemImage(models.Model):
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(_("image"), upload_to="mall/items/%Y/%m/")
    thumbnail = models.ImageField(upload_to="mall/thumbs/%Y/%m/", blank=True)
    sort_order = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.image.name

    @property
    def thumb_url(self) -> str:
        return (self.thumbnail or self.image).url


class Code(models.Model):
    """One redemption code of an item's code pool; ``order`` is set when it is handed out."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(_("code"), max_length=200)
    order = models.OneToOneField("Order", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="code")
    created_at = models.DateTimeField(auto_now_add=True)
    assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["item", "code"],
                                               name="mall_code_unique_per_item")]

    def __str__(self) -> str:
        return f"{self.item_id}:{self.code[:4]}…"


class Favourite(models.Model):
    employee = models.ForeignKey("people.Employee", on_delete=models.CASCADE,
                                 related_name="mall_favourites")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="favourites")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["employee", "item"],
                                               name="mall_favourite_once")]

    def __str__(self) -> str:
        return f"{self.employee_id}♥{self.item_id}"


class ShippingAddress(models.Model):
    employee = models.ForeignKey("people.Employee", on_delete=models.CASCADE,
                                 related_name="shipping_addresses")
    recipient = models.CharField(_("recipient"), max_length=60)
    phone = models.CharField(_("phone"), max_length=30)
    region = models.CharField(_("province / city"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=300)
    is_default = models.BooleanField(_("default"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "-id"]
        verbose_name = _("shipping address")

    def __str__(self) -> str:
        return f"{self.recipient} {self.region}{self.address}"

    def snapshot(self) -> dict[str, str]:
        return {"recipient": self.recipient, "phone": self.phone, "region": self.region,
                "address": self.address}


class DiscountKind(models.TextChoices):
    PERCENT = "percent", _("Percent off")
    FIXED = "fixed", _("Points off")


class Campaign(models.Model):
    """A time-limited discount on some items and/or every item of some categories."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("discount"), max_length=10, choices=DiscountKind.choices,
                            default=DiscountKind.PERCENT)
    value = models.PositiveIntegerField(
        _("value"), help_text=_("Percent off (1–99), or points off in the smallest unit."))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    items = models.ManyToManyField(Item, blank=True, related_name="campaigns",
                                   verbose_name=_("items"))
    categories = models.ManyToManyField(Category, blank=True, related_name="campaigns",
                                        verbose_name=_("categories"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("discount campaign")
        verbose_name_plural = _("discount campaigns")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                   name="mall_campaign_ends_after_start"),
            models.CheckConstraint(
                condition=~Q(kind="percent") | Q(value__gte=1, value__lte=99),
                name="mall_campaign_percent_1_99"),
        ]

    def __str__(self) -> str:
        return self.name

    def price(self, points: int) -> int:
        """The discounted price of something costing ``points`` (at least 1 unit)."""
        if self.kind == DiscountKind.PERCENT:
            return max(1, points * (100 - self.value) // 100)
        return max(1, points - self.value)


class OrderStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    FULFILLED = "fulfilled", _("Fulfilled")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (OrderStatus.SUBMITTED, OrderStatus.APPROVED)
CLOSED_STATUSES = (OrderStatus.REJECTED, OrderStatus.CANCELLED)


class Transition(NamedTuple):
    """One step of the order state machine: the statuses it may start from, the status it
    leads to, and which orders take it (``shipped``: True for shipped goods only, False for
    every other fulfilment, None for all)."""

    sources: tuple[str, ...]
    target: str
    shipped: bool | None = None

    def applies_to(self, fulfilment: str) -> bool:
        return self.shipped is None or self.shipped == (fulfilment == Fulfilment.SHIPPED)


# The order state machine (docs/decisions/mall-order-states.md): action → Transition. The
# services move orders by it, and the progress shown to employees is walked from it.
ORDER_TRANSITIONS: dict[str, Transition] = {
    "approve": Transition((OrderStatus.SUBMITTED,), OrderStatus.APPROVED),
    "reject": Transition((OrderStatus.SUBMITTED,), OrderStatus.REJECTED),
    "cancel": Transition((OrderStatus.SUBMITTED, OrderStatus.APPROVED), OrderStatus.CANCELLED),
    "ship": Transition((OrderStatus.APPROVED,), OrderStatus.SHIPPED, shipped=True),
    "deliver": Transition((OrderStatus.SHIPPED,), OrderStatus.DELIVERED, shipped=True),
    "fulfil": Transition((OrderStatus.APPROVED,), OrderStatus.FULFILLED, shipped=False),
    "complete": Transition((OrderStatus.DELIVERED, OrderStatus.FULFILLED),
                           OrderStatus.COMPLETED),
}


class OrderNote(models.TextChoices):
    """Why an order moved, when nobody typed why: kept as a code, shown in the reader's
    language (a text written at the time would stay in the language of that moment)."""

    CANCELLED_BY_EMPLOYEE = "cancelled_by_employee", _("Cancelled by the employee")
    CANCELLED_BY_MALL = "cancelled_by_mall", _("Cancelled by the mall")
    SWITCHED = "switched", _("Switched to another item")
    AUTO_APPROVED = "auto_approved", _("Approved automatically")
    # A prize order (an auction won, a lottery's item): placed by the activity, not the
    # employee.
    PRIZE = "prize", _("Placed for a prize")


class Order(models.Model):
    """One redemption. ``points`` is what the employee pays (after any discount); the
    ledger hold (and later its capture) are referenced by transaction id."""

    employee = models.ForeignKey("people.Employee", on_delete=models.PROTECT,
                                 related_name="mall_orders", verbose_name=_("employee"))
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="orders",
                             verbose_name=_("item"))
    item_name = models.CharField(_("item"), max_length=120)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit_points = models.BigIntegerField(_("unit price"))
    original_points = models.BigIntegerField(_("original price"))
    points = models.BigIntegerField(_("points"))
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="orders")
    fulfilment = models.CharField(_("fulfilment"), max_length=10, choices=Fulfilment.choices)
    status = models.CharField(_("status"), max_length=10, choices=OrderStatus.choices,
                              default=OrderStatus.SUBMITTED, db_index=True)
    address = models.JSONField(_("shipping address"), null=True, blank=True)
    carrier = models.CharField(_("carrier"), max_length=60, blank=True)
    tracking_no = models.CharField(_("tracking number"), max_length=60, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # Why, when nobody typed a reason (an employee's own cancellation …); see reason_words.
    reason_code = models.CharField(_("reason"), max_length=30, blank=True,
                                   choices=OrderNote.choices)
    limit_key = models.CharField(max_length=20, blank=True)
    hold_txn_id = models.BigIntegerField(null=True, blank=True)
    capture_txn_id = models.BigIntegerField(null=True, blank=True)
    settle_txn_id = models.BigIntegerField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    # What placed it when not the employee's own redemption: "activities.auction:12",
    # "activities.lottery:3" (``jifen.core.prizes``); empty for a mall order.
    source = models.CharField(max_length=60, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [models.Index(fields=["employee", "item", "status"],
                                name="mall_order_emp_item"),
                   # The order desk: one status, by number, page after page (keyset).
                   models.Index(fields=["status", "id"], name="mall_order_status_id")]
        constraints = [
            # A lottery's item prize costs nothing (points 0, no hold); anything bought costs.
            models.CheckConstraint(condition=Q(points__gte=0) & Q(quantity__gte=1),
                                   name="mall_order_not_negative"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.item_name}"

    @property
    def number(self) -> str:
        return f"M{self.pk:06d}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def prize_kind(self) -> str:
        """"auction" or "lottery" for a prize order, "" for a mall order."""
        app_model = self.source.split(":", 1)[0]
        return app_model.rsplit(".", 1)[-1] if app_model else ""

    @property
    def needs_address(self) -> bool:
        """A shipped prize placed before the winner gave an address."""
        return (self.fulfilment == Fulfilment.SHIPPED and not self.address
                and self.status in OPEN_STATUSES)

    @property
    def reason_words(self) -> str:
        """Why it was rejected or cancelled: the reason as typed, else its code in the
        reader's language."""
        return self.reason or (str(self.get_reason_code_display()) if self.reason_code else "")


class OrderEvent(models.Model):
    """One step of an order: who moved it from which status to which, and when."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, choices=OrderStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=150, blank=True)
    note = models.CharField(max_length=300, blank=True)
    note_code = models.CharField(max_length=30, blank=True, choices=OrderNote.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.from_status}→{self.to_status}"

    @property
    def note_words(self) -> str:
        """The step's note as typed, else its code in the reader's language."""
        return self.note or (str(self.get_note_code_display()) if self.note_code else "")


class PurchaseCounter(models.Model):
    """How many of an item an employee has bought in one limit period ("2026-11", …),
    moved only by conditional updates so concurrent orders cannot pass the limit."""

    employee = models.ForeignKey("people.Employee", on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    period_key = models.CharField(max_length=20)
    quantity = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["employee", "item", "period_key"],
                                    name="mall_counter_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=0),
                                   name="mall_counter_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id}:{self.item_id}:{self.period_key}={self.quantity}"


class ItemView(models.Model):
    """An employee looked at an item's page on a day: one row per employee, item and day
    however often they looked (a signal for recommendations, kept 90 days)."""

    employee = models.ForeignKey("people.Employee", on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["employee", "item", "day"],
                                               name="mall_item_view_once_a_day")]

    def __str__(self) -> str:
        return f"{self.employee_id}👁{self.item_id} {self.day}"
