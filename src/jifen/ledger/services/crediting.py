"""Points in: credits (earning), penalties and department budget allocations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.services import record_audit
from jifen.ledger.accounts import accounts_for, budget_spec, issuance_spec, wallet_spec
from jifen.ledger.expiry_rules import UNSET, ExpiryRule, lot_expires_at, spending_cutoff
from jifen.ledger.locks import lock_accounts
from jifen.ledger.models import Lot, Transaction, TransactionKind
from jifen.ledger.posting import (
    Cause,
    check_amount,
    check_key,
    new_transaction,
    posts,
    replayed,
    spendable_lots,
    take,
    write_posting,
)
from jifen.ledger.selectors import ledger_policy
from jifen.people.models import Department, Employee


@posts(TransactionKind.EARN)
def credit(
    *,
    employee: Employee,
    amount: int,
    category: str,
    idempotency_key: str,
    cause: Cause,
    reason: str = "",
    actor: Actor = None,
    budget: Department | None = None,
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
    check_amount(amount)
    key = check_key(idempotency_key)
    if cause is None:
        raise errors.ValidationError(_("A credit needs a cause."),
                                     code=errors.ErrorCode.CAUSE_REQUIRED)
    now = now or timezone.now()
    earned_at = earned_at or now
    policy = ledger_policy()
    lot_expires = lot_expires_at(policy, employee, earned_at, expires_at, expiry)
    source_spec = budget_spec(budget.pk) if budget is not None else issuance_spec(category)
    wallet, source = accounts_for(wallet_spec(employee.pk), source_spec)
    txn = new_transaction(kind=TransactionKind.EARN, key=key, amount=amount, now=now,
                           reason=reason, category=category, actor=actor, cause=cause)
    # Budget awards check the budget under its lock; plain credits need no lock before
    # their UPDATE, which locks the wallet by itself.
    locked = lock_accounts([wallet.pk, source.pk]) if budget is not None else {}
    if budget is not None and locked[source.pk] < amount:
        raise errors.InsufficientPoints(
            _("The department budget has %(available)s left, %(needed)s needed.")
            % {"available": locked[source.pk], "needed": amount},
            code=errors.ErrorCode.INSUFFICIENT_BUDGET,
            details={"needed": amount, "available": locked[source.pk]},
        )
    lot = Lot(wallet_id=wallet.pk, amount=amount, remaining=amount, earned_at=earned_at,
              expires_at=lot_expires, source_transaction=txn)
    write_posting(txn, {wallet: amount, source: -amount}, new_lots=[lot])
    return txn


@dataclass(frozen=True)
class PenaltyResult:
    transaction: Transaction | None
    collected: int
    uncollected: int


def penalize(
    *,
    employee: Employee,
    amount: int,
    category: str,
    idempotency_key: str,
    cause: Cause,
    reason: str = "",
    actor: Actor = None,
    now: datetime | None = None,
) -> PenaltyResult:
    """Deduct up to ``amount`` (kind ``penalty``) back into the category's issuance
    account, never taking the wallet below zero: what the spendable points do not cover is
    returned as ``uncollected`` for the caller to record. Nothing to collect posts no
    transaction."""
    check_amount(amount)
    txn = _penalize(employee=employee, amount=amount, category=category,
                    idempotency_key=idempotency_key, cause=cause, reason=reason, actor=actor,
                    now=now)
    collected = txn.amount if txn is not None else 0
    return PenaltyResult(transaction=txn, collected=collected, uncollected=amount - collected)


@posts(TransactionKind.PENALTY)
def _penalize(*, employee: Employee, amount: int, category: str, idempotency_key: str, cause: Cause,
              reason: str, actor: Actor, now: datetime | None) -> Transaction | None:
    key = check_key(idempotency_key)
    if (done := replayed(key, TransactionKind.PENALTY)) is not None:
        return done
    now = now or timezone.now()
    wallet, sink = accounts_for(wallet_spec(employee.pk), issuance_spec(category))
    lock_accounts([wallet.pk])
    lots = spendable_lots(wallet.pk, spending_cutoff(ledger_policy(), employee, now))
    collected = min(amount, sum(remaining for _id, remaining in lots))
    if collected == 0:
        return None
    txn = new_transaction(kind=TransactionKind.PENALTY, key=key, amount=collected, now=now,
                           reason=reason, category=category, actor=actor, cause=cause)
    write_posting(txn, {wallet: -collected, sink: collected},
           moves=take(lots, collected))
    return txn


@posts(TransactionKind.ALLOCATE)
def fund_budget(
    *,
    department: Department,
    amount: int,
    category: str,
    idempotency_key: str,
    actor: Actor,
    reason: str = "",
    now: datetime | None = None,
) -> Transaction:
    """Allocate ``amount`` from the category's issuance account to a department's budget
    (kind ``allocate``), from which its manager awards points. Audited."""
    check_amount(amount)
    key = check_key(idempotency_key)
    now = now or timezone.now()
    budget, source = accounts_for(budget_spec(department.pk), issuance_spec(category))
    txn = new_transaction(kind=TransactionKind.ALLOCATE, key=key, amount=amount, now=now,
                           reason=reason, category=category, actor=actor, cause=department)
    locked = lock_accounts([budget.pk])
    write_posting(txn, {budget: amount, source: -amount})
    record_audit(actor=actor, action="ledger.fund_budget", obj=txn,
                 object_repr=f"{department} +{amount}",
                 before={"budget": locked[budget.pk]}, after={"budget": locked[budget.pk] + amount})
    return txn
