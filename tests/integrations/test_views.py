"""The API key pages: only super admins, the plain key shown once, revoking works."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jifen.core.models import AuditEntry
from jifen.integrations.models import ApiKey
from jifen.integrations.services import authenticate_api_key, create_api_key

pytestmark = pytest.mark.django_db


def test_only_super_admins_manage_api_keys(client, hr_admin, employee):
    for who in (employee, hr_admin):
        client.force_login(who.user)
        assert client.get(reverse("console:api_keys")).status_code == 403
        response = client.post(reverse("console:api_keys"),
                               {"name": "x", "scopes": ["employees:read"]})
        assert response.status_code == 403
    assert not ApiKey.objects.exists()


def test_a_new_key_is_shown_once_and_works(client, super_admin):
    client.force_login(super_admin.user)
    response = client.post(reverse("console:api_keys"),
                           {"name": "北森 HR", "scopes": ["employees:read", "employees:write"]})
    assert response.status_code == 200
    plain = response.context["plain_key"]
    assert plain in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    key = authenticate_api_key(plain)
    assert key is not None and key.scopes == ["employees:read", "employees:write"]
    assert key.created_by == super_admin.user

    again = client.get(reverse("console:api_keys")).content.decode()
    assert plain not in again
    assert "北森 HR" in again and key.prefix in again


def test_a_key_needs_a_name_and_a_scope(client, super_admin):
    client.force_login(super_admin.user)
    response = client.post(reverse("console:api_keys"), {"name": "", "scopes": []})
    form = response.context["form"]
    assert "name" in form.errors and "scopes" in form.errors
    assert not ApiKey.objects.exists()


def test_revoking_a_key_stops_it_and_is_audited(client, super_admin):
    key, plain = create_api_key(name="考勤", scopes=["events:write"], actor=super_admin.user)
    client.force_login(super_admin.user)
    assert client.get(reverse("console:api_key_revoke", args=[key.pk])).status_code == 405
    response = client.post(reverse("console:api_key_revoke", args=[key.pk]))
    assert response.status_code == 302
    assert authenticate_api_key(plain) is None
    assert AuditEntry.objects.filter(action="apikey.revoke", object_id=str(key.pk)).exists()
    page = client.get(reverse("console:api_keys")).content.decode()
    assert reverse("console:api_key_revoke", args=[key.pk]) not in page


def test_scope_help_is_in_the_language_of_the_page(client, super_admin):
    """The labels were built once when the module loaded, in whatever language was active
    then: an English page showed Chinese help."""
    client.force_login(super_admin.user)
    pages = {}
    for language in ("en", "zh-hans"):
        client.cookies["django_language"] = language
        pages[language] = client.get(reverse("console:api_keys")).content.decode()
    assert "employees:read — Read employees and departments" in pages["en"]
    assert "employees:read — 读取员工和部门" in pages["zh-hans"]


def test_a_key_may_get_its_own_rate_limit(client, super_admin):
    client.force_login(super_admin.user)
    client.post(reverse("console:api_keys"),
                {"name": "考勤", "scopes": ["events:write"], "rate_limit": "30"})
    assert ApiKey.objects.get(name="考勤").rate_limit == 30
    refused = client.post(reverse("console:api_keys"),
                          {"name": "薪酬", "scopes": ["events:write"], "rate_limit": "0"})
    assert "rate_limit" in refused.context["form"].errors
    assert not ApiKey.objects.filter(name="薪酬").exists()
    with_default = client.post(reverse("console:api_keys"),
                               {"name": "培训", "scopes": ["events:write"]})
    assert with_default.status_code == 200
    assert ApiKey.objects.get(name="培训").rate_limit is None
