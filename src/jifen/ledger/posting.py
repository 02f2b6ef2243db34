"""How every posting is written: the machinery behind the ledger's services.

``posts`` wraps a service in one transaction with idempotent replay and the retry of
transient database errors; ``new_transaction`` inserts the transaction row first (so a
duplicate key fails on the unique index before anything moves); ``spend`` finds the lots a
debit takes; ``write_posting`` writes the entries, lots and lot movements and moves the
balances under the lock order of ``jifen.ledger.locks``. The services in
``jifen.ledger.services``, the expiry sweep and the batch path (``jifen.ledger.bulk``)
all post through here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias, TypeVar

from django.db import IntegrityError, connection, models
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor, actor_fields
from jifen.core.db import atomic_with_retry
from jifen.ledger import hooks, sql
from jifen.ledger.models import Account, Entry, Lot, LotConsumption, Transaction

T = TypeVar("T")
SPEND_BATCH = 20  # lots read at first by a debit
MAX_UNITS = 10**17  # 10^15 points at two decimals; keeps every sum inside a BIGINT


class LedgerIntegrityError(RuntimeError):
    """The books would break; a bug, never the user's fault. The transaction rolls back."""


# --- posting --------------------------------------------------------------------------


# What a transaction records as its cause: a row, or its (type label, id) when only those
# are at hand (a release names the hold's cause so), or nothing.
Cause: TypeAlias = "models.Model | tuple[str, object] | None"


def cause_fields(cause: Cause) -> tuple[str, str]:
    if cause is None:
        return "", ""
    if isinstance(cause, models.Model):
        return cause._meta.label_lower, str(cause.pk)
    cause_type, cause_id = cause
    return str(cause_type)[:60], str(cause_id)[:64]


def check_amount(amount: Any) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise errors.ValidationError(_("Amounts are whole numbers of the smallest unit."),
                                     code=errors.ErrorCode.INVALID_AMOUNT)
    if amount <= 0:
        raise errors.ValidationError(_("The amount must be positive."),
                                     code=errors.ErrorCode.INVALID_AMOUNT)
    if amount > MAX_UNITS:
        raise errors.ValidationError(
            _("The amount is larger than the ledger holds (at most %(max)s units).")
            % {"max": MAX_UNITS},
            code=errors.ErrorCode.INVALID_AMOUNT, details={"max_units": MAX_UNITS})
    return amount


def check_key(key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > 200:
        raise errors.ValidationError(_("An idempotency key of 1–200 characters is required."),
                                     code=errors.ErrorCode.INVALID_IDEMPOTENCY_KEY)
    return key


def replayed(key: str, *kinds: str) -> Transaction | None:
    """The transaction already posted under ``key``, if any. A key reused for another kind
    of movement is a caller's bug and refused."""
    # No ORDER BY: with one, PostgreSQL may walk the primary key backwards instead of
    # using the unique index (.first() made every posting scan the whole table).
    txn = next(iter(Transaction.objects.filter(idempotency_key=key).order_by()[:1]), None)
    if txn is not None and kinds and txn.kind not in kinds:
        raise errors.Conflict(
            _("This idempotency key was already used for a different movement."),
            code=errors.ErrorCode.IDEMPOTENCY_KEY_REUSED, details={"transaction_id": txn.pk},
        )
    return txn


def posts(kind: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Run a service posting ``kind`` atomically, through ``core.db.atomic_with_retry``.
    The transaction row goes in first, so a key seen before (or being posted concurrently)
    fails on the unique index and the service answers with the first posting of that key
    instead — no read ahead of every posting; a unique index refusing a row with no such
    first posting is a 409 ``ledger_conflict``. Called outside any transaction, a deadlock
    (possible on MySQL only while two postings race to create the same account) is
    retried; inside the caller's transaction it propagates, as only the caller can start
    over."""

    def decorate(func: Callable[..., T]) -> Callable[..., T]:
        label = f"ledger {func.__name__}"

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            def work() -> T:
                with sql.cursor():
                    return func(*args, **kwargs)

            def replay() -> T | None:
                key = (kwargs.get("idempotency_key") or "").strip()
                return replayed(key, kind) if key else None  # type: ignore[return-value]

            try:
                return atomic_with_retry(work, replay=replay, label=label)
            except IntegrityError as exc:
                raise errors.Conflict(
                    _("A concurrent change got there first; please try again."),
                    code=errors.ErrorCode.LEDGER_CONFLICT,
                ) from exc

        return wrapper

    return decorate


def new_transaction(*, kind: str, key: str, amount: int, now: datetime, reason: str = "",
                     category: str = "", actor: Actor = None, cause: Cause = None,
                     reverses: Transaction | None = None,
                     settles: Transaction | None = None) -> Transaction:
    # Inserted first, before any lock: a concurrent duplicate key then waits on the unique
    # index and fails, instead of both moving points.
    cause_type, cause_id = cause_fields(cause)
    return sql.insert_transaction(
        kind=kind, idempotency_key=key, amount=amount, category=category,
        reason=(reason or "")[:500], cause_type=cause_type, cause_id=cause_id,
        reverses=reverses, settles=settles, created_at=now, **actor_fields(actor),
    )


@dataclass
class Move:
    lot_id: int
    amount: int  # taken from the lot's remainder (negative gives back)
    parked: int = 0  # added to what the lot parks on the hold account
    written: bool = False  # already applied to the lot (``spend`` took it in one go)


def write_posting(
    txn: Transaction,
    legs: dict[Account, int],
    moves: Iterable[Move] = (),
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
        update_company_accounts(company, legs)
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
    hooks.tell_posting_observers([hooks.Posting(
        transaction_id=txn.pk, kind=txn.kind, category=txn.category or "",
        created_at=txn.created_at, cause_type=txn.cause_type, cause_id=txn.cause_id,
        legs=tuple(hooks.Leg(account_id=a.pk, account_kind=a.kind, employee_id=a.employee_id,
                             amount=legs[a]) for a in accounts))])
    if late:
        update_company_accounts(company, legs)


def update_company_accounts(accounts: list[Account], legs: dict[Account, int]) -> None:
    for account in accounts:  # in id order
        sql.add_to_balance(account, legs[account])


def spendable_lots(wallet_id: int, cutoff: datetime | None, exclude: Iterable[int] = (),
                   limit: int | None = None) -> list[tuple[int, int]]:
    """(id, remaining) of the wallet's spendable lots in spending order: earliest expiry
    first, never-expiring last, then oldest first (the first ``limit``). Call under the
    wallet's lock."""
    return sql.spendable_lots(wallet_id, cutoff, list(exclude), limit)


def insufficient(needed: int, available: int) -> errors.InsufficientPoints:
    return errors.InsufficientPoints(
        _("Not enough points: %(needed)s needed, %(available)s available.")
        % {"needed": needed, "available": available},
        details={"needed": needed, "available": available},
    )


def take(lots: list[tuple[int, int]], amount: int, *, parked: bool = False) -> list[Move]:
    """Take ``amount`` from (id, remaining) ``lots`` in their order; raise if they hold too
    little."""
    moves, left = [], amount
    for lot_id, remaining in lots:
        if left == 0:
            break
        part = min(left, remaining)
        moves.append(Move(lot_id, part, part if parked else 0))
        left -= part
    if left:
        raise insufficient(amount, amount - left)
    return moves


def spend(wallet_id: int, amount: int, cutoff: datetime | None, *,
          parked: bool = False) -> list[Move]:
    """The lot movements that take ``amount``. On PostgreSQL the lots are found and taken
    at once, in one statement however many it takes. Otherwise — another database, or
    lots holding too little, where the refusal says how much they hold — the first few
    lots are read (all of them only when those hold too little) and ``write_posting`` moves
    them."""
    if amount > 0:
        taken = sql.take_from_lots(wallet_id, cutoff, amount, parked)
        if taken is not None:
            if sum(part for _lot_id, part in taken) != amount:
                raise LedgerIntegrityError(f"lots gave {taken} for {amount}")
            return [Move(lot_id, part, part if parked else 0, written=True)
                    for lot_id, part in taken]
    lots = spendable_lots(wallet_id, cutoff, limit=SPEND_BATCH)
    if len(lots) == SPEND_BATCH and sum(r for _id, r in lots) < amount:
        lots = spendable_lots(wallet_id, cutoff)
    return take(lots, amount, parked=parked)
