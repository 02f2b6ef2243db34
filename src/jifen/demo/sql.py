"""The large demo's hand-written SQL: rows in bulk — ``COPY … FROM STDIN`` on PostgreSQL
(psycopg's ``cursor.copy``), ``executemany`` of one INSERT elsewhere (mysqlclient folds it
into multi-row statements; SQLite runs it in one prepared statement) — and the few
statements around a bulk load (next ids, sequences, balance updates).

Rows are tuples in the order of ``fields`` (model attnames). Times are aware; for the
databases that store naive UTC they are adapted here as the ORM would."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.core.management.color import no_style
from django.db import connection
from django.db.models import Model

CHUNK = 2_000  # rows per executemany on SQLite / MariaDB


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _columns(model: type[Model], fields: Sequence[str]) -> list[str]:
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    return [connection.ops.quote_name(by_attname[name].column) for name in fields]


def next_id(model: type[Model]) -> int:
    """One past the largest id in ``model``'s table (the loader numbers its own rows)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {_table(model)}")
        (largest,) = cursor.fetchone()
    return (largest or 0) + 1


def copy_rows(model: type[Model], fields: Sequence[str], rows: Iterable[tuple]) -> int:
    """Insert ``rows`` into ``model``'s table; returns how many."""
    columns = ", ".join(_columns(model, fields))
    count = 0
    if connection.vendor == "postgresql":
        with connection.cursor() as wrapper:
            raw = wrapper.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY {_table(model)} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count
    adapt = connection.ops.adapt_datetimefield_value
    marks = ", ".join(["%s"] * len(fields))
    statement = f"INSERT INTO {_table(model)} ({columns}) VALUES ({marks})"
    batch: list[tuple] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(tuple(adapt(v) if isinstance(v, datetime) else v for v in row))
            if len(batch) >= CHUNK:
                cursor.executemany(statement, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(statement, batch)
            count += len(batch)
    return count


def add_to_balances(model: type[Model], deltas: dict[int, int]) -> None:
    """``balance = balance + delta`` for each id (the company accounts a load moved)."""
    rows = [(delta, pk) for pk, delta in sorted(deltas.items()) if delta]
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {_table(model)} SET balance = balance + %s WHERE id = %s", rows)


def set_column(model: type[Model], column: str, values: dict[int, Any]) -> None:
    """``column = value`` for each id, in chunks."""
    rows = [(value, pk) for pk, value in sorted(values.items())]
    quoted = connection.ops.quote_name(column)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            cursor.executemany(f"UPDATE {_table(model)} SET {quoted} = %s WHERE id = %s",
                               rows[start:start + CHUNK])


def reset_sequences(models: Sequence[type[Model]]) -> None:
    """Move PostgreSQL's id sequences past the ids the loader chose (SQLite and MariaDB
    follow the largest id by themselves)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(models))
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def analyze(models: Sequence[type[Model]]) -> None:
    """Fresh planner statistics after a bulk load (PostgreSQL; others need none here)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {_table(model)}")


@contextmanager
def lots_after_their_uses() -> Iterator[None]:
    """The loader writes a lot when it is used up, after the consumptions that point at
    it. PostgreSQL and SQLite check foreign keys at commit (Django makes them deferrable);
    MySQL/MariaDB check each row at once, so there the session stops checking them for the
    load (the loader only points at rows it writes in the same transaction)."""
    if connection.vendor != "mysql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET FOREIGN_KEY_CHECKS = 1")
