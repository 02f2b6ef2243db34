"""core.db.insert_rows: the batch paths' multi-row insert."""

from __future__ import annotations

import pytest
from django.db import DataError, connection, transaction
from django.utils import timezone

from jifen.core.db import insert_rows
from jifen.core.models import PeriodicRun

pytestmark = pytest.mark.django_db


def test_rows_go_in_and_their_ids_come_back_by_key():
    now = timezone.now()
    ids = insert_rows(PeriodicRun, ("job", "period", "enqueued_at"),
                      [(f"job-{n}", "2026-11-24", now) for n in range(1200)], returning=True)
    assert len(ids) == 1200
    assert PeriodicRun.objects.get(pk=ids["job-777"]).job == "job-777"


@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite does not enforce lengths")
def test_a_value_too_long_for_its_column_fails_instead_of_being_cut():
    with pytest.raises(DataError), transaction.atomic():
        insert_rows(PeriodicRun, ("job", "period", "enqueued_at"),
                    [("x" * 81, "2026-11-24", timezone.now())])
    assert not PeriodicRun.objects.exists()
