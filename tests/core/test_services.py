from __future__ import annotations

import pytest

from jifen.core import errors
from jifen.core.models import AuditEntry
from jifen.core.selectors import settings_pinned, site_settings
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
def test_a_request_reads_the_settings_once_and_sees_its_own_change(
        super_admin, monkeypatch, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    reads = []
    real_get = cache.get
    monkeypatch.setattr(cache, "get", lambda *a, **k: reads.append(a[0]) or real_get(*a, **k))
    with settings_pinned():
        for _use in range(5):
            assert site_settings().platform_name == "积分商城"
        with django_capture_on_commit_callbacks(execute=True):
            update_site_settings(actor=super_admin.user, platform_name="星辰积分")
        assert site_settings().platform_name == "星辰积分"
    assert len([key for key in reads if "site-settings" in key]) == 1
    assert site_settings().platform_name == "星辰积分"  # after the request, from the store


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


@pytest.mark.django_db
def test_text_with_nul_characters_is_a_400_not_a_database_error(client):
    from jifen.integrations.services import create_api_key

    key = create_api_key(name="k", scopes=["admin"])[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    in_query = client.get("/api/v1/employees?q=a%00b", **auth)
    assert in_query.status_code == 400
    assert in_query.json()["error"]["code"] == "malformed_request"
    in_body = client.put("/api/v1/departments/X", data='{"name": "a\\u0000b"}',
                         content_type="application/json", **auth)
    assert in_body.status_code == 400


@pytest.mark.django_db
def test_a_value_the_database_refuses_is_a_422(client, monkeypatch):
    from django.db import DataError

    from jifen.integrations.services import create_api_key
    from jifen.people import selectors

    def refuse(**kwargs):
        raise DataError("value too long for type character varying(40)")

    monkeypatch.setattr(selectors, "search_employees", refuse)
    key = create_api_key(name="k", scopes=["admin"])[1]
    response = client.get("/api/v1/employees", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_value"


@pytest.mark.django_db
def test_reading_the_settings_writes_nothing_until_an_admin_saves_them(hr_admin):
    """Pages and postings read the settings inside their own transactions; a row created
    there and rolled back made concurrent writers deadlock on MariaDB. Reading answers
    the defaults; the first save creates the one row."""
    from jifen.core.models import SiteSettings
    from jifen.core.services import update_site_settings

    assert site_settings().platform_name == "积分商城"
    assert not SiteSettings.objects.exists()
    update_site_settings(actor=hr_admin.user, platform_name="星辰积分")
    update_site_settings(actor=hr_admin.user, point_unit_en="stars")
    row = SiteSettings.objects.get()
    assert (row.platform_name, row.point_unit_en) == ("星辰积分", "stars")
    assert site_settings().point_unit_en == "stars"


@pytest.mark.django_db
def test_a_change_made_by_another_process_shows_within_seconds(monkeypatch):
    """Without Redis every process caches the settings in its own memory, which another
    process's change cannot clear: the entry lives only a couple of seconds there."""
    import time

    from django.core.cache.backends import locmem

    from jifen.core.caching import LOCAL_CACHE_SECONDS
    from jifen.core.models import SiteSettings

    assert site_settings().platform_name == "积分商城"
    # Another process saves a change: the row changes, this process's cache does not.
    SiteSettings.objects.update_or_create(pk=1, defaults={"platform_name": "星辰积分"})
    assert site_settings().platform_name == "积分商城"
    later = time.time() + LOCAL_CACHE_SECONDS + 0.5
    monkeypatch.setattr(locmem.time, "time", lambda: later)
    assert site_settings().platform_name == "星辰积分"
