"""The ledger's invariants (DESIGN.md §3), each checked by one aggregate query.

``verify_ledger()`` returns one line per breach (empty when the books are sound); ``jifen
ledger verify`` prints them and exits 1 on any. Other apps add their own invariants (stock
never below zero, …) with ``register_check``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from jifen.ledger.models import (
    COMPANY_KINDS,
    Account,
    AccountKind,
    Entry,
    Lot,
    LotConsumption,
    Transaction,
    TransactionKind,
)

LIMIT = 50  # breaches listed per check
Check = Callable[[], list[str]]
_EXTRA_CHECKS: list[Check] = []


def register_check(check: Check) -> Check:
    """Add an invariant of another app to ``jifen ledger verify`` (usable as a decorator)."""
    if check not in _EXTRA_CHECKS:
        _EXTRA_CHECKS.append(check)
    return check


def transactions_balance() -> list[str]:
    """Every transaction has two or more entries summing to zero, and its ``amount`` is
    what it moved (the sum of its positive entries)."""
    bad = (Entry.objects.values("transaction_id", "transaction__kind", "transaction__amount")
           .annotate(total=Sum("amount"), legs=Count("id"),
                     moved=Coalesce(Sum("amount", filter=Q(amount__gt=0)), 0))
           .filter(~Q(total=0) | Q(legs__lt=2) | ~Q(moved=F("transaction__amount")))
           .order_by("transaction_id"))
    lines = [
        f"transaction #{row['transaction_id']} ({row['transaction__kind']}): "
        f"{row['legs']} entries summing to {row['total']}, moving {row['moved']} "
        f"(recorded amount {row['transaction__amount']})"
        for row in bad[:LIMIT]
    ]
    empty = Transaction.objects.filter(entries__isnull=True).values_list("pk", "kind")
    lines += [f"transaction #{pk} ({kind}) has no entries" for pk, kind in empty[:LIMIT]]
    return lines


def _rows(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model: type) -> str:
    return _q(model._meta.db_table)


def balances_match_entries() -> list[str]:
    """Each account's balance equals the sum of its entries."""
    account, entry = _table(Account), _table(Entry)
    rows = _rows(f"""
        SELECT a.id, a.code, a.balance, COALESCE(s.total, 0) FROM {account} a
          LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM {entry} GROUP BY account_id) s
            ON s.account_id = a.id
         WHERE a.balance <> COALESCE(s.total, 0) ORDER BY a.id LIMIT {LIMIT}""")
    return [f"account {code} (#{pk}): balance {balance} but its entries sum to {total}"
            for pk, code, balance, total in rows]


def nothing_negative() -> list[str]:
    """No wallet, hold or budget below zero; only company accounts may go negative."""
    lines = [f"account {code} (#{pk}) is negative: {balance}"
             for pk, code, balance in Account.objects.filter(balance__lt=0, may_go_negative=False)
             .values_list("pk", "code", "balance")[:LIMIT]]
    lines += [f"account {code} (#{pk}) of kind {kind} may go negative but must not"
              for pk, code, kind in Account.objects.filter(may_go_negative=True)
              .exclude(kind__in=COMPANY_KINDS).values_list("pk", "code", "kind")[:LIMIT]]
    lines += [f"lot #{pk}: remaining {remaining}, held {held} outside 0…{amount}"
              for pk, amount, remaining, held in Lot.objects.filter(
                  Q(remaining__lt=0) | Q(held__lt=0) | Q(remaining__gt=F("amount") - F("held")))
              .values_list("pk", "amount", "remaining", "held")[:LIMIT]]
    return lines


def wallets_match_lots() -> list[str]:
    """A wallet's balance is the sum of its lots' remainders; a hold account's balance is
    the sum of the points the employee's lots have parked on it."""
    account, lot = _table(Account), _table(Lot)
    wallets = _rows(f"""
        SELECT a.code, a.balance, COALESCE(s.total, 0) FROM {account} a
          LEFT JOIN (SELECT wallet_id, SUM(remaining) AS total FROM {lot} GROUP BY wallet_id) s
            ON s.wallet_id = a.id
         WHERE a.kind = %s AND a.balance <> COALESCE(s.total, 0) ORDER BY a.id LIMIT {LIMIT}""",
        [AccountKind.WALLET.value])
    holds = _rows(f"""
        SELECT a.code, a.balance, COALESCE(s.total, 0) FROM {account} a
          LEFT JOIN (SELECT w.employee_id, SUM(l.held) AS total
                       FROM {lot} l JOIN {account} w ON w.id = l.wallet_id
                      GROUP BY w.employee_id) s
            ON s.employee_id = a.employee_id
         WHERE a.kind = %s AND a.balance <> COALESCE(s.total, 0) ORDER BY a.id LIMIT {LIMIT}""",
        [AccountKind.HOLD.value])
    return ([f"wallet {code}: balance {balance} but its lots hold {total}"
             for code, balance, total in wallets]
            + [f"hold {code}: balance {balance} but the lots park {total}"
               for code, balance, total in holds])


def lots_match_history() -> list[str]:
    """Each lot's remainder is its amount minus what transactions took from it, and its
    parked points the sum of what holds parked minus what captures and releases unparked."""
    lot, use = _table(Lot), _table(LotConsumption)
    rows = _rows(f"""
        SELECT l.id, l.remaining, l.held, l.amount - COALESCE(c.taken, 0), COALESCE(c.parked, 0)
          FROM {lot} l
          LEFT JOIN (SELECT lot_id, SUM(amount) AS taken, SUM(parked) AS parked
                       FROM {use} GROUP BY lot_id) c ON c.lot_id = l.id
         WHERE l.remaining <> l.amount - COALESCE(c.taken, 0) OR l.held <> COALESCE(c.parked, 0)
         ORDER BY l.id LIMIT {LIMIT}""")
    return [f"lot #{pk}: remaining {remaining}/held {held}, but its history gives "
            f"{expected}/{parked}" for pk, remaining, held, expected, parked in rows]


def entries_match_lots() -> list[str]:
    """Each transaction changed a wallet by exactly what it did to that wallet's lots
    (lots opened minus points taken) and a hold account by exactly what it parked."""
    entry, account, lot, use = _table(Entry), _table(Account), _table(Lot), _table(LotConsumption)
    wallet_sql = f"""
        SELECT t, w, SUM(x) FROM (
            SELECT e.transaction_id AS t, e.account_id AS w, e.amount AS x
              FROM {entry} e JOIN {account} a ON a.id = e.account_id WHERE a.kind = %s
            UNION ALL
            SELECT l.source_transaction_id, l.wallet_id, -l.amount FROM {lot} l
            UNION ALL
            SELECT c.transaction_id, l.wallet_id, c.amount
              FROM {use} c JOIN {lot} l ON l.id = c.lot_id
        ) legs GROUP BY t, w HAVING SUM(x) <> 0 ORDER BY t LIMIT {LIMIT}"""
    hold_sql = f"""
        SELECT t, emp, SUM(x) FROM (
            SELECT e.transaction_id AS t, a.employee_id AS emp, e.amount AS x
              FROM {entry} e JOIN {account} a ON a.id = e.account_id WHERE a.kind = %s
            UNION ALL
            SELECT c.transaction_id, w.employee_id, -c.parked
              FROM {use} c JOIN {lot} l ON l.id = c.lot_id JOIN {account} w ON w.id = l.wallet_id
             WHERE c.parked <> 0
        ) legs GROUP BY t, emp HAVING SUM(x) <> 0 ORDER BY t LIMIT {LIMIT}"""
    return (
        [f"transaction #{t}: wallet #{w} entry differs from its lot movements by {d}"
         for t, w, d in _rows(wallet_sql, [AccountKind.WALLET.value])]
        + [f"transaction #{t}: hold of employee #{e} differs from parked lots by {d}"
           for t, e, d in _rows(hold_sql, [AccountKind.HOLD.value])]
    )


def movements_have_causes() -> list[str]:
    """Every movement of a wallet or hold says what caused it; adjustments say why."""
    uncaused = (Transaction.objects.filter(
        entries__account__kind__in=[AccountKind.WALLET, AccountKind.HOLD], cause_type="")
        .values_list("pk", "kind").distinct().order_by("pk"))
    lines = [f"transaction #{pk} ({kind}) moves an employee's points without a cause"
             for pk, kind in uncaused[:LIMIT]]
    lines += [f"adjustment #{pk} has no reason" for pk in Transaction.objects.filter(
        kind=TransactionKind.ADJUST, reason="").values_list("pk", flat=True)[:LIMIT]]
    return lines


CHECKS: list[Check] = [
    transactions_balance, balances_match_entries, nothing_negative, wallets_match_lots,
    lots_match_history, entries_match_lots, movements_have_causes,
]


def verify_ledger() -> list[str]:
    """Every breach of the ledger's invariants, one line each; empty when all hold."""
    breaches: list[str] = []
    for check in [*CHECKS, *_EXTRA_CHECKS]:
        breaches += check()
    return breaches
