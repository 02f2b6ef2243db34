from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from jifen.core.client_address import client_address
from jifen.core.selectors import settings_pinned
from jifen.core.services import request_ip

_SUPPORTED = {code for code, _name in settings.LANGUAGES}


def client_ip(request: HttpRequest) -> str | None:
    return client_address(request)


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
            token = request_ip.set(client_ip(request))
            try:
                response = self.get_response(request)
            finally:
                request_ip.reset(token)
        response.headers.setdefault("Content-Language", language)
        return response


_API_PREFIX = "/api/"
_CODES_BY_STATUS = {400: "malformed_request", 404: "not_found", 405: "method_not_allowed",
                    413: "request_too_large"}


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
        if request.path.startswith(_API_PREFIX) and _has_nul(request):
            from django.http import JsonResponse

            # No database stores text with NUL characters (PostgreSQL refuses it outright).
            return JsonResponse({"error": {
                "code": "malformed_request",
                "message": "Text may not contain NUL (\\u0000) characters.",
                "details": {},
            }}, status=400)
        response = self.get_response(request)
        if (
            request.path.startswith(_API_PREFIX)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            from django.http import JsonResponse

            status = response.status_code
            code = _CODES_BY_STATUS.get(status, "error" if status < 500 else "internal_error")
            message = response.reason_phrase if status < 500 else "Internal error."
            replacement = JsonResponse(
                {"error": {"code": code, "message": message, "details": {}}}, status=status
            )
            if response.has_header("Allow"):
                replacement["Allow"] = response["Allow"]
            return replacement
        return response
