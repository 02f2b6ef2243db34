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

Callers write ``from jifen.ledger import services as ledger`` and call ``ledger.credit(…)``,
``ledger.hold(…)``: the services live in ``crediting`` (credit, penalize, fund_budget),
``spending`` (debit, hold, capture, release, refund), ``adjustments`` (transfer, adjust,
forfeit, reversal), ``policy``; accounts in ``jifen.ledger.accounts``, the expiry sweep in
``jifen.ledger.expiry`` and the posting machinery in ``jifen.ledger.posting``.
"""

from __future__ import annotations

from jifen.ledger.accounts import (
    budget_key,
    ensure_accounts,
    ensure_company_accounts,
    hold_key,
    issuance_key,
    open_accounts,
    sink_key,
    wallet_key,
)
from jifen.ledger.expiry import expire_lots, record_expiry_notices, run_daily_expiry
from jifen.ledger.expiry_rules import UNSET
from jifen.ledger.posting import MAX_UNITS, SPEND_BATCH, LedgerIntegrityError
from jifen.ledger.services.adjustments import (
    REVERSIBLE_KINDS,
    adjust,
    apply_leaving_policy,
    check_adjustment,
    forfeit,
    reverse,
    transfer,
)
from jifen.ledger.services.crediting import PenaltyResult, credit, fund_budget, penalize
from jifen.ledger.services.policy import POLICY_FIELDS, update_policy
from jifen.ledger.services.spending import (
    capture,
    debit,
    hold,
    hold_for_new_cause,
    refund,
    release,
)

__all__ = [
    "MAX_UNITS",
    "POLICY_FIELDS",
    "REVERSIBLE_KINDS",
    "SPEND_BATCH",
    "UNSET",
    "LedgerIntegrityError",
    "PenaltyResult",
    "adjust",
    "apply_leaving_policy",
    "budget_key",
    "capture",
    "check_adjustment",
    "credit",
    "debit",
    "ensure_accounts",
    "ensure_company_accounts",
    "expire_lots",
    "forfeit",
    "fund_budget",
    "hold",
    "hold_for_new_cause",
    "hold_key",
    "issuance_key",
    "open_accounts",
    "penalize",
    "record_expiry_notices",
    "refund",
    "release",
    "reverse",
    "run_daily_expiry",
    "sink_key",
    "transfer",
    "update_policy",
    "wallet_key",
]
