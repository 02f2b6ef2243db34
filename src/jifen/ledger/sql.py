"""The statements every posting runs, written out by hand.

Building these through the ORM cost several times the database's own work per posting
(docs/performance.md has the measurements). They mean the same on PostgreSQL, MySQL/MariaDB
and SQLite: identifiers are quoted by the backend and values prepared by the model fields
themselves. Only the ledger's posting code (``jifen.ledger.posting``, ``accounts``,
``locks``, ``bulk`` and the services) calls them, inside the posting's transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

from jifen.core.db import BULK_ROWS, insert_instance, returning_update, statement
from jifen.ledger.models import Account, Lot, Transaction


def _db() -> BaseDatabaseWrapper:
    """This thread's connection itself: ``django.db.connection`` is a proxy that looks it
    up again on every attribute, which added up to a tenth of a posting."""
    return connections[DEFAULT_DB_ALIAS]


_active: ContextVar[Any] = ContextVar("ledger_cursor", default=None)


@contextmanager
def cursor() -> Iterator[Any]:
    """A cursor for the posting under way (opened by ``posting.posts``' wrapper and
    shared by its statements), or a fresh one outside a posting."""
    active = _active.get()
    if active is not None:
        yield active
        return
    with _db().cursor() as fresh:
        token = _active.set(fresh)
        try:
            yield fresh
        finally:
            _active.reset(token)


def qn(name: str) -> str:
    return _db().ops.quote_name(name)


def table(model: type[models.Model]) -> str:
    return qn(model._meta.db_table)


def _prepare(model: type[models.Model], name: str, value: Any) -> Any:
    db = _db()
    return model._meta.get_field(name).get_db_prep_save(value, db)


# In the model's field order: Model.from_db maps values by that order.
_ACCOUNT_FIELDS = [f.attname for f in Account._meta.concrete_fields
                   if f.attname not in ("balance", "created_at")]


def fetch_accounts(codes: Sequence[str]) -> list[Account]:
    """The accounts with these codes, as model instances (balance left unloaded)."""
    db = _db()
    sql = statement(("accounts", len(codes)), lambda: (
        f"SELECT {', '.join(qn(c) for c in _ACCOUNT_FIELDS)} FROM {table(Account)} "
        f"WHERE {qn('code')} IN ({', '.join(['%s'] * len(codes))})"))
    with cursor() as cur:
        cur.execute(sql, list(codes))
        return _accounts_from(db, cur.fetchall())


def _accounts_from(db: BaseDatabaseWrapper, rows: list[tuple]) -> list[Account]:
    """Account instances from rows of ``_ACCOUNT_FIELDS``."""
    flag = _ACCOUNT_FIELDS.index("may_go_negative")
    accounts = []
    for row in rows:
        values = list(row)
        values[flag] = bool(values[flag])  # MySQL and SQLite answer 0/1
        accounts.append(Account.from_db(db.alias, _ACCOUNT_FIELDS, values))
    return accounts


def _for_update(db: BaseDatabaseWrapper) -> str:
    """`` FOR UPDATE`` (FOR NO KEY UPDATE on PostgreSQL: it still serialises the balance
    but lets concurrent inserts that merely reference the row check their foreign key);
    nothing on SQLite, whose IMMEDIATE transactions hold the whole database."""
    if not db.features.has_select_for_update:
        return ""
    return " " + db.ops.for_update_sql(no_key=db.features.has_select_for_no_key_update)


def lock_accounts(ids: Sequence[int]) -> dict[int, int]:
    """SELECT … FOR UPDATE (FOR NO KEY UPDATE on PostgreSQL, which still serialises the
    balance but lets concurrent inserts that merely reference the row check their foreign
    key) of ``ids`` in id order; {id: balance}. SQLite has no row locks: its IMMEDIATE
    transactions hold the whole database."""
    db = _db()

    def build() -> str:
        return (f"SELECT {qn('id')}, {qn('balance')} FROM {table(Account)} "
                f"WHERE {qn('id')} IN ({', '.join(['%s'] * len(ids))}) ORDER BY {qn('id')}"
                + _for_update(db))

    sql = statement(("lock", len(ids)), build)
    with cursor() as cur:
        cur.execute(sql, list(ids))
        return dict(cur.fetchall())


def lock_accounts_by_code(codes: Sequence[str]) -> list[Account] | None:
    """``fetch_accounts`` and ``lock_accounts`` in one statement: the accounts with these
    codes, locked in id order — on PostgreSQL, which locks the rows as the sort hands them
    on, and on SQLite (no row locks). None on MySQL/MariaDB, where InnoDB would lock them in
    the order of the code index instead (not id order: a deadlock with other postings),
    and whenever an account is missing; the caller then fetches and locks separately."""
    db = _db()
    if db.vendor not in ("postgresql", "sqlite"):
        return None

    def build() -> str:
        return (f"SELECT {', '.join(qn(c) for c in _ACCOUNT_FIELDS)} FROM {table(Account)} "
                f"WHERE {qn('code')} IN ({', '.join(['%s'] * len(codes))}) "
                f"ORDER BY {qn('id')}" + _for_update(db))

    with cursor() as cur:
        cur.execute(statement(("lock-codes", len(codes)), build), list(codes))
        rows = cur.fetchall()
    if len(rows) != len(set(codes)):
        return None
    return _accounts_from(db, rows)


def add_to_balance(account: Account, delta: int) -> int | None:
    """``balance = balance + delta``, refused (None) if it would take an employee-side
    account below zero. Returns the new balance of an employee-side account (the UPDATE
    holds the row lock, so it is the balance this transaction leaves) and 0 for a company
    account, whose balance no entry records."""
    company = account.may_go_negative
    returning = not company and returning_update()

    def build() -> str:
        balance = qn("balance")
        sql = f"UPDATE {table(Account)} SET {balance} = {balance} + %s WHERE {qn('id')} = %s"
        if not company:
            sql += f" AND {balance} + %s >= 0"
        return sql + (f" RETURNING {balance}" if returning else "")

    sql = statement(("add", company, returning), build)
    params = [delta, account.pk] + ([] if company else [delta])
    with cursor() as cur:
        cur.execute(sql, params)
        if company:
            return 0
        if returning:
            row = cur.fetchone()
            return row[0] if row else None
        if cur.rowcount != 1:
            return None
        cur.execute(statement(("balance",), lambda: (
            f"SELECT {qn('balance')} FROM {table(Account)} WHERE {qn('id')} = %s")),
            [account.pk])
        return cur.fetchone()[0]


def add_to_balances(deltas: dict[int, int]) -> dict[int, int] | None:
    """``add_to_balance`` of several employee-side accounts in one statement, on
    PostgreSQL; None elsewhere (the caller then updates them one by one). Their rows must
    be locked by the caller already: this UPDATE does not take its locks in id order.
    Returns {id: new balance} of the accounts updated; one missing from the answer was
    refused (it would have gone below zero)."""
    db = _db()
    if db.vendor != "postgresql":
        return None

    def build() -> str:
        balance = qn("balance")
        pairs = ", ".join(["(%s::bigint, %s::bigint)"] * len(deltas))
        return (f"UPDATE {table(Account)} AS a SET {balance} = a.{balance} + v.delta "
                f"FROM (VALUES {pairs}) AS v(id, delta) "
                f"WHERE a.{qn('id')} = v.id AND a.{balance} + v.delta >= 0 "
                f"RETURNING a.{qn('id')}, a.{balance}")

    params = [value for pair in deltas.items() for value in pair]
    with cursor() as cur:
        cur.execute(statement(("add-many", len(deltas)), build), params)
        return dict(cur.fetchall())


def spending_order() -> str:
    """The order lots are spent in: earliest expiry first, never-expiring last, then the
    oldest, then by id (an ORDER BY list over the lot table's columns)."""
    expires = qn("expires_at")
    return (f"CASE WHEN {expires} IS NULL THEN 1 ELSE 0 END, {expires}, "
            f"{qn('earned_at')}, {qn('id')}")


def spendable_lots(wallet_id: int, cutoff: datetime | None, exclude: Sequence[int] = (),
                   limit: int | None = None) -> list[tuple[int, int]]:
    """(id, remaining) of the wallet's lots with points left and not past ``cutoff``, in
    spending order: earliest expiry first, never-expiring last, then oldest, then by id."""

    def build() -> str:
        expires = qn("expires_at")
        sql = (f"SELECT {qn('id')}, {qn('remaining')} FROM {table(Lot)} "
               f"WHERE {qn('wallet_id')} = %s AND {qn('remaining')} > 0")
        if cutoff is not None:
            sql += f" AND ({expires} IS NULL OR {expires} > %s)"
        if exclude:
            sql += f" AND {qn('id')} NOT IN ({', '.join(['%s'] * len(exclude))})"
        sql += f" ORDER BY {spending_order()}"
        return sql + (f" LIMIT {int(limit)}" if limit else "")

    sql = statement(("lots", cutoff is not None, len(exclude), limit), build)
    params: list[Any] = [wallet_id]
    if cutoff is not None:
        params.append(_prepare(Lot, "expires_at", cutoff))
    params += list(exclude)
    with cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def take_from_lots(wallet_id: int, cutoff: datetime | None, amount: int,
                   parked: bool) -> list[tuple[int, int]] | None:
    """Take ``amount`` from the wallet's spendable lots in spending order — whole lots
    until the last, which gives the rest — in one statement, and park it on the hold when
    ``parked``: the (lot id, points taken) moves. None when the lots hold too little (then
    nothing changed) and on databases other than PostgreSQL: the caller reads the lots and
    moves them one by one. Call under the wallet's lock."""
    if _db().vendor != "postgresql":
        return None

    def build() -> str:
        remaining, held, expires = qn("remaining"), qn("held"), qn("expires_at")
        spendable = f"{qn('wallet_id')} = %(wallet)s AND {remaining} > 0"
        if cutoff is not None:
            spendable += f" AND ({expires} IS NULL OR {expires} > %(cutoff)s)"
        return (
            # The running sum is cast back to bigint (SUM gives numeric), so the parts
            # taken come back as integers.
            f"WITH ordered AS (SELECT {qn('id')} AS id, {remaining} AS remaining, "
            f"CAST(SUM({remaining}) OVER (ORDER BY {spending_order()} "
            f"ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS bigint) AS through "
            f"FROM {table(Lot)} WHERE {spendable}), "
            f"chosen AS (SELECT id, through, CASE WHEN through <= %(amount)s "
            f"THEN remaining ELSE %(amount)s - (through - remaining) END AS part FROM ordered "
            f"WHERE through - remaining < %(amount)s "
            f"AND (SELECT MAX(through) FROM ordered) >= %(amount)s) "
            f"UPDATE {table(Lot)} AS l SET {remaining} = l.{remaining} - c.part, "
            f"{held} = l.{held} + c.part * %(parked)s FROM chosen c "
            f"WHERE l.{qn('id')} = c.id RETURNING c.through, l.{qn('id')}, c.part")

    params: dict[str, Any] = {"wallet": wallet_id, "amount": amount, "parked": int(parked)}
    if cutoff is not None:
        params["cutoff"] = _prepare(Lot, "expires_at", cutoff)
    with cursor() as cur:
        cur.execute(statement(("take", cutoff is not None), build), params)
        # In spending order (the running sum grows along it), as the lots were taken.
        moves = [(lot_id, part) for _through, lot_id, part in sorted(cur.fetchall())]
    return moves or None


def move_lot(lot_id: int, amount: int, parked: int) -> bool:
    """Take ``amount`` from a lot's remainder and add ``parked`` to its held points (either
    may be negative), unless that would take either below zero."""

    def build() -> str:
        remaining, held = qn("remaining"), qn("held")
        return (f"UPDATE {table(Lot)} SET {remaining} = {remaining} - %s, "
                f"{held} = {held} + %s "
                f"WHERE {qn('id')} = %s AND {remaining} - %s >= 0 AND {held} + %s >= 0")

    with cursor() as cur:
        cur.execute(statement(("move",), build), [amount, parked, lot_id, amount, parked])
        return cur.rowcount == 1


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: list[tuple]) -> None:
    """One multi-row INSERT of ``rows`` (values in the order of ``fields``)."""
    db = _db()
    if not rows:
        return
    model_fields = [model._meta.get_field(name) for name in fields]

    def build() -> str:
        columns = ", ".join(qn(f.column) for f in model_fields)
        one = "(" + ", ".join(["%s"] * len(model_fields)) + ")"
        return f"INSERT INTO {table(model)} ({columns}) VALUES " + ", ".join([one] * len(rows))

    params = [f.get_db_prep_save(value, db)
              for row in rows for f, value in zip(model_fields, row, strict=True)]
    with cursor() as cur:
        cur.execute(statement(("insert", model, tuple(fields), len(rows)), build), params)


def insert_groups(groups: Sequence[tuple[type[models.Model], Sequence[str], list[tuple]]]
                  ) -> None:
    """``insert_rows`` for each (model, fields, rows) group — on PostgreSQL all in one
    statement (each INSERT but the last in a WITH clause; PostgreSQL runs every one of
    them, and checks their foreign keys at the end of the statement), elsewhere one
    statement per group. Saves a round trip per posting that writes entries and lots."""
    groups = [(model, fields, rows) for model, fields, rows in groups if rows]
    db = _db()
    if db.vendor != "postgresql" or len(groups) < 2:
        for model, fields, rows in groups:
            insert_rows(model, fields, rows)
        return
    model_fields = [[model._meta.get_field(name) for name in fields]
                    for model, fields, _rows in groups]

    def one_insert(model: type[models.Model], found: list[Any], count: int) -> str:
        columns = ", ".join(qn(f.column) for f in found)
        one = "(" + ", ".join(["%s"] * len(found)) + ")"
        return f"INSERT INTO {table(model)} ({columns}) VALUES " + ", ".join([one] * count)

    def build() -> str:
        parts = [one_insert(model, found, len(rows))
                 for (model, _fields, rows), found in zip(groups, model_fields, strict=True)]
        ctes = ", ".join(f"w{n} AS ({part})" for n, part in enumerate(parts[:-1]))
        return f"WITH {ctes} {parts[-1]}"

    params = [f.get_db_prep_save(value, db)
              for (_model, _fields, rows), found in zip(groups, model_fields, strict=True)
              for row in rows for f, value in zip(found, row, strict=True)]
    key = tuple((model, tuple(fields), len(rows)) for model, fields, rows in groups)
    with cursor() as cur:
        cur.execute(statement(("groups", key), build), params)


def insert_transaction(**values: Any) -> Transaction:
    """Insert a Transaction row and return it as a saved instance."""
    with cursor() as cur:
        return insert_instance(Transaction(**values), cursor=cur)


# --- the batch path (``jifen.ledger.bulk``) --------------------------------------------


def wallets_lots(wallet_ids: Sequence[int], first: int | None,
                 ) -> list[tuple[int, int, int, datetime | None, datetime]]:
    """(id, wallet id, remaining, expires_at, earned_at) of the lots with points left in
    these wallets — every one, or the first ``first`` of each wallet in spending order
    (a window function: every supported database has ROW_NUMBER). Times come back aware,
    as the ORM loads them."""
    db = _db()
    lot_table = table(Lot)
    expires, earned = qn("expires_at"), qn("earned_at")
    columns = f"{qn('id')}, {qn('wallet_id')}, {qn('remaining')}, {expires}, {earned}"
    marks = ", ".join(["%s"] * len(wallet_ids))
    where = f"{qn('wallet_id')} IN ({marks}) AND {qn('remaining')} > 0"
    if first is None:
        query = f"SELECT {columns} FROM {lot_table} WHERE {where}"
    else:
        query = (f"SELECT {columns} FROM (SELECT {columns}, ROW_NUMBER() OVER "
                 f"(PARTITION BY {qn('wallet_id')} ORDER BY {spending_order()}) AS {qn('n')} "
                 f"FROM {lot_table} WHERE {where}) {qn('first_lots')} "
                 f"WHERE {qn('n')} <= {int(first)}")
    column = Lot._meta.get_field("expires_at").get_col(Lot._meta.db_table)
    converters = db.ops.get_db_converters(column)

    def aware(value: Any) -> Any:
        for converter in converters:
            value = converter(value, column, db)
        return value

    with cursor() as cur:
        cur.execute(query, list(wallet_ids))
        return [(lot_id, wallet_id, remaining, aware(expires_at), aware(earned_at))
                for lot_id, wallet_id, remaining, expires_at, earned_at in cur.fetchall()]


def add_by_id(model: type[models.Model], column: str, deltas: dict[int, int], *,
              sign: int) -> int:
    """``column = column + sign * delta`` for each id of ``deltas``, one statement per
    ``BULK_ROWS`` ids; returns how many rows were updated (fewer than asked: an id is
    missing, or a CHECK constraint refused nothing — it raises instead)."""
    items = sorted(deltas.items())
    updated = 0
    with cursor() as cur:
        for start in range(0, len(items), BULK_ROWS):
            chunk = items[start:start + BULK_ROWS]
            cases = " ".join(["WHEN %s THEN %s"] * len(chunk))
            query = (f"UPDATE {table(model)} SET {qn(column)} = {qn(column)} "
                     f"{'+' if sign > 0 else '-'} CASE {qn('id')} {cases} END "
                     f"WHERE {qn('id')} IN ({', '.join(['%s'] * len(chunk))})")
            params = [v for pair in chunk for v in pair] + [pk for pk, _delta in chunk]
            cur.execute(query, params)
            updated += cur.rowcount
    return updated
