"""Writers for single sign-on: the sign-in policy and the identity providers. Each is
audited; a provider's secret is stored and never given back (``masked_secret``)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from allauth.socialaccount.models import SocialAccount, SocialApp
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.db import locked_singleton
from jifen.core.roles import Role
from jifen.core.services import record_audit, snapshot
from jifen.people.sso.models import SignInPolicy
from jifen.people.sso.selectors import LINK_FIELDS, POLICY_CACHE_KEY, PROVIDERS

POLICY_FIELDS = ("password_disabled_roles", "require_second_factor_for_admins")
PROVIDER_FIELDS = ("provider", "provider_id", "name", "client_id", "key", "settings")
# Roles whose password sign-in can be turned off; a super admin's cannot (break-glass).
PASSWORD_ROLES = tuple(r.value for r in Role if r != Role.SUPER_ADMIN)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def masked_secret(secret: str) -> str:
    """What the console and the API show of a stored secret: its last four characters."""
    return f"…{secret[-4:]}" if len(secret) > 8 else ("…" if secret else "")


@transaction.atomic
def update_sign_in_policy(*, actor: Actor, password_disabled_roles: list[str] | None = None,
                          require_second_factor_for_admins: bool | None = None) -> SignInPolicy:
    """Change who may sign in with a password and who must use a second factor. A super
    admin's password sign-in cannot be turned off (the break-glass path)."""
    policy = locked_singleton(SignInPolicy)
    before = snapshot(policy, POLICY_FIELDS)
    if password_disabled_roles is not None:
        unknown = sorted(set(password_disabled_roles) - set(PASSWORD_ROLES))
        if unknown:
            raise errors.ValidationError(
                _("These roles cannot be set to single sign-on only: %(roles)s")
                % {"roles": ", ".join(unknown)}, code=errors.ErrorCode.INVALID_ROLE,
                details={"field": "password_disabled_roles", "roles": unknown})
        policy.password_disabled_roles = sorted(set(password_disabled_roles))
    if require_second_factor_for_admins is not None:
        policy.require_second_factor_for_admins = bool(require_second_factor_for_admins)
    policy.save()
    cache.delete(POLICY_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(POLICY_CACHE_KEY))
    after = snapshot(policy, POLICY_FIELDS)
    if after != before:
        record_audit(actor=actor, action="sso.policy.update", obj=policy, before=before,
                     after=after)
    return policy


def _invalid(field: str, message: str) -> errors.ValidationError:
    return errors.ValidationError(message, details={"field": field, "fields": {field: [message]}})


def _check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname or parts.username \
            or parts.password or parts.fragment:
        raise _invalid("server_url", _("Enter the issuer's https:// address."))
    return url


@transaction.atomic
def save_provider(*, actor: Actor, provider: str, provider_id: str, name: str,
                  client_id: str, secret: str | None = None, key: str = "",
                  server_url: str = "", link_claim: str = "", link_field: str = "",
                  app: SocialApp | None = None) -> SocialApp:
    """Create (``app`` None) or change an identity provider. ``secret`` None or empty keeps
    the stored one; a new provider needs one. OpenID Connect providers need the issuer's
    address (``server_url``); WeCom needs the application's AgentId (``key``).
    ``link_claim`` names what the provider tells us that identifies the employee, matched
    against ``link_field`` (``employee_no`` or ``email``)."""
    if provider not in PROVIDERS:
        raise _invalid("provider", _("Unknown kind of provider."))
    provider_id = (provider_id or provider).strip().lower()
    if provider == "openid_connect" and not _SLUG.match(provider_id):
        raise _invalid("provider_id", _(
            "Use 1–40 lower-case letters, digits and hyphens for the id."))
    if not provider_id:
        provider_id = provider
    name, client_id = name.strip(), client_id.strip()
    if not name:
        raise _invalid("name", _("Enter a name."))
    if not client_id:
        raise _invalid("client_id", _("Enter the client id."))
    if link_field and link_field not in LINK_FIELDS:
        raise _invalid("link_field", _("Match on the employee number or the e-mail."))
    if provider == "wecom" and not key.strip():
        raise _invalid("key", _("Enter the application's AgentId."))
    conf: dict[str, Any] = dict(app.settings or {}) if app is not None else {}
    if provider == "openid_connect":
        conf["server_url"] = _check_url(server_url)
        conf.setdefault("oauth_pkce_enabled", True)
    conf["link_claim"] = link_claim.strip()[:100]
    conf["link_field"] = link_field
    clash = SocialApp.objects.filter(provider=provider, provider_id=provider_id)
    if provider != "openid_connect":
        clash = SocialApp.objects.filter(provider=provider)
    if app is not None:
        clash = clash.exclude(pk=app.pk)
    if clash.exists():
        raise errors.Conflict(_("A provider with that id exists already."),
                              code=errors.ErrorCode.CONFLICT,
                              details={"field": "provider_id"})
    if app is None:
        if not secret:
            raise _invalid("secret", _("Enter the client secret."))
        app = SocialApp(provider=provider)
        before = None
        action = "sso.provider.create"
    else:
        app = SocialApp.objects.select_for_update().get(pk=app.pk)
        if app.provider != provider:
            raise _invalid("provider", _("The kind of a provider cannot change."))
        before = snapshot(app, PROVIDER_FIELDS)
        action = "sso.provider.update"
    app.provider_id = provider_id if provider == "openid_connect" else ""
    app.name, app.client_id, app.key, app.settings = name, client_id, key.strip(), conf
    secret_changed = bool(secret)
    if secret:
        app.secret = secret.strip()
    app.save()
    after = snapshot(app, PROVIDER_FIELDS)
    after["secret_changed"] = secret_changed
    record_audit(actor=actor, action=action, obj=app, object_type="sso.provider",
                 object_repr=app.name, before=before, after=after)
    return app


@transaction.atomic
def delete_provider(*, actor: Actor, app: SocialApp) -> None:
    """Remove a provider. The links of employees to it go too; they sign in again through
    another route (and link anew if it is added back)."""
    before = snapshot(app, PROVIDER_FIELDS)
    record_audit(actor=actor, action="sso.provider.delete", object_type="sso.provider",
                 object_id=str(app.pk), object_repr=app.name, before=before)
    SocialAccount.objects.filter(provider=app.provider_id or app.provider).delete()
    app.delete()
