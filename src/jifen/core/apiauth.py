"""Who is calling the API: an employee token or a system API key, behind one Bearer scheme.

core knows the shape of a caller (``Principal``) and reads the bearer header; which tokens
exist is the business of the apps that issue them. Each registers an authenticator in its
``AppConfig.ready()`` (people: employee tokens; integrations: API keys). A token that no
authenticator knows is a 401."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from jifen.core import errors, throttle
from jifen.core.roles import SCOPE_CAPABILITY, user_can


@dataclass
class Principal:
    """The authenticated caller of one API request."""

    kind: str  # "employee" or "system"
    user: Any = None
    api_key: Any = None
    scopes: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"user:{self.user.pk}" if self.kind == "employee" else f"key:{self.api_key.pk}"

    @property
    def audit_label(self) -> str:
        if self.kind == "employee":
            return getattr(self.user, "audit_label", str(self.user))
        return f"API key {self.api_key.name} ({self.api_key.prefix})"

    @property
    def actor(self) -> Any:
        """What services record as the actor: the user, or the key's label for systems."""
        return self.user if self.kind == "employee" else self

    def can(self, scope: str) -> bool:
        if self.kind == "system":
            return self.api_key.has_scope(scope)
        return user_can(self.user, SCOPE_CAPABILITY[scope])

    def require(self, scope: str) -> None:
        if not self.can(scope):
            raise errors.PermissionDenied(
                _("This call needs the %s scope.") % scope, code=errors.ErrorCode.FORBIDDEN,
                details={"required_scope": scope},
            )

    def require_scope_or_capability(self, scope: str, *capabilities: str,
                                    message: str) -> None:
        """A console page's rule for the API: a system key needs ``scope``; a person needs
        one of ``capabilities`` (what the page asks of them), else 403 with ``message``."""
        if self.kind == "system":
            self.require(scope)
        elif not any(user_can(self.user, cap) for cap in capabilities):
            raise errors.PermissionDenied(
                message, code=errors.ErrorCode.FORBIDDEN,
                details={"required_scope": scope, "required_capability": capabilities[0]})

    def require_employee(self) -> Any:
        """The calling employee, for /me calls; systems have no 'me'."""
        employee = getattr(self.user, "employee", None) if self.kind == "employee" else None
        if employee is None:
            raise errors.PermissionDenied(
                _("This call is for employees signed in with their own token."),
                code=errors.ErrorCode.EMPLOYEE_ONLY,
            )
        return employee


Authenticator = Callable[[str], Principal | None]

# In registration order, which is INSTALLED_APPS order (each app registers in ready()).
_authenticators: list[Authenticator] = []


def register_authenticator(func: Authenticator) -> Authenticator:
    """Let ``func(token)`` answer who a bearer token is: a Principal, or None when the token
    is not one of its kind (the next authenticator is asked). Registering twice is harmless."""
    if func not in _authenticators:
        _authenticators.append(func)
    return func


def unregister_authenticator(func: Authenticator) -> None:
    """Take ``func`` out of the registry (tests that register one of their own)."""
    if func in _authenticators:
        _authenticators.remove(func)


def registered_authenticators() -> tuple[Authenticator, ...]:
    """The authenticators asked, in order."""
    return tuple(_authenticators)


def authenticate_token(token: str) -> Principal | None:
    """The caller a bearer token stands for, or None when no authenticator knows it."""
    for authenticator in _authenticators:
        found = authenticator(token)
        if found is not None:
            return found
    return None


# --- per-caller rate limits (issue #16) -------------------------------------------------

RATE_WINDOW = 60  # seconds: limits are per minute
# The clock the windows are cut from; tests replace it (never sleep).
clock: Callable[[], float] = time.time


class RateLimitExceeded(errors.RateLimited):
    """429 with the RateLimit-* headers (the API's error handler writes them)."""

    def __init__(self, message: Any, *, retry_after: int, limit: int) -> None:
        super().__init__(message, retry_after=retry_after, details={"limit": limit})
        self.limit = limit


def rate_limit_of(caller: Principal) -> int:
    """Calls per minute for ``caller``: a key's own limit, else the site's defaults."""
    if caller.kind == "system":
        own = getattr(caller.api_key, "rate_limit", None)
        return int(own) if own is not None else settings.JIFEN_API_KEY_RATE_LIMIT
    return settings.JIFEN_API_TOKEN_RATE_LIMIT


def count_call(caller: Principal) -> tuple[int, int, int]:
    """Count one call for ``caller`` in the current minute: (limit, remaining, reset
    seconds); raises RateLimitExceeded when the minute's calls are used up. The count is
    the sign-in throttle's atomic reserve (``jifen.core.throttle.CacheCounters``) in the
    default cache: Redis's INCR when configured, the local-memory cache's lock otherwise."""
    limit = rate_limit_of(caller)
    now = clock()
    window = int(now // RATE_WINDOW)
    reset = max(1, int((window + 1) * RATE_WINDOW - now + 0.999))
    if limit <= 0:
        return 0, 0, reset
    key = f"ratelimit:{caller.id}:{window}"
    store = throttle.CacheCounters(caches["default"])
    if not store.reserve(key, limit, RATE_WINDOW + 5):
        raise RateLimitExceeded(
            _("Too many calls: this caller may make %(limit)d a minute. Try again in "
              "%(seconds)d seconds.") % {"limit": limit, "seconds": reset},
            retry_after=reset, limit=limit)
    return limit, max(0, limit - store.count(key)), reset


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        found = authenticate_token(token)
        if found is not None and found.kind == "employee":
            # Pages and throttles downstream read the signed-in user from the request.
            request.user = found.user
        if found is not None:
            limit, remaining, reset = count_call(found)
            if limit:
                request.rate_limit = (limit, remaining, reset)  # type: ignore[attr-defined]
        return found


def principal(request: HttpRequest) -> Principal:
    return request.auth  # type: ignore[attr-defined, return-value]
