"""Sign-in attempts are reserved before the password is checked, per account and per
client address, in counters every server process shares and that move atomically."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection

from jifen.core import errors, throttle

ASK_ANOTHER_PROCESS = """
import django
django.setup()
from jifen.core import errors, throttle
for who, address in (("zhangwei", "10.0.0.9"), ("lina", "10.0.0.8")):
    try:
        throttle.reserve_sign_in(who, address)
        print(who, "may try")
    except errors.RateLimited:
        print(who, "paused")
"""


def _fail(account: int | str, address: str | None, times: int = 1) -> None:
    """``times`` attempts that were wrong: reserved and never given back."""
    for _ in range(times):
        throttle.reserve_sign_in(account, address)


def _allowed(account: int | str, address: str | None) -> bool:
    try:
        throttle.reserve_sign_in(account, address).succeeded()
    except errors.RateLimited:
        return False
    return True


@pytest.mark.django_db(transaction=True)
def test_failures_counted_by_one_process_pause_sign_in_in_another():
    """Without Redis each gunicorn worker kept its own count, so a server of four workers
    allowed four times the tries. The count lives in the database (or Redis)."""
    if connection.vendor == "sqlite":
        pytest.skip("the SQLite test database lives in this process's memory")
    if settings.CACHE_IS_SHARED:
        pytest.skip("Redis configured: the counters are in Redis, not the database")
    _fail("zhangwei", "10.0.0.7", settings.LOGIN_THROTTLE_LIMIT)
    database = urlsplit(os.environ["JIFEN_DATABASE_URL"])._replace(
        path="/" + connection.settings_dict["NAME"]).geturl()
    env = {**os.environ, "JIFEN_DATABASE_URL": database,
           "DJANGO_SETTINGS_MODULE": "jifen.settings"}
    answer = subprocess.run([sys.executable, "-c", ASK_ANOTHER_PROCESS], env=env,
                            capture_output=True, text=True, timeout=120, check=True)
    # The account is paused from another address too; another account is not.
    assert answer.stdout.split("\n")[:2] == ["zhangwei paused", "lina may try"]


@pytest.mark.django_db
def test_a_refused_attempt_has_its_password_never_checked_and_counts_nothing():
    _fail("zhangwei", "10.0.0.7", settings.LOGIN_THROTTLE_LIMIT)
    for _ in range(3):
        with pytest.raises(errors.RateLimited) as refused:
            throttle.reserve_sign_in("zhangwei", "10.0.0.7")
        assert refused.value.retry_after == settings.LOGIN_THROTTLE_WINDOW
    assert throttle.failures(account="zhangwei") == settings.LOGIN_THROTTLE_LIMIT
    # The address's count is given back when the account refuses.
    assert throttle.failures(address="10.0.0.7") == settings.LOGIN_THROTTLE_LIMIT


@pytest.mark.django_db
def test_a_successful_sign_in_gives_its_attempt_back_but_failures_stay_counted():
    _fail("zhangwei", "10.0.0.7", settings.LOGIN_THROTTLE_LIMIT - 1)
    for _ in range(10):
        assert _allowed("zhangwei", "10.0.0.7")  # each gives its reservation back
    assert throttle.failures(account="zhangwei") == settings.LOGIN_THROTTLE_LIMIT - 1
    _fail("zhangwei", "10.0.0.7")
    assert not _allowed("zhangwei", "10.0.0.7")


@pytest.mark.django_db
def test_a_locked_account_locks_out_nobody_else():
    _fail("zhangwei", "10.0.0.7", settings.LOGIN_THROTTLE_LIMIT)
    assert not _allowed("zhangwei", "10.0.0.8")  # the account, from anywhere
    assert _allowed("lina", "10.0.0.8")  # another account from another address
    assert _allowed("lina", "10.0.0.7")  # and even from the guesser's address


@pytest.mark.django_db
def test_made_up_usernames_from_one_client_lock_out_only_that_client():
    """21 failures with made-up usernames locked every user out when all shared one
    address; now they use up that client's own allowance and nobody else's."""
    limit = settings.LOGIN_THROTTLE_ADDRESS_LIMIT
    for n in range(limit):
        _fail(f"nobody{n}", "203.0.113.7")
    assert not _allowed("nobody-else", "203.0.113.7")
    assert not _allowed("zhangwei", "203.0.113.7")
    assert _allowed("zhangwei", "203.0.113.8")
    assert _allowed("nobody-else", "203.0.113.8")


@pytest.mark.django_db
def test_an_ipv6_client_is_one_client_across_its_slash_64():
    limit = settings.LOGIN_THROTTLE_ADDRESS_LIMIT
    for n in range(limit):
        _fail(f"nobody{n}", f"2001:db8:1:2::{n + 1:x}")
    assert not _allowed("zhangwei", "2001:db8:1:2:ffff::1")
    assert _allowed("zhangwei", "2001:db8:1:3::1")


@pytest.mark.django_db
def test_usernames_differing_only_in_case_share_a_count():
    _fail("ZhangWei", "10.0.0.7", settings.LOGIN_THROTTLE_LIMIT)
    assert not _allowed(" zhangwei", "10.0.0.8")


@pytest.mark.django_db
def test_unknown_usernames_differing_in_accents_and_width_share_a_count():
    """A spelling a database collation may take for the same name (MariaDB ignores accents
    and width) is not a fresh account to the throttle."""
    for spelling in ("álice", "àlice", "alicé", "ａlice", "ÄLİCE"):
        _fail(spelling, "10.0.0.7")
    assert throttle.failures(account="alice") == settings.LOGIN_THROTTLE_LIMIT
    assert not _allowed("Ａｌｉｃｅ", "10.0.0.8")
    assert _allowed("alicia", "10.0.0.8")


@pytest.mark.django_db
def test_a_known_account_is_counted_by_its_id_apart_from_any_name():
    _fail(42, "10.0.0.7", settings.LOGIN_THROTTLE_LIMIT)
    assert not _allowed(42, "10.0.0.8")
    assert _allowed("42", "10.0.0.8")  # a typed name that happens to be digits
    assert _allowed(43, "10.0.0.8")
    throttle.forget_account(42)
    assert _allowed(42, "10.0.0.8")


@pytest.mark.django_db
def test_an_expired_window_starts_a_new_count(settings):
    settings.LOGIN_THROTTLE_WINDOW = 60
    _fail("zhangwei", "10.0.0.7", settings.LOGIN_THROTTLE_LIMIT)
    if settings.CACHE_IS_SHARED:
        pytest.skip("Redis expires its keys itself")
    from jifen.people.models import AttemptCounter

    AttemptCounter.objects.update(expires_at="2000-01-01T00:00:00Z")
    assert _allowed("zhangwei", "10.0.0.7")
    _fail("zhangwei", "10.0.0.7", settings.LOGIN_THROTTLE_LIMIT - 1)
    assert throttle.failures(account="zhangwei") == settings.LOGIN_THROTTLE_LIMIT - 1


# --- a parallel burst ---------------------------------------------------------------------

GUESSERS = 16


def _burst(reserve) -> int:
    """Run ``reserve`` in GUESSERS threads released at once; how many were let through."""
    barrier = threading.Barrier(GUESSERS)
    admitted: list[bool] = []
    failures: list[BaseException] = []

    def guess() -> None:
        from django.db import connections

        try:
            barrier.wait(timeout=30)
            admitted.append(reserve())
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess) for _ in range(GUESSERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    return sum(admitted)


@pytest.mark.django_db(transaction=True)
def test_a_parallel_burst_gets_no_more_attempts_than_the_limit_in_the_database(many_connections):
    """16 parallel guessers got 10 password checks past a limit of 5: each read the count,
    found it under the limit, and only then counted. Now the reservation is one
    conditional UPDATE, checked before the password."""
    if connection.vendor == "sqlite":
        pytest.skip("threads need a database server (PostgreSQL, MariaDB)")
    from django.apps import apps

    store = throttle.TableCounters(apps.get_model(settings.THROTTLE_COUNTER_MODEL))
    limit = settings.LOGIN_THROTTLE_LIMIT
    assert _burst(lambda: store.reserve("throttle:test:burst", limit, 60)) == limit
    assert store.count("throttle:test:burst") == limit


@pytest.fixture
def redis_counters():
    """Counters in a real Redis (127.0.0.1:6379, database 13) under a key prefix of this
    test's own; skipped when no Redis answers."""
    from django_redis.cache import RedisCache

    url = os.environ.get("JIFEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
    cache = RedisCache(url, {"KEY_PREFIX": f"jifen-test-{uuid.uuid4().hex}"})
    try:
        cache.get("ping")
    except Exception:  # any failure to reach it means no Redis here
        pytest.skip(f"no Redis at {url}")
    yield throttle.CacheCounters(cache)
    cache.delete_many([f"throttle:test:{name}" for name in ("burst", "expiry")])


def test_a_parallel_burst_gets_no_more_attempts_than_the_limit_in_redis(redis_counters):
    limit = settings.LOGIN_THROTTLE_LIMIT
    assert _burst(lambda: redis_counters.reserve("throttle:test:burst", limit, 60)) == limit
    assert redis_counters.count("throttle:test:burst") == limit
    redis_counters.release("throttle:test:burst")
    assert redis_counters.count("throttle:test:burst") == limit - 1


def test_redis_counters_expire_with_their_window(redis_counters):
    assert redis_counters.reserve("throttle:test:expiry", 1, 60)
    assert not redis_counters.reserve("throttle:test:expiry", 1, 60)
    ttl = redis_counters.cache.ttl("throttle:test:expiry")
    assert 0 < ttl <= 60
