"""Points moved by hand or by circumstance: transfers between employees, manual
adjustments, forfeiture on leaving, and reversals of earlier transactions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse as url_for
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.services import record_audit
from jifen.ledger import notices
from jifen.ledger.accounts import accounts_for, sink_spec, wallet_spec
from jifen.ledger.amounts import format_points
from jifen.ledger.expiry_rules import UNSET, lot_expires_at, spending_cutoff
from jifen.ledger.locks import lock_accounts
from jifen.ledger.models import (
    COMPANY_KINDS,
    Account,
    AccountKind,
    Entry,
    LeavingPolicy,
    Lot,
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
    insufficient,
    new_transaction,
    posts,
    replayed,
    spend,
    spendable_lots,
    take,
    write_posting,
)
from jifen.ledger.selectors import ledger_policy
from jifen.notifications.services import notify
from jifen.people.models import Employee

# Kinds a reversing transaction can undo. Holds are undone by release, captures by refund,
# expiry by granting the points again.
REVERSIBLE_KINDS = {
    TransactionKind.EARN, TransactionKind.PENALTY, TransactionKind.REDEEM,
    TransactionKind.ADJUST, TransactionKind.TRANSFER, TransactionKind.FORFEIT,
    TransactionKind.ALLOCATE,
}


@posts(TransactionKind.TRANSFER)
def transfer(
    *,
    sender: Employee,
    recipient: Employee,
    amount: int,
    idempotency_key: str,
    cause: Cause = None,
    reason: str = "",
    actor: Actor = None,
    now: datetime | None = None,
) -> Transaction:
    """Move ``amount`` from one employee's spendable points to another's (kind
    ``transfer``). The recipient's new lots keep the expiry of the lots they came from,
    so passing points around never extends their life."""
    check_amount(amount)
    key = check_key(idempotency_key)
    if sender.pk == recipient.pk:
        raise errors.ValidationError(_("Points cannot be transferred to oneself."),
                                     code=errors.ErrorCode.SAME_EMPLOYEE)
    now = now or timezone.now()
    source, target = accounts_for(wallet_spec(sender.pk), wallet_spec(recipient.pk))
    txn = new_transaction(kind=TransactionKind.TRANSFER, key=key, amount=amount, now=now,
                           reason=reason, actor=actor,
                           cause=cause if cause is not None else ("people.employee", sender.pk))
    lock_accounts([source.pk, target.pk])
    moves = spend(source.pk, amount, spending_cutoff(ledger_policy(), sender, now))
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
    write_posting(txn, {source: -amount, target: amount}, moves=moves, new_lots=new_lots)
    return txn


def check_adjustment(*, employee: Employee, amount: Any, reason: str, actor: Actor) -> str:
    """Refuse an adjustment ``adjust`` would refuse before looking at any balance: a zero
    or malformed amount (422 ``invalid_amount``), no reason (422 ``reason_required``), an
    actor adjusting their own points (403 ``self_adjustment``). Returns the reason as
    stored. The console calls it to show the refusal before asking for confirmation."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise errors.ValidationError(_("The adjustment must be a non-zero amount."),
                                     code=errors.ErrorCode.INVALID_AMOUNT)
    check_amount(abs(amount))
    reason = (reason or "").strip()
    if not reason:
        raise errors.ValidationError(_("Give a reason for the adjustment."),
                                     code=errors.ErrorCode.REASON_REQUIRED)
    actor_employee_id = getattr(getattr(actor, "employee", None), "pk", None)
    if actor_employee_id is not None and actor_employee_id == employee.pk:
        raise errors.PermissionDenied(_("Nobody may adjust their own points."),
                                      code=errors.ErrorCode.SELF_ADJUSTMENT)
    return reason


@posts(TransactionKind.ADJUST)
def adjust(
    *,
    employee: Employee,
    amount: int,
    reason: str,
    actor: Actor,
    idempotency_key: str,
    cause: Cause = None,
    expires_at: datetime | None = UNSET,
    now: datetime | None = None,
) -> Transaction:
    """A manual correction (kind ``adjust``): a positive ``amount`` credits the wallet from
    the adjustment account (a new lot under the site expiry policy), a negative one debits
    spendable lots, earliest-expiring first (``InsufficientPoints`` if they do not cover
    it). A reason is required; the change goes to the audit log."""
    reason = check_adjustment(employee=employee, amount=amount, reason=reason, actor=actor)
    key = check_key(idempotency_key)
    now = now or timezone.now()
    policy = ledger_policy()
    wallet, other = accounts_for(wallet_spec(employee.pk), sink_spec(AccountKind.ADJUSTMENT))
    txn = new_transaction(kind=TransactionKind.ADJUST, key=key, amount=abs(amount), now=now,
                           reason=reason, actor=actor,
                           cause=cause if cause is not None else ("ledger.adjustment", ""))
    locked = lock_accounts([wallet.pk])
    if amount > 0:
        lot = Lot(wallet_id=wallet.pk, amount=amount, remaining=amount, earned_at=now,
                  expires_at=lot_expires_at(policy, employee, now, expires_at, None),
                  source_transaction=txn)
        write_posting(txn, {wallet: amount, other: -amount}, new_lots=[lot])
    else:
        moves = spend(wallet.pk, -amount, spending_cutoff(policy, employee, now))
        write_posting(txn, {wallet: amount, other: -amount}, moves=moves)
    record_audit(actor=actor, action="ledger.adjust", obj=txn,
                 object_repr=f"{employee} {amount:+d}"[:200],
                 before={"employee": employee.employee_no, "balance": locked[wallet.pk]},
                 after={"employee": employee.employee_no, "balance": locked[wallet.pk] + amount,
                        "amount": amount, "reason": reason})
    _tell_about_adjustment(employee, txn, amount, reason)
    return txn


def _tell_about_adjustment(employee: Employee, txn: Transaction, amount: int,
                           reason: str) -> None:
    """The employee hears of a change to their points that nobody asked them about."""
    if employee.user_id:
        notify(recipient=employee.user, kind=notices.POINTS_ADJUSTED,
               params={"points": format_points(abs(amount)), "reason": reason,
                       "variant": "credit" if amount > 0 else "debit"},
               url=url_for("portal:points"), dedupe_key=f"ledger:adjust:{txn.pk}")


@posts(TransactionKind.FORFEIT)
def forfeit(
    *,
    employee: Employee,
    idempotency_key: str,
    reason: str = "",
    actor: Actor = None,
    now: datetime | None = None,
) -> Transaction | None:
    """Move every spendable point of the employee to the forfeiture sink (kind
    ``forfeit``); None when there is nothing to forfeit. Points already past expiry are
    left for the expiry sweep, held points for their order or bid to settle."""
    key = check_key(idempotency_key)
    if (done := replayed(key, TransactionKind.FORFEIT)) is not None:
        return done
    now = now or timezone.now()
    wallet, sink = accounts_for(wallet_spec(employee.pk), sink_spec(AccountKind.FORFEITURE))
    locked = lock_accounts([wallet.pk])
    lots = spendable_lots(wallet.pk, spending_cutoff(ledger_policy(), employee, now))
    total = sum(remaining for _id, remaining in lots)
    if total == 0:
        return None
    txn = new_transaction(kind=TransactionKind.FORFEIT, key=key, amount=total, now=now,
                           reason=reason, actor=actor, cause=employee)
    write_posting(txn, {wallet: -total, sink: total}, moves=take(lots, total))
    if actor is not None:
        record_audit(actor=actor, action="ledger.forfeit", obj=txn,
                     object_repr=f"{employee} -{total}"[:200],
                     before={"balance": locked[wallet.pk]},
                     after={"balance": locked[wallet.pk] - total})
    return txn


def apply_leaving_policy(*, employee: Employee, actor: Actor = None,
                         now: datetime | None = None) -> Transaction | None:
    """What happens to a leaver's points under the site's policy: forfeited (once per
    leaving date) or kept. Call when an employee is marked as left."""
    if ledger_policy().on_leaving != LeavingPolicy.FORFEIT:
        return None
    left_on = getattr(employee, "left_on", None) or timezone.localdate()
    # No reason in words: the kind (forfeit) says it, in the reader's language.
    return forfeit(employee=employee, idempotency_key=f"forfeit:leaving:{employee.pk}:{left_on}",
                   reason="", actor=actor, now=now)


@posts(TransactionKind.REVERSE)
def reverse(
    *,
    transaction: Transaction,
    idempotency_key: str,
    reason: str,
    actor: Actor = None,
    now: datetime | None = None,
) -> Transaction:
    """Undo a transaction with a reversing one (kind ``reverse``) whose entries are its
    negation. Points it took come back into the same lots; points it gave are taken back
    from the lots it opened first, then from other spendable lots (``InsufficientPoints``
    if the employee has spent them). A transaction is reversed at most once; holds are
    undone by release, captures by refund."""
    original = transaction
    key = check_key(idempotency_key)
    if (done := replayed(key, TransactionKind.REVERSE)) is not None:
        return done
    if original.kind not in REVERSIBLE_KINDS:
        raise errors.Conflict(_("A %(kind)s transaction cannot be reversed.")
                              % {"kind": original.get_kind_display()},
                              code=errors.ErrorCode.NOT_REVERSIBLE)
    reason = (reason or "").strip()
    if not reason:
        raise errors.ValidationError(_("Give a reason for the reversal."),
                                     code=errors.ErrorCode.REASON_REQUIRED)
    now = now or timezone.now()
    entries = list(Entry.objects.filter(transaction=original).select_related("account"))
    legs = {e.account_id: -e.amount for e in entries}
    accounts = {e.account_id: e.account for e in entries}
    locked = lock_accounts(a for a, acc in accounts.items() if acc.kind not in COMPANY_KINDS)
    if (done := replayed(key, TransactionKind.REVERSE)) is not None:
        return done
    if Transaction.objects.filter(reverses=original).exists():
        raise errors.Conflict(_("This transaction has already been reversed."),
                              code=errors.ErrorCode.ALREADY_REVERSED)
    txn = new_transaction(kind=TransactionKind.REVERSE, key=key, amount=original.amount,
                           now=now, reason=reason, category=original.category, actor=actor,
                           cause=("ledger.transaction", original.pk), reverses=original)
    policy = ledger_policy()
    moves: list[Move] = []
    for account_id, delta in legs.items():
        account = accounts[account_id]
        if account.kind == AccountKind.BUDGET and locked[account_id] + delta < 0:
            raise errors.InsufficientPoints(_("The department budget has too little left."),
                                            code=errors.ErrorCode.INSUFFICIENT_BUDGET)
        if account.kind != AccountKind.WALLET:
            continue
        if delta > 0:
            given_back = [Move(c.lot_id, -c.amount, 0) for c in LotConsumption.objects.filter(
                transaction=original, lot__wallet_id=account_id, amount__gt=0)]
            if -sum(m.amount for m in given_back) != delta:
                raise LedgerIntegrityError(f"lots of {original.pk} do not add up to {delta}")
            moves += given_back
        else:
            moves += _take_back(account, original, -delta, spending_cutoff(policy, account.employee,
                                                                    now))
    write_posting(txn, {accounts[account_id]: delta for account_id, delta in legs.items()},
           moves=moves)
    return txn


def _take_back(wallet: Account, original: Transaction, amount: int,
               cutoff: datetime | None) -> list[Move]:
    """Points a reversed credit gave: from the lots it opened, then the spendable rest."""
    opened = list(Lot.objects.filter(source_transaction=original, wallet=wallet,
                                     remaining__gt=0).order_by("pk")
                  .values_list("pk", "remaining"))
    from_opened = min(amount, sum(r for _id, r in opened))
    moves = take(opened, from_opened) if from_opened else []
    rest = amount - from_opened
    if rest:
        others = spendable_lots(wallet.pk, cutoff, exclude=[lot_id for lot_id, _r in opened])
        try:
            moves += take(others, rest)
        except errors.InsufficientPoints as exc:
            available = from_opened + sum(r for _id, r in others)
            raise insufficient(amount, available) from exc
    return moves
