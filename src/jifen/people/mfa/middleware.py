"""When the policy requires it, a super admin or HR admin without a second factor is sent
to enrol one before any other page (sign-out, the enrolment pages themselves, static files
and the API excepted: the API refuses such accounts a token instead)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from jifen.people.mfa.services import has_second_factor
from jifen.people.sso.selectors import second_factor_required

ALLOWED_PREFIXES = ("/accounts/", "/logout/", "/static/", "/media/", "/i18n/", "/api/")


class RequireSecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated
                and not request.path.startswith(ALLOWED_PREFIXES)
                and second_factor_required(user) and not has_second_factor(user)):
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
