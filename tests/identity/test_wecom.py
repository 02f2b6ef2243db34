"""WeCom's snsapi_base flow against a fake WeCom on 127.0.0.1: the browser goes to the
authorize URL, comes back with a code, and the server trades it (with the application's
access token) for the member's userid, which links to the employee with that number."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client
from django.urls import reverse

from jifen.people.services import mark_employee_left
from jifen.people.sso import services as sso_services
from tests.factories import EmployeeFactory
from tests.identity.fake_servers import fake_server

pytestmark = pytest.mark.django_db

CORP_ID, AGENT_ID, SECRET = "ww8c83d949a80b562d", "1000002", "wecom-app-secret-0001"


def _wecom(userid: str | None, *, token_error: bool = False):
    """WeCom's documented answers (developer.work.weixin.qq.com 91039, 91023)."""

    def gettoken(query, headers):
        if token_error or query.get("corpsecret") != [SECRET]:
            return 200, {"errcode": 40001, "errmsg": "invalid credential"}
        return 200, {"errcode": 0, "errmsg": "ok", "access_token": "accesstoken000001",
                     "expires_in": 7200}

    def getuserinfo(query, headers):
        if query.get("access_token") != ["accesstoken000001"] or query.get("code") != ["C0DE"]:
            return 200, {"errcode": 40029, "errmsg": "invalid code"}
        if userid is None:  # someone from outside the company
            return 200, {"errcode": 0, "errmsg": "ok", "openid": "oAAAAAAA",
                         "external_userid": "wmAAAAAAA"}
        return 200, {"errcode": 0, "errmsg": "ok", "userid": userid,
                     "user_ticket": "USER_TICKET"}

    return {"/cgi-bin/gettoken": gettoken, "/cgi-bin/auth/getuserinfo": getuserinfo}


@pytest.fixture
def wecom_app(super_admin):
    return sso_services.save_provider(
        actor=super_admin.user, provider="wecom", provider_id="", name="企业微信",
        client_id=CORP_ID, secret=SECRET, key=AGENT_ID, link_claim="userid",
        link_field="employee_no")


def _sign_in(settings, base: str, client: Client):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "wecom": {"AUTHORIZE_URL": f"{base}/connect/oauth2/authorize", "API_URL": base}}
    start = client.post(reverse("wecom_login"), {"process": "login"})
    assert start.status_code == 302
    target = urlsplit(start["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{base}/connect/oauth2/authorize"
    assert target.fragment == "wechat_redirect"
    params = parse_qs(target.query)
    assert params["appid"] == [CORP_ID]
    assert params["agentid"] == [AGENT_ID]
    assert params["scope"] == ["snsapi_base"]
    assert params["response_type"] == ["code"]
    assert params["redirect_uri"][0].endswith(reverse("wecom_callback"))
    return client.get(reverse("wecom_callback"), {"code": "C0DE", "state": params["state"][0]})


def test_a_wecom_member_signs_in_as_the_employee_with_that_number(settings, wecom_app):
    employee = EmployeeFactory(employee_no="zhangwei")
    with fake_server(_wecom("zhangwei")) as (base, received):
        client = Client()
        answer = _sign_in(settings, base, client)
    assert answer.status_code == 302
    assert client.get(reverse("portal:home")).wsgi_request.user == employee.user
    assert [path for path, _ in received] == ["/cgi-bin/gettoken", "/cgi-bin/auth/getuserinfo"]
    link = SocialAccount.objects.get(provider="wecom")
    assert (link.uid, link.user_id) == ("zhangwei", employee.user_id)
    # The second time the link is used as it is.
    with fake_server(_wecom("zhangwei")) as (base, _):
        client = Client()
        _sign_in(settings, base, client)
    assert client.get(reverse("portal:home")).status_code == 200
    assert SocialAccount.objects.count() == 1


def test_nobody_is_created_for_an_unknown_userid(settings, wecom_app):
    with fake_server(_wecom("nobody")) as (base, _):
        client = Client()
        answer = _sign_in(settings, base, client)
    assert answer.status_code == 302 and answer["Location"] == reverse("login")
    assert client.get(reverse("portal:home")).status_code == 302  # still signed out
    assert not SocialAccount.objects.exists()
    page = client.get(reverse("login")).content.decode()
    # "No employee matches your account at this identity provider …", in the site's language.
    assert "没有员工与您在该身份提供方的账号对应" in page or "No employee matches" in page


def test_someone_outside_the_company_and_a_bad_secret_are_refused(settings, wecom_app):
    EmployeeFactory(employee_no="zhangwei")
    for routes in (_wecom(None), _wecom("zhangwei", token_error=True)):
        with fake_server(routes) as (base, _):
            client = Client()
            answer = _sign_in(settings, base, client)
        assert answer.status_code in (200, 302)
        assert client.get(reverse("portal:home")).status_code == 302
    assert not SocialAccount.objects.exists()


def test_an_off_boarded_employee_cannot_sign_in_through_wecom(settings, wecom_app, super_admin):
    employee = EmployeeFactory(employee_no="lisi")
    with fake_server(_wecom("lisi")) as (base, _):
        client = Client()
        _sign_in(settings, base, client)
    assert client.get(reverse("portal:home")).status_code == 200
    mark_employee_left(employee=employee, actor=super_admin.user, left_on=None)
    # The open session ended with the leaving, and the link no longer signs in.
    assert client.get(reverse("portal:home")).status_code == 302
    with fake_server(_wecom("lisi")) as (base, _):
        client = Client()
        _sign_in(settings, base, client)
    assert client.get(reverse("portal:home")).status_code == 302


