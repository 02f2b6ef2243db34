"""Ledger writers: the only code that moves points.

Every service here
- runs in one database transaction (nested inside the caller's, as a savepoint, if any);
- takes an ``idempotency_key``: calling it again with the same key returns the first
  Transaction and moves nothing;
- posts a Transaction whose entries sum to zero and keeps each account's ``balance`` equal
  to the sum of its entries, each wallet's balance equal to the remainders of its lots and
  each hold account's balance equal to the points its lots have parked;
- changes balances only under row locks taken in a fixed order (``jifen.ledger.locks``) or
  by conditional ``UPDATE … SET balance = balance + x WHERE balance >= -x`` — never by
  writing back a balance computed in Python — so it is safe with many processes on
  PostgreSQL and MariaDB/MySQL, and on SQLite (IMMEDIATE transactions);
- raises ``InsufficientPoints`` (409 ``insufficient_points``) when an employee's spendable
  points (lots not yet past ``expires_at``) do not cover a debit, and other
  ``jifen.core.errors`` for requests the ledger refuses.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import IntegrityError, OperationalError, connection, models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.db import is_transient_db_error, locked_singleton
from jifen.core.services import record_audit, snapshot
from jifen.ledger import sql
from jifen.ledger.expiry import ExpiryRule, compute_expires_at, is_tenure_exempt
from jifen.ledger.locks import lock_accounts
from jifen.ledger.models import (
    COMPANY_KINDS,
    Account,
    AccountKind,
    Category,
    Entry,
    ExpiryNotice,
    LeavingPolicy,
    LedgerPolicy,
    Lot,
    LotConsumption,
    Transaction,
    TransactionKind,
)
from jifen.ledger.selectors import POLICY_CACHE_KEY, ledger_policy

T = TypeVar("T")
logger = logging.getLogger(__name__)
RETRIES = 3
SPEND_BATCH = 20  # lots read at first by a debit
UNSET: Any = object()
MAX_UNITS = 10**17  # 10^15 points at two decimals; keeps every sum inside a BIGINT

# Kinds a reversing transaction can undo. Holds are undone by release, captures by refund,
# expiry by granting the points again.
REVERSIBLE_KINDS = {
    TransactionKind.EARN, TransactionKind.PENALTY, TransactionKind.REDEEM,
    TransactionKind.ADJUST, TransactionKind.TRANSFER, TransactionKind.FORFEIT,
    TransactionKind.ALLOCATE,
}
POLICY_FIELDS = ("expiry_mode", "expiry_months", "expiry_years_after",
                 "never_expire_tenure_years", "notice_days", "on_leaving")


class LedgerIntegrityError(RuntimeError):
    """The books would break; a bug, never the user's fault. The transaction rolls back."""


# --- account keys ---------------------------------------------------------------------


def wallet_key(employee_id: int) -> str:
    return f"wallet:e:{employee_id}"


def hold_key(employee_id: int) -> str:
    return f"hold:e:{employee_id}"


def issuance_key(category: str) -> str:
    return f"issuance:{category}"


def budget_key(department_id: int) -> str:
    return f"budget:d:{department_id}"


def sink_key(kind: str) -> str:
    return f"sink:{kind}"


def _wallet_spec(employee_id: int) -> tuple[str, dict]:
    return wallet_key(employee_id), {"kind": AccountKind.WALLET, "employee_id": employee_id}


def _hold_spec(employee_id: int) -> tuple[str, dict]:
    return hold_key(employee_id), {"kind": AccountKind.HOLD, "employee_id": employee_id}


def _issuance_spec(category: str) -> tuple[str, dict]:
    if category not in Category.values:
        raise errors.ValidationError(_("Unknown category %s.") % category,
                                     code="unknown_category")
    return issuance_key(category), {"kind": AccountKind.ISSUANCE, "category": category,
                                    "may_go_negative": True}


def _budget_spec(department_id: int) -> tuple[str, dict]:
    return budget_key(department_id), {"kind": AccountKind.BUDGET,
                                       "department_id": department_id}


def _sink_spec(kind: str) -> tuple[str, dict]:
    return sink_key(kind), {"kind": kind, "may_go_negative": True}


def _accounts(*specs: tuple[str, dict]) -> list[Account]:
    """The accounts named by ``specs``, created on first use. One query when they exist."""
    wanted = dict(specs)
    found = {a.code: a for a in sql.fetch_accounts(list(wanted))}
    for key, fields in wanted.items():
        if key not in found:
            # get_or_create survives a concurrent creator: it retries the read after the
            # unique key refuses its insert.
            found[key], _created = Account.objects.get_or_create(code=key, defaults=fields)
    return [found[key] for key, _fields in specs]


def ensure_accounts(*, employee: Any) -> tuple[Account, Account]:
    """The employee's wallet and hold accounts, created if missing. Creating them with the
    employee keeps account creation out of the postings' hot path (on MySQL, postings that
    race to create one account can deadlock)."""
    wallet, hold = _accounts(_wallet_spec(employee.pk), _hold_spec(employee.pk))
    return wallet, hold


def open_accounts(*, employee_ids: Iterable[int]) -> None:
    """Wallet and hold accounts for many employees at once (after a bulk import)."""
    accounts = []
    for employee_id in employee_ids:
        for code, fields in (_wallet_spec(employee_id), _hold_spec(employee_id)):
            accounts.append(Account(code=code, **fields))
    Account.objects.bulk_create(accounts, ignore_conflicts=True, batch_size=1000)


def ensure_company_accounts() -> None:
    """Every issuance account and sink, so postings never have to create one (the first
    migration does this; call it again after flushing a database)."""
    specs = [_issuance_spec(c) for c in Category.values]
    specs += [_sink_spec(kind) for kind in (AccountKind.REDEMPTION, AccountKind.EXPIRY,
                                            AccountKind.FORFEITURE, AccountKind.ACTIVITIES,
                                            AccountKind.ADJUSTMENT)]
    Account.objects.bulk_create([Account(code=code, **fields) for code, fields in specs],
                                ignore_conflicts=True)


# --- posting --------------------------------------------------------------------------


def _actor_fields(actor: Any) -> dict[str, Any]:
    label = ""
    if actor is not None:
        label = getattr(actor, "audit_label", None) or getattr(actor, "username", "") or str(actor)
    user = actor if isinstance(actor, models.Model) and getattr(actor, "pk", None) else None
    return {"actor": user, "actor_label": label[:150]}


def _cause(cause: Any) -> tuple[str, str]:
    if cause is None:
        return "", ""
    if isinstance(cause, models.Model):
        return cause._meta.label_lower, str(cause.pk)
    cause_type, cause_id = cause
    return str(cause_type)[:60], str(cause_id)[:64]


def _check_amount(amount: Any) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise errors.ValidationError(_("Amounts are whole numbers of the smallest unit."),
                                     code="invalid_amount")
    if amount <= 0:
        raise errors.ValidationError(_("The amount must be positive."), code="invalid_amount")
    if amount > MAX_UNITS:
        raise errors.ValidationError(
            _("The amount is larger than the ledger holds (at most %(max)s units).")
            % {"max": MAX_UNITS}, code="invalid_amount", details={"max_units": MAX_UNITS})
    return amount


def _check_key(key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > 200:
        raise errors.ValidationError(_("An idempotency key of 1–200 characters is required."),
                                     code="invalid_idempotency_key")
    return key


def _replayed(key: str, *kinds: str) -> Transaction | None:
    """The transaction already posted under ``key``, if any. A key reused for another kind
    of movement is a caller's bug and refused."""
    # No ORDER BY: with one, PostgreSQL may walk the primary key backwards instead of
    # using the unique index (.first() made every posting scan the whole table).
    txn = next(iter(Transaction.objects.filter(idempotency_key=key).order_by()[:1]), None)
    if txn is not None and kinds and txn.kind not in kinds:
        raise errors.Conflict(
            _("This idempotency key was already used for a different movement."),
            code="idempotency_key_reused", details={"transaction_id": txn.pk},
        )
    return txn


def _posting(kind: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Run a service posting ``kind`` atomically. The transaction row goes in first, so a
    key seen before (or being posted concurrently) fails on the unique index and the
    service answers with the first posting of that key instead — no read ahead of every
    posting. Called outside any transaction, a deadlock (possible on MySQL only while two
    postings race to create the same account) is retried; inside the caller's transaction
    it propagates, as only the caller can start over."""

    def decorate(func: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            attempts = 1 if transaction.get_connection().in_atomic_block else RETRIES
            for attempt in range(1, attempts + 1):
                try:
                    with transaction.atomic(), sql.cursor():
                        return func(*args, **kwargs)
                except IntegrityError as exc:
                    key = (kwargs.get("idempotency_key") or "").strip()
                    done = _replayed(key, kind) if key else None
                    if done is not None:
                        return done  # type: ignore[return-value]
                    raise errors.Conflict(
                        _("A concurrent change got there first; please try again."),
                        code="ledger_conflict",
                    ) from exc
                except OperationalError as exc:
                    if attempt == attempts or not is_transient_db_error(exc):
                        raise
                    logger.warning("ledger %s: %s; retrying (%d)", func.__name__, exc,
                                   attempt)
                    time.sleep(random.uniform(0, 0.02 * attempt))
            raise AssertionError("unreachable")  # pragma: no cover

        return wrapper

    return decorate


def _new_transaction(*, kind: str, key: str, amount: int, now: datetime, reason: str = "",
                     category: str = "", actor: Any = None, cause: Any = None,
                     reverses: Transaction | None = None,
                     settles: Transaction | None = None) -> Transaction:
    # Inserted first, before any lock: a concurrent duplicate key then waits on the unique
    # index and fails, instead of both moving points.
    cause_type, cause_id = _cause(cause)
    return sql.insert_transaction(
        kind=kind, idempotency_key=key, amount=amount, category=category,
        reason=(reason or "")[:500], cause_type=cause_type, cause_id=cause_id,
        reverses=reverses, settles=settles, created_at=now, **_actor_fields(actor),
    )


@dataclass
class _Move:
    lot_id: int
    amount: int  # taken from the lot's remainder (negative gives back)
    parked: int = 0  # added to what the lot parks on the hold account
    written: bool = False  # already applied to the lot (``_spend`` took it in one go)


def _apply(
    txn: Transaction,
    legs: dict[Account, int],
    moves: Iterable[_Move] = (),
    new_lots: Iterable[Lot] = (),
    *,
    locked: bool = False,
) -> None:
    """Write one posting. Employee-side accounts (wallets, holds, budgets) were either
    locked by the caller before it decided anything (debits), or are locked right here by
    their UPDATE (credits); either way in id order, and all before any company account, so
    two postings never wait on each other in a cycle. ``locked`` says the caller holds
    every employee-side account's lock: PostgreSQL then updates them in one statement."""
    if sum(legs.values()) != 0:
        raise LedgerIntegrityError(f"legs of {txn.kind} do not sum to zero: {legs}")
    moves = [m for m in moves if m.amount or m.parked]
    for move in moves:
        if not move.written and not sql.move_lot(move.lot_id, move.amount, move.parked):
            raise LedgerIntegrityError(f"lot {move.lot_id} cannot give {move}")
    accounts = sorted((a for a, delta in legs.items() if delta), key=lambda a: a.pk)
    after: dict[int, int | None] = {}
    employee_side = [a for a in accounts if not a.may_go_negative]
    merged = (sql.add_to_balances({a.pk: legs[a] for a in employee_side})
              if locked and len(employee_side) > 1 else None)
    for account in employee_side:
        after[account.pk] = (merged.get(account.pk) if merged is not None
                             else sql.add_to_balance(account, legs[account]))
        if after[account.pk] is None:
            raise LedgerIntegrityError(f"account {account.code} cannot take "
                                       f"{legs[account]}")
    company = [a for a in accounts if a.may_go_negative]
    # Every posting updates one of a few company rows, so how long that row stays locked
    # bounds the throughput under load: on PostgreSQL the company rows go last, right
    # before COMMIT (its foreign-key checks take KEY SHARE locks, which an UPDATE of the
    # balance does not block). MySQL's foreign-key checks take shared locks that would
    # deadlock with a later UPDATE of the same row, so there they go before the inserts.
    late = connection.vendor == "postgresql"
    if not late:
        _update_company(company, legs)
    sql.insert_groups([
        (Lot, ("wallet", "amount", "remaining", "held", "earned_at", "expires_at",
               "source_transaction"),
         [(lot.wallet_id, lot.amount, lot.remaining, lot.held, lot.earned_at, lot.expires_at,
           txn.pk) for lot in new_lots]),
        (Entry, ("transaction", "account", "amount", "balance_after"),
         [(txn.pk, account.pk, legs[account], after.get(account.pk)) for account in accounts]),
        (LotConsumption, ("transaction", "lot", "amount", "parked"),
         [(txn.pk, m.lot_id, m.amount, m.parked) for m in moves]),
    ])
    if late:
        _update_company(company, legs)


def _update_company(accounts: list[Account], legs: dict[Account, int]) -> None:
    for account in accounts:  # in id order
        sql.add_to_balance(account, legs[account])


def _cutoff(policy: LedgerPolicy, employee: Any, now: datetime) -> datetime | None:
    """Lots expiring at or before this instant are not spendable (None: none expire)."""
    return None if is_tenure_exempt(policy, getattr(employee, "hire_date", None), now) else now


def _spendable_lots(wallet_id: int, cutoff: datetime | None, exclude: Iterable[int] = (),
                    limit: int | None = None) -> list[tuple[int, int]]:
    """(id, remaining) of the wallet's spendable lots in spending order: earliest expiry
    first, never-expiring last, then oldest first (the first ``limit``). Call under the
    wallet's lock."""
    return sql.spendable_lots(wallet_id, cutoff, list(exclude), limit)


def _insufficient(needed: int, available: int) -> errors.InsufficientPoints:
    return errors.InsufficientPoints(
        _("Not enough points: %(needed)s needed, %(available)s available.")
        % {"needed": needed, "available": available},
        details={"needed": needed, "available": available},
    )


def _take(lots: list[tuple[int, int]], amount: int, *, parked: bool = False) -> list[_Move]:
    """Take ``amount`` from (id, remaining) ``lots`` in their order; raise if they hold too
    little."""
    moves, left = [], amount
    for lot_id, remaining in lots:
        if left == 0:
            break
        part = min(left, remaining)
        moves.append(_Move(lot_id, part, part if parked else 0))
        left -= part
    if left:
        raise _insufficient(amount, amount - left)
    return moves


def _spend(wallet_id: int, amount: int, cutoff: datetime | None, *,
           parked: bool = False) -> list[_Move]:
    """The lot movements that take ``amount``. On PostgreSQL the lots are found and taken
    at once, in one statement however many it takes. Otherwise — another database, or
    lots holding too little, where the refusal says how much they hold — the first few
    lots are read (all of them only when those hold too little) and ``_apply`` moves
    them."""
    if amount > 0:
        taken = sql.take_from_lots(wallet_id, cutoff, amount, parked)
        if taken is not None:
            if sum(part for _lot_id, part in taken) != amount:
                raise LedgerIntegrityError(f"lots gave {taken} for {amount}")
            return [_Move(lot_id, part, part if parked else 0, written=True)
                    for lot_id, part in taken]
    lots = _spendable_lots(wallet_id, cutoff, limit=SPEND_BATCH)
    if len(lots) == SPEND_BATCH and sum(r for _id, r in lots) < amount:
        lots = _spendable_lots(wallet_id, cutoff)
    return _take(lots, amount, parked=parked)


def _lot_expiry(policy: LedgerPolicy, employee: Any, earned_at: datetime,
                expires_at: Any, expiry: ExpiryRule | None) -> datetime | None:
    if expires_at is not UNSET:
        return expires_at
    if is_tenure_exempt(policy, getattr(employee, "hire_date", None), earned_at):
        return None
    return compute_expires_at(expiry or ExpiryRule.from_policy(policy), earned_at)


# --- earning --------------------------------------------------------------------------


@_posting(TransactionKind.EARN)
def credit(
    *,
    employee: Any,
    amount: int,
    category: str,
    idempotency_key: str,
    cause: Any,
    reason: str = "",
    actor: Any = None,
    budget: Any = None,
    expires_at: datetime | None = UNSET,
    expiry: ExpiryRule | None = None,
    earned_at: datetime | None = None,
    now: datetime | None = None,
) -> Transaction:
    """Award ``amount`` units to the employee's wallet (kind ``earn``), drawn from the
    category's issuance account, or from ``budget`` (a department) whose budget must
    cover it (409 ``insufficient_budget``). Opens a lot that expires per ``expires_at``
    (explicit; None = never), else the ``expiry`` rule (an earning rule's override), else
    the site policy — unless the employee's tenure exempts them from expiry."""
    _check_amount(amount)
    key = _check_key(idempotency_key)
    if cause is None:
        raise errors.ValidationError(_("A credit needs a cause."), code="cause_required")
    now = now or timezone.now()
    earned_at = earned_at or now
    policy = ledger_policy()
    lot_expires = _lot_expiry(policy, employee, earned_at, expires_at, expiry)
    source_spec = _budget_spec(budget.pk) if budget is not None else _issuance_spec(category)
    wallet, source = _accounts(_wallet_spec(employee.pk), source_spec)
    txn = _new_transaction(kind=TransactionKind.EARN, key=key, amount=amount, now=now,
                           reason=reason, category=category, actor=actor, cause=cause)
    # Budget awards check the budget under its lock; plain credits need no lock before
    # their UPDATE, which locks the wallet by itself.
    locked = lock_accounts([wallet.pk, source.pk]) if budget is not None else {}
    if budget is not None and locked[source.pk] < amount:
        raise errors.InsufficientPoints(
            _("The department budget has %(available)s left, %(needed)s needed.")
            % {"available": locked[source.pk], "needed": amount},
            code="insufficient_budget",
            details={"needed": amount, "available": locked[source.pk]},
        )
    lot = Lot(wallet_id=wallet.pk, amount=amount, remaining=amount, earned_at=earned_at,
              expires_at=lot_expires, source_transaction=txn)
    _apply(txn, {wallet: amount, source: -amount}, new_lots=[lot])
    return txn


@dataclass(frozen=True)
class PenaltyResult:
    transaction: Transaction | None
    collected: int
    uncollected: int


def penalize(
    *,
    employee: Any,
    amount: int,
    category: str,
    idempotency_key: str,
    cause: Any,
    reason: str = "",
    actor: Any = None,
    now: datetime | None = None,
) -> PenaltyResult:
    """Deduct up to ``amount`` (kind ``penalty``) back into the category's issuance
    account, never taking the wallet below zero: what the spendable points do not cover is
    returned as ``uncollected`` for the caller to record. Nothing to collect posts no
    transaction."""
    _check_amount(amount)
    txn = _penalize(employee=employee, amount=amount, category=category,
                    idempotency_key=idempotency_key, cause=cause, reason=reason, actor=actor,
                    now=now)
    collected = txn.amount if txn is not None else 0
    return PenaltyResult(transaction=txn, collected=collected, uncollected=amount - collected)


@_posting(TransactionKind.PENALTY)
def _penalize(*, employee: Any, amount: int, category: str, idempotency_key: str, cause: Any,
              reason: str, actor: Any, now: datetime | None) -> Transaction | None:
    key = _check_key(idempotency_key)
    if (done := _replayed(key, TransactionKind.PENALTY)) is not None:
        return done
    now = now or timezone.now()
    wallet, sink = _accounts(_wallet_spec(employee.pk), _issuance_spec(category))
    lock_accounts([wallet.pk])
    lots = _spendable_lots(wallet.pk, _cutoff(ledger_policy(), employee, now))
    collected = min(amount, sum(remaining for _id, remaining in lots))
    if collected == 0:
        return None
    txn = _new_transaction(kind=TransactionKind.PENALTY, key=key, amount=collected, now=now,
                           reason=reason, category=category, actor=actor, cause=cause)
    _apply(txn, {wallet: -collected, sink: collected},
           moves=_take(lots, collected))
    return txn


@_posting(TransactionKind.ALLOCATE)
def fund_budget(
    *,
    department: Any,
    amount: int,
    category: str,
    idempotency_key: str,
    actor: Any,
    reason: str = "",
    now: datetime | None = None,
) -> Transaction:
    """Allocate ``amount`` from the category's issuance account to a department's budget
    (kind ``allocate``), from which its manager awards points. Audited."""
    _check_amount(amount)
    key = _check_key(idempotency_key)
    now = now or timezone.now()
    budget, source = _accounts(_budget_spec(department.pk), _issuance_spec(category))
    txn = _new_transaction(kind=TransactionKind.ALLOCATE, key=key, amount=amount, now=now,
                           reason=reason, category=category, actor=actor, cause=department)
    locked = lock_accounts([budget.pk])
    _apply(txn, {budget: amount, source: -amount})
    record_audit(actor=actor, action="ledger.fund_budget", obj=txn,
                 object_repr=f"{department} +{amount}",
                 before={"budget": locked[budget.pk]}, after={"budget": locked[budget.pk] + amount})
    return txn


# --- spending -------------------------------------------------------------------------


def _spend_sink(sink: str) -> str:
    if sink not in (AccountKind.REDEMPTION, AccountKind.ACTIVITIES):
        raise errors.ValidationError(_("Points can only be spent on redemptions or activities."),
                                     code="invalid_sink")
    return sink


@_posting(TransactionKind.REDEEM)
def debit(
    *,
    employee: Any,
    amount: int,
    idempotency_key: str,
    cause: Any,
    reason: str = "",
    sink: str = AccountKind.REDEMPTION,
    actor: Any = None,
    now: datetime | None = None,
) -> Transaction:
    """Spend ``amount`` from the wallet at once (kind ``redeem``) into the redemption or
    activities sink, consuming the earliest-expiring spendable lots first. Raises
    ``InsufficientPoints`` when the spendable points do not cover it."""
    _check_amount(amount)
    key = _check_key(idempotency_key)
    if cause is None:
        raise errors.ValidationError(_("A debit needs a cause."), code="cause_required")
    now = now or timezone.now()
    wallet, sink_account = _accounts(_wallet_spec(employee.pk), _sink_spec(_spend_sink(sink)))
    txn = _new_transaction(kind=TransactionKind.REDEEM, key=key, amount=amount, now=now,
                           reason=reason, actor=actor, cause=cause)
    lock_accounts([wallet.pk])
    moves = _spend(wallet.pk, amount, _cutoff(ledger_policy(), employee, now))
    _apply(txn, {wallet: -amount, sink_account: amount}, moves=moves)
    return txn


@_posting(TransactionKind.HOLD)
def hold(
    *,
    employee: Any,
    amount: int,
    idempotency_key: str,
    cause: Any,
    reason: str = "",
    actor: Any = None,
    now: datetime | None = None,
) -> Transaction:
    """Reserve ``amount`` (kind ``hold``): wallet → hold account, at once, so the
    spendable balance drops the moment an order or bid is confirmed. The lots used stay
    parked on the hold until ``capture`` or ``release`` settles it."""
    key, now = _hold_arguments(amount, idempotency_key, cause, now)
    wallet, hold_account = ensure_accounts(employee=employee)
    txn = _new_transaction(kind=TransactionKind.HOLD, key=key, amount=amount, now=now,
                           reason=reason, actor=actor, cause=cause)
    lock_accounts([wallet.pk, hold_account.pk])
    _park(txn, employee, wallet, hold_account, amount, now)
    return txn


def _hold_arguments(amount: int, idempotency_key: str, cause: Any,
                    now: datetime | None) -> tuple[str, datetime]:
    """A hold's checked key and time; refuses a bad amount or key, or a missing cause."""
    _check_amount(amount)
    key = _check_key(idempotency_key)
    if cause is None:
        raise errors.ValidationError(_("A hold needs a cause."), code="cause_required")
    return key, now or timezone.now()


def _park(txn: Transaction, employee: Any, wallet: Account, hold_account: Account,
          amount: int, now: datetime) -> None:
    """Move ``amount`` from the wallet's lots onto the hold account, the lots parked on
    the hold. The caller holds both accounts' locks."""
    moves = _spend(wallet.pk, amount, _cutoff(ledger_policy(), employee, now), parked=True)
    _apply(txn, {wallet: -amount, hold_account: amount}, moves=moves, locked=True)


def hold_for_new_cause(
    *,
    employee: Any,
    amount: int,
    idempotency_key: str,
    cause: Any,
    reason: str = "",
    actor: Any = None,
    now: datetime | None = None,
) -> Transaction:
    """``hold`` for a cause the caller created a moment ago in its own transaction (a new
    order), whose key therefore cannot have been posted before. It runs inside the caller's
    transaction without a savepoint of its own — a refusal (``InsufficientPoints``) leaves
    that transaction to be rolled back by the caller, as the mall's order does — and on
    PostgreSQL and SQLite it finds and locks the wallet and hold account in one statement:
    three statements fewer than ``hold`` there (two on MySQL/MariaDB), with the same
    postings, lock order and guarantees."""
    if not transaction.get_connection().in_atomic_block:
        raise LedgerIntegrityError("hold_for_new_cause runs inside the caller's transaction")
    key, now = _hold_arguments(amount, idempotency_key, cause, now)
    with transaction.atomic(savepoint=False), sql.cursor():
        specs = (_wallet_spec(employee.pk), _hold_spec(employee.pk))
        locked = sql.lock_accounts_by_code([code for code, _fields in specs])
        if locked is not None:
            # Locked before the transaction row goes in (``hold`` does it the other way
            # round so that a concurrent duplicate key fails first; a new cause has none).
            # PostgreSQL's foreign-key check of that row takes KEY SHARE locks, which wait
            # on nothing a posting holds.
            by_code = {account.code: account for account in locked}
            wallet, hold_account = (by_code[code] for code, _fields in specs)
        else:
            # MySQL/MariaDB (or an account still to be created): ``hold``'s own order.
            wallet, hold_account = _accounts(*specs)
        txn = _new_transaction(kind=TransactionKind.HOLD, key=key, amount=amount, now=now,
                               reason=reason, actor=actor, cause=cause)
        if locked is None:
            lock_accounts([wallet.pk, hold_account.pk])
        _park(txn, employee, wallet, hold_account, amount, now)
    return txn


@dataclass
class _OpenHold:
    wallet: Account
    account: Account
    locked: dict[int, int]
    parked: list[LotConsumption]
    replay: Transaction | None = None


def _open_hold(hold_txn: Transaction, key: str, kind: str) -> _OpenHold:
    """Lock the wallet and hold account of an unsettled hold and return its parked lots.
    Settling twice is refused; a concurrent call with the same key, which waited for the
    lock, finds the first one's result in ``replay``."""
    if hold_txn.kind != TransactionKind.HOLD:
        raise errors.ValidationError(_("Only a hold can be captured or released."),
                                     code="not_a_hold")
    entries = {e.account.kind: e.account
               for e in Entry.objects.filter(transaction=hold_txn).select_related("account")}
    wallet, hold_account = entries[AccountKind.WALLET], entries[AccountKind.HOLD]
    locked = lock_accounts([wallet.pk, hold_account.pk])
    if (done := _replayed(key, kind)) is not None:
        return _OpenHold(wallet, hold_account, locked, [], replay=done)
    if Transaction.objects.filter(settles=hold_txn).exists():
        raise errors.Conflict(_("This hold has already been captured or released."),
                              code="hold_settled")
    parked = list(LotConsumption.objects.filter(transaction=hold_txn))
    return _OpenHold(wallet, hold_account, locked, parked)


@_posting(TransactionKind.RELEASE)
def release(
    *,
    hold: Transaction,
    idempotency_key: str,
    reason: str = "",
    actor: Any = None,
    now: datetime | None = None,
) -> Transaction:
    """Give a hold's points back (kind ``release``): hold account → wallet, into the very
    lots they came from, so they keep their original expiry (if that has passed meanwhile,
    the points come back already expired and the sweep expires them). A hold is settled
    once: a second capture or release is a 409 ``hold_settled``."""
    key = _check_key(idempotency_key)
    if (done := _replayed(key, TransactionKind.RELEASE)) is not None:
        return done
    now = now or timezone.now()
    held = _open_hold(hold, key, TransactionKind.RELEASE)
    if held.replay is not None:
        return held.replay
    txn = _new_transaction(kind=TransactionKind.RELEASE, key=key, amount=hold.amount, now=now,
                           reason=reason, actor=actor, cause=(hold.cause_type, hold.cause_id),
                           settles=hold)
    moves = [_Move(p.lot_id, -p.parked, -p.parked) for p in held.parked]
    _apply(txn, {held.account: -hold.amount, held.wallet: hold.amount}, moves=moves)
    return txn


@_posting(TransactionKind.CAPTURE)
def capture(
    *,
    hold: Transaction,
    idempotency_key: str,
    sink: str = AccountKind.REDEMPTION,
    reason: str = "",
    actor: Any = None,
    now: datetime | None = None,
) -> Transaction:
    """Spend a hold (kind ``capture``): hold account → redemption or activities sink. The
    parked lots are consumed for good. A hold is settled once (409 ``hold_settled``)."""
    key = _check_key(idempotency_key)
    if (done := _replayed(key, TransactionKind.CAPTURE)) is not None:
        return done
    now = now or timezone.now()
    (sink_account,) = _accounts(_sink_spec(_spend_sink(sink)))
    held = _open_hold(hold, key, TransactionKind.CAPTURE)
    if held.replay is not None:
        return held.replay
    txn = _new_transaction(kind=TransactionKind.CAPTURE, key=key, amount=hold.amount, now=now,
                           reason=reason, actor=actor, cause=(hold.cause_type, hold.cause_id),
                           settles=hold)
    moves = [_Move(p.lot_id, 0, -p.parked) for p in held.parked]
    _apply(txn, {held.account: -hold.amount, sink_account: hold.amount}, moves=moves)
    return txn


@_posting(TransactionKind.REFUND)
def refund(
    *,
    capture: Transaction,
    idempotency_key: str,
    reason: str = "",
    actor: Any = None,
    now: datetime | None = None,
) -> Transaction:
    """Return captured points to the wallet (kind ``refund``), into the lots they were
    spent from, with their original expiry. A capture is refunded at most once."""
    key = _check_key(idempotency_key)
    if (done := _replayed(key, TransactionKind.REFUND)) is not None:
        return done
    if capture.kind != TransactionKind.CAPTURE:
        raise errors.ValidationError(_("Only captured points can be refunded."),
                                     code="not_a_capture")
    now = now or timezone.now()
    entries = list(Entry.objects.filter(transaction=capture).select_related("account"))
    sink_account = next(e.account for e in entries if e.amount > 0)
    hold_account = next(e.account for e in entries if e.amount < 0)
    (wallet,) = _accounts(_wallet_spec(hold_account.employee_id))
    lock_accounts([wallet.pk])
    if (done := _replayed(key, TransactionKind.REFUND)) is not None:
        return done
    if Transaction.objects.filter(reverses=capture).exists():
        raise errors.Conflict(_("These points have already been refunded."),
                              code="already_refunded")
    txn = _new_transaction(kind=TransactionKind.REFUND, key=key, amount=capture.amount,
                           now=now, reason=reason, actor=actor,
                           cause=(capture.cause_type, capture.cause_id), reverses=capture)
    moves = [_Move(c.lot_id, c.parked, 0)
             for c in LotConsumption.objects.filter(transaction=capture)]
    _apply(txn, {sink_account: -capture.amount, wallet: capture.amount}, moves=moves)
    return txn


# --- between employees, by hand, on leaving ------------------------------------------


@_posting(TransactionKind.TRANSFER)
def transfer(
    *,
    sender: Any,
    recipient: Any,
    amount: int,
    idempotency_key: str,
    cause: Any = None,
    reason: str = "",
    actor: Any = None,
    now: datetime | None = None,
) -> Transaction:
    """Move ``amount`` from one employee's spendable points to another's (kind
    ``transfer``). The recipient's new lots keep the expiry of the lots they came from,
    so passing points around never extends their life."""
    _check_amount(amount)
    key = _check_key(idempotency_key)
    if sender.pk == recipient.pk:
        raise errors.ValidationError(_("Points cannot be transferred to oneself."),
                                     code="same_employee")
    now = now or timezone.now()
    source, target = _accounts(_wallet_spec(sender.pk), _wallet_spec(recipient.pk))
    txn = _new_transaction(kind=TransactionKind.TRANSFER, key=key, amount=amount, now=now,
                           reason=reason, actor=actor,
                           cause=cause if cause is not None else ("people.employee", sender.pk))
    lock_accounts([source.pk, target.pk])
    moves = _spend(source.pk, amount, _cutoff(ledger_policy(), sender, now))
    # A date already past can only come from a sender exempt by tenure, whose points no
    # longer expire (the next sweep clears such dates): the recipient gets them undated.
    expiry_of = {lot_id: expires_at if expires_at is None or expires_at > now else None
                 for lot_id, expires_at in Lot.objects.filter(
                     pk__in=[m.lot_id for m in moves]).values_list("pk", "expires_at")}
    by_expiry: dict[datetime | None, int] = {}
    for move in moves:
        by_expiry[expiry_of[move.lot_id]] = by_expiry.get(expiry_of[move.lot_id], 0) + move.amount
    new_lots = [Lot(wallet_id=target.pk, amount=part, remaining=part, earned_at=now,
                    expires_at=expires_at, source_transaction=txn)
                for expires_at, part in by_expiry.items()]
    _apply(txn, {source: -amount, target: amount}, moves=moves, new_lots=new_lots)
    return txn


@_posting(TransactionKind.ADJUST)
def adjust(
    *,
    employee: Any,
    amount: int,
    reason: str,
    actor: Any,
    idempotency_key: str,
    cause: Any = None,
    expires_at: datetime | None = UNSET,
    now: datetime | None = None,
) -> Transaction:
    """A manual correction (kind ``adjust``): a positive ``amount`` credits the wallet from
    the adjustment account (a new lot under the site expiry policy), a negative one debits
    spendable lots, earliest-expiring first (``InsufficientPoints`` if they do not cover
    it). A reason is required; the change goes to the audit log."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise errors.ValidationError(_("The adjustment must be a non-zero amount."),
                                     code="invalid_amount")
    _check_amount(abs(amount))
    reason = (reason or "").strip()
    if not reason:
        raise errors.ValidationError(_("Give a reason for the adjustment."),
                                     code="reason_required")
    actor_employee_id = getattr(getattr(actor, "employee", None), "pk", None)
    if actor_employee_id is not None and actor_employee_id == employee.pk:
        raise errors.PermissionDenied(_("Nobody may adjust their own points."),
                                      code="self_adjustment")
    key = _check_key(idempotency_key)
    now = now or timezone.now()
    policy = ledger_policy()
    wallet, other = _accounts(_wallet_spec(employee.pk), _sink_spec(AccountKind.ADJUSTMENT))
    txn = _new_transaction(kind=TransactionKind.ADJUST, key=key, amount=abs(amount), now=now,
                           reason=reason, actor=actor,
                           cause=cause if cause is not None else ("ledger.adjustment", ""))
    locked = lock_accounts([wallet.pk])
    if amount > 0:
        lot = Lot(wallet_id=wallet.pk, amount=amount, remaining=amount, earned_at=now,
                  expires_at=_lot_expiry(policy, employee, now, expires_at, None),
                  source_transaction=txn)
        _apply(txn, {wallet: amount, other: -amount}, new_lots=[lot])
    else:
        moves = _spend(wallet.pk, -amount, _cutoff(policy, employee, now))
        _apply(txn, {wallet: amount, other: -amount}, moves=moves)
    record_audit(actor=actor, action="ledger.adjust", obj=txn,
                 object_repr=f"{employee} {amount:+d}"[:200],
                 before={"employee": employee.employee_no, "balance": locked[wallet.pk]},
                 after={"employee": employee.employee_no, "balance": locked[wallet.pk] + amount,
                        "amount": amount, "reason": reason})
    return txn


@_posting(TransactionKind.FORFEIT)
def forfeit(
    *,
    employee: Any,
    idempotency_key: str,
    reason: str = "",
    actor: Any = None,
    now: datetime | None = None,
) -> Transaction | None:
    """Move every spendable point of the employee to the forfeiture sink (kind
    ``forfeit``); None when there is nothing to forfeit. Points already past expiry are
    left for the expiry sweep, held points for their order or bid to settle."""
    key = _check_key(idempotency_key)
    if (done := _replayed(key, TransactionKind.FORFEIT)) is not None:
        return done
    now = now or timezone.now()
    wallet, sink = _accounts(_wallet_spec(employee.pk), _sink_spec(AccountKind.FORFEITURE))
    locked = lock_accounts([wallet.pk])
    lots = _spendable_lots(wallet.pk, _cutoff(ledger_policy(), employee, now))
    total = sum(remaining for _id, remaining in lots)
    if total == 0:
        return None
    txn = _new_transaction(kind=TransactionKind.FORFEIT, key=key, amount=total, now=now,
                           reason=reason, actor=actor, cause=employee)
    _apply(txn, {wallet: -total, sink: total}, moves=_take(lots, total))
    if actor is not None:
        record_audit(actor=actor, action="ledger.forfeit", obj=txn,
                     object_repr=f"{employee} -{total}"[:200],
                     before={"balance": locked[wallet.pk]},
                     after={"balance": locked[wallet.pk] - total})
    return txn


def apply_leaving_policy(*, employee: Any, actor: Any = None,
                         now: datetime | None = None) -> Transaction | None:
    """What happens to a leaver's points under the site's policy: forfeited (once per
    leaving date) or kept. Call when an employee is marked as left."""
    if ledger_policy().on_leaving != LeavingPolicy.FORFEIT:
        return None
    left_on = getattr(employee, "left_on", None) or timezone.localdate()
    return forfeit(employee=employee, idempotency_key=f"forfeit:leaving:{employee.pk}:{left_on}",
                   reason=_("Left the company"), actor=actor, now=now)


# --- reversal -------------------------------------------------------------------------


@_posting(TransactionKind.REVERSE)
def reverse(
    *,
    transaction: Transaction,
    idempotency_key: str,
    reason: str,
    actor: Any = None,
    now: datetime | None = None,
) -> Transaction:
    """Undo a transaction with a reversing one (kind ``reverse``) whose entries are its
    negation. Points it took come back into the same lots; points it gave are taken back
    from the lots it opened first, then from other spendable lots (``InsufficientPoints``
    if the employee has spent them). A transaction is reversed at most once; holds are
    undone by release, captures by refund."""
    original = transaction
    key = _check_key(idempotency_key)
    if (done := _replayed(key, TransactionKind.REVERSE)) is not None:
        return done
    if original.kind not in REVERSIBLE_KINDS:
        raise errors.Conflict(_("A %(kind)s transaction cannot be reversed.")
                              % {"kind": original.get_kind_display()}, code="not_reversible")
    reason = (reason or "").strip()
    if not reason:
        raise errors.ValidationError(_("Give a reason for the reversal."),
                                     code="reason_required")
    now = now or timezone.now()
    entries = list(Entry.objects.filter(transaction=original).select_related("account"))
    legs = {e.account_id: -e.amount for e in entries}
    accounts = {e.account_id: e.account for e in entries}
    locked = lock_accounts(a for a, acc in accounts.items() if acc.kind not in COMPANY_KINDS)
    if (done := _replayed(key, TransactionKind.REVERSE)) is not None:
        return done
    if Transaction.objects.filter(reverses=original).exists():
        raise errors.Conflict(_("This transaction has already been reversed."),
                              code="already_reversed")
    txn = _new_transaction(kind=TransactionKind.REVERSE, key=key, amount=original.amount,
                           now=now, reason=reason, category=original.category, actor=actor,
                           cause=("ledger.transaction", original.pk), reverses=original)
    policy = ledger_policy()
    moves: list[_Move] = []
    for account_id, delta in legs.items():
        account = accounts[account_id]
        if account.kind == AccountKind.BUDGET and locked[account_id] + delta < 0:
            raise errors.InsufficientPoints(_("The department budget has too little left."),
                                            code="insufficient_budget")
        if account.kind != AccountKind.WALLET:
            continue
        if delta > 0:
            given_back = [_Move(c.lot_id, -c.amount, 0) for c in LotConsumption.objects.filter(
                transaction=original, lot__wallet_id=account_id, amount__gt=0)]
            if -sum(m.amount for m in given_back) != delta:
                raise LedgerIntegrityError(f"lots of {original.pk} do not add up to {delta}")
            moves += given_back
        else:
            moves += _take_back(account, original, -delta, _cutoff(policy, account.employee,
                                                                    now))
    _apply(txn, {accounts[account_id]: delta for account_id, delta in legs.items()},
           moves=moves)
    return txn


def _take_back(wallet: Account, original: Transaction, amount: int,
               cutoff: datetime | None) -> list[_Move]:
    """Points a reversed credit gave: from the lots it opened, then the spendable rest."""
    opened = list(Lot.objects.filter(source_transaction=original, wallet=wallet,
                                     remaining__gt=0).order_by("pk")
                  .values_list("pk", "remaining"))
    from_opened = min(amount, sum(r for _id, r in opened))
    moves = _take(opened, from_opened) if from_opened else []
    rest = amount - from_opened
    if rest:
        others = _spendable_lots(wallet.pk, cutoff, exclude=[lot_id for lot_id, _r in opened])
        try:
            moves += _take(others, rest)
        except errors.InsufficientPoints as exc:
            available = from_opened + sum(r for _id, r in others)
            raise _insufficient(amount, available) from exc
    return moves


# --- expiry ---------------------------------------------------------------------------


def expire_lots(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Post an ``expire`` transaction (wallet → expiry sink) for every lot with points left
    past its ``expires_at``; returns how many were posted. Safe to run concurrently and
    repeatedly: each lot's expiry has its own idempotency key and is decided under the
    wallet's lock. Lots of employees whose tenure now exempts them lose their expiry
    instead."""
    now = now or timezone.now()
    posted, after = 0, 0
    while True:
        ids = list(Lot.objects.filter(remaining__gt=0, expires_at__lte=now, pk__gt=after)
                   .order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return posted
        for lot_id in ids:
            if _expire_lot(lot_id=lot_id, now=now) is not None:
                posted += 1
        after = ids[-1]


@transaction.atomic
def _expire_lot(*, lot_id: int, now: datetime) -> Transaction | None:
    lot = Lot.objects.select_related("wallet__employee").get(pk=lot_id)
    wallet = lot.wallet
    (sink,) = _accounts(_sink_spec(AccountKind.EXPIRY))
    lock_accounts([wallet.pk])
    remaining, expires_at = Lot.objects.filter(pk=lot_id).values_list(
        "remaining", "expires_at").get()
    if remaining == 0 or expires_at is None or expires_at > now:
        return None
    if is_tenure_exempt(ledger_policy(), wallet.employee.hire_date, now):
        Lot.objects.filter(wallet=wallet, expires_at__isnull=False).update(expires_at=None)
        return None
    earlier = LotConsumption.objects.filter(lot_id=lot_id,
                                            transaction__kind=TransactionKind.EXPIRE).count()
    key = f"expire:lot:{lot_id}" + (f":{earlier + 1}" if earlier else "")
    if (done := _replayed(key, TransactionKind.EXPIRE)) is not None:
        return done
    txn = _new_transaction(kind=TransactionKind.EXPIRE, key=key, amount=remaining, now=now,
                           reason=_("Points expired"), cause=("ledger.lot", lot_id))
    _apply(txn, {wallet: -remaining, sink: remaining},
           moves=[_Move(lot_id, remaining)])
    return txn


def record_expiry_notices(*, now: datetime | None = None, days: int | None = None) -> int:
    """Note, once per lot and expiry date, that its employee should hear about points
    expiring within ``days`` (the policy's notice period, 30 by default). Returns how many
    new notices there are. The notification centre will deliver them."""
    now = now or timezone.now()
    policy = ledger_policy()
    days = policy.notice_days if days is None else days
    horizon = now + timedelta(days=days)
    noticed = ExpiryNotice.objects.filter(lot=OuterRef("pk"), expires_at=OuterRef("expires_at"))
    lots = (Lot.objects.filter(remaining__gt=0, expires_at__gt=now, expires_at__lte=horizon)
            .exclude(Exists(noticed))
            .values_list("pk", "remaining", "expires_at", "wallet__employee_id",
                         "wallet__employee__hire_date"))
    notices = [
        ExpiryNotice(employee_id=employee_id, lot_id=lot_id, amount=remaining,
                     expires_at=expires_at, notified_at=now)
        for lot_id, remaining, expires_at, employee_id, hire_date in lots
        if not is_tenure_exempt(policy, hire_date, now)
    ]
    ExpiryNotice.objects.bulk_create(notices, ignore_conflicts=True)
    _tell_about_expiry(notices, now)
    return len(notices)


def _tell_about_expiry(notices: list[ExpiryNotice], now: datetime) -> None:
    """One in-app message per employee and day, however many lots it covers (a message per
    lot is the notification overload employees complain about)."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from jifen.ledger.amounts import format_points
    from jifen.notifications.services import notify
    from jifen.people.models import Employee

    by_employee: dict[int, list[ExpiryNotice]] = {}
    for notice in notices:
        by_employee.setdefault(notice.employee_id, []).append(notice)
    users = dict(Employee.objects.filter(pk__in=by_employee, user__isnull=False)
                 .values_list("pk", "user"))
    today = timezone.localdate(now)
    for employee_id, items in by_employee.items():
        if employee_id not in users:
            continue
        soonest = timezone.localdate(min(n.expires_at for n in items))
        notify(
            recipient=get_user_model()(pk=users[employee_id]),
            kind="points_expiring",
            title=_("%(points)s points expire soon, the first on %(date)s") % {
                "points": format_points(sum(n.amount for n in items)),
                "date": soonest.isoformat()},
            body=_("Spend them in the mall before they expire."),
            url=reverse("portal:points"),
            dedupe_key=f"points-expiring:{employee_id}:{today.isoformat()}",
        )


# --- policy ---------------------------------------------------------------------------


@transaction.atomic
def update_policy(*, actor: Any, **changes: Any) -> LedgerPolicy:
    """Change the ledger policy (expiry, tenure exception, notice period, leavers). New
    rules apply to points credited from now on; existing lots keep their expiry. Audited."""
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise errors.ValidationError(_("Unknown settings: %s") % ", ".join(sorted(unknown)))
    policy = locked_singleton(LedgerPolicy)
    before = snapshot(policy, POLICY_FIELDS)
    for name, value in changes.items():
        setattr(policy, name, value)
    from django.core.exceptions import ValidationError as DjangoValidationError

    try:
        policy.full_clean()
    except DjangoValidationError as exc:
        raise errors.ValidationError(_("Please correct the settings."),
                                     details={"fields": exc.message_dict}) from exc
    policy.save()
    record_audit(actor=actor, action="ledger.policy.update", obj=policy, before=before,
                 after=snapshot(policy, POLICY_FIELDS))
    cache.delete(POLICY_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(POLICY_CACHE_KEY))
    return policy
