"""The SCIM endpoints against scim2-tester, the python-scim project's compliance checker.

Every check runs; the test fails when any check ends in an error, except the ones listed
in DELIBERATE with the reason we answer differently."""

from __future__ import annotations

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_tester import Status, check_server

pytestmark = pytest.mark.django_db

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
# PATCH remove of attributes every jifen employee must have: the employee keeps them
# (a name, a status, an employee number, a department), so the attribute stays in the
# answer. Identity providers do not send these removals; docs/decisions/0021-scim.md.
DELIBERATE = {
    ("check_remove_attribute", "did not remove attribute 'name'"),
    ("check_remove_attribute", "did not remove attribute 'active'"),
    ("check_remove_attribute", f"did not remove attribute '{ENTERPRISE}'"),
    ("check_remove_attribute", f"did not remove attribute '{ENTERPRISE}:employeeNumber'"),
    ("check_remove_attribute", f"did not remove attribute '{ENTERPRISE}:department'"),
}


def _deliberate(title: str, reason: str) -> bool:
    return any(title == t and reason.endswith(r) for t, r in DELIBERATE)


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """Django's WSGI handler closes database connections when a request ends, which would
    close the test's transaction on PostgreSQL and MariaDB; its test client does the same
    as this."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_the_scim_server_passes_scim2_tester(scim_key, wsgi_keeps_the_test_connection):
    client = WSGISCIMClient(
        WSGIHandler(), base_url="http://testserver/scim/v2",
        headers={"Authorization": f"Bearer {scim_key}"},
    )
    results = check_server(client)
    failures = [f"{r.title}: {r.reason}" for r in results
                if r.status == Status.ERROR and not _deliberate(r.title, r.reason or "")]
    assert not failures, "\n".join(failures)
    assert sum(r.status == Status.SUCCESS for r in results) > 40
    # Users and Groups were both exercised: create, read, replace, patch and delete.
    titles = {r.title for r in results if r.status == Status.SUCCESS}
    assert {"object_creation", "object_query", "object_replacement", "object_deletion",
            "check_replace_attribute", "check_add_attribute"} <= titles
