"""Where a page may send the browser next: only to a path on this site."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme


def safe_path(request: HttpRequest, target: str | None, fallback: str) -> str:
    """``target`` when it is a path on this site, else ``fallback``: a crafted link must not
    turn one of our pages into a redirect to someone else's site, and a bare word ("foo",
    "a:b") is no path (``redirect()`` would take it for a view name and fail)."""
    target = target or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def next_path(request: HttpRequest, fallback: str = "") -> str:
    """The posted (or queried) ``next``, when safe, else ``fallback``."""
    return safe_path(request, request.POST.get("next") or request.GET.get("next"), fallback)


def redirect_to_next(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(next_path(request, fallback))
