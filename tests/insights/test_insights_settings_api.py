"""The API twin of the insights settings form: ``GET``/``PATCH /api/v1/insights/settings``
(the CNY value of one point), with the console's permission rule and its audit entry."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jifen.core.models import AuditEntry
from jifen.core.roles import Role
from jifen.insights.models import DashboardSettings
from jifen.integrations.services import create_api_key
from jifen.people.services import issue_access_token
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/insights/settings"


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def patch(client, token: str, body: dict):
    return client.patch(URL, body, content_type="application/json", **bearer(token))


def test_hr_sets_the_value_and_it_is_audited_and_read_back(client, hr_admin):
    token = issue_access_token(user=hr_admin.user)[1]
    response = patch(client, token, {"cny_per_point": "0.25"})
    assert response.status_code == 200 and response.json() == {"cny_per_point": "0.2500"}
    assert DashboardSettings.objects.get().cny_per_point == Decimal("0.25")
    assert AuditEntry.objects.filter(action="insights.settings.update").count() == 1
    reader = create_api_key(name="bi", scopes=["reports:read"])[1]
    assert client.get(URL, **bearer(reader)).json() == {"cny_per_point": "0.2500"}


def test_bad_values_are_422_and_change_nothing(client, hr_admin):
    token = issue_access_token(user=hr_admin.user)[1]
    patch(client, token, {"cny_per_point": "0.25"})
    for bad in ("-1", "abc", "0.12345", "100000"):
        response = patch(client, token, {"cny_per_point": bad})
        assert response.status_code == 422, bad
        assert response.json()["error"]["code"] == "invalid_value"
    assert patch(client, token, {}).status_code == 422
    assert DashboardSettings.objects.get().cny_per_point == Decimal("0.25")
    assert AuditEntry.objects.filter(action="insights.settings.update").count() == 1


def test_who_may_not_change_it(client):
    manager = EmployeeFactory(roles=[Role.MANAGER])
    auditor = EmployeeFactory(roles=[Role.AUDITOR])
    for person in (manager, auditor):
        token = issue_access_token(user=person.user)[1]
        assert patch(client, token, {"cny_per_point": "9"}).status_code == 403
    reader = create_api_key(name="bi", scopes=["reports:read"])[1]
    assert patch(client, reader, {"cny_per_point": "9"}).status_code == 403
    other = create_api_key(name="x", scopes=["ledger:read"])[1]
    assert client.get(URL, **bearer(other)).status_code == 403
    assert not DashboardSettings.objects.exists()
    admin_key = create_api_key(name="ops", scopes=["admin"])[1]
    assert patch(client, admin_key, {"cny_per_point": "0.5"}).status_code == 200
