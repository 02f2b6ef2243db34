"""The API of sign-in administration (scope ``admin``: super admins' tokens or admin
keys): the sign-in policy, identity providers, and resetting an employee's second factor —
the same services as the console's Sign-in and SSO page."""

from __future__ import annotations

from typing import Literal

from allauth.socialaccount.models import SocialApp
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from jifen.core import errors
from jifen.core.apiauth import principal
from jifen.people.mfa import services as mfa_services
from jifen.people.sso import selectors, services

router = Router(tags=["sign-in"])

RoleCode = Literal["employee", "manager", "hr_admin", "mall_admin", "auditor"]
ProviderKind = Literal["openid_connect", "wecom", "dingtalk", "feishu"]


class PolicyIO(Schema):
    password_disabled_roles: list[RoleCode] | None = None
    require_second_factor_for_admins: bool | None = None


class ProviderIn(Schema):
    provider: ProviderKind
    name: str = Field(min_length=1, max_length=40)
    provider_id: str = Field(default="", max_length=40)
    server_url: str = Field(default="", max_length=500)
    client_id: str = Field(min_length=1, max_length=191)
    secret: str | None = Field(default=None, max_length=191)
    key: str = Field(default="", max_length=191)
    link_claim: str = Field(default="", max_length=100)
    link_field: Literal["employee_no", "email", ""] = ""


class ProviderOut(Schema):
    id: int
    provider: str
    provider_id: str
    name: str
    client_id: str
    key: str
    server_url: str
    link_claim: str
    link_field: str
    secret: str  # only its last four characters


class ResetOut(Schema):
    removed: int


def _out(app: SocialApp) -> dict:
    conf = app.settings or {}
    return {"id": app.pk, "provider": app.provider, "provider_id": app.provider_id,
            "name": app.name, "client_id": app.client_id, "key": app.key,
            "server_url": conf.get("server_url", ""), "link_claim": conf.get("link_claim", ""),
            "link_field": conf.get("link_field", ""),
            "secret": services.masked_secret(app.secret)}


def _provider(pk: int) -> SocialApp:
    app = selectors.providers().filter(pk=pk).first()
    if app is None:
        raise errors.NotFound(_("No identity provider with that id."),
                              code=errors.ErrorCode.UNKNOWN_PROVIDER)
    return app


@router.get("/sign-in/policy", response=PolicyIO)
def get_policy(request: HttpRequest) -> dict:
    """Who must sign in through single sign-on, and whether admins need a second factor."""
    principal(request).require("admin")
    policy = selectors.sign_in_policy()
    return {"password_disabled_roles": policy.password_disabled_roles,
            "require_second_factor_for_admins": policy.require_second_factor_for_admins}


@router.put("/sign-in/policy", response=PolicyIO)
def put_policy(request: HttpRequest, payload: PolicyIO) -> dict:
    """Change the sign-in policy; fields left out keep their value."""
    caller = principal(request)
    caller.require("admin")
    policy = services.update_sign_in_policy(
        actor=caller.actor, password_disabled_roles=payload.password_disabled_roles,
        require_second_factor_for_admins=payload.require_second_factor_for_admins)
    return {"password_disabled_roles": policy.password_disabled_roles,
            "require_second_factor_for_admins": policy.require_second_factor_for_admins}


@router.get("/sso/providers", response=list[ProviderOut])
def list_providers(request: HttpRequest) -> list[dict]:
    principal(request).require("admin")
    return [_out(app) for app in selectors.providers()]


@router.post("/sso/providers", response={201: ProviderOut})
def create_provider(request: HttpRequest, payload: ProviderIn):
    """Add an identity provider (201). The secret is stored and never shown back."""
    caller = principal(request)
    caller.require("admin")
    app = services.save_provider(actor=caller.actor, **payload.dict())
    return 201, _out(app)


@router.put("/sso/providers/{provider_pk}", response=ProviderOut)
def update_provider(request: HttpRequest, provider_pk: int, payload: ProviderIn) -> dict:
    """Change an identity provider; a missing or empty secret keeps the stored one."""
    caller = principal(request)
    caller.require("admin")
    app = services.save_provider(actor=caller.actor, app=_provider(provider_pk),
                                 **payload.dict())
    return _out(app)


@router.delete("/sso/providers/{provider_pk}", response={204: None})
def delete_provider(request: HttpRequest, provider_pk: int):
    caller = principal(request)
    caller.require("admin")
    services.delete_provider(actor=caller.actor, app=_provider(provider_pk))
    return 204, None


@router.post("/employees/{employee_no}/second-factor/reset", response=ResetOut)
def reset_second_factor(request: HttpRequest, employee_no: str) -> dict:
    """Remove an employee's second factors (lost phone or key); audited. They enrol anew
    at their next sign-in when the policy requires one."""
    caller = principal(request)
    caller.require("admin")
    employee = selectors.employee_account(employee_no=employee_no)
    if employee is None or employee.user is None:
        raise errors.NotFound(_("No such employee."), code=errors.ErrorCode.UNKNOWN_EMPLOYEE)
    return {"removed": mfa_services.reset_second_factor(actor=caller.actor, user=employee.user)}
