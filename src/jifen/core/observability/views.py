"""``/metrics`` for Prometheus and the console's system status page (super_admin)."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from jifen.core import errors
from jifen.core.client_address import client_address
from jifen.core.observability import metrics, selectors, services
from jifen.core.permissions import require_capability
from jifen.core.roles import Cap


def metrics_allowed(request: HttpRequest) -> bool | None:
    """True when the caller may scrape: it shows JIFEN_METRICS_TOKEN as a bearer token, or
    comes from an address in JIFEN_METRICS_ALLOW (read through the trusted proxies, as
    every client address is). None when neither is configured: there is no endpoint."""
    token, allowed = settings.METRICS_TOKEN, settings.METRICS_ALLOW
    if not token and not allowed:
        return None
    if token:
        scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              token.encode()):
            return True
    address = client_address(request)
    if allowed and address:
        ip = ipaddress.ip_address(address)
        return any(ip in network for network in allowed)
    return False


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    allowed = metrics_allowed(request)
    if allowed is None:
        raise Http404  # not configured: nothing to see here
    if not allowed:
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    body, content_type = metrics.render()
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


@require_capability(Cap.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def system_status(request: HttpRequest) -> HttpResponse:
    """The status page; a POST with ``task`` retries that failed task."""
    if request.method == "POST":
        try:
            services.retry_task(task_id=request.POST.get("task", ""), actor=request.user)
        except errors.JifenError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The task was queued again."))
        return redirect("console:system_status")
    return render(request, "console/system_status.html",
                  {"status": selectors.system_status()})
