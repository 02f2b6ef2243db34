"""Webhook pages of the console: endpoints (list, create, edit, enable/disable, rotate the
secret, send a test event, delete) and the delivery log (request, response, redeliver)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from jifen.core import errors
from jifen.core.permissions import require_capability
from jifen.core.roles import Cap
from jifen.integrations.webhooks import selectors, services
from jifen.integrations.webhooks.forms import EndpointForm


def _secret_page(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    response = render(request, template, context)
    if context.get("plain_secret"):
        response["Cache-Control"] = "no-store"  # the secret exists only in this response
    return response


@require_capability(Cap.MANAGE_API_KEYS)
@require_http_methods(["GET", "POST"])
def endpoints(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    new = plain = None
    if request.method == "POST" and form.is_valid():
        try:
            new, plain = services.create_endpoint(actor=request.user, **form.cleaned_data)
        except errors.JifenError as exc:
            form.add_error("url" if (exc.details or {}).get("field") == "url" else None,
                           exc.message)
        else:
            form = EndpointForm()
    return _secret_page(request, "console/webhooks.html", {
        "form": form, "endpoints": selectors.endpoints(), "new_endpoint": new,
        "plain_secret": plain})


@require_capability(Cap.MANAGE_API_KEYS)
@require_http_methods(["GET", "POST"])
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(selectors.endpoints(), pk=pk)
    initial = {"url": endpoint.url, "description": endpoint.description,
               "event_types": endpoint.event_types}
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_endpoint(endpoint=endpoint, actor=request.user, **form.cleaned_data)
        except errors.JifenError as exc:
            form.add_error("url" if (exc.details or {}).get("field") == "url" else None,
                           exc.message)
        else:
            messages.success(request, _("The endpoint is saved."))
            return redirect("console:webhook", pk=endpoint.pk)
    return render(request, "console/webhook.html", {
        "endpoint": endpoint, "form": form,
        "deliveries": selectors.deliveries(endpoint).order_by("-id")[:100]})


@require_capability(Cap.MANAGE_API_KEYS)
@require_POST
def endpoint_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    endpoint = get_object_or_404(selectors.endpoints(), pk=pk)
    if action == "rotate":
        plain = services.rotate_secret(endpoint=endpoint, actor=request.user)
        endpoint.refresh_from_db()
        return _secret_page(request, "console/webhook.html", {
            "endpoint": endpoint, "plain_secret": plain,
            "form": EndpointForm(initial={"url": endpoint.url, "description":
                                          endpoint.description,
                                          "event_types": endpoint.event_types}),
            "deliveries": selectors.deliveries(endpoint).order_by("-id")[:100]})
    if action == "test":
        services.send_test_event(endpoint=endpoint, actor=request.user)
        messages.success(request, _("A test event is on its way."))
    elif action in ("enable", "disable"):
        services.update_endpoint(endpoint=endpoint, actor=request.user,
                                 is_active=action == "enable")
    elif action == "delete":
        services.delete_endpoint(endpoint=endpoint, actor=request.user)
        messages.success(request, _("The endpoint is deleted."))
        return redirect("console:webhooks")
    else:
        raise Http404
    return redirect("console:webhook", pk=endpoint.pk)


@require_capability(Cap.MANAGE_API_KEYS)
@require_http_methods(["GET", "POST"])
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(selectors.deliveries(), pk=pk)
    if request.method == "POST":
        services.redeliver(delivery=delivery, actor=request.user)
        messages.success(request, _("The event is queued again, with the same webhook-id."))
        return redirect("console:webhook_delivery", pk=delivery.pk)
    return render(request, "console/webhook_delivery.html", {
        "delivery": delivery, "attempts": selectors.attempts(delivery)})
