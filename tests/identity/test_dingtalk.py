"""DingTalk's new-style OAuth (login.dingtalk.com, api.dingtalk.com v1.0) against a fake
DingTalk on 127.0.0.1: the code is traded for a user access token, ``users/me`` names the
person, and their e-mail links them to the employee."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.dingtalk.views import DingTalkOAuth2Adapter
from django.test import Client
from django.urls import reverse

from jifen.people.sso import services as sso_services
from tests.factories import EmployeeFactory
from tests.identity.fake_servers import fake_server

pytestmark = pytest.mark.django_db


def _dingtalk(email: str):
    """Answers shaped as open.dingtalk.com documents them (userAccessToken, users/me)."""

    def token(body, headers):
        if body.get("code") != "AUTH" or body.get("clientSecret") != "ding-secret-000001":
            return 400, {"code": "invalidParameter", "message": "code is invalid"}
        return 200, {"accessToken": "ding-user-token", "refreshToken": "r", "expireIn": 7200,
                     "corpId": "ding123"}

    def me(query, headers):
        if headers.get("x-acs-dingtalk-access-token") != "ding-user-token":
            return 401, {"code": "InvalidAuthentication"}
        return 200, {"nick": "张三", "avatarUrl": "", "mobile": "13800000000",
                     "openId": "openid-zs", "unionId": "union-zs", "email": email,
                     "stateCode": "86"}

    return {"/v1.0/oauth2/userAccessToken": token, "/v1.0/contact/users/me": me}


@pytest.fixture
def dingtalk(super_admin, monkeypatch):
    app = sso_services.save_provider(
        actor=super_admin.user, provider="dingtalk", provider_id="", name="钉钉",
        client_id="dingappkey", secret="ding-secret-000001", link_claim="email",
        link_field="email")

    def point_at(base: str) -> None:
        monkeypatch.setattr(DingTalkOAuth2Adapter, "authorize_url", f"{base}/oauth2/auth")
        monkeypatch.setattr(DingTalkOAuth2Adapter, "access_token_url",
                            f"{base}/v1.0/oauth2/userAccessToken")
        monkeypatch.setattr(DingTalkOAuth2Adapter, "profile_url",
                            f"{base}/v1.0/contact/users/me")

    return app, point_at


def _sign_in(client: Client) -> object:
    start = client.post(reverse("dingtalk_login"), {"process": "login"})
    params = parse_qs(urlsplit(start["Location"]).query)
    assert params["client_id"] == ["dingappkey"]
    # DingTalk comes back with authCode rather than code.
    return client.get(reverse("dingtalk_callback"),
                      {"authCode": "AUTH", "state": params["state"][0]})


def test_a_dingtalk_user_links_to_the_employee_with_that_email(dingtalk):
    _, point_at = dingtalk
    employee = EmployeeFactory(email="Zhang.San@Example.com")
    with fake_server(_dingtalk("zhang.san@example.com")) as (base, received):
        point_at(base)
        client = Client()
        _sign_in(client)
    assert client.get(reverse("portal:home")).wsgi_request.user == employee.user
    assert SocialAccount.objects.get(provider="dingtalk").uid == "openid-zs"
    assert [path for path, _ in received] == ["/v1.0/oauth2/userAccessToken",
                                              "/v1.0/contact/users/me"]


def test_two_employees_with_the_same_email_link_neither(dingtalk):
    _, point_at = dingtalk
    EmployeeFactory(email="shared@example.com")
    EmployeeFactory(email="shared@example.com")
    with fake_server(_dingtalk("shared@example.com")) as (base, _):
        point_at(base)
        client = Client()
        answer = _sign_in(client)
    assert answer["Location"] == reverse("login")
    assert client.get(reverse("portal:home")).status_code == 302
    assert not SocialAccount.objects.exists()
