"""The API's error shape and which HTTP status each family of domain errors answers with.

Here, below every app, so that a router (people's token call answers a refused sign-in with
401) and the project's ``jifen.api`` build the very same answer without one importing the
other."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from jifen.core import errors
from jifen.core.encoding import SiteTimeRenderer

STATUS_BY_ERROR: list[tuple[type[errors.JifenError], int]] = [
    (errors.RateLimited, 429),
    (errors.NotFound, 404),
    (errors.PermissionDenied, 403),
    (errors.Conflict, 409),
    (errors.ValidationError, 422),
    (errors.JifenError, 400),
]

# The renderer of the NinjaAPI object too (jifen.api), so every answer is written alike.
renderer = SiteTimeRenderer()


def status_for(exc: errors.JifenError) -> int:
    """The HTTP status a domain error answers with."""
    return next(code for cls, code in STATUS_BY_ERROR if isinstance(exc, cls))


def error_response(
    request: HttpRequest, status: int, code: str, message: str, details: dict | None = None
) -> HttpResponse:
    """``{"error": {"code", "message", "details"}}`` with ``status``."""
    content = renderer.render(
        request, {"error": {"code": code, "message": message, "details": details or {}}},
        response_status=status,
    )
    return HttpResponse(content, status=status,
                        content_type=f"{renderer.media_type}; charset={renderer.charset}")
