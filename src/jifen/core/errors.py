"""Domain errors with stable codes.

Services raise these; the API maps each family to one HTTP status (``core.api_errors``) and the
web views show ``message`` to the user. A service never builds an HTTP response itself.
"""

from __future__ import annotations

from typing import Any


class JifenError(Exception):
    """Base of every error a user can cause. ``code`` is part of the API contract."""

    code = "error"

    def __init__(self, message: str | Any, *, code: str | None = None, details: dict | None = None):
        super().__init__(str(message))
        self.message = str(message)
        if code:
            self.code = code
        self.details = details or {}


class ValidationError(JifenError):
    """Input is well-formed but breaks a rule of the business (HTTP 422)."""

    code = "validation_error"


class NotFound(JifenError):
    """The thing named does not exist, or the caller may not know that it does (HTTP 404)."""

    code = "not_found"


class PermissionDenied(JifenError):
    """The caller is known but may not do this (HTTP 403)."""

    code = "forbidden"


class Conflict(JifenError):
    """The request is valid but the current state forbids it (HTTP 409)."""

    code = "conflict"


class InsufficientPoints(Conflict):
    code = "insufficient_points"


class RateLimited(JifenError):
    """Too many attempts; try again later (HTTP 429)."""

    code = "rate_limited"

    def __init__(self, message: str | Any, *, retry_after: int, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.details.setdefault("retry_after", retry_after)
