"""Tests of a data migration: the database taken back to the migration before it, then
forward again. Such tests run DDL and their own transactions, so mark them
``django_db(transaction=True)``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrated_back_to(target: tuple[str, str]) -> Callable[..., Iterator[MigrationExecutor]]:
    """A fixture giving the executor of a database migrated back to ``target``; forward to
    the latest at the end in any case, so that the next test finds the schema it expects."""

    @pytest.fixture
    def executor() -> Iterator[MigrationExecutor]:
        executor = MigrationExecutor(connection)
        executor.migrate([target])
        yield executor
        migrate_to_latest()

    return executor


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
