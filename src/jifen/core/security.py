"""Refusals that come before any view: a request body too large for a page."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

# Where the API lives: it answers its own errors, 413 included, in the error shape
# (``core.middleware.ApiErrorShapeMiddleware``).
API_PREFIX = "/api/"


def declared_length(request: HttpRequest) -> int:
    """The body's length as the request declares it (0 when absent or not a number), to
    refuse a body too large before anything reads it."""
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def body_limit(request: HttpRequest) -> int | None:
    """The most a page accepts (None: no limit): a multipart form may carry an upload beside
    its fields; any other body is all form fields, which Django holds in memory."""
    if request.content_type == "multipart/form-data":
        return settings.REQUEST_BODY_MAX_SIZE
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class RequestSizeLimitMiddleware:
    """A page request whose body is larger than a page takes gets a 413 page at once, by
    its declared length, before the CSRF check or a form reads it. Without this Django
    answered a bare 400 for too many form fields and streamed any size of multipart upload
    to disk first. The API answers its own 413 in the error shape (``/api/`` is left to it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            return self.get_response(request)
        limit = body_limit(request)
        if limit is not None and declared_length(request) > limit:
            # No Connection: close here: a WSGI application may not set hop-by-hop headers
            # (wsgiref refuses the answer); gunicorn skips the unread body by itself.
            return HttpResponse(
                render_to_string("413.html", {"limit_mb": f"{limit / (1024 * 1024):.0f}"}),
                status=413)
        return self.get_response(request)
