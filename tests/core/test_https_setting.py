"""One deploy setting, JIFEN_HTTPS, for a site behind a TLS proxy: Secure cookies, the
proxy's X-Forwarded-Proto believed, HSTS; and a deploy check that asks for it (issue 10,
finding 10: the session cookie was not Secure behind an HTTPS proxy unless a separate
setting was on)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.core import checks
from django.test import Client

from tests.factories import PASSWORD

READ_SETTINGS = """
import json
from django.conf import settings
print(json.dumps({name: getattr(settings, name, None) for name in (
    "HTTPS", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT")}))
"""


def settings_under(tmp_path, **env: str) -> dict:
    environ = {k: v for k, v in os.environ.items()
               if k not in {"JIFEN_HTTPS", "JIFEN_SECURE_COOKIES", "JIFEN_HSTS_SECONDS"}}
    environ.update(env, DJANGO_SETTINGS_MODULE="jifen.settings", JIFEN_VAR_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + READ_SETTINGS],
                         env=environ, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_without_https_nothing_trusts_the_proxy_or_marks_cookies_secure(tmp_path):
    values = settings_under(tmp_path)
    assert values["HTTPS"] is False
    assert values["SESSION_COOKIE_SECURE"] is False and values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert not values["SECURE_HSTS_SECONDS"]


@pytest.mark.parametrize("name", ["JIFEN_HTTPS", "JIFEN_SECURE_COOKIES"])
def test_one_setting_turns_on_everything_https_needs(tmp_path, name):
    values = settings_under(tmp_path, **{name: "1"})
    assert values["HTTPS"] is True
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_HSTS_SECONDS"] == 31536000
    assert values["SECURE_SSL_REDIRECT"] is False  # the proxy redirects plain HTTP


def test_hsts_can_be_turned_down(tmp_path):
    assert settings_under(tmp_path, JIFEN_HTTPS="1", JIFEN_HSTS_SECONDS="0")[
        "SECURE_HSTS_SECONDS"] == 0


HTTPS_ON = {"HTTPS": True, "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True,
            "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
            "SECURE_HSTS_SECONDS": 31536000}


@pytest.mark.django_db
def test_signing_in_through_the_https_proxy_sets_a_secure_session_cookie(settings, employee):
    for name, value in HTTPS_ON.items():
        setattr(settings, name, value)
    client = Client()
    page = client.get("/login/", headers={"X-Forwarded-Proto": "https"})
    assert page.cookies["csrftoken"]["secure"] is True
    response = client.post("/login/", {"username": employee.user.username,
                                       "password": PASSWORD},
                           headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 302
    assert response.cookies["sessionid"]["secure"] is True
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


@pytest.mark.django_db
def test_without_the_setting_the_cookie_behind_the_proxy_is_not_secure(employee):
    """What the attacker saw: behind the HTTPS proxy the session cookie went out plain."""
    response = Client().post("/login/", {"username": employee.user.username,
                                         "password": PASSWORD},
                             headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 302
    assert response.cookies["sessionid"]["secure"] == ""
    assert "Strict-Transport-Security" not in response.headers


# --- the deploy check ------------------------------------------------------------------


def deploy_warnings() -> list[checks.CheckMessage]:
    return [m for m in checks.run_checks(include_deployment_checks=True)
            if m.id == "jifen.W001"]


def test_a_public_host_without_https_is_warned_about(settings):
    settings.DEBUG, settings.HTTPS = False, False
    settings.ALLOWED_HOSTS = ["points.example.com", "localhost"]
    [warning] = deploy_warnings()
    assert "JIFEN_HTTPS" in warning.msg and "points.example.com" in warning.msg
    assert warning.level == checks.WARNING


@pytest.mark.parametrize("change", [
    {"HTTPS": True},
    {"DEBUG": True},
    {"ALLOWED_HOSTS": ["127.0.0.1", "localhost", "[::1]", "jifen.localhost"]},
])
def test_https_local_hosts_or_debug_need_no_warning(settings, change):
    settings.DEBUG, settings.HTTPS = False, False
    settings.ALLOWED_HOSTS = ["*"]
    for name, value in change.items():
        setattr(settings, name, value)
    assert deploy_warnings() == []


def test_the_check_runs_only_as_a_deploy_check(settings):
    settings.DEBUG, settings.HTTPS, settings.ALLOWED_HOSTS = False, False, ["*"]
    assert not [m for m in checks.run_checks() if m.id == "jifen.W001"]
