"""The authentication backend every password check goes through — the portal's sign-in,
``POST /api/v1/auth/token``, django-admin's login and anything added later that calls
``django.contrib.auth.authenticate`` — so that none of them can skip the sign-in policy."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from jifen.core import throttle
from jifen.core.client_address import client_address


class ThrottledModelBackend(ModelBackend):
    """Django's username-and-password check behind ``jifen.core.throttle``: an attempt is
    reserved per account and per client address before the password is looked at, and a
    refusal raises ``jifen.core.errors.RateLimited`` (which ``authenticate`` lets through)
    without checking it.

    The account is looked up first, by the database's own comparison (one query), and
    counted by its primary key: on MariaDB the username column's collation ignores accents
    and width, so "álice" and "ａlice" find the account "alice" and must use up alice's
    attempts, not attempts of their own. An unknown username is counted by its normalised
    form, so its spellings share one count too. An unknown username, a wrong password and
    an inactive account get the same answer (None) for the same work: one lookup, one
    reservation, one password hash (a dummy one when there is no account, as Django's
    ``ModelBackend`` does)."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, address: str | None = None,
                     **kwargs: Any) -> Any:
        user_model = get_user_model()
        if username is None:
            username = kwargs.get(user_model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        if address is None and request is not None:
            address = client_address(request)
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            user = None
        attempt = throttle.reserve_sign_in(user.pk if user is not None else str(username),
                                           address)
        if user is None:
            # Hash once, as for a real account, so that the time taken does not tell
            # whether the username exists (Django's #20760).
            user_model().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            attempt.succeeded()
            return user
        return None
