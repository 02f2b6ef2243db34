"""Signing in through a real OpenID Connect provider (django-oauth-toolkit in a
subprocess): the whole redirect flow over HTTP, the ID token's checks, and leavers."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.test import Client, RequestFactory
from django.urls import reverse

from jifen.people.services import mark_employee_left
from tests.factories import EmployeeFactory
from tests.identity.conftest import IDP_PASSWORD, PROVIDER_ID

pytestmark = pytest.mark.django_db


def _sign_in(client: Client, username: str) -> object:
    """Start at jifen, sign in at the provider with requests, come back with its code."""
    start = client.post(reverse("openid_connect_login", kwargs={"provider_id": PROVIDER_ID}),
                        {"process": "login"})
    assert start.status_code == 302, start
    authorize = start["Location"]
    assert "code_challenge=" in authorize  # PKCE
    idp = requests.Session()
    login_url = authorize.split("/o/")[0] + "/login/"
    form = idp.get(login_url, params={"next": authorize.split(urlsplit(authorize).netloc)[1]},
                   timeout=10)
    token = idp.cookies["idp_csrftoken"]
    answer = idp.post(form.url, data={"username": username, "password": IDP_PASSWORD,
                                      "csrfmiddlewaretoken": token,
                                      "next": parse_qs(urlsplit(form.url).query)["next"][0]},
                      headers={"Referer": form.url}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = idp.get(urlsplit(form.url)._replace(path=answer.headers["Location"].split("?")[0],
                                               query=urlsplit(answer.headers["Location"]).query)
                   .geturl() if answer.headers["Location"].startswith("/")
                   else answer.headers["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text
    callback = urlsplit(back.headers["Location"])
    assert callback.path == reverse("openid_connect_callback",
                                    kwargs={"provider_id": PROVIDER_ID})
    return client.get(callback.path, parse_qs(callback.query))


def test_an_employee_signs_in_through_the_provider(oidc_app):
    employee = EmployeeFactory(employee_no="E90001")
    client = Client()
    answer = _sign_in(client, "E90001")
    assert answer.status_code == 302
    assert client.get(reverse("portal:home")).wsgi_request.user == employee.user
    link = SocialAccount.objects.get(provider=PROVIDER_ID)
    assert link.user_id == employee.user_id
    assert link.extra_data["id_token"]["employee_no"] == "E90001"


def test_someone_the_provider_knows_but_hr_does_not_is_refused(oidc_app):
    client = Client()
    answer = _sign_in(client, "E90404")
    assert answer["Location"] == reverse("login")
    assert client.get(reverse("portal:home")).status_code == 302
    assert not SocialAccount.objects.exists()


def test_an_off_boarded_employee_is_refused(oidc_app):
    employee = EmployeeFactory(employee_no="E90002")
    client = Client()
    _sign_in(client, "E90002")
    assert client.get(reverse("portal:home")).status_code == 200
    admin = EmployeeFactory()
    mark_employee_left(employee=employee, actor=admin.user)
    assert client.get(reverse("portal:home")).status_code == 302
    client = Client()
    answer = _sign_in(client, "E90002")
    assert answer["Location"] == reverse("login")
    assert client.get(reverse("portal:home")).status_code == 302


# --- the ID token's checks, on tokens signed with the provider's own key ------------------


def _id_token(oidc_provider, **claims) -> str:
    config = oidc_provider.discovery()
    keys = requests.get(config["jwks_uri"], timeout=10).json()["keys"]
    now = int(time.time())
    body = {"iss": config["issuer"], "aud": oidc_provider.client_id, "sub": "1",
            "iat": now, "exp": now + 300, "employee_no": "E90001", **claims}
    return jwt.encode(body, oidc_provider.private_key_pem, algorithm="RS256",
                      headers={"kid": keys[0]["kid"]})


def _decode(oidc_app, token: str) -> dict:
    request = RequestFactory().get("/")
    adapter = OpenIDConnectOAuth2Adapter(request, PROVIDER_ID)
    return adapter._decode_id_token(oidc_app, token)


def test_a_good_id_token_passes_the_checks(oidc_app, oidc_provider):
    assert _decode(oidc_app, _id_token(oidc_provider))["employee_no"] == "E90001"


def test_an_id_token_for_another_audience_is_refused(oidc_app, oidc_provider):
    with pytest.raises(OAuth2Error):
        _decode(oidc_app, _id_token(oidc_provider, aud="some-other-client"))


def test_an_expired_id_token_is_refused(oidc_app, oidc_provider):
    past = int(time.time()) - 3600
    with pytest.raises(OAuth2Error):
        _decode(oidc_app, _id_token(oidc_provider, iat=past - 300, exp=past))


def test_an_id_token_from_another_issuer_or_key_is_refused(oidc_app, oidc_provider):
    with pytest.raises(OAuth2Error):
        _decode(oidc_app, _id_token(oidc_provider, iss="https://evil.example.com/o"))
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    forged = _id_token(type("P", (), {"discovery": oidc_provider.discovery,
                                       "client_id": oidc_provider.client_id,
                                       "private_key_pem": other})())
    with pytest.raises(OAuth2Error):
        _decode(oidc_app, forged)
