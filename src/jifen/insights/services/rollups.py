"""Keeping the rollups (``jifen.insights.models``) equal to the ledger: record each
posting's changes as it is written, fold them in every minute, rebuild everything on
demand, and check the result for ``jifen ledger verify``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Q, Sum
from django.utils import timezone

from jifen.insights import sql
from jifen.insights.models import (
    CompanyMonth,
    DepartmentMonth,
    EmployeeMonth,
    ItemMonth,
    LastActive,
    PendingChange,
    RollupState,
    Standing,
)
from jifen.ledger.hooks import Posting
from jifen.ledger.models import Account, AccountKind, Entry, Transaction, TransactionKind
from jifen.people.models import Employee

ORDER_CAUSE = "mall.order"
FOLD_BATCH = 20_000
DELETE_CHUNK = 1000

# What counts towards a ranking: points earned, less penalties, with HR's adjustments and
# reversals of earning (a reversal of a redemption has no category).
RANKED_ALWAYS = (TransactionKind.EARN, TransactionKind.PENALTY)
RANKED_WITH_CATEGORY = (TransactionKind.ADJUST, TransactionKind.REVERSE)


def is_ranked(kind: str, category: str) -> bool:
    return kind in RANKED_ALWAYS or (kind in RANKED_WITH_CATEGORY and bool(category))


# What counts as being active ("inactive employees"): earning or spending points.
ACTIVE_KINDS = (TransactionKind.EARN, TransactionKind.REDEEM, TransactionKind.CAPTURE)

RANKED = Q(kind__in=RANKED_ALWAYS) | (Q(kind__in=RANKED_WITH_CATEGORY) & ~Q(category=""))


def month_of(moment: datetime) -> date:
    """The calendar month (its first day) of ``moment`` in the site's time zone."""
    return timezone.localtime(moment).date().replace(day=1)


def periods_of(month: date) -> tuple[str, ...]:
    """The ranking periods a month belongs to: all time, its year, quarter and month."""
    return ("all", f"{month.year}", f"{month.year}-Q{(month.month - 1) // 3 + 1}",
            f"{month.year}-{month.month:02d}")


# --- as points move ---------------------------------------------------------------------


def record_postings(postings: list[Posting]) -> None:
    """The ledger's posting observer: one pending row per employee whose points changed."""
    PendingChange.objects.bulk_create([
        PendingChange(transaction_id=p.transaction_id, employee_id=employee_id, kind=p.kind,
                      category=p.category, cause_type=p.cause_type, cause_id=p.cause_id,
                      amount=amount, occurred_at=p.created_at)
        for p in postings for employee_id, amount in p.employee_change().items()
    ], batch_size=1000)


def fold_pending(*, batch: int = FOLD_BATCH) -> int:
    """Fold every pending change into the rollups; returns how many were folded."""
    _ensure_state_row()
    total = 0
    while True:
        folded = _fold_batch(batch)
        total += folded
        if folded < batch:
            return total


@transaction.atomic
def _fold_batch(limit: int) -> int:
    state = _locked_state()
    pending = list(PendingChange.objects.order_by("id")[:limit].values_list(
        "id", "employee_id", "kind", "category", "cause_type", "cause_id", "amount",
        "occurred_at"))
    if not pending:
        return 0
    _add(((employee_id, kind, category, cause_type, cause_id, amount, month_of(at))
          for _id, employee_id, kind, category, cause_type, cause_id, amount, at in pending))
    # Exactly the rows read: a change committed meanwhile with a lower id waits for the next
    # fold instead of being deleted unseen.
    ids = [row[0] for row in pending]
    for start in range(0, len(ids), DELETE_CHUNK):
        PendingChange.objects.filter(pk__in=ids[start:start + DELETE_CHUNK]).delete()
    state.folded_at = timezone.now()
    state.save(update_fields=["folded_at"])
    return len(pending)


def _ensure_state_row() -> None:
    """The migration creates the one row; a flushed database (tests) may have lost it.
    Created in its own short transaction, so two folds racing to create it never hold
    the duplicate key's shared lock while they wait for the row (a MySQL deadlock)."""
    if RollupState.objects.filter(pk=1).exists():
        return
    try:
        with transaction.atomic():
            RollupState.objects.create(pk=1)
    except IntegrityError:
        pass  # another fold created it


def _locked_state() -> RollupState:
    return RollupState.objects.select_for_update().get(pk=1)


Change = tuple[int, str, str, str, str, int, date]  # employee, kind, category, cause, amount, month


def _add(changes: Iterable[Change]) -> None:
    """Add changes to every rollup (in the caller's transaction)."""
    changes = list(changes)
    employee_ids = {change[0] for change in changes}
    department_of = dict(Employee.objects.filter(pk__in=employee_ids)
                         .values_list("pk", "department_id"))
    order_ids = {int(c[4]) for c in changes if c[3] == ORDER_CAUSE and c[4].isdigit()}
    item_of = _items_of_orders(order_ids)

    per_employee: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    per_department: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    per_company: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    per_item: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    standings: dict[tuple, int] = defaultdict(int)
    last_active: dict[int, date] = {}
    for employee_id, kind, category, cause_type, cause_id, amount, month in changes:
        department_id = department_of.get(employee_id)
        if department_id is None:
            continue  # not an employee any more: nothing can show it
        for bucket, key in ((per_employee, (employee_id, month, category, kind, department_id)),
                            (per_department, (department_id, month, category, kind)),
                            (per_company, (month, category, kind))):
            bucket[key][0] += amount
            bucket[key][1] += 1
        if cause_type == ORDER_CAUSE and cause_id.isdigit() and int(cause_id) in item_of:
            item_key = (item_of[int(cause_id)], month, kind)
            per_item[item_key][0] += amount
            per_item[item_key][1] += 1
        if kind in ACTIVE_KINDS and month > last_active.get(employee_id, date.min):
            last_active[employee_id] = month
        if is_ranked(kind, category):
            for period in periods_of(month):
                standings[(period, "", employee_id, department_id)] += amount
                if category:
                    standings[(period, category, employee_id, department_id)] += amount
    sql.add_to_rows(EmployeeMonth, ("employee_id", "month", "category", "kind"),
                    ("amount", "count"), extra=("department_id",), rows=
                    [(e, m, c, k, amount, count, d) for (e, m, c, k, d), (amount, count)
                     in per_employee.items()])
    sql.add_to_rows(DepartmentMonth, ("department_id", "month", "category", "kind"),
                    ("amount", "count"),
                    [(*key, amount, count) for key, (amount, count) in per_department.items()])
    write_company_months([(*key, amount, count) for key, (amount, count) in per_company.items()])
    sql.add_to_rows(ItemMonth, ("item_id", "month", "kind"), ("amount", "count"),
                    [(*key, amount, count) for key, (amount, count) in per_item.items()])
    sql.add_to_rows(Standing, ("period", "category", "employee_id"), ("points",),
                    extra=("department_id",),
                    rows=[(p, c, e, points, d) for (p, c, e, d), points in standings.items()])
    sql.raise_rows(LastActive, "employee_id", "month", list(last_active.items()))


def write_company_months(rows: list[tuple]) -> None:
    """Company rows (month, category, kind, amount, count), added to any already there."""
    sql.add_to_rows(CompanyMonth, ("month", "category", "kind"), ("amount", "count"), rows)


def _items_of_orders(order_ids: set[int]) -> dict[int, int]:
    if not order_ids:
        return {}
    from jifen.mall.models import Order  # insights reads the mall's orders (layer above)

    found: dict[int, int] = {}
    ordered = sorted(order_ids)
    for start in range(0, len(ordered), DELETE_CHUNK):
        found.update(Order.objects.filter(pk__in=ordered[start:start + DELETE_CHUNK])
                     .values_list("pk", "item_id"))
    return found


# --- from scratch -----------------------------------------------------------------------


@transaction.atomic
def rebuild() -> int:
    """Recompute every rollup from the ledger (employees counted in today's departments);
    returns the number of employee changes folded. Pending changes are dropped: the
    ledger already holds them."""
    _ensure_state_row()
    state = _locked_state()
    for model in (PendingChange, EmployeeMonth, DepartmentMonth, CompanyMonth, ItemMonth,
                  Standing, LastActive):
        model.objects.all().delete()
    total = 0
    for start, end in _months_with_postings():
        changes = list(_ledger_changes(start, end))
        _add(changes)
        total += len(changes)
    state.rebuilt_at = state.folded_at = timezone.now()
    state.save(update_fields=["rebuilt_at", "folded_at"])
    return total


def _months_with_postings() -> Iterator[tuple[datetime, datetime]]:
    """[start, end) of each site-time month from the first posting to the last."""
    span = Transaction.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    if span["first"] is None:
        return
    month, last = month_of(span["first"]), month_of(span["last"])
    while month <= last:
        following = (month + timedelta(days=32)).replace(day=1)
        yield _local_midnight(month), _local_midnight(following)
        month = following


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day))


def _ledger_changes(start: datetime, end: datetime) -> Iterator[Change]:
    """Each transaction of the month that changed an employee's points (wallet + hold
    together, as the posting observer records it)."""
    month = month_of(start)
    rows = (Entry.objects
            .filter(transaction__created_at__gte=start, transaction__created_at__lt=end,
                    account__kind__in=(AccountKind.WALLET, AccountKind.HOLD))
            .values("transaction_id", "account__employee_id", "transaction__kind",
                    "transaction__category", "transaction__cause_type",
                    "transaction__cause_id")
            .annotate(net=Sum("amount"))
            .exclude(net=0)
            .order_by())
    for row in rows.iterator(chunk_size=10_000):
        yield (row["account__employee_id"], row["transaction__kind"],
               row["transaction__category"], row["transaction__cause_type"],
               row["transaction__cause_id"], row["net"], month)


# --- checked by `jifen ledger verify` ---------------------------------------------------


Key = TypeVar("Key", bound=tuple)


def _differing(expected: dict[Key, tuple[int, int]],
               stored: dict[Key, tuple[int, int]]) -> list[Key]:
    """The keys whose (amount, count) differ between two rollups (a missing row is 0, 0)."""
    return [key for key in sorted(set(expected) | set(stored), key=str)
            if expected.get(key, (0, 0)) != stored.get(key, (0, 0))]


def rollups_match_ledger() -> list[str]:
    """Rollups plus changes still pending equal each employee's points in the ledger; each
    department's rollup equals its employees' rows and the company's its departments' rows;
    rankings equal the ranked rows; each employee's last active month is the last month of
    their earning or spending rows."""
    breaches: list[str] = []
    owned: dict[int, int] = defaultdict(int)
    for employee_id, balance in (Account.objects
                                 .filter(kind__in=(AccountKind.WALLET, AccountKind.HOLD))
                                 .values_list("employee_id", "balance").iterator(10_000)):
        owned[employee_id] += balance
    rolled: dict[int, int] = defaultdict(int)
    for model in (EmployeeMonth, PendingChange):
        for employee_id, total in (model.objects.values_list("employee_id")
                                   .annotate(total=Sum("amount")).order_by()):
            rolled[employee_id] += total
    for employee_id in sorted(set(owned) | set(rolled)):
        if owned.get(employee_id, 0) != rolled.get(employee_id, 0):
            breaches.append(f"rollups: employee #{employee_id} owns {owned.get(employee_id, 0)} "
                            f"in the ledger but {rolled.get(employee_id, 0)} in the rollups")

    by_department = {
        (d, m, c, k): (a, n) for d, m, c, k, a, n in
        EmployeeMonth.objects.values_list("department_id", "month", "category", "kind")
        .annotate(a=Sum("amount"), n=Sum("count")).order_by()}
    stored = {(d, m, c, k): (a, n) for d, m, c, k, a, n in
              DepartmentMonth.objects.values_list("department_id", "month", "category",
                                                  "kind", "amount", "count")}
    for d, m, c, k in _differing(by_department, stored):
        breaches.append(f"rollups: department #{d} {m:%Y-%m} {c or '-'} {k}: "
                        f"{stored.get((d, m, c, k), (0, 0))} stored, "
                        f"{by_department.get((d, m, c, k), (0, 0))} from its employees")

    by_month = {(m, c, k): (a, n) for m, c, k, a, n in
                DepartmentMonth.objects.values_list("month", "category", "kind")
                .annotate(a=Sum("amount"), n=Sum("count")).order_by()}
    company = {(m, c, k): (a, n) for m, c, k, a, n in
               CompanyMonth.objects.values_list("month", "category", "kind", "amount", "count")}
    for m, c, k in _differing(by_month, company):
        breaches.append(f"rollups: company {m:%Y-%m} {c or '-'} {k}: "
                        f"{company.get((m, c, k), (0, 0))} stored, "
                        f"{by_month.get((m, c, k), (0, 0))} from its departments")

    ranked = dict(EmployeeMonth.objects.filter(RANKED).values_list("employee_id")
                  .annotate(total=Sum("amount")).order_by())
    standing = dict(Standing.objects.filter(period="all", category="")
                    .values_list("employee_id", "points"))
    for employee_id in sorted(set(ranked) | set(standing)):
        if ranked.get(employee_id, 0) != standing.get(employee_id, 0):
            breaches.append(f"rollups: employee #{employee_id} ranks with "
                            f"{standing.get(employee_id, 0)} but earned "
                            f"{ranked.get(employee_id, 0)}")

    active = dict(EmployeeMonth.objects.filter(kind__in=ACTIVE_KINDS).values_list("employee_id")
                  .annotate(last=Max("month")).order_by())
    recorded = dict(LastActive.objects.values_list("employee_id", "month"))
    for employee_id in sorted(set(active) | set(recorded)):
        if active.get(employee_id) != recorded.get(employee_id):
            breaches.append(f"rollups: employee #{employee_id} last active "
                            f"{recorded.get(employee_id)} recorded, "
                            f"{active.get(employee_id)} in their months")
    return breaches[:50]
