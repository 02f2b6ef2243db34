"""The API twin of the system status page's retry button:
``POST /api/v1/system/tasks/{task_id}/retry``."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from jifen.core.models import AuditEntry
from jifen.core.roles import Role
from jifen.integrations.services import create_api_key
from jifen.people.services import issue_access_token
from tests.ops.test_status import CALLS, flaky


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def url(task_id: str) -> str:
    return f"/api/v1/system/tasks/{task_id}/retry"


# Transactional: the worker closes its connection after a failed task (PostgreSQL).
@pytest.mark.django_db(transaction=True)
def test_a_super_admin_retries_a_failed_task_once(client, super_admin, make_role_employee):
    CALLS.clear()
    flaky.enqueue(7)
    call_command("worker", batch=True, no_periodic=True, verbosity=0)
    failed = DBTaskResult.objects.get(status="FAILED")
    hr = issue_access_token(user=make_role_employee(Role.HR_ADMIN).user)[1]
    assert client.post(url(str(failed.pk)), **bearer(hr)).status_code == 403
    narrow = create_api_key(name="bi", scopes=["reports:read"])[1]
    assert client.post(url(str(failed.pk)), **bearer(narrow)).status_code == 403
    assert not AuditEntry.objects.filter(action="task.retry").exists()
    token = issue_access_token(user=super_admin.user)[1]
    answer = client.post(url(str(failed.pk)), **bearer(token))
    assert answer.status_code == 200 and answer.json()["task_id"] == str(failed.pk)
    call_command("worker", batch=True, no_periodic=True, verbosity=0)
    assert CALLS == [7, 7]
    assert AuditEntry.objects.filter(action="task.retry").count() == 1
    again = client.post(url(str(failed.pk)), **bearer(token))
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_a_made_up_id_is_404_and_nothing_is_logged(client, super_admin):
    token = issue_access_token(user=super_admin.user)[1]
    for made_up in ("x", "00000000-0000-0000-0000-000000000000"):
        assert client.post(url(made_up), **bearer(token)).status_code == 404
    assert not AuditEntry.objects.filter(action="task.retry").exists()
