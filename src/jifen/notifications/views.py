"""The notification centre: an employee's in-app messages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from jifen.core.redirects import safe_path
from jifen.notifications import selectors, services

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
