"""/api/v1/api-keys: the console's API-keys page for systems and super admins' tokens."""

from __future__ import annotations

import json

import pytest

from jifen.core.models import AuditEntry
from jifen.core.roles import Role
from jifen.integrations.models import ApiKey
from jifen.people.services import issue_access_token
from tests.earning.test_api import key_with

pytestmark = pytest.mark.django_db


def call(client, method, path, token, body=None):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if method == "get":
        return client.get(path, **auth)
    return client.post(path, data=json.dumps(body or {}), content_type="application/json",
                       **auth)


def test_an_admin_key_creates_a_key_that_works_and_revokes_it(client):
    admin = key_with("admin")
    made = call(client, "post", "/api/v1/api-keys", admin,
                {"name": "考勤系统", "scopes": ["events:write"], "rate_limit": 120})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["scopes"] == ["events:write"] and body["rate_limit"] == 120
    new_key = body["key"]
    assert body["prefix"] in new_key
    # The new key works for what it was given, and only that.
    assert call(client, "get", "/api/v1/event-types", new_key).status_code == 200
    assert call(client, "get", "/api/v1/employees", new_key).status_code == 403

    listed = call(client, "get", "/api/v1/api-keys", admin).json()
    assert "key" not in listed[0] and {k["name"] for k in listed} >= {"考勤系统"}

    revoked = call(client, "post", f"/api/v1/api-keys/{body['id']}/revoke", admin)
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert call(client, "get", "/api/v1/event-types", new_key).status_code == 401
    # Both on the audit trail, under the admin key's name.
    assert set(AuditEntry.objects.filter(actor_label__startswith="API key test",
                                         object_id=str(body["id"]))
               .values_list("action", flat=True)) == {"apikey.create", "apikey.revoke"}


def test_a_key_cannot_mint_a_stronger_key_or_manage_keys_without_admin(client):
    hr_key = key_with("employees:write", "employees:read")
    refused = call(client, "post", "/api/v1/api-keys", hr_key,
                   {"name": "x", "scopes": ["employees:read"]})
    assert refused.status_code == 403
    assert call(client, "get", "/api/v1/api-keys", hr_key).status_code == 403
    assert ApiKey.objects.count() == 1  # only the caller's own


def test_an_hr_admin_token_may_not_but_a_super_admins_may(client, make_role_employee):
    hr = make_role_employee(Role.HR_ADMIN)
    hr_token = issue_access_token(user=hr.user)[1]
    assert call(client, "post", "/api/v1/api-keys", hr_token,
                {"name": "x", "scopes": ["employees:read"]}).status_code == 403
    boss = make_role_employee(Role.SUPER_ADMIN)
    boss_token = issue_access_token(user=boss.user)[1]
    made = call(client, "post", "/api/v1/api-keys", boss_token,
                {"name": "薪酬系统", "scopes": ["reports:read", "admin"]})
    assert made.status_code == 201
    assert ApiKey.objects.get(pk=made.json()["id"]).created_by == boss.user


def test_bad_input_is_refused_and_nothing_is_created(client):
    admin = key_with("admin")
    for body in ({"name": "", "scopes": ["events:write"]},
                 {"name": "x", "scopes": ["root"]},
                 {"name": "x", "scopes": []},
                 {"name": "x", "scopes": ["events:write"], "rate_limit": 0}):
        answer = call(client, "post", "/api/v1/api-keys", admin, body)
        assert answer.status_code == 422, (body, answer.content)
    assert ApiKey.objects.count() == 1
    assert call(client, "post", "/api/v1/api-keys/999999/revoke", admin).status_code == 404
