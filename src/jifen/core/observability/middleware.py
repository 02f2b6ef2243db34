"""First in MIDDLEWARE: gives each request its id, answers it in ``X-Request-ID``, counts
it for ``/metrics`` and writes its one JSON log line (``jifen.requests``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from jifen.core.observability import context, metrics

logger = logging.getLogger("jifen.requests")

# The scrape itself is neither counted nor logged: it would be most of both.
QUIET_ROUTES = {"metrics"}


def route_of(request: HttpRequest) -> str:
    """The URL pattern that answered (``api/v1/orders/<int:order_id>``), never the path
    itself: paths hold ids and, on some pages, one-time tokens; "unmatched" for a 404 that
    matched nothing, so a scanner cannot blow up the label set."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.route or match.view_name or "unmatched"


def caller_of(request: HttpRequest) -> str:
    """``user:<pk>`` or ``key:<pk>`` for the caller, "" for an anonymous one; no names."""
    principal = getattr(request, "auth", None)
    if principal is not None and hasattr(principal, "id"):
        return str(principal.id)
    # Only a user already loaded for the request: looking one up just to log it would cost
    # a query on every anonymous request.
    user = getattr(request, "_cached_user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return ""


class RequestObservabilityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = context.accepted_id(request.headers.get(context.HEADER))
        request.request_id = rid  # type: ignore[attr-defined]
        token = context.request_id.set(rid)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[context.HEADER] = rid
            route = route_of(request)
            if route not in QUIET_ROUTES and _view_name(request) not in QUIET_ROUTES:
                seconds = time.perf_counter() - started
                metrics.observe_request(route=route, method=request.method or "",
                                        status=response.status_code, seconds=seconds)
                logger.info("%s %s %s", request.method, route, response.status_code, extra={
                    "method": request.method, "route": route, "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 1), "caller": caller_of(request),
                })
            return response
        finally:
            context.request_id.reset(token)


def _view_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.url_name or "" if match is not None else ""
