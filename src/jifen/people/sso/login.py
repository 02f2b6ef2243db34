"""Finishing a password sign-in through allauth, so that its stages (the second factor)
run for our own sign-in page too."""

from __future__ import annotations

from allauth.account.internal.flows.login import perform_password_login
from allauth.account.models import Login
from django.http import HttpRequest, HttpResponse

from jifen.people.models import User


def finish_password_sign_in(request: HttpRequest, user: User, next_url: str) -> HttpResponse:
    """Sign ``user`` in (their password was checked under the sign-in policy): straight to
    ``next_url``, or first to the second-factor page when they have one."""
    login = Login(user=user, redirect_url=next_url, email_verification="none")
    return perform_password_login(request, {"username": user.get_username()}, login)
