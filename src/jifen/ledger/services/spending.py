"""Points out: immediate debits and the two-phase hold → capture | release, and refunds
of captured points."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.ledger import sql
from jifen.ledger.accounts import (
    accounts_for,
    ensure_accounts,
    hold_spec,
    sink_spec,
    wallet_spec,
)
from jifen.ledger.expiry_rules import spending_cutoff
from jifen.ledger.locks import lock_accounts
from jifen.ledger.models import (
    Account,
    AccountKind,
    Entry,
    LotConsumption,
    Transaction,
    TransactionKind,
)
from jifen.ledger.posting import (
    Cause,
    LedgerIntegrityError,
    Move,
    check_amount,
    check_key,
    new_transaction,
    posts,
    replayed,
    spend,
    write_posting,
)
from jifen.ledger.selectors import ledger_policy
from jifen.people.models import Employee


def _spend_sink(sink: str) -> str:
    if sink not in (AccountKind.REDEMPTION, AccountKind.ACTIVITIES):
        raise errors.ValidationError(_("Points can only be spent on redemptions or activities."),
                                     code=errors.ErrorCode.INVALID_SINK)
    return sink


@posts(TransactionKind.REDEEM)
def debit(
    *,
    employee: Employee,
    amount: int,
    idempotency_key: str,
    cause: Cause,
    reason: str = "",
    sink: str = AccountKind.REDEMPTION,
    actor: Actor = None,
    now: datetime | None = None,
) -> Transaction:
    """Spend ``amount`` from the wallet at once (kind ``redeem``) into the redemption or
    activities sink, consuming the earliest-expiring spendable lots first. Raises
    ``InsufficientPoints`` when the spendable points do not cover it."""
    check_amount(amount)
    key = check_key(idempotency_key)
    if cause is None:
        raise errors.ValidationError(_("A debit needs a cause."),
                                     code=errors.ErrorCode.CAUSE_REQUIRED)
    now = now or timezone.now()
    wallet, sink_account = accounts_for(wallet_spec(employee.pk), sink_spec(_spend_sink(sink)))
    txn = new_transaction(kind=TransactionKind.REDEEM, key=key, amount=amount, now=now,
                           reason=reason, actor=actor, cause=cause)
    lock_accounts([wallet.pk])
    moves = spend(wallet.pk, amount, spending_cutoff(ledger_policy(), employee, now))
    write_posting(txn, {wallet: -amount, sink_account: amount}, moves=moves)
    return txn


@posts(TransactionKind.HOLD)
def hold(
    *,
    employee: Employee,
    amount: int,
    idempotency_key: str,
    cause: Cause,
    reason: str = "",
    actor: Actor = None,
    now: datetime | None = None,
) -> Transaction:
    """Reserve ``amount`` (kind ``hold``): wallet → hold account, at once, so the
    spendable balance drops the moment an order or bid is confirmed. The lots used stay
    parked on the hold until ``capture`` or ``release`` settles it."""
    key, now = _hold_arguments(amount, idempotency_key, cause, now)
    wallet, hold_account = ensure_accounts(employee=employee)
    txn = new_transaction(kind=TransactionKind.HOLD, key=key, amount=amount, now=now,
                           reason=reason, actor=actor, cause=cause)
    lock_accounts([wallet.pk, hold_account.pk])
    _park(txn, employee, wallet, hold_account, amount, now)
    return txn


def _hold_arguments(amount: int, idempotency_key: str, cause: Cause,
                    now: datetime | None) -> tuple[str, datetime]:
    """A hold's checked key and time; refuses a bad amount or key, or a missing cause."""
    check_amount(amount)
    key = check_key(idempotency_key)
    if cause is None:
        raise errors.ValidationError(_("A hold needs a cause."),
                                     code=errors.ErrorCode.CAUSE_REQUIRED)
    return key, now or timezone.now()


def _park(txn: Transaction, employee: Employee, wallet: Account, hold_account: Account,
          amount: int, now: datetime) -> None:
    """Move ``amount`` from the wallet's lots onto the hold account, the lots parked on
    the hold. The caller holds both accounts' locks."""
    moves = spend(wallet.pk, amount, spending_cutoff(ledger_policy(), employee, now), parked=True)
    write_posting(txn, {wallet: -amount, hold_account: amount}, moves=moves, locked=True)


def hold_for_new_cause(
    *,
    employee: Employee,
    amount: int,
    idempotency_key: str,
    cause: Cause,
    reason: str = "",
    actor: Actor = None,
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
        specs = (wallet_spec(employee.pk), hold_spec(employee.pk))
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
            wallet, hold_account = accounts_for(*specs)
        txn = new_transaction(kind=TransactionKind.HOLD, key=key, amount=amount, now=now,
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
                                     code=errors.ErrorCode.NOT_A_HOLD)
    entries = {e.account.kind: e.account
               for e in Entry.objects.filter(transaction=hold_txn).select_related("account")}
    wallet, hold_account = entries[AccountKind.WALLET], entries[AccountKind.HOLD]
    locked = lock_accounts([wallet.pk, hold_account.pk])
    if (done := replayed(key, kind)) is not None:
        return _OpenHold(wallet, hold_account, locked, [], replay=done)
    if Transaction.objects.filter(settles=hold_txn).exists():
        raise errors.Conflict(_("This hold has already been captured or released."),
                              code=errors.ErrorCode.HOLD_SETTLED)
    parked = list(LotConsumption.objects.filter(transaction=hold_txn))
    return _OpenHold(wallet, hold_account, locked, parked)


def _settle(hold: Transaction, kind: str, idempotency_key: str, *, reason: str, actor: Actor,
            now: datetime | None,
            destination: Callable[[], Account] | None) -> Transaction:
    """Settle a hold once: its points leave the hold account for ``destination()`` (a
    capture's sink, its lots consumed for good) or, with None, go back to the wallet into
    the very lots they came from (a release)."""
    key = check_key(idempotency_key)
    if (done := replayed(key, kind)) is not None:
        return done
    now = now or timezone.now()
    to = destination() if destination is not None else None
    held = _open_hold(hold, key, kind)
    if held.replay is not None:
        return held.replay
    txn = new_transaction(kind=kind, key=key, amount=hold.amount, now=now, reason=reason,
                          actor=actor, cause=(hold.cause_type, hold.cause_id), settles=hold)
    back_to_lots = to is None
    moves = [Move(p.lot_id, -p.parked if back_to_lots else 0, -p.parked) for p in held.parked]
    write_posting(txn, {held.account: -hold.amount, to or held.wallet: hold.amount},
                  moves=moves)
    return txn


@posts(TransactionKind.RELEASE)
def release(
    *,
    hold: Transaction,
    idempotency_key: str,
    reason: str = "",
    actor: Actor = None,
    now: datetime | None = None,
) -> Transaction:
    """Give a hold's points back (kind ``release``): hold account → wallet, into the very
    lots they came from, so they keep their original expiry (if that has passed meanwhile,
    the points come back already expired and the sweep expires them). A hold is settled
    once: a second capture or release is a 409 ``hold_settled``."""
    return _settle(hold, TransactionKind.RELEASE, idempotency_key, reason=reason, actor=actor,
                   now=now, destination=None)


@posts(TransactionKind.CAPTURE)
def capture(
    *,
    hold: Transaction,
    idempotency_key: str,
    sink: str = AccountKind.REDEMPTION,
    reason: str = "",
    actor: Actor = None,
    now: datetime | None = None,
) -> Transaction:
    """Spend a hold (kind ``capture``): hold account → redemption or activities sink. The
    parked lots are consumed for good. A hold is settled once (409 ``hold_settled``)."""
    return _settle(hold, TransactionKind.CAPTURE, idempotency_key, reason=reason, actor=actor,
                   now=now, destination=lambda: accounts_for(sink_spec(_spend_sink(sink)))[0])


@posts(TransactionKind.REFUND)
def refund(
    *,
    capture: Transaction,
    idempotency_key: str,
    reason: str = "",
    actor: Actor = None,
    now: datetime | None = None,
) -> Transaction:
    """Return captured points to the wallet (kind ``refund``), into the lots they were
    spent from, with their original expiry. A capture is refunded at most once."""
    key = check_key(idempotency_key)
    if (done := replayed(key, TransactionKind.REFUND)) is not None:
        return done
    if capture.kind != TransactionKind.CAPTURE:
        raise errors.ValidationError(_("Only captured points can be refunded."),
                                     code=errors.ErrorCode.NOT_A_CAPTURE)
    now = now or timezone.now()
    entries = list(Entry.objects.filter(transaction=capture).select_related("account"))
    sink_account = next(e.account for e in entries if e.amount > 0)
    hold_account = next(e.account for e in entries if e.amount < 0)
    assert hold_account.employee_id is not None  # a hold account is an employee's
    (wallet,) = accounts_for(wallet_spec(hold_account.employee_id))
    lock_accounts([wallet.pk])
    if (done := replayed(key, TransactionKind.REFUND)) is not None:
        return done
    if Transaction.objects.filter(reverses=capture).exists():
        raise errors.Conflict(_("These points have already been refunded."),
                              code=errors.ErrorCode.ALREADY_REFUNDED)
    txn = new_transaction(kind=TransactionKind.REFUND, key=key, amount=capture.amount,
                           now=now, reason=reason, actor=actor,
                           cause=(capture.cause_type, capture.cause_id), reverses=capture)
    moves = [Move(c.lot_id, c.parked, 0)
             for c in LotConsumption.objects.filter(transaction=capture)]
    write_posting(txn, {sink_account: -capture.amount, wallet: capture.amount}, moves=moves)
    return txn
