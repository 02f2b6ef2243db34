"""Row locks for posting, always taken in one global order so two postings never deadlock.

The order is: first the accounts that must not go below zero (wallets, holds, budgets),
in primary-key order — taken here with SELECT … FOR UPDATE before a posting decides
anything, or by the posting's own conditional UPDATE when there is nothing to decide (a
plain credit); then the company accounts (issuance and sinks), which are only ever changed
by ``UPDATE … SET balance = balance + x`` in primary-key order at the end of a posting,
after every employee-side lock is held. The wallet's row lock also guards the employee's
lots and hold account: nothing reads or changes a lot without holding it.
"""

from __future__ import annotations

from collections.abc import Iterable

from jifen.ledger import sql


def lock_accounts(account_ids: Iterable[int]) -> dict[int, int]:
    """Lock the given accounts in id order (SELECT … FOR UPDATE) inside the current
    transaction and return their balances as they are under the lock. On SQLite, whose
    transactions take the write lock at BEGIN (IMMEDIATE mode), this is a plain read."""
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    balances = sql.lock_accounts(ids)
    if len(balances) != len(ids):
        missing = sorted(set(ids) - set(balances))
        raise LookupError(f"ledger accounts {missing} do not exist")
    return balances
