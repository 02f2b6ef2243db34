"""Failed sign-ins are counted where every server process sees them."""

import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection

from jifen.core import throttle

ASK_ANOTHER_PROCESS = """
import django
django.setup()
from jifen.core import errors, throttle
for who, address in (("zhangwei", "10.0.0.7"), ("lina", "10.0.0.8")):
    try:
        throttle.check_login_allowed(who, address)
        print(who, "may try")
    except errors.RateLimited:
        print(who, "paused")
"""


@pytest.mark.django_db(transaction=True)
def test_failures_counted_by_one_process_pause_sign_in_in_another():
    """Without Redis each gunicorn worker kept its own count, so a server of four workers
    allowed four times the tries. The count now lives in the database."""
    if connection.vendor == "sqlite":
        pytest.skip("the SQLite test database lives in this process's memory")
    if settings.CACHE_IS_SHARED:
        pytest.skip("Redis configured: the shared cache is Redis, not the database")
    for _ in range(settings.LOGIN_THROTTLE_LIMIT):
        throttle.record_login_failure("zhangwei", "10.0.0.7")
    database = urlsplit(os.environ["JIFEN_DATABASE_URL"])._replace(
        path="/" + connection.settings_dict["NAME"]).geturl()
    env = {**os.environ, "JIFEN_DATABASE_URL": database,
           "DJANGO_SETTINGS_MODULE": "jifen.settings"}
    answer = subprocess.run([sys.executable, "-c", ASK_ANOTHER_PROCESS], env=env,
                            capture_output=True, text=True, timeout=120, check=True)
    assert answer.stdout.split("\n")[:2] == ["zhangwei paused", "lina may try"]


@pytest.mark.django_db
def test_a_successful_sign_in_clears_only_that_accounts_count():
    for _ in range(settings.LOGIN_THROTTLE_LIMIT - 1):
        throttle.record_login_failure("zhangwei", "10.0.0.7")
    throttle.clear_login_failures("zhangwei", "10.0.0.7")
    for _ in range(settings.LOGIN_THROTTLE_LIMIT - 1):
        throttle.record_login_failure("zhangwei", "10.0.0.7")
    throttle.check_login_allowed("zhangwei", "10.0.0.7")  # cleared: only 4 since
    throttle.record_login_failure("zhangwei", "10.0.0.7")
    with pytest.raises(throttle.errors.RateLimited):
        throttle.check_login_allowed("zhangwei", "10.0.0.7")
