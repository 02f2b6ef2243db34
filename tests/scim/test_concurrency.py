"""Identity providers retry and run in parallel: real threads racing on one user
(PostgreSQL or MariaDB; SQLite runs one writer at a time)."""

from __future__ import annotations

import pytest
from django.db import connection

from jifen.ledger import services as ledger
from jifen.ledger.models import LeavingPolicy, Transaction, TransactionKind
from jifen.ledger.verify import verify_ledger
from jifen.people.models import Employee, EmployeeStatus
from tests.ledger.helpers import key, spendable
from tests.ledger.test_concurrency import run_threads
from tests.scim.conftest import ScimClient, load_fixture

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.skipif(connection.vendor == "sqlite",
                       reason="needs PostgreSQL or MariaDB (JIFEN_DATABASE_URL)"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _ledger(transactional_db):
    ledger.ensure_company_accounts()
    yield
    assert verify_ledger() == []


def test_the_same_user_created_eight_times_at_once_exists_once(scim_key, many_connections):
    body = load_fixture("okta_create_user.json")

    def create(_index: int) -> int:
        return ScimClient(scim_key).post("/Users", body).status_code

    results, failures = run_threads(8, create)
    assert not failures
    assert sorted(results) == [201] + [409] * 7
    assert Employee.objects.count() == 1


def test_parallel_deactivations_forfeit_once(scim_key, hr_admin, many_connections):
    ledger.update_policy(actor=hr_admin.user, on_leaving=LeavingPolicy.FORFEIT)
    created = ScimClient(scim_key).post("/Users", load_fixture("entra_create_user.json")).json()
    employee = Employee.objects.get(pk=created["id"])
    ledger.adjust(employee=employee, amount=50, reason="bonus", actor=None,
                  idempotency_key=key())

    def deactivate(_index: int) -> int:
        return ScimClient(scim_key).patch(f"/Users/{created['id']}",
                                          load_fixture("entra_disable_user.json")).status_code

    results, failures = run_threads(6, deactivate)
    assert not failures
    assert results == [200] * 6
    employee.refresh_from_db()
    assert employee.status == EmployeeStatus.LEFT and spendable(employee) == 0
    assert Transaction.objects.filter(kind=TransactionKind.FORFEIT).count() == 1
