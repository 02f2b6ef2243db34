"""Database facts shared by the services."""

from __future__ import annotations

import logging
import random
import sqlite3
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psycopg
from django.db import (
    DEFAULT_DB_ALIAS,
    IntegrityError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.models import Model

from jifen.core import errors

T = TypeVar("T")
M = TypeVar("M", bound=Model)
logger = logging.getLogger(__name__)

RETRIES = 3  # runs of a transaction the database rolled back for a deadlock


def is_transient_db_error(exc: OperationalError) -> bool:
    """A deadlock or serialisation failure: the database rolled the transaction back, so
    running it again from the start is safe."""
    if getattr(exc.__cause__, "sqlstate", None) in ("40P01", "40001"):  # PostgreSQL
        return True
    return bool(exc.args) and exc.args[0] in (1213, 1205)  # MySQL/MariaDB: deadlock, lock wait


def database_reachable() -> bool:
    """Whether the database answers a trivial query now (the health check's question)."""
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return False
    return True


def returning_update() -> bool:
    """Whether ``UPDATE … RETURNING`` exists here (PostgreSQL, SQLite ≥ 3.35; not MySQL)."""
    vendor = connections[DEFAULT_DB_ALIAS].vendor
    if vendor == "postgresql":
        return True
    return vendor == "sqlite" and sqlite3.sqlite_version_info >= (3, 35)


def atomic_with_retry(work: Callable[[], T], *,
                      replay: Callable[[], T | None] | None = None,
                      replay_refusals: bool = False,
                      attempts: int = RETRIES, label: str = "") -> T:
    """Run ``work`` in one ``transaction.atomic()`` — the one loop every "atomic, replay,
    retry" write goes through.

    - A unique index refusing a row (``IntegrityError``: the same key was used before, or a
      concurrent call with it committed first) answers ``replay()`` when that finds the first
      answer; otherwise the error propagates.
    - With ``replay_refusals``, a refusal (``JifenError``) is answered the same way: a key
      already used answers its first result even when this run would now be refused (sold
      out since, limit reached).
    - A deadlock or serialisation failure is run again from the start, with a short random
      pause — only outside a caller's transaction: inside one, the database undid the
      caller's work too (MySQL undoes the whole transaction), so only the caller can start
      over.
    """
    tries = 1 if transaction.get_connection().in_atomic_block else attempts
    for attempt in range(1, tries + 1):
        try:
            with transaction.atomic():
                return work()
        except IntegrityError:
            if replay is not None and (done := replay()) is not None:
                return done
            raise
        except errors.JifenError:
            if replay_refusals and replay is not None and (done := replay()) is not None:
                return done
            raise
        except OperationalError as exc:
            if attempt == tries or not is_transient_db_error(exc):
                raise
            logger.warning("%s: %s; retrying (%d)", label or getattr(work, "__name__", "work"),
                           exc, attempt)
            time.sleep(random.uniform(0, 0.02 * attempt))
    raise AssertionError("unreachable")  # pragma: no cover


_STATEMENTS: dict[tuple, str] = {}


def statement(key: tuple, build: Callable[[], str]) -> str:
    """The SQL for ``key`` on this database, built by ``build`` once per process — for
    hot-path statements written by hand, where building them on every call cost more than
    running them (quoting is the backend's, so the vendor is part of the key)."""
    key = (connections[DEFAULT_DB_ALIAS].vendor, *key)
    text = _STATEMENTS.get(key)
    if text is None:
        text = _STATEMENTS[key] = build()
    return text


def select_columns(model: type[Model], alias: str) -> list[str]:
    """``alias.column`` for each of ``model``'s concrete fields, quoted, in field order —
    what ``instances_from_row`` reads back."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    return [f"{alias}.{quote(f.column)}" for f in model._meta.concrete_fields]


_CONVERTERS: weakref.WeakKeyDictionary[Any, dict[type[Model], list[tuple[Any, list[Any]]]]] = (
    weakref.WeakKeyDictionary())


def _converters(db: Any, model: type[Model]) -> list[tuple[Any, list[Any]]]:
    """Per concrete field of ``model``, its column and the converters the ORM applies to
    its values on this connection (booleans and times differ by database)."""
    per_model = _CONVERTERS.setdefault(db, {})
    found = per_model.get(model)
    if found is None:
        found = per_model[model] = []
        for f in model._meta.concrete_fields:
            col = f.get_col(model._meta.db_table)
            found.append((col, db.ops.get_db_converters(col) + f.get_db_converters(db)))
    return found


def instances_from_row(models: Sequence[type[Model]], row: Sequence[Any],
                       ) -> tuple[list[Any], list[Any]]:
    """Model instances from a row that read ``select_columns`` of each of ``models`` in
    turn, values converted as the ORM converts them — None for a model whose id is NULL
    (an outer join found nothing) — and the rest of the row."""
    db = connections[DEFAULT_DB_ALIAS]
    found: list[Any] = []
    at = 0
    for model in models:
        converters = _converters(db, model)
        values = list(row[at:at + len(converters)])
        at += len(converters)
        if values[0] is None:
            found.append(None)
            continue
        for n, (col, column_converters) in enumerate(converters):
            if values[n] is not None:
                for convert in column_converters:
                    values[n] = convert(values[n], col, db)
        found.append(model.from_db(
            db.alias, [f.attname for f in model._meta.concrete_fields], values))
    return found, list(row[at:])


BULK_ROWS = 500  # rows per multi-row statement: well inside every database's parameter limit


def insert_rows(model: type[Model], fields: Sequence[str], rows: list[tuple], *,
                returning: bool = False, key: int = 1) -> dict[Any, int]:
    """INSERT ``rows`` (values in the order of ``fields``, as the model's attributes hold
    them: ids for foreign keys) without the ORM's per-object work, for the batch paths.
    With ``returning``: {key: new id}, where the key is the value of the first field (or
    the tuple of the first ``key`` fields) and must be unique — rows are matched by it, not
    by the order they come back in, which no database promises."""
    if not rows:
        return {}
    db = connections[DEFAULT_DB_ALIAS]
    model_fields = [model._meta.get_field(name) for name in fields]
    if db.vendor == "postgresql":
        found = _insert_unnest(db, model, model_fields, rows, returning, key)
    else:
        found = _insert_values(db, model, model_fields, rows, returning, key)
    ids = {(row[0] if key == 1 else tuple(row[:key])): new_id for *row, new_id in found}
    if returning and len(ids) != len(rows):
        raise RuntimeError(f"{model.__name__}: {len(ids)} ids for {len(rows)} rows")
    return ids


def _returning(db: Any, model_fields: list, key: int) -> str:
    quote = db.ops.quote_name
    return " RETURNING " + ", ".join(quote(f.column) for f in model_fields[:key]) + ", id"


def _insert_values(db: Any, model: type[Model], model_fields: list, rows: list[tuple],
                   returning: bool, key: int) -> list[tuple]:
    """Multi-row ``INSERT … VALUES``, ``BULK_ROWS`` rows a statement (row by row where
    INSERT … RETURNING is missing, as on MySQL: lastrowid is per statement)."""
    quote = db.ops.quote_name
    columns = ", ".join(quote(f.column) for f in model_fields)
    one = "(" + ", ".join(["%s"] * len(model_fields)) + ")"
    size = BULK_ROWS if not returning or db.features.can_return_rows_from_bulk_insert else 1
    found: list[tuple] = []
    with db.cursor() as cursor:
        for start in range(0, len(rows), size):
            chunk = rows[start:start + size]
            query = (f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES "
                     + ", ".join([one] * len(chunk)))
            params = [f.get_db_prep_save(value, db)
                      for row in chunk for f, value in zip(model_fields, row, strict=True)]
            if not returning:
                cursor.execute(query, params)
            elif size == 1:
                cursor.execute(query, params)
                found.append((*chunk[0][:key], cursor.lastrowid))
            else:
                cursor.execute(query + _returning(db, model_fields, key), params)
                found += cursor.fetchall()
    return found


# Fields whose values psycopg sends as they are (get_db_prep_save changes nothing).
_PLAIN = {"AutoField", "BigAutoField", "BigIntegerField", "BooleanField", "CharField",
          "DateTimeField", "IntegerField", "PositiveIntegerField", "PositiveSmallIntegerField",
          "SmallIntegerField", "TextField", "ForeignKey"}


def _insert_unnest(db: Any, model: type[Model], model_fields: list, rows: list[tuple],
                   returning: bool, key: int) -> list[tuple]:
    """PostgreSQL: ``INSERT … SELECT * FROM unnest(column arrays)`` — one parameter per
    column, so the statement stays short (psycopg caches its parsing; a multi-row VALUES
    statement has thousands of placeholders to parse every time) — sent with server-side
    binding, whose arrays psycopg dumps in C."""
    quote = db.ops.quote_name
    columns = ", ".join(quote(f.column) for f in model_fields)
    # Text arrives as text[] and is cast to the column on insert, so a value too long for
    # it fails as it would through the ORM (an explicit ::varchar(n) cast would cut it).
    arrays = ", ".join(
        f"%s::{'text' if f.db_type(db).startswith('varchar') else f.db_type(db)}[]"
        for f in model_fields)
    query = (f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "
             f"SELECT * FROM unnest({arrays})")
    if returning:
        query += _returning(db, model_fields, key)
    params = []
    for n, f in enumerate(model_fields):
        if f.get_internal_type() in _PLAIN:
            params.append([row[n] for row in rows])
        else:
            params.append([f.get_db_prep_save(row[n], db) for row in rows])
    db.ensure_connection()
    cursor = db.make_debug_cursor(psycopg.Cursor(db.connection)) if db.queries_logged \
        else db.make_cursor(psycopg.Cursor(db.connection))
    with cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if returning else []


def insert_objects(objects: Sequence[Model], *, key: Sequence[str] = ()) -> None:
    """Save new model instances of one model with ``insert_rows``: every column is
    written, as ``save()`` would (``auto_now`` stamped, foreign keys of related objects
    saved since assignment taken). With ``key`` (fields unique together), the new ids are
    set on the instances."""
    if not objects:
        return
    model = type(objects[0])
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    names = [*key, *(f.name for f in fields if f.name not in key)]
    by_name = {f.name: f for f in fields}
    rows = []
    for obj in objects:
        obj._prepare_related_fields_for_save(operation_name="insert_objects")
        rows.append(tuple(by_name[name].pre_save(obj, True) for name in names))
    ids = insert_rows(model, names, rows, returning=bool(key), key=max(len(key), 1))
    for obj, row in zip(objects, rows, strict=True):
        if key:
            obj.pk = ids[row[0] if len(key) == 1 else row[:len(key)]]
        obj._state.adding = False
        obj._state.db = connection.alias


def insert_instance(obj: M, *, cursor: Any = None) -> M:
    """INSERT one new model instance as ``obj.save()`` would — every column, ``auto_now``
    stamped, each value prepared by its field — from a statement built once per process
    and model, and set its primary key; on ``cursor`` if given (the ledger's posting
    cursor). No model signals are sent: this is for hot paths whose models nothing listens
    to (ledger transactions, the mall's orders and their events, idempotency records),
    where the ORM's per-call query building cost more than the database's work."""
    db = connections[DEFAULT_DB_ALIAS]
    model = type(obj)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    returning = db.features.can_return_columns_from_insert

    def build() -> str:
        quote = db.ops.quote_name
        sql = (f"INSERT INTO {quote(model._meta.db_table)} "
               f"({', '.join(quote(f.column) for f in fields)}) "
               f"VALUES ({', '.join(['%s'] * len(fields))})")
        return sql + (f" RETURNING {quote(model._meta.pk.column)}" if returning else "")

    sql = statement(("instance", model), build)
    obj._prepare_related_fields_for_save(operation_name="insert_instance")
    params = [f.get_db_prep_save(f.pre_save(obj, True), db) for f in fields]
    if cursor is None:
        with db.cursor() as fresh:
            obj.pk = _insert_one(fresh, sql, params, returning)
    else:
        obj.pk = _insert_one(cursor, sql, params, returning)
    obj._state.adding = False
    obj._state.db = db.alias
    return obj


def _insert_one(cursor: Any, sql: str, params: list[Any], returning: bool) -> Any:
    cursor.execute(sql, params)
    return cursor.fetchone()[0] if returning else cursor.lastrowid


def locked_singleton(model: type[Model]) -> Any:
    """The one row of a settings model (site settings, ledger policy), created with its
    defaults if missing, locked for the caller's transaction to change. Only writers call
    this; readers take the unsaved defaults until a row exists."""
    rows = model._default_manager.select_for_update().order_by("pk")
    row = rows.first()
    if row is None:
        model._default_manager.get_or_create(pk=1)  # a concurrent first writer may win
        row = rows.first()
    return row
