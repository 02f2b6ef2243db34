"""The API twin of the console's notification defaults grid: ``GET``/``PUT
/api/v1/notification-defaults`` — same service, same permission, audited."""

from __future__ import annotations

import pytest

from jifen.core.models import AuditEntry
from jifen.integrations.services import create_api_key
from jifen.notifications import selectors
from jifen.people.services import issue_access_token

pytestmark = pytest.mark.django_db
URL = "/api/v1/notification-defaults"
AWARD = "earning.award_approved"


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def put(client, token: str, body: dict):
    return client.put(URL, body, content_type="application/json", **bearer(token))


def _award(body: dict) -> dict:
    return next(k for k in body["kinds"] if k["kind"] == AWARD)["channels"]


def test_hr_turns_a_default_on_and_reads_it_back(client, make_role_employee, employee):
    token = issue_access_token(user=make_role_employee("hr_admin").user)[1]
    before = client.get(URL, **bearer(token))
    assert before.status_code == 200 and _award(before.json())["email"] is False
    response = put(client, token, {"kinds": [{"kind": AWARD, "channels": {"email": True}}]})
    assert response.status_code == 200 and _award(response.json())["email"] is True
    assert selectors.site_defaults() == {(AWARD, "email"): True}
    assert AuditEntry.objects.filter(action="notifications.defaults.update").count() == 1
    admin_key = create_api_key(name="ops", scopes=["admin"])[1]
    assert _award(client.get(URL, **bearer(admin_key)).json())["email"] is True


def test_bad_input_is_4xx_and_changes_nothing(client, make_role_employee):
    token = issue_access_token(user=make_role_employee("hr_admin").user)[1]
    unknown_kind = put(client, token, {"kinds": [{"kind": "nope", "channels": {"email": True}}]})
    assert unknown_kind.status_code == 422
    assert unknown_kind.json()["error"]["code"] == "unknown_value"
    # A valid change next to an unknown channel: neither is stored.
    mixed = put(client, token, {"kinds": [{"kind": AWARD,
                                           "channels": {"email": True, "fax": True}}]})
    assert mixed.status_code == 422
    assert put(client, token, {"kinds": "x"}).status_code == 422
    assert selectors.site_defaults() == {}
    assert not AuditEntry.objects.filter(action="notifications.defaults.update").exists()


def test_employees_and_narrow_keys_are_refused(client, employee):
    token = issue_access_token(user=employee.user)[1]
    assert client.get(URL, **bearer(token)).status_code == 403
    body = {"kinds": [{"kind": AWARD, "channels": {"email": True}}]}
    assert put(client, token, body).status_code == 403
    narrow = create_api_key(name="bi", scopes=["reports:read"])[1]
    assert put(client, narrow, body).status_code == 403
    assert selectors.site_defaults() == {}
