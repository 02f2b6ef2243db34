from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from jifen.core.selectors import site_settings
from jifen.core.services import request_ip

_SUPPORTED = {code for code, _name in settings.LANGUAGES}


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class SiteLanguageMiddleware:
    """Chooses the UI language: the visitor's own choice (the language cookie the switcher
    sets), else the site's default language. The browser's Accept-Language is ignored on
    purpose: a company picks its working language. Also records the client address for
    audit entries."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in _SUPPORTED:
            language = str(site_settings().default_language)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        token = request_ip.set(client_ip(request))
        try:
            response = self.get_response(request)
        finally:
            request_ip.reset(token)
        response.headers.setdefault("Content-Language", language)
        return response
