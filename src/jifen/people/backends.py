"""The authentication backend every password check goes through — the portal's sign-in,
``POST /api/v1/auth/token``, django-admin's login and anything added later that calls
``django.contrib.auth.authenticate`` — so that none of them can skip the sign-in policy."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from jifen.core import throttle
from jifen.core.client_address import client_address


class ThrottledModelBackend(ModelBackend):
    """Django's username-and-password check behind ``jifen.core.throttle``: an attempt is
    reserved per account and per client address before the password is looked at, and a
    refusal raises ``jifen.core.errors.RateLimited`` (which ``authenticate`` lets through)
    without checking it. An unknown username, a wrong password and an inactive account get
    the same answer (None) for comparable work: Django hashes the password once in each
    case, and the attempt is counted the same way."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, address: str | None = None,
                     **kwargs: Any) -> Any:
        if username is None:
            username = kwargs.get(self._username_field())
        if username is None or password is None:
            return None
        if address is None and request is not None:
            address = client_address(request)
        attempt = throttle.reserve_sign_in(str(username), address)
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            attempt.succeeded()
        return user

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD
