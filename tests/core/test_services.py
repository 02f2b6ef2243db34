from __future__ import annotations

import pytest

from jifen.core import errors
from jifen.core.models import AuditEntry
from jifen.core.selectors import site_settings
from jifen.core.services import update_site_settings


@pytest.mark.django_db
def test_settings_change_is_seen_at_once_and_audited_with_before_and_after(super_admin):
    assert site_settings().platform_name == "积分商城"
    update_site_settings(actor=super_admin.user, platform_name="星辰积分", primary_color="#1e88e5")
    assert site_settings().platform_name == "星辰积分"
    entry = AuditEntry.objects.get(action="settings.update")
    assert entry.changes() == [
        ("platform_name", "积分商城", "星辰积分"),
        ("primary_color", "#d63939", "#1e88e5"),
    ]
    assert entry.actor == super_admin.user


@pytest.mark.django_db
@pytest.mark.parametrize("changes", [{"primary_color": "red"}, {"decimals": 3},
                                     {"default_language": "fr"}])
def test_invalid_settings_are_refused_and_nothing_changes(super_admin, changes):
    with pytest.raises(errors.ValidationError):
        update_site_settings(actor=super_admin.user, **changes)
    fresh = site_settings()
    assert (fresh.primary_color, fresh.decimals, fresh.default_language) == (
        "#d63939", 0, "zh-hans")
    assert not AuditEntry.objects.filter(action="settings.update").exists()


@pytest.mark.django_db
def test_default_language_drives_pages_without_a_cookie(client, super_admin):
    update_site_settings(actor=super_admin.user, default_language="en")
    assert client.get("/api/v1/health")["Content-Language"] == "en"
    client.cookies["django_language"] = "zh-hans"
    assert client.get("/api/v1/health")["Content-Language"] == "zh-hans"


@pytest.mark.django_db
def test_api_errors_answered_before_our_handlers_still_use_the_error_shape(client):
    unknown = client.get("/api/v1/no-such-thing")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    wrong_method = client.delete("/api/v1/health")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in wrong_method["Allow"]
