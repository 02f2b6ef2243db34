"""Page permissions in one place: every web view that needs more than a login uses
``require_capability``; the decision itself is ``jifen.core.roles.user_can``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jifen.core.roles import user_can

View = Callable[..., HttpResponse]


def forbidden(request: HttpRequest, message: str = "") -> HttpResponse:
    """The 403 page, in the site's look, with an optional reason."""
    return render(request, "403.html", {"reason": message}, status=403)


def require_capability(cap: str) -> Callable[[View], View]:
    """Decorate a view: anonymous visitors go to the login page (and come back after),
    signed-in users without ``cap`` get the 403 page."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_can(request.user, cap):
                return forbidden(request)
            return view(request, *args, **kwargs)

        wrapped.required_capability = cap  # type: ignore[attr-defined]
        return wrapped

    return decorator


def htmx_partial(request: HttpRequest) -> bool:
    """True when htmx asked for a fragment of the page (not a boosted full navigation), so
    the view renders only the partial it swaps."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted
