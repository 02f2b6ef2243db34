"""WeCom's OAuth for members of the company (developer.work.weixin.qq.com, 91022 and
91023): the browser is sent to open.weixin.qq.com with ``appid`` = corp id, ``agentid``
and scope ``snsapi_base``; it comes back with ``code``. The server then takes the
application's access token (``GET /cgi-bin/gettoken?corpid=…&corpsecret=…``) and trades
the code for the member's ``userid`` (``GET /cgi-bin/auth/getuserinfo?access_token=…&code=…``).
Both answers carry ``errcode`` (0 on success)."""

from __future__ import annotations

from typing import Any

from allauth.socialaccount import app_settings
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.oauth2.client import OAuth2Client, OAuth2Error
from allauth.socialaccount.providers.oauth2.views import (
    OAuth2Adapter,
    OAuth2CallbackView,
    OAuth2LoginView,
)
from django.http import HttpRequest


def _endpoints() -> dict[str, str]:
    return (app_settings.PROVIDERS or {}).get("wecom", {})


def _api_url(path: str) -> str:
    return _endpoints().get("API_URL", "https://qyapi.weixin.qq.com").rstrip("/") + path


class WeComOAuth2Client(OAuth2Client):
    client_id_parameter = "appid"

    def get_redirect_url(self, authorization_url: str, scope: Any, extra_params: Any) -> str:
        # WeCom wants its fragment after the query (it reads nothing from it).
        return super().get_redirect_url(authorization_url, scope, extra_params) + "#wechat_redirect"

    def get_access_token(self, code: str, pkce_code_verifier: str | None = None,
                         extra_data: Any = None) -> dict[str, Any]:
        with get_adapter().get_requests_session() as sess:
            resp = sess.get(_api_url("/cgi-bin/gettoken"), params={
                "corpid": self.consumer_key, "corpsecret": self.consumer_secret})
        data = _json(resp)
        if data.get("errcode", 0) != 0 or not data.get("access_token"):
            raise OAuth2Error(f"WeCom gettoken: {data.get('errcode')} {data.get('errmsg')}")
        return {"access_token": data["access_token"], "expires_in": data.get("expires_in")}


def _json(resp: Any) -> dict[str, Any]:
    try:
        data = resp.json()
    except ValueError as exc:
        raise OAuth2Error(f"WeCom answered {resp.status_code} without JSON") from exc
    if not isinstance(data, dict):
        raise OAuth2Error("WeCom answered with something other than an object")
    return data


class WeComOAuth2Adapter(OAuth2Adapter):
    provider_id = "wecom"
    client_class = WeComOAuth2Client
    access_token_method = "GET"  # nosec

    @property
    def authorize_url(self) -> str:  # type: ignore[override]
        return _endpoints().get("AUTHORIZE_URL",
                                "https://open.weixin.qq.com/connect/oauth2/authorize")

    @property
    def access_token_url(self) -> str:  # type: ignore[override]
        return _api_url("/cgi-bin/gettoken")

    def complete_login(self, request: HttpRequest, app: Any, token: Any, **kwargs: Any) -> Any:
        code = request.GET.get("code", "")
        with get_adapter().get_requests_session() as sess:
            resp = sess.get(_api_url("/cgi-bin/auth/getuserinfo"),
                            params={"access_token": token.token, "code": code})
        data = _json(resp)
        if data.get("errcode", 0) != 0:
            raise OAuth2Error(f"WeCom getuserinfo: {data.get('errcode')} {data.get('errmsg')}")
        # Older answers spell it UserId; someone outside the company gets only an openid.
        userid = data.get("userid") or data.get("UserId")
        if not userid:
            raise OAuth2Error("WeCom: not a member of the company")
        return self.get_provider().sociallogin_from_response(request, {"userid": str(userid)})


oauth2_login = OAuth2LoginView.adapter_view(WeComOAuth2Adapter)
oauth2_callback = OAuth2CallbackView.adapter_view(WeComOAuth2Adapter)
