"""The notification centre (an employee's in-app messages), their notification settings,
and the console page of the site's defaults."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from jifen.core import errors
from jifen.core.permissions import forbidden
from jifen.core.redirects import safe_path
from jifen.core.roles import Cap, user_can
from jifen.notifications import selectors, services
from jifen.notifications.channels import IM
from jifen.notifications.forms import DeliveryForm, grid_choices
from jifen.notifications.kinds import EMAIL, IN_APP

PAGE_SIZE = 30


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_for(request.user), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page})


@login_required
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of the user's notifications read and go where it points."""
    notification = get_object_or_404(selectors.notifications_for(request.user), pk=pk)
    services.mark_read(recipient=request.user, ids=[notification.pk])
    return HttpResponseRedirect(
        safe_path(request, notification.url, reverse("portal:notifications")))


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    services.mark_read(recipient=request.user)
    return redirect("portal:notifications")


def _grid_context(user: object | None) -> dict:
    """The kinds grouped by the app that sends them, each with a cell per channel."""
    im_available = selectors.im_available()
    channels = [(IN_APP, _("In the app")), (EMAIL, _("E-mail")), (IM, _("IM message"))]
    areas: dict[str, list] = {}
    for row in selectors.preference_grid(user):
        cells = [{"box": f"{row.name}:{channel}", "label": label, "on": row.on[channel],
                  "id": f"pref-{row.name.replace('.', '-')}-{channel}",
                  "disabled": (channel == IM and not im_available)
                  or (channel == IN_APP and row.kind.mandatory)}
                 for channel, label in channels]
        areas.setdefault(row.area_label, []).append({"kind": row.kind, "cells": cells})
    return {"areas": areas, "im_available": im_available, "channels": channels}


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    """The employee's own settings: kinds × channels, digest mode, quiet hours."""
    delivery = selectors.delivery_of(request.user)
    initial = {"mode": delivery.mode, "digest_hour": delivery.digest_hour,
               "digest_weekday": delivery.digest_weekday,
               "quiet_start": delivery.quiet_start, "quiet_end": delivery.quiet_end}
    form = DeliveryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.save_preferences(
                user=request.user, choices=grid_choices(request.POST), mode=data["mode"],
                digest_hour=data["digest_hour"], digest_weekday=data["digest_weekday"],
                quiet_start=data["quiet_start"], quiet_end=data["quiet_end"],
                quiet=bool(data["quiet_start"]))
        except errors.JifenError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Notification settings saved."))
            return redirect("portal:notification_settings")
    return render(request, "notifications/settings.html",
                  {"form": form, **_grid_context(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def notification_defaults(request: HttpRequest) -> HttpResponse:
    """The site's default channels per kind (HR or super admins)."""
    if not (user_can(request.user, Cap.MANAGE_SETTINGS)
            or user_can(request.user, Cap.MANAGE_PEOPLE)):
        return forbidden(request)
    if request.method == "POST":
        try:
            services.save_site_defaults(actor=request.user, choices=grid_choices(request.POST))
        except errors.JifenError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Notification defaults saved."))
            return redirect("console:notification_defaults")
    return render(request, "notifications/defaults.html", _grid_context(None))
