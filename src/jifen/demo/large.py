"""`jifen demo --size large`: a company at size — by default 20,000 employees in a
department tree with 24 months of history — written in bulk, so anyone can try the product
(and its console lists, rankings and dashboards) at the size it is built for.

The history is simulated in memory, month by month across the whole company, in time
order: earnings in six categories (a few a month, amounts skewed the way real awards are),
now and then a penalty, mall redemptions (a hold, then its capture a day or two later; a
few cancelled and released; the last days' orders still open) and expiry (12 months after
earning, as the sweep would post it). What people redeem and how they earn follows planted
tastes (``jifen.demo.tastes``: each division's favoured categories, each person's own
interest); the last 90 days' item views and some wish lists follow them too, so the
recommendations have something to find. Every row the ledger's services would have written is
written — transactions, entries summing to zero, lots, lot consumptions, balances after,
orders pointing at their holds and captures — with ids chosen here, through
``jifen.demo.sql.copy_rows`` (COPY on PostgreSQL, executemany elsewhere). Lots are written
once they are used up (or at the end), so none is ever updated. Account balances are set
from the same arithmetic, and the rollups are rebuilt from the ledger at the end, so
``jifen ledger verify`` is clean afterwards.

The load is one transaction: half a company is never left behind.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from jifen.demo import sql, tastes
from jifen.demo._names import FEMALE_FIRST, FEMALE_LAST, MALE_FIRST, MALE_LAST, SURNAMES
from jifen.insights.bulkload import (
    DEPARTMENT_MONTH_FIELDS,
    EMPLOYEE_MONTH_FIELDS,
    STANDING_FIELDS,
    RollupRows,
    write_item_months,
    write_last_active,
)
from jifen.insights.models import (
    CompanyMonth,
    DepartmentMonth,
    EmployeeMonth,
    ItemMonth,
    LastActive,
    Standing,
)
from jifen.insights.services import rollups
from jifen.ledger.accounts import ensure_company_accounts, issuance_key, sink_key
from jifen.ledger.models import (
    Account,
    AccountKind,
    Category,
    Entry,
    Lot,
    LotConsumption,
    Transaction,
    TransactionKind,
)
from jifen.mall.models import Favourite, Item, ItemStatus, ItemView, Order, OrderStatus
from jifen.people.models import Department, Employee, EmployeeStatus
from jifen.people.pinyin import search_keys

LARGE_EMPLOYEES = 20_000
LARGE_MONTHS = 24
TEAM_SIZE = 40
TEAMS_PER_DIVISION = 25
EXPIRY_MONTHS = 12
CAUSE = "demo.history"  # what caused a simulated earning or penalty
EMPLOYEE_NO_PREFIX = "LG"
LOOKS_DAYS = 90  # item views written for the last 90 days (what recommendations keep)
LOOKS_A_MONTH = 3.0  # days a month someone looks at an item, on average
LOOKS_IN_TASTE = 0.7  # share of looks that follow their taste (the rest: anything)
FAVOURITE_SHARE = 0.25  # employees with a wish list (1–3 items)

# Category → (weight, typical award): awards are log-normal around the typical one.
CATEGORIES: dict[str, tuple[float, int]] = {
    Category.ATTENDANCE: (0.30, 20),
    Category.PERFORMANCE: (0.20, 120),
    Category.LEARNING: (0.18, 40),
    Category.TEAMWORK: (0.14, 30),
    Category.CULTURE: (0.10, 25),
    Category.ENGAGEMENT: (0.08, 5),
}
DIVISIONS = ("研发", "产品", "销售", "市场", "客服", "供应链", "制造", "财务", "人力", "法务",
             "数据", "运营", "质量", "采购", "物流", "行政")
GRADES = ("P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8")
POSITIONS = ("工程师", "专员", "分析师", "主管", "顾问", "设计师", "代表", "经理")


@dataclass
class LargeResult:
    employees: int = 0
    departments: int = 0
    transactions: int = 0
    entries: int = 0
    lots: int = 0
    orders: int = 0
    views: int = 0
    favourites: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    # Employee id → the taste planted in them (for a bench to know the best it could do).
    planted: dict[int, tastes.Taste] = field(default_factory=dict, repr=False)

    def summary(self) -> str:
        return (f"{self.employees:,} employees, {self.departments:,} departments, "
                f"{self.transactions:,} transactions, {self.entries:,} entries, "
                f"{self.lots:,} lots, {self.orders:,} orders in {self.seconds:.1f}s")


class _Ids:
    """The next id of each table the loader writes (it numbers its own rows)."""

    def __init__(self, *models: type) -> None:
        self._next = {model: sql.next_id(model) for model in models}

    def peek(self, model: type) -> int:
        return self._next[model]

    def take(self, model: type) -> int:
        value = self._next[model]
        self._next[model] = value + 1
        return value


@dataclass
class _Lot:
    id: int
    amount: int
    remaining: int
    earned_at: datetime
    expires_at: datetime
    source: int
    wallet: int
    held: int = 0


@dataclass
class _Person:
    id: int
    wallet: int
    hold: int
    department: int
    hired: datetime
    balance: int = 0
    held: int = 0
    lots: list[_Lot] = field(default_factory=list)  # by expiry (= by earning), live only
    division: int = 0  # index of the top-level department (for its tastes)
    taste: tastes.Taste | None = None
    earn_weights: list[float] = field(default_factory=list)  # per CATEGORIES, leaned
    redeemed: set[int] = field(default_factory=set)  # items ordered


class _Loader:
    def __init__(self, *, rng: random.Random, now: datetime, months: int,
                 earn_rate: float, log: Callable[[str], None], seed: object = 0) -> None:
        self.rng, self.now, self.months, self.earn_rate, self.log = rng, now, months, earn_rate, log
        self.seed = seed
        self.ids = _Ids(Department, Employee, Account, Transaction, Entry, Lot,
                        LotConsumption, Order, ItemView, Favourite)
        self.division_of: dict[int, int] = {}  # team id → division index
        self.appeals: dict[object, float] = {}
        self.result = LargeResult()
        self.company: dict[int, int] = defaultdict(int)  # company account id → delta
        self.people: list[_Person] = []
        self.txns: list[tuple] = []
        self.entries: list[tuple] = []
        self.uses: list[tuple] = []
        self.dead_lots: list[_Lot] = []
        self.orders: list[tuple] = []
        self.open_orders: dict[int, tuple] = {}  # hold txn id → order row without settlement
        self.sold: dict[int, int] = defaultdict(int)
        self.carry: list[tuple] = []  # settlements due after the month being simulated
        self.rollups: RollupRows | None = None  # rollups accumulated as the books are written

    # --- people ---------------------------------------------------------------------

    def company_tree(self, employees: int) -> list[int]:
        """Root, divisions, teams; returns the team ids (employees sit in teams)."""
        now = self.now
        teams = max(1, math.ceil(employees / TEAM_SIZE))
        divisions = max(1, math.ceil(teams / TEAMS_PER_DIVISION))
        rows: list[tuple] = []

        def add(code: str, name: str, parent: tuple | None) -> tuple:
            pk = self.ids.take(Department)
            path = f"{parent[5] if parent else '/'}{pk}/"
            row = (pk, code, name, parent[0] if parent else None, None, path,
                   parent[6] + 1 if parent else 0, now, now)
            rows.append(row)
            return row

        # Codes and numbers unique to this load: a second load beside the first is fine.
        suffix = f"{self.ids.peek(Department):04x}"
        root = add(f"LG-{suffix}", "集团总部", None)
        team_ids = []
        for d in range(divisions):
            division = add(f"LG-{suffix}-{d + 1:02d}",
                           f"{DIVISIONS[d % len(DIVISIONS)]}事业部{d // len(DIVISIONS) or ''}",
                           root)
            for t in range(min(TEAMS_PER_DIVISION, teams - d * TEAMS_PER_DIVISION)):
                team = add(f"LG-{suffix}-{d + 1:02d}-{t + 1:02d}",
                           f"{DIVISIONS[d % len(DIVISIONS)]}{t + 1}组", division)
                team_ids.append(team[0])
                self.division_of[team[0]] = d
        sql.copy_rows(Department, ("id", "code", "name", "parent_id", "manager_id", "path",
                                   "depth", "created_at", "updated_at"), rows)
        self.result.departments = len(rows)
        self._code_suffix = suffix
        return team_ids

    def _name(self) -> str:
        rng = self.rng
        surname = rng.choices(_SURNAMES, _SURNAME_WEIGHTS)[0]
        first, last = (FEMALE_FIRST, FEMALE_LAST) if rng.random() < 0.48 else (
            MALE_FIRST, MALE_LAST)
        given = rng.choice(last)[0]
        if rng.random() > 0.22:
            given = rng.choice(first)[0] + given
        return surname + given

    def employees(self, count: int, team_ids: list[int]) -> None:
        now, rng = self.now, self.rng
        keys: dict[str, tuple[str, str]] = {}
        people_rows, account_rows = [], []
        managers: dict[int, int] = {}
        for n in range(count):
            pk = self.ids.take(Employee)
            team = team_ids[min(n // TEAM_SIZE, len(team_ids) - 1)]
            managers.setdefault(team, pk)
            name = self._name()
            if name not in keys:
                keys[name] = search_keys(name)
            pinyin, initials = keys[name]
            hired = (now - timedelta(days=rng.randrange(30, 365 * 12))).date()
            number = f"{EMPLOYEE_NO_PREFIX}{self._code_suffix.upper()}{n + 1:06d}"
            people_rows.append((
                pk, number, name, f"{number.lower()}@example.com", "", team,
                rng.choice(POSITIONS), rng.choice(GRADES), hired, EmployeeStatus.ACTIVE,
                None, None, pinyin, initials, now, now))
            wallet, hold = self.ids.take(Account), self.ids.take(Account)
            account_rows += [
                (wallet, AccountKind.WALLET.value, f"wallet:e:{pk}", pk, None, "", 0, False, now),
                (hold, AccountKind.HOLD.value, f"hold:e:{pk}", pk, None, "", 0, False, now)]
            self.people.append(_Person(
                id=pk, wallet=wallet, hold=hold, department=team,
                division=self.division_of.get(team, 0),
                hired=datetime(hired.year, hired.month, hired.day, 9, tzinfo=UTC)))
        sql.copy_rows(Employee, (
            "id", "employee_no", "name", "email", "phone", "department_id", "position",
            "grade", "hire_date", "status", "left_on", "user_id", "name_pinyin",
            "name_initials", "created_at", "updated_at"), people_rows)
        sql.copy_rows(Account, ("id", "kind", "code", "employee_id", "department_id",
                                "category", "balance", "may_go_negative", "created_at"),
                      account_rows)
        sql.set_column(Department, "manager_id", managers)
        self.result.employees = count

    # --- history --------------------------------------------------------------------

    def plant_tastes(self) -> None:
        """Each division's favoured categories, each person's interest and the earning
        mix it leans to (``jifen.demo.tastes``), from a generator of their own."""
        rng = random.Random(f"{self.seed}/large/tastes")
        categories = sorted({item[4] for item in self.items})
        self.appeals = {item[0]: tastes.appeal(self.seed, item[0]) for item in self.items}
        favoured: dict[int, tuple[str, ...]] = {}
        base = {category: weight for category, (weight, _typical) in CATEGORIES.items()}
        for person in self.people:
            if person.division not in favoured:
                favoured[person.division] = tastes.favoured_categories(
                    self.seed, person.division, categories)
            person.taste = tastes.taste_for(rng, favoured[person.division], categories)
            person.earn_weights = list(tastes.earning_weights(person.taste, base).values())
            self.result.planted[person.id] = person.taste

    def history(self, items: list[tuple[int, str, int, str, str]]) -> None:
        accounts = dict(Account.objects.filter(code__in=[
            *(issuance_key(c) for c in Category.values),
            sink_key(AccountKind.REDEMPTION), sink_key(AccountKind.EXPIRY)])
            .values_list("code", "pk"))
        self.issuance = {c: accounts[issuance_key(c)] for c in Category.values}
        self.redemption = accounts[sink_key(AccountKind.REDEMPTION)]
        self.expiry = accounts[sink_key(AccountKind.EXPIRY)]
        self.items = sorted(items, key=lambda item: item[2])
        self.plant_tastes()
        first = _month_start(self.now, self.months - 1)
        for m in range(self.months):
            start = _add_months(first, m).astimezone(UTC)
            end = min(_add_months(first, m + 1).astimezone(UTC), self.now)
            if self.rollups is not None:
                self.rollups.start_month(_add_months(first, m).date())
            self._month(start, end)
            self._flush()
            if self.rollups is not None:
                self._write_rollups(self.rollups.close_month(last=m == self.months - 1))
            self.log(f"    {timezone.localtime(start):%Y-%m}: "
                     f"{self.result.transactions:,} transactions")
        # What is still open at the end: live lots, orders waiting for approval.
        for person in self.people:
            self.dead_lots += person.lots
        self.orders += self.open_orders.values()
        self.open_orders = {}
        self._flush()
        sql.set_column(Account, "balance", {
            **{p.wallet: p.balance for p in self.people},
            **{p.hold: p.held for p in self.people if p.held}})
        sql.add_to_balances(Account, self.company)
        for item_id, sold in self.sold.items():
            Item.objects.filter(pk=item_id).update(sold_count=sold)

    def looks(self) -> None:
        """Item views of the last ``LOOKS_DAYS`` (a few days a month, mostly at what
        their taste goes for, some at anything) and wish lists for some employees."""
        if not self.items:
            return
        rng = random.Random(f"{self.seed}/large/looks")
        today = timezone.localdate(self.now)
        catalogue = [(item[0], item[4], item[2]) for item in self.items]
        views: list[tuple] = []
        favourites: list[tuple] = []
        for person in self.people:
            assert person.taste is not None
            seen: set[tuple[int, object]] = set()
            for _n in range(_poisson(rng, LOOKS_A_MONTH * LOOKS_DAYS / 30)):
                day = today - timedelta(days=rng.randrange(LOOKS_DAYS))
                if rng.random() < LOOKS_IN_TASTE:
                    chosen = tastes.pick(rng, person.taste, catalogue, appeals=self.appeals)
                    item_id = catalogue[chosen or 0][0]
                else:
                    item_id = rng.choice(catalogue)[0]
                if (item_id, day) not in seen:
                    seen.add((item_id, day))
                    views.append((self.ids.take(ItemView), person.id, item_id, day))
            if rng.random() < FAVOURITE_SHARE:
                kept: set[object] = set()
                for _n in range(rng.randint(1, 3)):
                    chosen = tastes.pick(rng, person.taste, catalogue, appeals=self.appeals,
                                         redeemed=kept)
                    item_id = catalogue[chosen or 0][0]
                    if item_id not in kept:
                        kept.add(item_id)
                        at = self.now - timedelta(seconds=rng.random() * LOOKS_DAYS * 86400)
                        favourites.append((self.ids.take(Favourite), person.id, item_id, at))
        self.result.views = sql.copy_rows(ItemView, ("id", "employee_id", "item_id", "day"),
                                          views)
        self.result.favourites = sql.copy_rows(
            Favourite, ("id", "employee_id", "item_id", "created_at"), favourites)

    def _month(self, start: datetime, end: datetime) -> None:
        rng = self.rng
        span = (end - start).total_seconds()
        if span <= 0:
            return
        share = span / (31 * 86400)
        queue: list[tuple] = []
        seq = itertools.count()
        carried, self.carry = self.carry, []
        for at, index, kind, what in carried:
            if at < end:
                queue.append((at, index, next(seq), kind, what))
            else:
                self.carry.append((at, index, kind, what))
        categories = list(CATEGORIES)
        for index, person in enumerate(self.people):
            for lot in person.lots:  # expiry falls in this month
                if lot.expires_at < end and lot.expires_at >= start:
                    queue.append((lot.expires_at, index, next(seq), "expire", lot))
            if person.hired >= end:
                continue
            low = max(start, person.hired)
            window = (end - low).total_seconds()
            for _n in range(_poisson(rng, self.earn_rate * share)):
                category = rng.choices(categories, person.earn_weights)[0]
                typical = CATEGORIES[category][1]
                amount = max(1, int(rng.lognormvariate(math.log(typical), 0.6)))
                queue.append((low + timedelta(seconds=rng.random() * window), index,
                              next(seq), "earn", (category, amount)))
            if rng.random() < 0.06 * share:
                queue.append((low + timedelta(seconds=rng.random() * window), index,
                              next(seq), "penalty", rng.choice((5, 10, 20))))
            if self.items and rng.random() < 0.35 * share:
                queue.append((low + timedelta(seconds=rng.random() * window), index,
                              next(seq), "order", None))
        heapq.heapify(queue)
        while queue:
            at, index, _seq, kind, what = heapq.heappop(queue)
            person = self.people[index]
            if kind == "earn":
                self._earn(person, at, *what)
            elif kind == "penalty":
                self._penalty(person, at, what)
            elif kind == "expire":
                if what.remaining:
                    self._expire(person, what)
            elif kind == "order":
                settle = self._order(person, at)
                if settle is not None:
                    settle_at = at + timedelta(hours=rng.uniform(2, 60))
                    if settle_at < end:
                        heapq.heappush(queue, (settle_at, index, next(seq), "settle", settle))
                    else:  # settled next month (or still open at the end)
                        self.carry.append((settle_at, index, "settle", settle))
            elif kind == "settle":
                self._settle(person, at, what)

    def _write_rollups(self, rows: dict[type, list[tuple]]) -> None:
        sql.copy_rows(EmployeeMonth, EMPLOYEE_MONTH_FIELDS, rows[EmployeeMonth])
        sql.copy_rows(DepartmentMonth, DEPARTMENT_MONTH_FIELDS, rows[DepartmentMonth])
        rollups.write_company_months(rows[CompanyMonth])
        sql.copy_rows(Standing, STANDING_FIELDS, rows[Standing])
        write_item_months(rows[ItemMonth])
        write_last_active(rows[LastActive])

    def _rolled(self, person: _Person, kind: str, category: str, amount: int,
                item_id: int | None = None) -> None:
        if self.rollups is not None:
            self.rollups.add(employee_id=person.id, department_id=person.department, kind=kind,
                             category=category, amount=amount, item_id=item_id)

    def _txn(self, kind: str, amount: int, at: datetime, *, category: str = "",
             cause: tuple[str, str], settles: int | None = None, key: str = "") -> int:
        pk = self.ids.take(Transaction)
        self.txns.append((pk, key or f"demo:large:{pk}", kind, amount, category, "", None,
                          "", cause[0], cause[1], None, settles, at))
        self.result.transactions += 1
        return pk

    def _entry(self, txn: int, account: int, amount: int, after: int | None) -> None:
        self.entries.append((self.ids.take(Entry), txn, account, amount, after))
        self.result.entries += 1
        if after is None:
            self.company[account] += amount

    def _use(self, txn: int, lot: _Lot, amount: int, parked: int) -> None:
        self.uses.append((self.ids.take(LotConsumption), txn, lot.id, amount, parked))

    def _earn(self, person: _Person, at: datetime, category: str, amount: int) -> None:
        txn = self._txn(TransactionKind.EARN, amount, at, category=category,
                        cause=(CAUSE, f"earn:{person.id}"))
        person.balance += amount
        self._rolled(person, TransactionKind.EARN, category, amount)
        self._entry(txn, self.issuance[category], -amount, None)
        self._entry(txn, person.wallet, amount, person.balance)
        person.lots.append(_Lot(id=self.ids.take(Lot), amount=amount, remaining=amount,
                                earned_at=at, expires_at=_add_months(at, EXPIRY_MONTHS),
                                source=txn, wallet=person.wallet))

    def _take(self, person: _Person, amount: int, at: datetime) -> list[tuple[_Lot, int]]:
        """Lots to take ``amount`` from, earliest expiry first, unexpired at ``at``."""
        takes, left = [], amount
        for lot in person.lots:
            if left == 0:
                break
            if lot.expires_at <= at or not lot.remaining:
                continue
            part = min(left, lot.remaining)
            takes.append((lot, part))
            left -= part
        return takes

    def _spendable(self, person: _Person, at: datetime) -> int:
        return sum(lot.remaining for lot in person.lots if lot.expires_at > at)

    def _bury(self, person: _Person) -> None:
        """Lots used up for good are written and leave the live list."""
        live = []
        for lot in person.lots:
            (live if lot.remaining or lot.held else self.dead_lots).append(lot)
        person.lots = live

    def _penalty(self, person: _Person, at: datetime, amount: int) -> None:
        collected = min(amount, self._spendable(person, at))
        if not collected:
            return
        category = Category.ATTENDANCE
        txn = self._txn(TransactionKind.PENALTY, collected, at, category=category,
                        cause=(CAUSE, f"penalty:{person.id}"))
        for lot, part in self._take(person, collected, at):
            lot.remaining -= part
            self._use(txn, lot, part, 0)
        person.balance -= collected
        self._rolled(person, TransactionKind.PENALTY, category, -collected)
        self._entry(txn, person.wallet, -collected, person.balance)
        self._entry(txn, self.issuance[category], collected, None)
        self._bury(person)

    def _expire(self, person: _Person, lot: _Lot) -> None:
        amount = lot.remaining
        txn = self._txn(TransactionKind.EXPIRE, amount, lot.expires_at,
                        cause=("ledger.lot", str(lot.id)), key=f"expire:lot:{lot.id}")
        lot.remaining = 0
        self._use(txn, lot, amount, 0)
        person.balance -= amount
        self._rolled(person, TransactionKind.EXPIRE, "", -amount)
        self._entry(txn, person.wallet, -amount, person.balance)
        self._entry(txn, self.expiry, amount, None)
        self._bury(person)

    def _order(self, person: _Person, at: datetime) -> tuple | None:
        spendable = self._spendable(person, at)
        affordable = [item for item in self.items if item[2] <= spendable]
        if not affordable:
            return None
        assert person.taste is not None
        chosen = tastes.pick(self.rng, person.taste,
                             [(item[0], item[4], item[2]) for item in affordable],
                             budget=spendable, redeemed=person.redeemed, appeals=self.appeals)
        assert chosen is not None
        item_id, name, points, fulfilment, _category = affordable[chosen]
        person.redeemed.add(item_id)
        order_id = self.ids.take(Order)
        hold = self._txn(TransactionKind.HOLD, points, at,
                         cause=("mall.order", str(order_id)), key=f"mall:order:{order_id}:hold")
        takes = self._take(person, points, at)
        for lot, part in takes:
            lot.remaining -= part
            lot.held += part
            self._use(hold, lot, part, part)
        person.balance -= points
        person.held += points
        self._entry(hold, person.wallet, -points, person.balance)
        self._entry(hold, person.hold, points, person.held)
        row = [order_id, person.id, item_id, name, 1, points, points, points, None, fulfilment,
               OrderStatus.SUBMITTED.value, None, "", "", "", "", "", hold, None, None,
               f"demo:large:order:{order_id}", "", at, at]
        self.open_orders[hold] = tuple(row)
        return (order_id, hold, points, takes, row)

    def _settle(self, person: _Person, at: datetime, what: tuple) -> None:
        order_id, hold, points, takes, row = what
        cancelled = self.rng.random() < 0.08
        kind = TransactionKind.RELEASE if cancelled else TransactionKind.CAPTURE
        txn = self._txn(kind, points, at, cause=("mall.order", str(order_id)), settles=hold,
                        key=f"mall:order:{order_id}:{'release' if cancelled else 'capture'}")
        for lot, part in takes:
            lot.held -= part
            if cancelled:
                lot.remaining += part
            self._use(txn, lot, -part if cancelled else 0, -part)
        person.held -= points
        self._entry(txn, person.hold, -points, person.held)
        if cancelled:
            person.balance += points
            self._entry(txn, person.wallet, points, person.balance)
            row[10], row[19] = OrderStatus.CANCELLED.value, txn
        else:
            self._entry(txn, self.redemption, points, None)
            self._rolled(person, TransactionKind.CAPTURE, "", -points, item_id=row[2])
            row[10], row[18] = OrderStatus.COMPLETED.value, txn
            self.sold[row[2]] += 1
        row[23] = at
        del self.open_orders[hold]
        self.orders.append(tuple(row))
        self._bury(person)

    def _flush(self) -> None:
        sql.copy_rows(Transaction, (
            "id", "idempotency_key", "kind", "amount", "category", "reason", "actor_id",
            "actor_label", "cause_type", "cause_id", "reverses_id", "settles_id",
            "created_at"), self.txns)
        sql.copy_rows(Entry, ("id", "transaction_id", "account_id", "amount",
                              "balance_after"), self.entries)
        sql.copy_rows(Lot, ("id", "wallet_id", "amount", "remaining", "held", "earned_at",
                            "expires_at", "source_transaction_id"),
                      ((lot.id, lot.wallet, lot.amount, lot.remaining, lot.held,
                        lot.earned_at, lot.expires_at, lot.source) for lot in self.dead_lots))
        sql.copy_rows(LotConsumption, ("id", "transaction_id", "lot_id", "amount", "parked"),
                      self.uses)
        sql.copy_rows(Order, (
            "id", "employee_id", "item_id", "item_name", "quantity", "unit_points",
            "original_points", "points", "campaign_id", "fulfilment", "status", "address",
            "carrier", "tracking_no", "reason", "reason_code", "limit_key", "hold_txn_id",
            "capture_txn_id", "settle_txn_id", "idempotency_key", "source", "created_at",
            "updated_at"), self.orders)
        self.result.lots += len(self.dead_lots)
        self.result.orders += len(self.orders)
        self.txns, self.entries, self.uses, self.dead_lots, self.orders = [], [], [], [], []


_SURNAMES = [s for s, _p, _w in SURNAMES]
_SURNAME_WEIGHTS = [w**0.8 for _s, _p, w in SURNAMES]


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method; means here are small (a few events a month).
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0)
                           else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1])
    return moment.replace(year=year, month=month, day=day)


def _month_start(now: datetime, back: int) -> datetime:
    local = timezone.localtime(now)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return _add_months(first, -back)  # site time; months start at local midnight


def build_large(*, employees: int = LARGE_EMPLOYEES, months: int = LARGE_MONTHS,
                seed: int = 2026, earn_rate: float = 4.0, now: datetime | None = None,
                log: Callable[[str], None] | None = None,
                rollup_mode: str = "bulk") -> LargeResult:
    """Add a company of ``employees`` with ``months`` of history (``earn_rate`` earnings
    per employee and month on average) to this database, with its rollups: ``"bulk"``
    accumulates them while the postings are written (then folds what other postings left
    pending), ``"rebuild"`` runs ``rollups.rebuild()`` afterwards (slow at size: it reads
    every entry back), ``"none"`` leaves them alone."""
    log = log or (lambda message: None)
    started = time.monotonic()
    now = (now or timezone.now()).astimezone(UTC)
    items = [(pk, name, points, fulfilment, category or "") for pk, name, points, fulfilment,
             category in Item.objects.filter(points__gt=0, stock__isnull=True,
                                             status=ItemStatus.LISTED)
             .values_list("pk", "name", "points", "fulfilment", "category__slug")]
    with transaction.atomic(), sql.lots_after_their_uses():
        ensure_company_accounts()
        loader = _Loader(rng=random.Random(f"{seed}/large"), now=now, months=months,
                         earn_rate=earn_rate, log=log, seed=seed)
        if rollup_mode == "bulk":
            loader.rollups = RollupRows()
        mark = time.monotonic()
        teams = loader.company_tree(employees)
        loader.employees(employees, teams)
        loader.result.timings["people"] = time.monotonic() - mark
        log(f"  ✓ {employees:,} employees in {loader.result.departments:,} departments")
        mark = time.monotonic()
        loader.history(items)
        loader.result.timings["history"] = time.monotonic() - mark
        mark = time.monotonic()
        loader.looks()
        loader.result.timings["looks"] = time.monotonic() - mark
        log(f"  ✓ {loader.result.views:,} item views, {loader.result.favourites:,} favourites")
        sql.reset_sequences([Department, Employee, Account, Transaction, Entry, Lot,
                             LotConsumption, Order, ItemView, Favourite])
        mark = time.monotonic()
        if rollup_mode == "bulk":
            rollups.fold_pending()
            log("  ✓ rollups written with the history")
        elif rollup_mode == "rebuild":
            rollups.rebuild()
            loader.result.timings["rollups"] = time.monotonic() - mark
            log("  ✓ rollups rebuilt")
    sql.analyze([Department, Employee, Account, Transaction, Entry, Lot, LotConsumption, Order,
                 ItemView, Favourite])
    loader.result.seconds = time.monotonic() - started
    return loader.result


