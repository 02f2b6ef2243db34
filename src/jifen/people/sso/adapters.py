"""allauth's hooks, bent to how accounts work here: they come from HR (API, import,
SCIM), so nobody signs up; a provider's account only links to an existing, active
employee, found by the claim its provider is configured with; and a leaver is refused on
every route."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from jifen.people.sso import selectors


def _refuse(request: HttpRequest, message: str) -> ImmediateHttpResponse:
    messages.error(request, message)
    return ImmediateHttpResponse(HttpResponseRedirect(reverse("login")))


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def pre_login(self, request: HttpRequest, user: Any, **kwargs: Any) -> Any:
        # Every route ends here (password, each provider): an account whose employee has
        # left is refused even if something left it active.
        if not selectors.may_sign_in(user):
            raise _refuse(request, _("This account cannot sign in. Ask your HR administrator."))
        return super().pre_login(request, user, **kwargs)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return False

    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        """Link a first sign-in through a provider to the employee its configured claim
        names; refuse when there is none, or when it cannot sign in."""
        if sociallogin.is_existing:
            user = sociallogin.user
        else:
            app = sociallogin.account.get_provider().app
            user = selectors.user_for_claims(app, sociallogin.account.extra_data or {})
            if user is None:
                raise _refuse(request, _(
                    "No employee matches your account at this identity provider. "
                    "Ask your HR administrator."))
            if not selectors.may_sign_in(user):
                raise _refuse(request, _(
                    "This account cannot sign in. Ask your HR administrator."))
            sociallogin.user = user
            sociallogin.save(request, connect=True)
        if not selectors.may_sign_in(user):
            raise _refuse(request, _("This account cannot sign in. Ask your HR administrator."))

    def on_authentication_error(self, request: HttpRequest, provider: Any, error: Any = None,
                                exception: Any = None, extra_context: Any = None) -> None:
        raise _refuse(request, _("Signing in through %(provider)s failed. Please try again.")
                      % {"provider": getattr(provider, "name", "")})
