"""Console pages for sign-in (policy, identity providers, second-factor resets) and the
sign-in page's provider buttons."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from allauth.socialaccount.models import SocialApp
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from jifen.core import errors
from jifen.core.permissions import require_capability
from jifen.core.roles import Cap
from jifen.people.mfa import services as mfa_services
from jifen.people.sso import selectors, services
from jifen.people.sso.forms import PolicyForm, ProviderForm

FIXED_ORIGINS = {
    "dingtalk": "https://login.dingtalk.com",
    "feishu": "https://open.feishu.cn",
}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def sign_in_buttons() -> list[dict[str, Any]]:
    """A button per configured provider: its name, where its form posts, and the origin
    the browser is sent on to (the sign-in page's CSP must allow that form action)."""
    buttons = []
    for app in selectors.providers():
        try:
            if app.provider == "openid_connect":
                url = reverse("openid_connect_login", kwargs={"provider_id": app.provider_id})
                origin = _origin((app.settings or {}).get("server_url", ""))
            else:
                url = reverse(f"{app.provider}_login")
                origin = FIXED_ORIGINS.get(app.provider, "")
                if app.provider == "wecom":
                    origin = _origin(settings.SOCIALACCOUNT_PROVIDERS["wecom"]["AUTHORIZE_URL"])
        except NoReverseMatch:
            continue
        buttons.append({"name": app.name, "url": url, "origin": origin,
                        "provider": app.provider})
    return buttons


def allow_form_actions(response: HttpResponse, buttons: list[dict[str, Any]]) -> HttpResponse:
    origins = sorted({b["origin"] for b in buttons if b["origin"]})
    if origins:
        response._csp_update = {"form-action": origins}  # type: ignore[attr-defined]
    return response


def _provider_rows() -> list[dict[str, Any]]:
    rows = []
    for app in selectors.providers():
        callback = ""
        try:
            if app.provider == "openid_connect":
                callback = reverse("openid_connect_callback",
                                   kwargs={"provider_id": app.provider_id})
            else:
                callback = reverse(f"{app.provider}_callback")
        except NoReverseMatch:
            pass
        rows.append({"app": app, "secret": services.masked_secret(app.secret),
                     "callback": callback})
    return rows


@require_capability(Cap.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def sign_in_settings(request: HttpRequest) -> HttpResponse:
    policy = selectors.sign_in_policy()
    initial = {"password_disabled_roles": policy.password_disabled_roles,
               "require_second_factor_for_admins": policy.require_second_factor_for_admins}
    form = PolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_sign_in_policy(actor=request.user, **form.cleaned_data)
        except errors.JifenError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Sign-in policy saved."))
            return redirect("console:sign_in_settings")
    return render(request, "sso/console/sign_in.html", {
        "form": form, "providers": _provider_rows(),
        "base_url": settings.JIFEN_BASE_URL or request.build_absolute_uri("/").rstrip("/"),
    })


def _provider_initial(app: SocialApp) -> dict[str, Any]:
    conf = app.settings or {}
    return {"provider": app.provider, "name": app.name, "provider_id": app.provider_id,
            "server_url": conf.get("server_url", ""), "client_id": app.client_id,
            "key": app.key, "link_claim": conf.get("link_claim", ""),
            "link_field": conf.get("link_field") or "employee_no"}


@require_capability(Cap.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def provider_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    app = get_object_or_404(selectors.providers(), pk=pk) if pk is not None else None
    initial = _provider_initial(app) if app is not None else {"link_field": "employee_no"}
    form = ProviderForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.save_provider(actor=request.user, app=app, **form.cleaned_data)
            except errors.JifenError as exc:
                fields = exc.details.get("fields") if isinstance(exc.details, dict) else None
                if fields:
                    form.add_service_errors(fields)
                else:
                    form.add_error(None, exc.message)
            else:
                messages.success(request, _("Identity provider saved."))
                return redirect("console:sign_in_settings")
    return render(request, "sso/console/provider_form.html",
                  {"form": form, "app": app,
                   "secret": services.masked_secret(app.secret) if app else ""}, status=status)


@require_capability(Cap.MANAGE_SETTINGS)
@require_POST
def provider_delete(request: HttpRequest, pk: int) -> HttpResponse:
    app = get_object_or_404(selectors.providers(), pk=pk)
    services.delete_provider(actor=request.user, app=app)
    messages.success(request, _("Identity provider removed."))
    return redirect("console:sign_in_settings")


@require_capability(Cap.MANAGE_SETTINGS)
@require_POST
def second_factor_reset(request: HttpRequest, pk: int) -> HttpResponse:
    employee = selectors.employee_account(pk=pk)
    if employee is None or employee.user is None:
        raise Http404
    try:
        removed = mfa_services.reset_second_factor(actor=request.user, user=employee.user)
    except errors.JifenError as exc:
        messages.error(request, exc.message)
    else:
        if removed:
            messages.success(request, _("The second factor of %(name)s was reset.")
                             % {"name": employee.name})
        else:
            messages.info(request, _("%(name)s had no second factor.") % {"name": employee.name})
    return redirect("console:employee_detail", pk=employee.pk)
