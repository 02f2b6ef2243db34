from __future__ import annotations

from typing import Any

from allauth.socialaccount.providers.base import ProviderAccount
from allauth.socialaccount.providers.oauth2.provider import OAuth2Provider

from jifen.people.sso.wecom.views import WeComOAuth2Adapter


class WeComAccount(ProviderAccount):
    def to_str(self) -> str:
        return str(self.account.extra_data.get("userid") or super().to_str())


class WeComProvider(OAuth2Provider):
    """A WeCom self-built application (自建应用): client id = corp id (企业ID), secret =
    the application's Secret, key = its AgentId."""

    id = "wecom"
    name = "WeCom"
    account_class = WeComAccount
    oauth2_adapter_class = WeComOAuth2Adapter

    def get_default_scope(self) -> list[str]:
        return ["snsapi_base"]

    def get_auth_params(self) -> dict[str, Any]:
        params = dict(super().get_auth_params())
        params["agentid"] = self.app.key
        return params

    def extract_uid(self, data: dict[str, Any]) -> str:
        return str(data["userid"])

    def extract_common_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {}


provider_classes = [WeComProvider]
