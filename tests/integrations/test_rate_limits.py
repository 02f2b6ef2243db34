"""Per-key rate limits (issue #16): a key over its calls per minute gets 429 with
Retry-After and RateLimit-* headers and nothing is written; other keys are unaffected; the
next minute it works again. The clock is injected (``jifen.core.apiauth.clock``)."""

from __future__ import annotations

import os
import uuid

import pytest
from django.core.cache import caches
from django.test import Client

from jifen.core import apiauth
from jifen.integrations.services import create_api_key
from jifen.people.models import Department

pytestmark = pytest.mark.django_db


@pytest.fixture
def at(monkeypatch):
    """Set the limiter's clock: ``at(seconds)``."""
    now = {"t": 1_800_000_000.0}  # a minute boundary
    monkeypatch.setattr(apiauth, "clock", lambda: now["t"])

    def move(seconds: float) -> None:
        now["t"] = 1_800_000_000.0 + seconds
    return move


def _key(actor, limit):
    key, plain = create_api_key(name=f"sync {uuid.uuid4().hex[:6]}",
                                scopes=["employees:write"], actor=actor)
    key.rate_limit = limit
    key.save(update_fields=["rate_limit"])
    return plain


def _put(plain, code):
    return Client().put(f"/api/v1/departments/{code}", {"name": code},
                        content_type="application/json",
                        HTTP_AUTHORIZATION=f"Bearer {plain}")


def _over_the_limit_then_next_minute(super_admin, at):
    at(10)
    busy, quiet = _key(super_admin.user, 2), _key(super_admin.user, 2)
    first = _put(busy, "D1")
    assert first.status_code == 201
    assert first["RateLimit-Limit"] == "2" and first["RateLimit-Remaining"] == "1"
    assert _put(busy, "D2").status_code == 201
    refused = _put(busy, "D3")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused["Retry-After"] == "50" and refused["RateLimit-Remaining"] == "0"
    assert not Department.objects.filter(code="D3").exists()  # nothing written
    assert _put(quiet, "Q1").status_code == 201  # another key is unaffected
    at(61)  # the next minute
    assert _put(busy, "D3").status_code == 201


def test_a_key_over_its_limit_is_refused_until_the_next_minute(super_admin, at):
    _over_the_limit_then_next_minute(super_admin, at)


def test_the_site_default_applies_to_a_key_without_its_own(super_admin, at, settings):
    settings.JIFEN_API_KEY_RATE_LIMIT = 1
    at(0)
    plain = _key(super_admin.user, None)
    assert _put(plain, "S1").status_code == 201
    assert _put(plain, "S2").status_code == 429


@pytest.mark.skipif(os.environ.get("JIFEN_TEST_NO_REDIS") == "1", reason="no Redis")
def test_counted_in_redis_too(super_admin, at, settings):
    pytest.importorskip("django_redis")
    settings.CACHES = {**settings.CACHES, "default": {
        "BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/13",
        "KEY_PREFIX": f"jifen-parity-{uuid.uuid4().hex[:8]}"}}
    try:
        caches["default"].get("ping")
    except Exception:
        pytest.skip("Redis not reachable on 127.0.0.1:6379")
    _over_the_limit_then_next_minute(super_admin, at)
