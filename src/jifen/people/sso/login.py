"""Finishing a password sign-in through allauth, so that its stages (the second factor)
run for our own sign-in page too."""

from __future__ import annotations

from allauth.account.internal.flows.login import perform_login, record_authentication
from allauth.account.models import Login
from django.http import HttpRequest, HttpResponse

from jifen.people.models import User


def finish_password_sign_in(request: HttpRequest, user: User, next_url: str) -> HttpResponse:
    """Sign ``user`` in (their password was checked under the sign-in policy): straight to
    ``next_url``, or first to the second-factor page when they have one."""
    login = Login(user=user, redirect_url=next_url, email_verification="none")
    # The password was just typed: it counts as a fresh re-authentication, so that an admin
    # the policy sends to enrol a second factor is not asked for it again at once.
    record_authentication(request, user, method="password", username=user.get_username(),
                          reauthenticated=True)
    return perform_login(request, login)
