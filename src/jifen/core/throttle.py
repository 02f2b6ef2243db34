"""Counting failed attempts to slow down guessing, in the cache every process shares
(Redis, or the database without it: a per-process count would let each worker of a
server allow its own five tries)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.utils.translation import gettext as _

from jifen.core import errors


def _counters() -> BaseCache:
    return caches["shared"]


def _keys(scope: str, identity: str, address: str | None) -> list[str]:
    ident = hashlib.sha256(identity.strip().lower().encode()).hexdigest()[:24]
    keys = [f"throttle:{scope}:id:{ident}:{address or '-'}"]
    if address:
        # A wider net per address, so one machine cannot walk through many accounts.
        keys.append(f"throttle:{scope}:ip:{address}")
    return keys


def check_login_allowed(identity: str, address: str | None, scope: str = "login") -> None:
    """Raise RateLimited when too many recent failures came from this account+address."""
    limit = settings.LOGIN_THROTTLE_LIMIT
    per_key_limits = [limit, limit * 4]
    for key, key_limit in zip(_keys(scope, identity, address), per_key_limits, strict=False):
        if (_counters().get(key) or 0) >= key_limit:
            raise errors.RateLimited(
                _("Too many failed sign-in attempts. Please wait %(minutes)d minutes and try "
                  "again.") % {"minutes": max(1, settings.LOGIN_THROTTLE_WINDOW // 60)},
                retry_after=settings.LOGIN_THROTTLE_WINDOW,
            )


def record_login_failure(identity: str, address: str | None, scope: str = "login") -> None:
    counters = _counters()
    for key in _keys(scope, identity, address):
        if not counters.add(key, 1, settings.LOGIN_THROTTLE_WINDOW):
            try:
                counters.incr(key)
            except ValueError:
                counters.set(key, 1, settings.LOGIN_THROTTLE_WINDOW)


def clear_login_failures(identity: str, address: str | None, scope: str = "login") -> None:
    _counters().delete(_keys(scope, identity, address)[0])
