"""Database facts shared by the services."""

from __future__ import annotations

from django.db import OperationalError


def is_transient_db_error(exc: OperationalError) -> bool:
    """A deadlock or serialisation failure: the database rolled the transaction back, so
    running it again from the start is safe."""
    if getattr(exc.__cause__, "sqlstate", None) in ("40P01", "40001"):  # PostgreSQL
        return True
    return bool(exc.args) and exc.args[0] in (1213, 1205)  # MySQL/MariaDB: deadlock, lock wait
