"""Lotteries and auctions.

Both are *activities*: a title and a notice, a time window, who may take part, and a
status an admin moves on (draft → published → … → finished, or cancelled). Points move only
through ``jifen.ledger`` services, caused by the entry or bid (``cause`` = the row), into the
activities sink. Whether an activity is upcoming, running or over is read from its times
(``phase``), so a published activity opens and closes without a job having to run."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ActivityStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    # A lottery's entries are frozen (snapshot hash published), the draw still to come.
    CLOSED = "closed", _("Closed")
    FINISHED = "finished", _("Finished")
    CANCELLED = "cancelled", _("Cancelled")


class Phase(models.TextChoices):
    """What an employee sees: computed from status and times, never stored."""
    DRAFT = "draft", _("Draft")
    UPCOMING = "upcoming", _("Upcoming")
    RUNNING = "running", _("Running")
    DRAWING = "drawing", _("Waiting for the draw")
    FINISHED = "finished", _("Finished")
    CANCELLED = "cancelled", _("Cancelled")


class Activity(models.Model):
    """What lotteries and auctions share. Eligibility mirrors the mall's items: empty
    departments or grades mean everyone; a department includes its sub-departments."""

    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ActivityStatus.choices,
                              default=ActivityStatus.DRAFT, db_index=True)
    starts_at = models.DateTimeField(_("opens at"))
    ends_at = models.DateTimeField(_("closes at"))
    min_balance = models.BigIntegerField(_("minimum balance"), default=0,
                                         help_text=_("Spendable points needed to take part."))
    eligible_grades = models.CharField(_("only these grades"), max_length=200, blank=True,
                                       help_text=_("Comma-separated; empty means every grade."))
    min_tenure_days = models.PositiveIntegerField(_("minimum tenure (days)"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(_("reason"), max_length=200, blank=True)
    # When the notice to eligible employees went out (once).
    notice_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.title

    @property
    def grade_list(self) -> list[str]:
        return [g.strip() for g in self.eligible_grades.split(",") if g.strip()]

    def phase_at(self, now=None) -> str:
        now = now or timezone.now()
        if self.status == ActivityStatus.DRAFT:
            return Phase.DRAFT
        if self.status == ActivityStatus.CANCELLED:
            return Phase.CANCELLED
        if self.status == ActivityStatus.FINISHED:
            return Phase.FINISHED
        if self.status == ActivityStatus.CLOSED or now >= self.ends_at:
            return Phase.DRAWING if isinstance(self, Lottery) else Phase.FINISHED
        return Phase.UPCOMING if now < self.starts_at else Phase.RUNNING

    @property
    def phase(self) -> str:
        return self.phase_at()


# --- lotteries ------------------------------------------------------------------------------

class DrawMode(models.TextChoices):
    SCHEDULED = "scheduled", _("Draw at a set time")
    INSTANT = "instant", _("Instant win")


class Lottery(Activity):
    """A lottery. Fairness (``jifen.activities.fairness``): ``commitment`` = sha256(seed) is
    published when it opens; ``snapshot_hash`` when entries close; ``seed`` is revealed
    (``revealed_at``) after the draw. Until then no page or API answer shows the seed."""

    mode = models.CharField(_("draw mode"), max_length=10, choices=DrawMode.choices,
                            default=DrawMode.SCHEDULED)
    entry_cost = models.BigIntegerField(_("points per entry"), default=0,
                                        help_text=_("0 means free to enter."))
    entry_limit = models.PositiveIntegerField(_("entries per employee"), default=1)
    entry_slots = models.PositiveIntegerField(_("entries in total"), null=True, blank=True,
                                              help_text=_("Empty means no limit."))
    entries_count = models.PositiveIntegerField(default=0, editable=False)
    draw_at = models.DateTimeField(_("draw at"), null=True, blank=True)
    eligible_departments = models.ManyToManyField(
        "people.Department", blank=True, related_name="+",
        verbose_name=_("only these departments"),
        help_text=_("Empty means everyone; a department includes its sub-departments."))
    algorithm = models.CharField(max_length=20, default="hmac-sha256-v1", editable=False)
    seed = models.CharField(max_length=64, blank=True, editable=False)
    commitment = models.CharField(max_length=64, blank=True, editable=False)
    committed_at = models.DateTimeField(null=True, blank=True, editable=False)
    snapshot_hash = models.CharField(max_length=64, blank=True, editable=False)
    snapshot_at = models.DateTimeField(null=True, blank=True, editable=False)
    drawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    revealed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("lottery")
        verbose_name_plural = _("lotteries")
        constraints = [
            models.CheckConstraint(condition=Q(entry_cost__gte=0),
                                   name="activities_lottery_cost_not_negative"),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                   name="activities_lottery_ends_after_start"),
        ]


class PrizeKind(models.TextChoices):
    ITEM = "item", _("A mall item")
    POINTS = "points", _("Points")
    CUSTOM = "custom", _("Something else")


class PrizeTier(models.Model):
    """One tier of a lottery's prizes (一等奖 …): ``quantity`` winners, each given a mall
    item (an order is made), points (credited) or something HR hands over."""

    lottery = models.ForeignKey(Lottery, on_delete=models.CASCADE, related_name="tiers")
    rank = models.PositiveSmallIntegerField(_("rank"), default=1)
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("prize"), max_length=10, choices=PrizeKind.choices,
                            default=PrizeKind.CUSTOM)
    item = models.ForeignKey("mall.Item", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("item"))
    points = models.BigIntegerField(_("points"), null=True, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    # Instant-win lotteries draw against what is left.
    remaining = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["lottery", "rank", "id"]
        verbose_name = _("prize tier")
        verbose_name_plural = _("prize tiers")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="activities_tier_quantity"),
        ]

    def __str__(self) -> str:
        return self.name


class EntryStatus(models.TextChoices):
    ACTIVE = "active", _("Entered")
    REFUNDED = "refunded", _("Refunded")


class Entry(models.Model):
    """One entry of one employee. ``weight`` (≥ 1) is its share in the draw. The entry
    cost's ledger transaction is found by its cause (this row)."""

    lottery = models.ForeignKey(Lottery, on_delete=models.PROTECT, related_name="entries")
    employee = models.ForeignKey("people.Employee", on_delete=models.PROTECT,
                                 related_name="lottery_entries")
    weight = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=EntryStatus.choices,
                              default=EntryStatus.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    # The caller's Idempotency-Key (scoped by the service): one entry per key.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True,
                                       editable=False)
    # The ledger hold of the entry cost (None when free): captured at the draw, released
    # when the lottery is cancelled.
    hold_txn_id = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["lottery", "id"]
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        indexes = [models.Index(fields=["employee", "lottery"], name="activities_entry_emp")]

    def __str__(self) -> str:
        return f"#{self.pk}"


class Win(models.Model):
    """A drawn winner: draw number ``draw_index`` (k) gave ``value`` (hex of the accepted
    HMAC) and picked ``entry`` for a prize of ``tier``. ``order_id`` / ``points_txn_id``
    record how the prize was given."""

    lottery = models.ForeignKey(Lottery, on_delete=models.CASCADE, related_name="wins")
    tier = models.ForeignKey(PrizeTier, on_delete=models.PROTECT, related_name="wins")
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="win")
    draw_index = models.PositiveIntegerField()
    value = models.CharField(max_length=64)
    order_id = models.BigIntegerField(null=True, blank=True)
    points_txn_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["lottery", "draw_index"]
        constraints = [
            models.UniqueConstraint(fields=["lottery", "draw_index"],
                                    name="activities_win_one_per_draw"),
        ]

    def __str__(self) -> str:
        return f"{self.lottery_id}#{self.draw_index}"


# --- auctions -------------------------------------------------------------------------------

class AuctionOutcome(models.TextChoices):
    WON = "won", _("Sold to the highest bid")
    RESERVE_NOT_MET = "reserve_not_met", _("Reserve not met")
    NO_BIDS = "no_bids", _("No bids")


class Auction(Activity):
    """An auction of one mall item. ``ends_at`` moves on when a bid comes in the last
    ``extend_minutes`` (anti-sniping), never past ``latest_end``. ``price`` and ``leader``
    are the current leading bid, kept on the row so the bid service can update them with
    one conditional UPDATE."""

    item = models.ForeignKey("mall.Item", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("item"))
    starting_price = models.BigIntegerField(_("starting price"))
    min_increment = models.BigIntegerField(_("minimum raise"), default=1)
    reserve_price = models.BigIntegerField(_("reserve price"), null=True, blank=True,
                                           help_text=_("Empty means no reserve."))
    extend_minutes = models.PositiveIntegerField(
        _("anti-sniping minutes"), default=5,
        help_text=_("A bid this close to the end extends it by as much; 0 turns it off."))
    latest_end = models.DateTimeField(_("latest end"), null=True, blank=True)
    eligible_departments = models.ManyToManyField(
        "people.Department", blank=True, related_name="+",
        verbose_name=_("only these departments"),
        help_text=_("Empty means everyone; a department includes its sub-departments."))
    price = models.BigIntegerField(default=0, editable=False)
    leader = models.ForeignKey("people.Employee", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+", editable=False)
    bid_count = models.PositiveIntegerField(default=0, editable=False)
    outcome = models.CharField(max_length=20, choices=AuctionOutcome.choices, blank=True,
                               editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    order_id = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("auction")
        verbose_name_plural = _("auctions")
        constraints = [
            models.CheckConstraint(condition=Q(starting_price__gt=0),
                                   name="activities_auction_price_positive"),
            models.CheckConstraint(condition=Q(min_increment__gt=0),
                                   name="activities_auction_increment_positive"),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                   name="activities_auction_ends_after_start"),
        ]


class BidStatus(models.TextChoices):
    LEADING = "leading", _("Leading")
    OUTBID = "outbid", _("Outbid")
    WON = "won", _("Won")
    RELEASED = "released", _("Returned")


class Bid(models.Model):
    """One bid. Its points are held (ledger hold caused by this row) while it leads; being
    outbid releases them in the same transaction as the new bid."""

    auction = models.ForeignKey(Auction, on_delete=models.PROTECT, related_name="bids")
    employee = models.ForeignKey("people.Employee", on_delete=models.PROTECT,
                                 related_name="auction_bids")
    amount = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=BidStatus.choices,
                              default=BidStatus.LEADING)
    hold_txn_id = models.BigIntegerField(null=True, blank=True)
    # The caller's Idempotency-Key (scoped to the caller): a replay answers with this bid.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True,
                                       editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["auction", "-amount", "id"]
        verbose_name = _("bid")
        verbose_name_plural = _("bids")
        indexes = [models.Index(fields=["auction", "created_at"], name="activities_bid_time"),
                   models.Index(fields=["employee", "auction"], name="activities_bid_emp")]

    def __str__(self) -> str:
        return f"{self.amount}"
