"""Hand-written SQL of the status page: the database's size, its largest tables and its
connections, in each vendor's own catalogue (DESIGN.md §2: SQL only in ``sql.py``)."""

from __future__ import annotations

from django.db import connection


def database_size() -> int | None:
    """Bytes the database takes on disk, or None when the vendor will not say."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database())")
            return int(cursor.fetchone()[0])
        if connection.vendor == "mysql":
            cursor.execute(
                "SELECT COALESCE(SUM(data_length + index_length), 0) "
                "FROM information_schema.tables WHERE table_schema = DATABASE()")
            return int(cursor.fetchone()[0])
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA page_count")
            pages = cursor.fetchone()[0]
            cursor.execute("PRAGMA page_size")
            return int(pages) * int(cursor.fetchone()[0])
    return None


def largest_tables(limit: int = 10) -> list[tuple[str, int]]:
    """(table, bytes with its indexes), largest first; empty where the vendor cannot tell
    (SQLite without the dbstat table)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'r' AND n.nspname = current_schema() "
                "ORDER BY 2 DESC LIMIT %s", [limit])
        elif connection.vendor == "mysql":
            cursor.execute(
                "SELECT table_name, data_length + index_length FROM information_schema.tables "
                "WHERE table_schema = DATABASE() ORDER BY 2 DESC LIMIT %s", [limit])
        elif connection.vendor == "sqlite":
            try:
                cursor.execute(
                    "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT %s",
                    [limit])
            except Exception:  # SQLite built without SQLITE_ENABLE_DBSTAT_VTAB
                return []
        else:
            return []
        return [(str(name), int(size or 0)) for name, size in cursor.fetchall()]


def connections() -> dict[str, int]:
    """Connections the database server holds for this database, by state; empty for SQLite
    (a file has no server)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT COALESCE(state, 'unknown'), COUNT(*) FROM pg_stat_activity "
                "WHERE datname = current_database() GROUP BY 1")
            return {str(state): int(count) for state, count in cursor.fetchall()}
        if connection.vendor == "mysql":
            cursor.execute("SHOW STATUS WHERE Variable_name IN ('Threads_connected', "
                           "'Threads_running')")
            names = {"Threads_connected": "connected", "Threads_running": "running"}
            return {names[name]: int(value) for name, value in cursor.fetchall()}
    return {}

