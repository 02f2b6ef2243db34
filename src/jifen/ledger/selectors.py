"""Ledger reads: balances, history, outstanding points, policy, the console's browser."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from jifen.core.caching import row_cache_seconds
from jifen.ledger.expiry_rules import is_tenure_exempt
from jifen.ledger.models import (
    Account,
    AccountKind,
    Entry,
    LedgerPolicy,
    Lot,
    LotConsumption,
    Transaction,
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
    """The movements of the employee's wallet, newest first, each with its transaction
    and the balance right after it (``balance_after``: the running balance)."""
    entries = Entry.objects.filter(account__employee=employee, account__kind=AccountKind.WALLET)
    if kind:
        entries = entries.filter(transaction__kind=kind)
    if category:
        entries = entries.filter(transaction__category=category)
    if since:
        entries = entries.filter(transaction__created_at__gte=since)
    if until:
        entries = entries.filter(transaction__created_at__lt=until)
    return entries.select_related("transaction").order_by("-pk")


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
