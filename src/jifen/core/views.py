"""The core console pages: site settings and the audit log. Thin: parse, check permission,
call a selector or service, render."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jifen.core import errors, selectors, services
from jifen.core.forms import AuditFilterForm, SiteSettingsForm
from jifen.core.permissions import htmx_partial, require_capability
from jifen.core.roles import Cap


@require_capability(Cap.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def site_settings(request: HttpRequest) -> HttpResponse:
    current = selectors.site_settings()
    locked = services.points_exist()
    initial = {name: getattr(current, name) for name in services.SITE_SETTINGS_FIELDS
               if name != "logo"}
    if request.method == "POST":
        form = SiteSettingsForm(request.POST, request.FILES, initial=initial,
                                decimals_locked=locked)
        if form.is_valid():
            changes = form.changes(current)
            if not changes:
                messages.info(request, _("Nothing changed."))
                return redirect("console:settings")
            try:
                services.update_site_settings(actor=request.user, **changes)
            except errors.ValidationError as exc:
                form.add_service_errors(exc.details.get("fields", {}) or {"__all__": exc.message})
            except errors.JifenError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Settings saved."))
                return redirect("console:settings")
    else:
        form = SiteSettingsForm(initial=initial, decimals_locked=locked)
    return render(request, "console/settings.html", {
        "form": form, "current": current, "decimals_locked": locked,
    })


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@require_capability(Cap.VIEW_AUDIT)
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None, actions=selectors.audit_actions())
    filters: dict = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {"q": data["q"].strip(), "action": data["action"], "actor": data["actor"]}
        if data["since"]:
            filters["since"] = _day_start(data["since"])
        if data["until"]:
            filters["until"] = _day_start(data["until"] + timedelta(days=1))
    entries = selectors.search_audit_log(**filters)
    page = Paginator(entries, 25).get_page(request.GET.get("page"))
    page.object_list = selectors.described_audit_entries(page.object_list, user=request.user)
    context = {"form": form, "page": page, "filtered": any(filters.values())}
    if htmx_partial(request):
        return render(request, "console/audit_log.html#results", context)
    return render(request, "console/audit_log.html", context)
