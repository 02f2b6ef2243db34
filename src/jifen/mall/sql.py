"""The mall's hand-written SQL and its vendor branches — the order hot path only.

Placing an order is the busiest write of the platform: on it, the ORM's query building cost
more than the database's work (docs/decisions/0006), so its statements are written here by
hand, built once per process (``jifen.core.db.statement``). Everything else in the mall
goes through the ORM. Each vendor branch is pinned by ``tests/mall/test_sql.py`` on SQLite,
PostgreSQL and MariaDB.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import F

from jifen.core.db import instances_from_row, returning_update, select_columns, statement
from jifen.mall.models import Campaign, Category, Item, Order, RedemptionWindow


def stock_last() -> bool:
    """Where in an order's transaction the item's stock row is locked.

    The stock row is what a flash sale fights over, so the shorter it stays locked the
    better: on PostgreSQL the decrement comes last, just before commit (the order insert's
    foreign-key check takes ``FOR KEY SHARE``, which does not block the decrement). On
    MariaDB/MySQL that check takes a shared lock that would deadlock concurrent buyers
    upgrading it, so there the decrement comes first. Releasing follows the same order
    (purchase counter, ledger, stock — or stock first on MariaDB) so that two
    transactions never wait on each other in opposite orders. SQLite locks the whole
    database for the first write, so the order does not matter there: it goes first."""
    return connection.vendor == "postgresql"


# --- stock ---------------------------------------------------------------------------------


class StockLeft(NamedTuple):
    """An item's stock row just after an order took from it."""

    stock: int
    low_stock_threshold: int
    low_stock_alerted: bool


def _take_stock_returning_sql() -> str:
    qn = connection.ops.quote_name
    stock, sold = qn("stock"), qn("sold_count")
    return (f"UPDATE {qn(Item._meta.db_table)} SET {stock} = {stock} - %s, "
            f"{sold} = {sold} + %s WHERE {qn('id')} = %s AND {stock} >= %s "
            f"RETURNING {stock}, {qn('low_stock_threshold')}, {qn('low_stock_alerted')}")


def take_stock(item_id: int, quantity: int) -> StockLeft | None:
    """Take ``quantity`` from a limited item's stock by a conditional decrement (``… SET
    stock = stock - q WHERE id = … AND stock >= q``) and count it sold; answer the row's
    stock, low-stock threshold and alert flag after it — so the low-stock check needs no
    statement of its own unless the threshold is reached — or None when not enough stock
    is left (nothing changed). The row stays locked by the decrement until the caller's
    transaction ends.

    One statement where ``UPDATE … RETURNING`` exists (PostgreSQL, SQLite ≥ 3.35); on
    MariaDB/MySQL the decrement and then a read of the row it locked."""
    if returning_update():
        with connection.cursor() as cursor:
            cursor.execute(statement(("take-stock",), _take_stock_returning_sql),
                           [quantity, quantity, item_id, quantity])
            row = cursor.fetchone()
        return StockLeft(row[0], row[1], bool(row[2])) if row is not None else None
    taken = Item.objects.filter(pk=item_id, stock__gte=quantity).update(
        stock=F("stock") - quantity, sold_count=F("sold_count") + quantity)
    if not taken:
        return None
    stock, threshold, alerted = (Item.objects.filter(pk=item_id)
                                 .values_list("stock", "low_stock_threshold",
                                              "low_stock_alerted").get())
    return StockLeft(stock, threshold, bool(alerted))


def _count_sold_sql() -> str:
    qn = connection.ops.quote_name
    return (f"UPDATE {qn(Item._meta.db_table)} SET {qn('sold_count')} = "
            f"{qn('sold_count')} + %s WHERE {qn('id')} = %s")


def count_sold(item_id: int, quantity: int) -> None:
    """Count ``quantity`` more sold of an item of unlimited stock."""
    with connection.cursor() as cursor:
        cursor.execute(statement(("count-sold",), _count_sold_sql), [quantity, item_id])


# --- orders --------------------------------------------------------------------------------


def _set_hold_sql() -> str:
    qn = connection.ops.quote_name
    return (f"UPDATE {qn(Order._meta.db_table)} SET {qn('hold_txn_id')} = %s "
            f"WHERE {qn('id')} = %s")


def set_order_hold(order_id: int, hold_id: int) -> None:
    """Link a new order to the ledger transaction holding its points."""
    with connection.cursor() as cursor:
        cursor.execute(statement(("order-hold",), _set_hold_sql), [hold_id, order_id])


# item, category, parent category, window
ORDER_CONTEXT_MODELS = (Item, Category, Category, RedemptionWindow)


class OrderContextRow(NamedTuple):
    item: Item
    category: Category
    parent: Category | None
    window: RedemptionWindow | None  # the category's, else the parent's, else the default
    restricted: bool  # the item names eligible departments
    campaigns_running: bool  # some campaign runs at the moment asked about


def _order_context_sql() -> str:
    """The item, category, parent category and window, in that order, then whether the
    item names departments and whether any campaign runs."""
    qn = connection.ops.quote_name
    columns = [c for model, alias in zip(ORDER_CONTEXT_MODELS, "icpw", strict=True)
               for c in select_columns(model, alias)]
    through = Item.eligible_departments.through._meta.db_table
    default = (f"(SELECT d.{qn('id')} FROM {qn(RedemptionWindow._meta.db_table)} d "
               f"WHERE d.{qn('is_default')} = %s ORDER BY d.{qn('id')} LIMIT 1)")
    return (
        f"SELECT {', '.join(columns)}, "
        f"EXISTS (SELECT 1 FROM {qn(through)} e WHERE e.{qn('item_id')} = i.{qn('id')}), "
        f"EXISTS (SELECT 1 FROM {qn(Campaign._meta.db_table)} k "
        f"WHERE k.{qn('is_active')} = %s AND k.{qn('starts_at')} <= %s "
        f"AND k.{qn('ends_at')} > %s) "
        f"FROM {qn(Item._meta.db_table)} i "
        f"JOIN {qn(Category._meta.db_table)} c ON c.{qn('id')} = i.{qn('category_id')} "
        f"LEFT JOIN {qn(Category._meta.db_table)} p ON p.{qn('id')} = c.{qn('parent_id')} "
        f"LEFT JOIN {qn(RedemptionWindow._meta.db_table)} w ON w.{qn('id')} = "
        f"COALESCE(c.{qn('window_id')}, p.{qn('window_id')}, {default}) "
        f"WHERE i.{qn('id')} = %s"
    )


def order_context_row(item_id: int, now: datetime) -> OrderContextRow | None:
    """What placing an order needs to know about its item, in one statement instead of
    one per question: the item, its category and parent category, the window of the
    nearest of those two that has one (else the mall's default), whether the item is
    limited to some departments and whether any discount campaign runs at ``now``. None:
    no such item."""
    moment: Any = Campaign._meta.get_field("starts_at").get_db_prep_value(now, connection)
    with connection.cursor() as cursor:
        cursor.execute(statement(("order-context",), _order_context_sql),
                       [True, moment, moment, True, item_id])
        row = cursor.fetchone()
    if row is None:
        return None
    (item, category, parent, window), (restricted, campaigns) = instances_from_row(
        ORDER_CONTEXT_MODELS, row)
    return OrderContextRow(item, category, parent, window, bool(restricted), bool(campaigns))
