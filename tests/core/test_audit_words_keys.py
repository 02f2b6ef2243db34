"""API keys say whether they work in words made for keys: 启用 / 已停用, not the
employee's 在职 ("employed") that the bare word "Active" translates to elsewhere."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from jifen.integrations.services import create_api_key, revoke_api_key

pytestmark = pytest.mark.django_db


def _states(page: str) -> list[str]:
    return re.findall(r'data-testid="key-state">([^<]*)<', page)


def test_key_badges_read_enabled_and_disabled_in_chinese_and_english(super_admin):
    create_api_key(name="HR sync", scopes=["employees:read"], actor=super_admin.user)
    old, _plain = create_api_key(name="Old sync", scopes=["employees:read"],
                                 actor=super_admin.user)
    revoke_api_key(key=old, actor=super_admin.user)
    client = Client()
    client.force_login(super_admin.user)
    chinese = client.get(reverse("console:api_keys")).content.decode()
    assert sorted(_states(chinese)) == ["启用", "已停用"]
    assert "在职" not in chinese
    client.cookies["django_language"] = "en"
    english = client.get(reverse("console:api_keys")).content.decode()
    assert sorted(_states(english)) == ["Active", "Revoked"]


def test_a_keys_scopes_say_what_they_allow(super_admin):
    create_api_key(name="HR sync", scopes=["employees:read"], actor=super_admin.user)
    client = Client()
    client.force_login(super_admin.user)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("console:api_keys")).content.decode()
    assert 'title="Read employees and departments"' in page
