from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _

from jifen.core.client_address import client_address
from jifen.core.errors import ErrorCode
from jifen.core.security import API_PREFIX, declared_length
from jifen.core.selectors import settings_pinned
from jifen.core.services import request_ip

_SUPPORTED = {code for code, _name in settings.LANGUAGES}


class SiteLanguageMiddleware:
    """Chooses the UI language: the visitor's own choice (the language cookie the switcher
    sets), else the site's default language. The browser's Accept-Language is ignored on
    purpose: a company picks its working language. Also records the client address for
    audit entries, and reads the site settings once for the whole request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with settings_pinned() as site:
            language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
            if language not in _SUPPORTED:
                language = str(site.default_language)
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
            token = request_ip.set(client_address(request))
            try:
                response = self.get_response(request)
            finally:
                request_ip.reset(token)
        response.headers.setdefault("Content-Language", language)
        return response


_CODES_BY_STATUS = {400: ErrorCode.MALFORMED_REQUEST, 404: ErrorCode.NOT_FOUND,
                    405: ErrorCode.METHOD_NOT_ALLOWED, 413: ErrorCode.PAYLOAD_TOO_LARGE}


def _error(status: int, code: str, message: str, details: dict | None = None) -> HttpResponse:
    return JsonResponse({"error": {"code": code, "message": message, "details": details or {}}},
                        status=status)


def payload_too_large() -> HttpResponse:
    """The API's answer to a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``: 413 in the error
    shape, before the body is read (Django's own answer is an HTML 400)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = _error(413, ErrorCode.PAYLOAD_TOO_LARGE,
                      _("The request body is too large: the API takes at most %(mb)s MB.")
                      % {"mb": f"{limit / (1024 * 1024):g}"}, {"max_bytes": limit})
    # No "Connection: close" here: WSGI forbids hop-by-hop headers (wsgiref, so runserver
    # and the test live server, refuse the answer); the server decides about the connection.
    return response


def _has_nul(request: HttpRequest) -> bool:
    query = request.META.get("QUERY_STRING", "")
    if "%00" in query or "\x00" in query or "\x00" in request.path:
        return True
    if request.method in ("POST", "PUT", "PATCH") and request.content_type == "application/json":
        body = request.body
        return b"\x00" in body or b"\\u0000" in body
    return False


class ApiErrorShapeMiddleware:
    """Under /api/, every error is JSON in the error shape — including the ones Django or
    ninja answer before our handlers run (unknown path → 404, wrong method → 405, a body
    too large → 413, a bad Host → 400)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            if (settings.DATA_UPLOAD_MAX_MEMORY_SIZE is not None
                    and declared_length(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE):
                return payload_too_large()
            try:
                has_nul = _has_nul(request)
            except RequestDataTooBig:
                return payload_too_large()
            if has_nul:
                # No database stores text with NUL characters (PostgreSQL refuses it outright).
                return _error(400, ErrorCode.MALFORMED_REQUEST,
                              _("Text may not contain NUL (\\u0000) characters."))
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status = response.status_code
            code = _CODES_BY_STATUS.get(
                status, ErrorCode.ERROR if status < 500 else ErrorCode.INTERNAL_ERROR)
            message = response.reason_phrase if status < 500 else "Internal error."
            replacement = _error(status, code, message)
            if response.has_header("Allow"):
                replacement["Allow"] = response["Allow"]
            return replacement
        return response
