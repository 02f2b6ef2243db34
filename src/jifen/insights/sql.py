"""The rollups' hand-written statements: add to a row, or raise a row's value to at least a
given one, creating the row when missing, in one round trip per batch on every database
(DESIGN.md §2 keeps hand-written SQL here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from django.db import connection
from django.db.models import Field, Model

CHUNK = 1000


def _column(model: type[Model], name: str) -> str:
    """The quoted column of a model's field, by attribute name (``employee_id``)."""
    field = cast(Field, model._meta.get_field(name))
    return connection.ops.quote_name(cast(str, field.column))


def add_to_rows(model: type[Model], keys: Sequence[str], sums: Sequence[str],
                rows: Sequence[tuple], *, extra: Sequence[str] = ()) -> None:
    """For each row (key values..., sum values..., extra values...) add the sums to the
    row with those keys, inserting it (with the extra columns) when there is none.
    ``keys`` are the model's unique constraint, in attribute names (``employee_id``)."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [_column(model, name) for name in [*keys, *sums, *extra]]
    quoted = ", ".join(columns)
    placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sum_columns = [_column(model, s) for s in sums]
    if connection.vendor == "mysql":
        tail = " ON DUPLICATE KEY UPDATE " + ", ".join(
            f"{c} = {c} + VALUES({c})" for c in sum_columns)
    else:  # PostgreSQL and SQLite
        key_columns = ", ".join(_column(model, k) for k in keys)
        tail = f" ON CONFLICT ({key_columns}) DO UPDATE SET " + ", ".join(
            f"{c} = {table}.{c} + excluded.{c}" for c in sum_columns)
    # Sorted, so two writers (a fold and a rebuild) meet rows in the same order.
    ordered = sorted(rows, key=lambda row: tuple(str(v) for v in row[:len(keys)]))
    with connection.cursor() as cursor:
        for start in range(0, len(ordered), CHUNK):
            chunk = ordered[start:start + CHUNK]
            cursor.execute(
                f"INSERT INTO {table} ({quoted}) VALUES " + ", ".join([placeholder] * len(chunk))
                + tail,
                [value for row in chunk for value in row])


def raise_rows(model: type[Model], key: str, column: str, rows: Sequence[tuple]) -> None:
    """For each (key value, value) set the row's ``column`` to the greater of what it holds
    and the value, inserting the row when there is none. ``key`` is the model's primary
    key (or another unique column), in attribute names."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    key_column, value = _column(model, key), _column(model, column)
    if connection.vendor == "mysql":
        tail = f" ON DUPLICATE KEY UPDATE {value} = GREATEST({value}, VALUES({value}))"
    else:
        greater = "MAX" if connection.vendor == "sqlite" else "GREATEST"
        tail = (f" ON CONFLICT ({key_column}) DO UPDATE SET "
                f"{value} = {greater}({table}.{value}, excluded.{value})")
    ordered = sorted(rows)
    with connection.cursor() as cursor:
        for start in range(0, len(ordered), CHUNK):
            chunk = ordered[start:start + CHUNK]
            cursor.execute(
                f"INSERT INTO {table} ({key_column}, {value}) VALUES "
                + ", ".join(["(%s, %s)"] * len(chunk)) + tail,
                [v for row in chunk for v in row])
