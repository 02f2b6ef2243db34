"""The posting machinery (``jifen.ledger.posting``): replay, conflict and retry of the
``posts`` wrapper every service runs in."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, OperationalError

from jifen.core import errors
from jifen.ledger.models import TransactionKind
from jifen.ledger.posting import posts
from tests.factories import EmployeeFactory
from tests.ledger.helpers import earn


@posts(TransactionKind.EARN)
def _refused_by_the_unique_index(*, idempotency_key: str):
    raise IntegrityError("duplicate key")


@pytest.mark.django_db
def test_a_key_posted_before_answers_with_the_first_posting():
    first = earn(EmployeeFactory(), 5, idempotency_key="posted-before")
    assert _refused_by_the_unique_index(idempotency_key="posted-before") == first


@pytest.mark.django_db
def test_a_key_used_for_another_movement_is_refused():
    earn(EmployeeFactory(), 5, idempotency_key="used-for-earning")

    @posts(TransactionKind.REDEEM)
    def spend_again(*, idempotency_key: str):
        raise IntegrityError("duplicate key")

    with pytest.raises(errors.Conflict) as exc:
        spend_again(idempotency_key="used-for-earning")
    assert exc.value.code == "idempotency_key_reused"


@pytest.mark.django_db
def test_a_refusal_with_no_first_posting_is_a_ledger_conflict():
    with pytest.raises(errors.Conflict) as exc:
        _refused_by_the_unique_index(idempotency_key="never-posted")
    assert exc.value.code == "ledger_conflict"
    assert isinstance(exc.value.__cause__, IntegrityError)


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_outside_a_transaction_is_run_again(caplog):
    runs = []

    @posts(TransactionKind.EARN)
    def deadlocks_once(*, idempotency_key: str) -> str:
        runs.append(idempotency_key)
        if len(runs) == 1:
            raise OperationalError(1213, "Deadlock found when trying to get lock")
        return "posted"

    assert deadlocks_once(idempotency_key="k") == "posted"
    assert len(runs) == 2
    assert any("ledger deadlocks_once" in r.getMessage() and "retrying" in r.getMessage()
               for r in caplog.records)


@pytest.mark.django_db
def test_a_deadlock_inside_the_callers_transaction_is_the_callers_to_retry():
    @posts(TransactionKind.EARN)
    def deadlocks(*, idempotency_key: str) -> str:
        raise OperationalError(1213, "Deadlock found when trying to get lock")

    with pytest.raises(OperationalError):
        deadlocks(idempotency_key="k")
