"""Many earnings and penalties posted at once: the batch path behind event intake.

``plan_earnings(postings)`` decides, under the wallets' row locks, what ``credit`` and
``penalize`` would each have done had they run one after the other in the given order —
which lots each penalty takes (earliest expiry first, lots opened earlier in the same batch
included), how much it collects, every balance after — and ``EarningPlan.write`` then
writes the whole batch in a few multi-row statements instead of six to nine per posting.
The caller holds the transaction around both (the plan is only true under the locks it
took), and supplies the idempotency keys at write time, so a caller can insert the rows
that cause the postings between the two steps and name them in the keys.

The rows written are exactly those of the one-by-one services (``jifen ledger verify``
checks the same invariants), and locks follow ``jifen.ledger.locks``: every wallet in id
order first, the company (issuance) accounts last — on PostgreSQL right before commit, on
MySQL/MariaDB before the inserts, for the reason given in ``posting.write_posting``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from jifen.core.actors import actor_fields
from jifen.core.db import insert_rows
from jifen.ledger import hooks, sql
from jifen.ledger.accounts import accounts_for, issuance_spec, wallet_spec
from jifen.ledger.expiry_rules import UNSET, ExpiryRule, lot_expires_at, spending_cutoff
from jifen.ledger.locks import lock_accounts
from jifen.ledger.models import Account, Entry, Lot, LotConsumption, Transaction, TransactionKind
from jifen.ledger.posting import (
    LedgerIntegrityError,
    check_amount,
    check_key,
    update_company_accounts,
)
from jifen.ledger.selectors import ledger_policy

FIRST_LOTS = 20  # lots read per penalised wallet before falling back to all of them
_TRANSACTION_FIELDS = ("idempotency_key", "kind", "amount", "category", "reason", "actor",
                       "actor_label", "cause_type", "cause_id", "created_at")
_LOT_FIELDS = ("source_transaction", "wallet", "amount", "remaining", "held", "earned_at",
               "expires_at")


@dataclass
class EarningPosting:
    """One credit (``amount`` > 0) or penalty (``amount`` < 0) of an employee's wallet
    against the category's issuance account, in units."""

    employee: Any  # an Employee (pk and hire_date are read)
    amount: int
    category: str
    reason: str = ""
    expiry: ExpiryRule | None = None  # a rule's override of the site's expiry policy
    earned_at: datetime | None = None  # the credit's lot; default: now
    now: datetime | None = None  # when it is posted; default: the time of planning


@dataclass
class PlannedPosting:
    collected: int  # units moved: the credit, or what the penalty could take
    uncollected: int = 0  # the part of a penalty the spendable points did not cover


@dataclass
class _Lot:
    id: int | None  # None: opened by this batch, inserted at write time
    remaining: int
    expires_at: datetime | None
    earned_at: datetime
    order: int  # tie-break: existing lots by id, new ones after, in the order opened
    taken: int = 0  # taken by this batch's penalties
    opened: bool = False  # opened by this batch (inserted at write time)


@dataclass
class _Step:
    posting: EarningPosting
    kind: str
    amount: int
    now: datetime
    wallet: Account
    issuance: Account
    balance_after: int
    lot: _Lot | None = None
    takes: list[tuple[_Lot, int]] = field(default_factory=list)


class EarningPlan:
    """What a batch will write; ``results`` lines up with the postings."""

    def __init__(self, steps: list[_Step | None], results: list[PlannedPosting],
                 wallets: dict[int, int], lots: list[_Lot]) -> None:
        self._steps = steps
        self.results = results
        self._wallet_deltas = wallets
        self._lots = lots
        self._written = False

    def write(self, *, keys: Sequence[str], causes: Sequence[tuple[str, Any]],
              actor: Any = None,
              before_company: Callable[[list[int | None]], None] | None = None,
              ) -> list[int | None]:
        """Write the batch; ``keys[i]`` and ``causes[i]`` belong to posting ``i`` (keys
        must be new: the caller created the causes in this transaction). Returns each
        posting's transaction id (None where a penalty found nothing to collect);
        ``before_company(ids)`` runs with them before the company accounts are updated —
        on PostgreSQL the last statement before COMMIT, so rows the caller writes about
        the postings go in before that shared row is locked."""
        if self._written:
            raise LedgerIntegrityError("an earning plan is written once")
        self._written = True
        if not transaction.get_connection().in_atomic_block:
            raise LedgerIntegrityError("write the plan in the transaction that made it")
        live = [(i, step) for i, step in enumerate(self._steps) if step is not None]
        who = actor_fields(actor)
        actor_id = who["actor"].pk if who["actor"] is not None else None
        late = connection.vendor == "postgresql"  # see posting.write_posting
        issuance: dict[Account, int] = defaultdict(int)
        for _i, step in live:
            issuance[step.issuance] -= step.amount if step.kind == TransactionKind.EARN \
                else -step.amount
        company = sorted((a for a, delta in issuance.items() if delta), key=lambda a: a.pk)
        with sql.cursor():
            if not late:
                update_company_accounts(company, issuance)
            txn_rows = []
            for i, step in live:
                cause_type, cause_id = causes[i]
                txn_rows.append((
                    check_key(keys[i]), step.kind, step.amount, step.posting.category,
                    (step.posting.reason or "")[:500], actor_id,
                    who["actor_label"], str(cause_type)[:60], str(cause_id)[:64],
                    step.now))
            txn_ids = insert_rows(Transaction, _TRANSACTION_FIELDS, txn_rows, returning=True)
            ids: list[int | None] = [None] * len(self._steps)
            for (i, _step), row in zip(live, txn_rows, strict=True):
                ids[i] = txn_ids[row[0]]

            lot_ids = insert_rows(Lot, _LOT_FIELDS, [
                (ids[i], step.wallet.pk, step.amount, step.amount - step.lot.taken, 0,
                 step.lot.earned_at, step.lot.expires_at)
                for i, step in live if step.lot is not None], returning=True)
            for i, step in live:
                if step.lot is not None:
                    step.lot.id = lot_ids[ids[i]]

            entries, uses = [], []
            for i, step in live:
                sign = 1 if step.kind == TransactionKind.EARN else -1
                pair = sorted([(step.wallet.pk, sign * step.amount, step.balance_after),
                               (step.issuance.pk, -sign * step.amount, None)])
                entries += [(ids[i], account, amount, after) for account, amount, after in pair]
                uses += [(ids[i], lot.id, taken, 0) for lot, taken in step.takes]
            insert_rows(Entry, ("transaction", "account", "amount", "balance_after"), entries)
            insert_rows(LotConsumption, ("transaction", "lot", "amount", "parked"), uses)

            _take_from_lots({lot.id: lot.taken for lot in self._lots
                             if not lot.opened and lot.taken})
            _add_to_wallets(self._wallet_deltas)
            hooks.tell_posting_observers([
                _observed(ids[i], row, step) for (i, step), row in zip(live, txn_rows, strict=True)
            ])
            if before_company is not None:
                before_company(ids)
            if late:
                update_company_accounts(company, issuance)
        return ids


def _observed(txn_id: int | None, row: tuple, step: _Step) -> hooks.Posting:
    sign = 1 if step.kind == TransactionKind.EARN else -1
    assert txn_id is not None
    return hooks.Posting(
        transaction_id=txn_id, kind=step.kind, category=step.posting.category or "",
        created_at=step.now, cause_type=row[7], cause_id=row[8],
        legs=(hooks.Leg(account_id=step.wallet.pk, account_kind=step.wallet.kind,
                        employee_id=step.wallet.employee_id, amount=sign * step.amount),
              hooks.Leg(account_id=step.issuance.pk, account_kind=step.issuance.kind,
                        employee_id=None, amount=-sign * step.amount)))


def plan_earnings(postings: Sequence[EarningPosting]) -> EarningPlan:
    """Lock the wallets (in id order) and work out every posting as the one-by-one services
    would, in order. Call inside the transaction that will ``write`` the plan."""
    if not transaction.get_connection().in_atomic_block:
        raise LedgerIntegrityError("plan earnings inside a transaction")
    policy = ledger_policy()
    now = timezone.now()
    for posting in postings:
        check_amount(abs(posting.amount))
    employees = {p.employee.pk: p.employee for p in postings}
    categories = sorted({p.category for p in postings})
    specs = [wallet_spec(pk) for pk in sorted(employees)] + [issuance_spec(c)
                                                                for c in categories]
    accounts = {a.code: a for a in accounts_for(*specs)} if specs else {}
    wallet_of = {pk: accounts[wallet_spec(pk)[0]] for pk in employees}
    issuance_of = {c: accounts[issuance_spec(c)[0]] for c in categories}
    balances = lock_accounts([w.pk for w in wallet_of.values()])
    penalised = sorted({wallet_of[p.employee.pk].pk for p in postings if p.amount < 0})
    lots = _spendable(penalised, postings, wallet_of, now)
    every_lot = [lot for wallet_lots in lots.values() for lot in wallet_lots]

    steps: list[_Step | None] = []
    results: list[PlannedPosting] = []
    deltas: dict[int, int] = defaultdict(int)
    for posting in postings:
        wallet = wallet_of[posting.employee.pk]
        at = posting.now or now
        if posting.amount > 0:
            earned_at = posting.earned_at or at
            lot = _Lot(id=None, remaining=posting.amount, earned_at=earned_at,
                       expires_at=lot_expires_at(policy, posting.employee, earned_at, UNSET,
                                              posting.expiry),
                       order=len(every_lot) + 10**12, opened=True)
            lots.setdefault(wallet.pk, []).append(lot)
            every_lot.append(lot)
            balances[wallet.pk] += posting.amount
            deltas[wallet.pk] += posting.amount
            steps.append(_Step(posting, TransactionKind.EARN, posting.amount, at, wallet,
                               issuance_of[posting.category], balances[wallet.pk], lot=lot))
            results.append(PlannedPosting(collected=posting.amount))
            continue
        wanted = -posting.amount
        cutoff = spending_cutoff(policy, posting.employee, at)
        spendable = sorted((lot for lot in lots.get(wallet.pk, []) if lot.remaining > 0
                            and (cutoff is None or lot.expires_at is None
                                 or lot.expires_at > cutoff)), key=_spending_order)
        takes, left = [], wanted
        for lot in spendable:
            if not left:
                break
            part = min(left, lot.remaining)
            lot.remaining -= part
            lot.taken += part
            takes.append((lot, part))
            left -= part
        collected = wanted - left
        results.append(PlannedPosting(collected=collected, uncollected=left))
        if not collected:
            steps.append(None)
            continue
        balances[wallet.pk] -= collected
        deltas[wallet.pk] -= collected
        steps.append(_Step(posting, TransactionKind.PENALTY, collected, at, wallet,
                           issuance_of[posting.category], balances[wallet.pk], takes=takes))
    if any(balance < 0 for balance in balances.values()):
        raise LedgerIntegrityError("a batch would take a wallet below zero")
    return EarningPlan(steps, results, dict(deltas), every_lot)


def _spending_order(lot: _Lot) -> tuple:
    # As sql.spendable_lots orders them: earliest expiry first, never-expiring last, then
    # the oldest, then by id.
    return (lot.expires_at is None, lot.expires_at or lot.earned_at, lot.earned_at, lot.order)


def _spendable(wallet_ids: list[int], postings: Sequence[EarningPosting],
               wallet_of: dict[int, Account], now: datetime) -> dict[int, list[_Lot]]:
    """The lots with points left in the penalised wallets: the first ``FIRST_LOTS`` of each
    in spending order, or all of a wallet's when those may not cover its penalties."""
    if not wallet_ids:
        return {}
    demand: dict[int, int] = defaultdict(int)
    latest: dict[int, datetime] = {}
    for posting in postings:
        if posting.amount < 0:
            wallet = wallet_of[posting.employee.pk].pk
            demand[wallet] -= posting.amount
            latest[wallet] = max(latest.get(wallet, now), posting.now or now)
    found = _read_lots(wallet_ids, FIRST_LOTS)
    # Counting only lots still good at the wallet's latest penalty errs towards reading
    # everything, never towards collecting less than the one-by-one path.
    short = [w for w in wallet_ids if len(found.get(w, [])) == FIRST_LOTS
             and sum(lot.remaining for lot in found[w]
                     if lot.expires_at is None or lot.expires_at > latest[w]) < demand[w]]
    if short:
        found.update(_read_lots(short, None))
    return found


def _read_lots(wallet_ids: list[int], first: int | None) -> dict[int, list[_Lot]]:
    found: dict[int, list[_Lot]] = defaultdict(list)
    for lot_id, wallet_id, remaining, expires_at, earned_at in sql.wallets_lots(wallet_ids,
                                                                                 first):
        found[wallet_id].append(_Lot(id=lot_id, remaining=remaining, order=lot_id,
                                     expires_at=expires_at, earned_at=earned_at))
    return found


def _add_by_id(model: type[Model], column: str, deltas: dict[int, int], *,
               sign: int) -> None:
    updated = sql.add_by_id(model, column, deltas, sign=sign)
    if updated != len(deltas):
        raise LedgerIntegrityError(f"{model.__name__}: {updated} of {len(deltas)} rows "
                                   f"updated")


def _take_from_lots(taken: dict[int, int]) -> None:
    # The lots' CHECK constraints refuse a remainder below zero, and the wallet lock
    # guarantees nobody else moved them since they were read.
    _add_by_id(Lot, "remaining", taken, sign=-1)


def _add_to_wallets(deltas: dict[int, int]) -> None:
    _add_by_id(Account, "balance", {pk: d for pk, d in deltas.items() if d}, sign=1)



