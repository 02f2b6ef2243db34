"""Insights pages: the recommendations part. Portal: the employee's switch for the
"Recommended for you" rows (mall, item pages, library) and the weekly digest's section,
with what they are made of."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jifen.insights.selectors import recommend as selectors
from jifen.insights.services import recommend as services


@login_required
@require_http_methods(["GET", "POST"])
def recommendations(request: HttpRequest) -> HttpResponse:
    employee = getattr(request.user, "employee", None)
    if request.method == "POST":
        if employee is None:
            messages.error(request, _("Only employees get recommendations."))
            return redirect("portal:recommendations")
        enabled = request.POST.get("enabled") == "1"
        services.set_recommendations(employee=employee, enabled=enabled)
        messages.success(request, _("Recommendations are on.") if enabled
                         else _("Recommendations are off. We no longer suggest anything to "
                                "you."))
        return redirect("portal:recommendations")
    return render(request, "insights/recommendations.html", {
        "employee": employee,
        "enabled": selectors.enabled_for(employee),
    })


portal_urlpatterns = [
    path("me/recommendations/", recommendations, name="recommendations"),
]
