"""django-admin's sign-in under the one sign-in policy.

Its login form calls ``authenticate`` like every other route, so the backend
(``jifen.people.backends``) counts and refuses its attempts; this turns the refusal into
the form's error and a 429, where it would otherwise escape the form as a 500."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.people.mfa.services import has_second_factor
from jifen.people.sso.selectors import password_allowed, second_factor_required

RATE_LIMITED = "rate_limited"


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except errors.RateLimited as exc:
            raise ValidationError(exc.message, code=RATE_LIMITED) from exc

    def confirm_login_allowed(self, user: Any) -> None:
        """This form knows no second factor: an account that has one (or must have one), or
        whose role signs in through single sign-on, signs in on the site's sign-in page and
        then opens django-admin with that session."""
        super().confirm_login_allowed(user)
        if (has_second_factor(user) or second_factor_required(user)
                or not password_allowed(user)):
            raise ValidationError(
                _("Sign in on the site's sign-in page first, then open this page again."))


def admin_login(request: HttpRequest, extra_context: dict[str, Any] | None = None,
                ) -> HttpResponse:
    """``admin.site.login`` (whose form is the one above: see jifen.urls), answering 429
    while the policy refuses."""
    response = admin.site.login(request, extra_context)
    form = (getattr(response, "context_data", None) or {}).get("form")
    if form is not None and form.has_error(NON_FIELD_ERRORS, RATE_LIMITED):
        response.status_code = 429
    return response
