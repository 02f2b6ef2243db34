"""Ledger reads: balances, history, outstanding points, policy, the console's browser."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    DateTimeField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core.caching import row_cache_seconds
from jifen.ledger.expiry_rules import is_tenure_exempt
from jifen.ledger.hooks import CauseInfo, describe_causes
from jifen.ledger.models import (
    Account,
    AccountKind,
    Entry,
    LedgerPolicy,
    Lot,
    LotConsumption,
    Transaction,
    TransactionKind,
)
from jifen.people.models import Employee, EmployeeStatus

POLICY_CACHE_KEY = "jifen:ledger-policy:v1"


def ledger_policy() -> LedgerPolicy:
    """The ledger policy, cached briefly: its row, or the defaults (unsaved) until an
    admin first saves it. Reading never writes: a row created inside a posting's
    transaction that then rolls back can deadlock the postings that waited on it
    (seen on MariaDB)."""
    cached = cache.get(POLICY_CACHE_KEY)
    if cached is not None:
        return cached
    policy = LedgerPolicy.objects.order_by("pk").first() or LedgerPolicy()
    cache.set(POLICY_CACHE_KEY, policy, row_cache_seconds(60))
    return policy


@dataclass
class Balance:
    """What an employee has: ``spendable`` now, ``held`` by open orders and bids, and the
    spendable points grouped by when they expire (soonest first)."""

    spendable: int = 0
    held: int = 0
    expiring: list[dict[str, Any]] = field(default_factory=list)

    def expiring_within(self, days: int, now: datetime | None = None) -> int:
        horizon = (now or timezone.now()) + timedelta(days=days)
        return sum(e["amount"] for e in self.expiring if e["expires_at"] <= horizon)


def balance(*, employee: Employee, now: datetime | None = None) -> Balance:
    """The employee's balance in one query over their lots. Points past ``expires_at`` are
    not spendable even before the expiry sweep has posted them."""
    now = now or timezone.now()
    exempt = is_tenure_exempt(ledger_policy(), getattr(employee, "hire_date", None), now)
    lots = (Lot.objects.filter(wallet__employee=employee, wallet__kind=AccountKind.WALLET)
            .filter(Q(remaining__gt=0) | Q(held__gt=0))
            .values_list("remaining", "held", "expires_at"))
    result = Balance()
    expiring: dict[datetime, int] = {}
    for remaining, held, expires_at in lots:
        result.held += held
        if not remaining:
            continue
        if expires_at is None or exempt:
            result.spendable += remaining
        elif expires_at > now:
            result.spendable += remaining
            expiring[expires_at] = expiring.get(expires_at, 0) + remaining
    result.expiring = [{"amount": amount, "expires_at": when}
                       for when, amount in sorted(expiring.items())]
    return result


def history(
    *,
    employee: Employee,
    kind: str | None = None,
    category: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Entry]:
    """The movements of the employee's wallet, newest first, each with its transaction,
    the balance right after it (``balance_after``: the running balance) and, for a refund,
    ``refund_hold_id``: the hold whose capture it gives back."""
    entries = Entry.objects.filter(account__employee=employee, account__kind=AccountKind.WALLET)
    if kind:
        entries = entries.filter(transaction__kind=kind)
    if category:
        entries = entries.filter(transaction__category=category)
    if since:
        entries = entries.filter(transaction__created_at__gte=since)
    if until:
        entries = entries.filter(transaction__created_at__lt=until)
    # A refund's hold (it reverses a capture, which settled the hold): one order's
    # movements can then be shown together.
    return (entries.select_related("transaction")
            .annotate(refund_hold_id=F("transaction__reverses__settles_id")).order_by("-pk"))


def wallet_entry(*, txn: Transaction, employee: Employee) -> Entry | None:
    """The leg of ``txn`` on the employee's wallet (how it changed their balance)."""
    entries = (Entry.objects.filter(transaction=txn, account__employee=employee,
                                    account__kind=AccountKind.WALLET)
               .select_related("transaction").order_by())
    return next(iter(entries[:1]), None)


def outstanding_by_department(*, now: datetime | None = None) -> list[dict[str, Any]]:
    """Points the company owes, per department: spendable, held, expiring within 30 and 90
    days, and already past expiry but not yet swept; ``employees`` holding points there and
    the department's active ``headcount``. Employees exempt from expiry by tenure show
    their points as expiring until the next sweep clears their dates."""
    now = now or timezone.now()
    in30, in90 = now + timedelta(days=30), now + timedelta(days=90)
    alive = Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    rows = (
        Lot.objects.filter(wallet__kind=AccountKind.WALLET)
        .filter(Q(remaining__gt=0) | Q(held__gt=0))
        .values("wallet__employee__department_id", "wallet__employee__department__code",
                "wallet__employee__department__name")
        .annotate(
            spendable=Sum("remaining", filter=alive, default=0),
            held=Sum("held", default=0),
            expiring_30=Sum("remaining", filter=Q(expires_at__gt=now, expires_at__lte=in30),
                            default=0),
            expiring_90=Sum("remaining", filter=Q(expires_at__gt=now, expires_at__lte=in90),
                            default=0),
            expired_unswept=Sum("remaining", filter=Q(expires_at__lte=now), default=0),
            employees=Count("wallet__employee_id", distinct=True),
        )
        .order_by("wallet__employee__department__code")
    )
    headcount = active_headcount()
    return [
        {
            "department_id": row["wallet__employee__department_id"],
            "department_code": row["wallet__employee__department__code"],
            "department_name": row["wallet__employee__department__name"],
            **{k: int(row[k]) for k in ("spendable", "held", "expiring_30", "expiring_90",
                                        "expired_unswept", "employees")},
            "headcount": headcount.get(row["wallet__employee__department_id"], 0),
        }
        for row in rows
    ]


def active_headcount() -> dict[int, int]:
    """Active employees per department id."""
    return dict(Employee.objects.filter(status=EmployeeStatus.ACTIVE).order_by()
                .values("department_id").annotate(n=Count("id"))
                .values_list("department_id", "n"))


# --- the console's ledger browser -------------------------------------------------------


def transactions(*, kind: str | None = None, since: datetime | None = None,
                 until: datetime | None = None,
                 employee: str | None = None) -> QuerySet[Transaction]:
    """Transactions newest first, filtered by kind, time (``since`` inclusive, ``until``
    exclusive) and an employee (number, any case, or exact name) on one of their legs;
    each with ``employee_entries``: its legs on employees' accounts, in order."""
    txns = Transaction.objects.order_by("-pk")
    if kind:
        txns = txns.filter(kind=kind)
    if since:
        txns = txns.filter(created_at__gte=since)
    if until:
        txns = txns.filter(created_at__lt=until)
    if employee:
        txns = txns.filter(Exists(Entry.objects.filter(
            Q(account__employee__employee_no__iexact=employee)
            | Q(account__employee__name=employee),
            transaction=OuterRef("pk"))))
    return txns.prefetch_related(Prefetch(
        "entries", queryset=Entry.objects.filter(account__employee__isnull=False)
        .select_related("account__employee").order_by("pk"), to_attr="employee_entries"))


def transaction_by_id(pk: int) -> Transaction | None:
    """One transaction with its actor and the transactions it reverses or settles."""
    return (Transaction.objects.select_related("actor", "reverses", "settles")
            .filter(pk=pk).first())


def is_posted(idempotency_key: str) -> bool:
    """Whether a transaction was already posted under this key."""
    return Transaction.objects.filter(idempotency_key=idempotency_key).exists()


def transaction_entries(txn: Transaction) -> QuerySet[Entry]:
    """The legs of ``txn`` with their accounts' employees and departments, in order."""
    return txn.entries.select_related("account__employee", "account__department").order_by("pk")


def lot_consumptions(txn: Transaction) -> QuerySet[LotConsumption]:
    """The lots ``txn`` took from or gave back to, with where each lot came from."""
    return (LotConsumption.objects.filter(transaction=txn)
            .select_related("lot__wallet__employee", "lot__source_transaction").order_by("pk"))


def reversal_of(txn: Transaction) -> Transaction | None:
    """The transaction that reversed (or refunded) ``txn``, if any."""
    return Transaction.objects.filter(reverses=txn).first()


def accounts(*, kind: str | None = None, q: str = "") -> QuerySet[Account]:
    """Accounts by kind and code, with their employee and department; ``q`` matches the
    code, the employee's number or name."""
    rows = Account.objects.select_related("employee", "department").order_by("kind", "code")
    if kind:
        rows = rows.filter(kind=kind)
    if q:
        rows = rows.filter(Q(code__icontains=q) | Q(employee__employee_no__icontains=q)
                           | Q(employee__name__icontains=q))
    return rows


# --- the honest history: one line per thing that happened, in words ----------------------

# Kinds that settle an earlier hold (directly, or a refund of its capture): shown as steps
# of the hold's line, never as lines of their own.
SETTLING_KINDS = (TransactionKind.CAPTURE, TransactionKind.RELEASE, TransactionKind.REFUND)


def _anchored(entries: QuerySet[Entry]) -> QuerySet[Entry]:
    """``entries`` with ``anchor_id`` and ``anchor_at``: the transaction (and its time) of
    the history line each one is shown in — for a release the hold it settles, for a
    refund the hold whose capture it reverses, for every other movement itself."""
    release = Q(transaction__kind=TransactionKind.RELEASE, transaction__settles__isnull=False)
    refund = Q(transaction__kind=TransactionKind.REFUND,
               transaction__reverses__settles__isnull=False)
    return entries.annotate(
        anchor_id=Case(When(release, then=F("transaction__settles_id")),
                       When(refund, then=F("transaction__reverses__settles_id")),
                       default=F("transaction_id"), output_field=BigIntegerField()),
        anchor_at=Case(When(release, then=F("transaction__settles__created_at")),
                       When(refund, then=F("transaction__reverses__settles__created_at")),
                       default=F("transaction__created_at"), output_field=DateTimeField()),
    )


def _wallet_entries(employee: Employee) -> QuerySet[Entry]:
    return Entry.objects.filter(account__employee=employee, account__kind=AccountKind.WALLET)


def history_lines_query(
    *,
    employee: Employee,
    kind: str | None = None,
    category: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Entry]:
    """The wallet entries that start a line of the employee's history, newest first by the
    posting's time (ties by transaction): every movement except the releases and refunds
    that settle an earlier hold, which are steps of that hold's line. ``kind`` keeps the
    lines that are, or have a step of, that kind; the dates and ``category`` apply to the
    line's own posting. Page it, then put the page into words with ``history_lines``."""
    lines = _anchored(_wallet_entries(employee)).filter(Q(anchor_id=F("transaction_id")))
    if kind in SETTLING_KINDS:
        steps = Transaction.objects.filter(kind=kind).filter(
            Q(settles_id=OuterRef("transaction_id"))
            | Q(reverses__settles_id=OuterRef("transaction_id")))
        lines = lines.filter(Exists(steps))
    elif kind:
        lines = lines.filter(transaction__kind=kind)
    if category:
        lines = lines.filter(transaction__category=category)
    if since:
        lines = lines.filter(transaction__created_at__gte=since)
    if until:
        lines = lines.filter(transaction__created_at__lt=until)
    return lines.select_related("transaction").order_by(
        "-transaction__created_at", "-transaction_id", "-pk")


@dataclass
class HistoryStep:
    """One posting of a line: a hold, its capture, release or refund. ``amount`` is what it
    did to the wallet (a capture: nothing)."""

    transaction_id: int
    kind: str
    label: str
    at: datetime
    amount: int


@dataclass
class HistoryLine:
    """One thing that happened to the employee's points, as it stands now. ``amount`` is
    its net effect on the wallet (an order cancelled after its hold: zero), ``at`` the time
    of its first posting, which orders the lines; ``balance_after`` is the wallet's balance
    counting this line and every older one, so each line's balance is the one below it
    plus its amount and the newest is the wallet's balance."""

    transaction_id: int
    kind: str
    category: str
    at: datetime
    description: str
    status: str
    amount: int
    balance_after: int
    reason: str
    cause_type: str
    cause_id: str
    cause: CauseInfo | None
    steps: list[HistoryStep] = field(default_factory=list)


def _step_label(kind: str) -> str:
    labels: dict[str, str] = {
        TransactionKind.HOLD: _("Points reserved"),
        TransactionKind.CAPTURE: _("Points spent"),
        TransactionKind.RELEASE: _("Points returned"),
        TransactionKind.REFUND: _("Points refunded"),
    }
    return labels.get(kind, "")


def _description(txn: Transaction, info: CauseInfo | None, amount: int) -> str:
    """What a line is, in words of the reader's language."""
    kind = txn.kind
    if info is not None:
        if kind in (TransactionKind.RELEASE, TransactionKind.REFUND):
            return info.return_label or _("Refund: %(what)s") % {"what": info.label}
        if kind == TransactionKind.HOLD and info.status_label:
            return _("%(what)s — %(status)s") % {"what": info.label, "status": info.status_label}
        return info.label
    if kind == TransactionKind.ADJUST:
        return _("Adjustment by HR: %(reason)s") % {"reason": txn.reason}
    if kind == TransactionKind.EXPIRE:
        return _("Expired")
    if kind == TransactionKind.FORFEIT:
        return _("Forfeited on leaving the company")
    if kind == TransactionKind.TRANSFER:
        return _("Transfer received") if amount > 0 else _("Transfer sent")
    if kind == TransactionKind.REVERSE:
        return _("Correction of an earlier movement")
    # A cause no app describes: what the poster wrote, else the kind.
    return txn.reason or (str(TransactionKind(kind).label) if kind in TransactionKind.values
                          else kind)


def entry_words(entries: list[Entry], *, for_employee: bool) -> dict[int, tuple[str, str]]:
    """Each wallet entry's (description, status) in the history's words, keyed by entry
    id: one describer call per type of cause for all of them."""
    described = describe_causes(
        [(e.transaction.cause_type, e.transaction.cause_id) for e in entries],
        for_employee=for_employee)
    words = {}
    for entry in entries:
        txn = entry.transaction
        info = described.get((txn.cause_type, txn.cause_id))
        words[entry.pk] = (_description(txn, info, entry.amount),
                           info.status_label if info is not None else "")
    return words


def transaction_description(txn: Transaction, info: CauseInfo | None) -> str:
    """One transaction in the history's words (for the console's ledger browser)."""
    return _description(txn, info, txn.amount)


def history_lines(entries: list[Entry], *, employee: Employee,
                  for_employee: bool) -> list[HistoryLine]:
    """A page of ``history_lines_query`` in words, with each line's steps, net amount and
    running balance: a bounded number of queries whatever the page's size (the steps of
    every line at once, every running balance in one aggregate, each type of cause put
    into words by its app's describer in one call)."""
    if not entries:
        return []
    wallet_id = entries[0].account_id
    holds = [e.transaction_id for e in entries if e.transaction.kind == TransactionKind.HOLD]
    steps: dict[int, list[HistoryStep]] = {}
    if holds:
        wallet_leg = Entry.objects.filter(transaction=OuterRef("pk"), account_id=wallet_id)
        settling = (Transaction.objects.filter(Q(settles_id__in=holds)
                                               | Q(reverses__settles_id__in=holds))
                    .annotate(anchor=Coalesce("settles_id", "reverses__settles_id"),
                              wallet_amount=Subquery(wallet_leg.values("amount")[:1]))
                    .order_by("created_at", "pk")
                    .values_list("pk", "kind", "created_at", "anchor", "wallet_amount"))
        for pk, kind, at, anchor, wallet_amount in settling:
            steps.setdefault(anchor, []).append(
                HistoryStep(pk, kind, _step_label(kind), at, wallet_amount or 0))
    # Every line's balance at once: the wallet's total less what the lines above it moved.
    sums: dict[str, Any] = {"total": Sum("amount", default=0)}
    for i, entry in enumerate(entries):
        at = entry.transaction.created_at
        sums[f"above{i}"] = Sum("amount", default=0, filter=Q(anchor_at__gt=at) | Q(
            anchor_at=at, anchor_id__gt=entry.transaction_id))
    totals = _anchored(_wallet_entries(employee)).order_by().aggregate(**sums)
    described = describe_causes(
        [(e.transaction.cause_type, e.transaction.cause_id) for e in entries],
        for_employee=for_employee)
    lines = []
    for i, entry in enumerate(entries):
        txn = entry.transaction
        settled = steps.get(txn.pk, [])
        line_steps = ([HistoryStep(txn.pk, txn.kind, _step_label(txn.kind), txn.created_at,
                                   entry.amount), *settled]
                      if txn.kind == TransactionKind.HOLD else [])
        amount = entry.amount + sum(s.amount for s in settled)
        info = described.get((txn.cause_type, txn.cause_id))
        lines.append(HistoryLine(
            transaction_id=txn.pk, kind=txn.kind, category=txn.category, at=txn.created_at,
            description=_description(txn, info, amount),
            status=info.status_label if info is not None else "",
            amount=amount, balance_after=int(totals["total"]) - int(totals[f"above{i}"]),
            reason=txn.reason, cause_type=txn.cause_type, cause_id=txn.cause_id, cause=info,
            steps=line_steps,
        ))
    return lines
