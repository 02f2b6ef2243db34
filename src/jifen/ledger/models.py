"""The points ledger: double-entry accounts, append-only transactions, lots.

Amounts are integers in the smallest unit (see ``jifen.ledger.amounts``). Only
``jifen.ledger.services`` writes these tables; ``jifen ledger verify`` checks the
invariants of DESIGN.md §3 over them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    """Earning categories. Each has its own issuance account."""

    PERFORMANCE = "performance", _("Performance")
    LEARNING = "learning", _("Learning")
    TEAMWORK = "teamwork", _("Teamwork")
    CULTURE = "culture", _("Culture")
    ATTENDANCE = "attendance", _("Attendance")
    ENGAGEMENT = "engagement", _("Engagement")


class AccountKind(models.TextChoices):
    WALLET = "wallet", _("Wallet")
    HOLD = "hold", _("Held points")
    ISSUANCE = "issuance", _("Issuance")
    BUDGET = "budget", _("Department budget")
    REDEMPTION = "redemption", _("Redemptions")
    EXPIRY = "expiry", _("Expired points")
    FORFEITURE = "forfeiture", _("Forfeited points")
    ACTIVITIES = "activities", _("Activities")
    ADJUSTMENT = "adjustment", _("Manual adjustments")


# The company side of the books: points come from issuance and end in sinks, so these
# balances are allowed below zero (an issuance account's balance is minus what it issued).
COMPANY_KINDS = (
    AccountKind.ISSUANCE, AccountKind.REDEMPTION, AccountKind.EXPIRY, AccountKind.FORFEITURE,
    AccountKind.ACTIVITIES, AccountKind.ADJUSTMENT,
)
SINK_KINDS = (
    AccountKind.REDEMPTION, AccountKind.EXPIRY, AccountKind.FORFEITURE, AccountKind.ACTIVITIES,
    AccountKind.ADJUSTMENT,
)


class Account(models.Model):
    """One account of the books. ``code`` names it uniquely ("wallet:e:12",
    "issuance:learning", "sink:redemption", "budget:d:4") so finding or creating it is one
    indexed lookup on every database (MySQL has no partial unique indexes)."""

    kind = models.CharField(_("kind"), max_length=20, choices=AccountKind.choices)
    code = models.CharField(_("code"), max_length=80, unique=True)
    employee = models.ForeignKey(
        "people.Employee", null=True, blank=True, on_delete=models.PROTECT,
        related_name="ledger_accounts", verbose_name=_("employee"),
    )
    department = models.ForeignKey(
        "people.Department", null=True, blank=True, on_delete=models.PROTECT,
        related_name="ledger_accounts", verbose_name=_("department"),
    )
    category = models.CharField(_("category"), max_length=30, blank=True,
                                choices=Category.choices)
    balance = models.BigIntegerField(_("balance"), default=0)
    may_go_negative = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(may_go_negative=True) | Q(balance__gte=0),
                name="ledger_account_balance_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(may_go_negative=False) | Q(kind__in=[k.value for k in COMPANY_KINDS]),
                name="ledger_account_only_company_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class TransactionKind(models.TextChoices):
    EARN = "earn", _("Earned")
    PENALTY = "penalty", _("Penalty")
    REDEEM = "redeem", _("Redeemed")
    REFUND = "refund", _("Refund")
    HOLD = "hold", _("Held")
    RELEASE = "release", _("Released")
    CAPTURE = "capture", _("Captured")
    EXPIRE = "expire", _("Expired")
    ADJUST = "adjust", _("Adjustment")
    TRANSFER = "transfer", _("Transfer")
    FORFEIT = "forfeit", _("Forfeited")
    REVERSE = "reverse", _("Reversal")
    ALLOCATE = "allocate", _("Budget allocation")


class Transaction(models.Model):
    """An append-only movement of points: two or more entries summing to zero. A mistake
    is corrected by a reversing transaction (``reverses``), never by an edit."""

    kind = models.CharField(_("kind"), max_length=20, choices=TransactionKind.choices,
                            db_index=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    amount = models.BigIntegerField(_("amount"), help_text=_("Points moved (positive)."))
    category = models.CharField(_("category"), max_length=30, blank=True,
                                choices=Category.choices)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(max_length=150, blank=True)
    # What caused it, e.g. ("mall.order", "42"), ("earning.event", "17"), ("ledger.lot", "9").
    cause_type = models.CharField(max_length=60, blank=True)
    cause_id = models.CharField(max_length=64, blank=True)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by",
    )
    # The hold a capture or release settles; one settlement per hold, enforced by the index.
    settles = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="settled_by",
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")
        indexes = [models.Index(fields=["cause_type", "cause_id"], name="ledger_txn_cause"),
                   # The ledger browser filtered by kind, newest first, page after page.
                   models.Index(fields=["kind", "id"], name="ledger_txn_kind_id")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="ledger_txn_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.amount}"


class Entry(models.Model):
    """One leg of a transaction: ``amount`` is added to the account's balance (negative
    takes away). ``balance_after`` is the account's balance right after this entry, kept
    for employee and budget accounts (they are locked while posting) and empty for the
    company accounts."""

    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT,
                                    related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()
    balance_after = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        indexes = [models.Index(fields=["account", "id"], name="ledger_entry_account_id")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount:+d}"


class Lot(models.Model):
    """Points from one credit to a wallet, with their expiry. ``remaining`` is still
    spendable in the wallet, ``held`` is parked on the employee's hold account by open
    holds; the rest has been spent, expired or forfeited."""

    wallet = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lots")
    amount = models.BigIntegerField()
    remaining = models.BigIntegerField()
    held = models.BigIntegerField(default=0)
    earned_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    source_transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT,
                                           related_name="lots")

    class Meta:
        ordering = ["id"]
        verbose_name = _("points lot")
        verbose_name_plural = _("points lots")
        indexes = [
            models.Index(fields=["wallet", "expires_at"], name="ledger_lot_wallet_expiry"),
            models.Index(fields=["expires_at"], name="ledger_lot_expiry"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_lot_amount_positive"),
            models.CheckConstraint(condition=Q(remaining__gte=0) & Q(held__gte=0),
                                   name="ledger_lot_not_negative"),
            models.CheckConstraint(condition=Q(remaining__lte=F("amount") - F("held")),
                                   name="ledger_lot_within_amount"),
        ]

    def __str__(self) -> str:
        return f"lot #{self.pk} {self.remaining}/{self.amount}"


class LotConsumption(models.Model):
    """What one transaction did to one lot. ``amount`` was taken out of the lot's spendable
    remainder (negative: given back); ``parked`` was added to what the lot has parked on the
    hold account (negative: unparked). So a lot's remainder is its amount minus the sum of
    ``amount`` and its held points the sum of ``parked`` — verify checks exactly that."""

    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT,
                                    related_name="lot_consumptions")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="consumptions")
    amount = models.BigIntegerField()
    parked = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["transaction", "lot"], name="ledger_lot_use_once"),
        ]

    def __str__(self) -> str:
        return f"txn {self.transaction_id} lot {self.lot_id} {self.amount}/{self.parked}"


class ExpiryMode(models.TextChoices):
    NEVER = "never", _("Never expire")
    MONTHS = "months", _("N months after earning")
    YEAR_END = "year_end", _("End of year Y+K for points earned in year Y")


class LeavingPolicy(models.TextChoices):
    KEEP = "keep", _("Keep the points")
    FORFEIT = "forfeit", _("Forfeit the points")


class LedgerPolicy(models.Model):
    """The single row of ledger policies (expiry, leaving). Read it with
    ``selectors.ledger_policy()``; change it with ``services.update_policy``."""

    expiry_mode = models.CharField(_("expiry"), max_length=20, choices=ExpiryMode.choices,
                                   default=ExpiryMode.NEVER)
    expiry_months = models.PositiveSmallIntegerField(_("months until expiry"), default=12)
    expiry_years_after = models.PositiveSmallIntegerField(
        _("years after the year earned"), default=1,
        help_text=_("Points earned in year Y expire at the end of year Y+K."),
    )
    never_expire_tenure_years = models.PositiveSmallIntegerField(
        _("never expire from tenure (years)"), null=True, blank=True,
        help_text=_("Points of employees with at least this many years of service never "
                    "expire. Empty: no exception."),
    )
    notice_days = models.PositiveSmallIntegerField(_("notify days before expiry"), default=30)
    on_leaving = models.CharField(_("when an employee leaves"), max_length=10,
                                  choices=LeavingPolicy.choices, default=LeavingPolicy.KEEP)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("ledger policy")
        verbose_name_plural = _("ledger policy")

    def __str__(self) -> str:
        return str(self.get_expiry_mode_display())


class ExpiryNotice(models.Model):
    """An employee was told that a lot will expire. Stands in for the notification centre
    until it exists; one notice per lot and expiry date."""

    employee = models.ForeignKey("people.Employee", on_delete=models.CASCADE,
                                 related_name="expiry_notices")
    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, related_name="notices")
    amount = models.BigIntegerField()
    expires_at = models.DateTimeField()
    notified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-notified_at"]
        constraints = [
            models.UniqueConstraint(fields=["lot", "expires_at"], name="ledger_notice_once"),
        ]

    def __str__(self) -> str:
        return f"notice {self.employee_id} lot {self.lot_id}"
