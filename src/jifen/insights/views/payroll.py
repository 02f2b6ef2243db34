"""Payroll console pages: the months, one month's figures (close, reopen, download) and
the settings (bonus policies, export columns, benefit). Seeing them needs insights and
every department (HR, auditors); changing anything needs managing people (HR)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from jifen.core import errors
from jifen.core.exports import XLSX_CONTENT_TYPE, download
from jifen.core.permissions import forbidden, require_capability
from jifen.core.roles import Cap, user_can
from jifen.insights.models import PayrollExport, PayrollExportStatus
from jifen.insights.selectors import payroll as selectors
from jifen.insights.services import payroll, payroll_exports
from jifen.ledger.amounts import format_points, site_decimals
from jifen.ledger.models import Category
from jifen.mall.models import Fulfilment

PAGE = 100
BLANK_COLUMN_ROWS = 3


def payroll_reader(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Insights plus every department: payroll figures cover the whole company."""

    @require_capability(Cap.VIEW_INSIGHTS)
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not user_can(request.user, Cap.VIEW_ALL_PEOPLE):
            return forbidden(request, _("Payroll figures are for HR and auditors."))
        return view(request, *args, **kwargs)

    return wrapped


def _month(text: str) -> date:
    return payroll.parse_month(text)


@payroll_reader
def periods(request: HttpRequest) -> HttpResponse:
    """The last twelve months with their status, newest first, and a month picker."""
    wanted = request.GET.get("month", "")
    if wanted:
        try:
            return redirect("console:payroll_period", month=f"{_month(wanted):%Y-%m}")
        except errors.ValidationError as exc:
            messages.error(request, exc.message)
    months = selectors.recent_months(timezone.now())
    stored = selectors.periods_by_month(months)
    rows = [{"month": m, "key": f"{m:%Y-%m}", "period": stored.get(m),
             "running": m == months[0]} for m in months]
    return render(request, "insights/payroll/periods.html", {"rows": rows})


@payroll_reader
def period(request: HttpRequest, month: str) -> HttpResponse:
    """One month: policies, status, close / reopen, download, and a page of lines."""
    try:
        first = _month(month)
    except errors.ValidationError as exc:
        return render(request, "insights/payroll/bad_month.html", {"message": exc.message},
                      status=404)
    if "export" in request.GET:  # the polled card of an export job (htmx)
        job = _export_job(first, request.GET["export"][:20])
        if job is None:
            raise Http404
        return render(request, "insights/payroll/_export.html",
                      {"job": job, "key": f"{first:%Y-%m}"})
    after = request.GET.get("after", "")[:40]
    view = payroll.read_period(month=first, after=after, limit=PAGE)
    ended = payroll.month_bounds(first)[1] <= timezone.now()
    lines = [{"employee_no": line.employee_no, "name": line.name,
              "department": line.department,
              "per_policy": [(format_points(line.points.get(p.category, 0)),
                              line.factors.get(p.category)) for p in view.policies],
              "total_factor": line.total_factor, "benefit": line.benefit}
             for line in view.lines]
    policies = [{"label": Category(p.category).label if p.category in Category.values
                 else p.category, "target": format_points(p.target),
                 "weight": f"{p.weight.normalize():f}",
                 "feeds": p.label} for p in view.policies]
    return render(request, "insights/payroll/period.html", {
        "month": first, "key": f"{first:%Y-%m}", "view": view, "lines": lines,
        "policies": policies, "ended": ended, "after": after,
        "next_after": view.next_after,
        "may_close": user_can(request.user, Cap.MANAGE_PEOPLE),
        "closed": view.status == "closed",
        "export_job": payroll_exports.latest_export(first),
    })


@payroll_reader
@require_http_methods(["GET", "POST"])
def export(request: HttpRequest, month: str) -> HttpResponse:
    """POST: ask the worker for the month as xlsx under the column mapping (a closed month:
    the same file always); the period page shows its progress, then the download. GET with
    ``?job=<id>``: the file that job wrote."""
    try:
        first = _month(month)
    except errors.ValidationError:
        return render(request, "insights/payroll/bad_month.html", {}, status=404)
    if request.method == "GET":
        job = _export_job(first, request.GET.get("job", ""))
        if job is None or job.status != PayrollExportStatus.DONE or not job.file:
            raise Http404
        with job.file.open("rb") as handle:
            content = handle.read()
        return download(content, XLSX_CONTENT_TYPE, f"payroll-{job.month:%Y-%m}.xlsx")
    payroll_exports.start_export(month=first, actor=request.user)
    return redirect(reverse("console:payroll_period", args=[f"{first:%Y-%m}"]) + "#export")


def _export_job(month: date, pk: str) -> PayrollExport | None:
    if not pk.isdigit():
        return None
    return payroll_exports.export_by_id(month, int(pk))


@require_capability(Cap.MANAGE_PEOPLE)
@require_POST
def close(request: HttpRequest, month: str) -> HttpResponse:
    try:
        first = _month(month)
        payroll.close_period(month=first, actor=request.user)
        messages.success(request, _("%(month)s is closed: its figures are frozen.")
                         % {"month": month})
    except errors.JifenError as exc:
        messages.error(request, exc.message)
    return redirect("console:payroll_period", month=month[:7])


@require_capability(Cap.MANAGE_PEOPLE)
@require_POST
def reopen(request: HttpRequest, month: str) -> HttpResponse:
    try:
        first = _month(month)
        payroll.reopen_period(month=first, actor=request.user,
                              reason=request.POST.get("reason", ""))
        messages.success(request, _("%(month)s is open again.") % {"month": month})
    except errors.JifenError as exc:
        messages.error(request, exc.message)
    return redirect("console:payroll_period", month=month[:7])


@require_capability(Cap.MANAGE_PEOPLE)
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    """Bonus policies, the export's columns and the benefit setting, each its own form."""
    if request.method == "POST":
        try:
            _save(request)
            messages.success(request, _("Saved."))
            return redirect(reverse("console:payroll_settings") + "#" +
                            request.POST.get("form", ""))
        except errors.JifenError as exc:
            messages.error(request, exc.message)
    policies = selectors.policies_by_category()
    policy_rows = [{"category": value, "label": label, "policy": policies.get(value),
                    "target": format_points(policies[value].target)
                    if value in policies else ""}
                   for value, label in Category.choices]
    found = payroll.current_settings()
    # Not saved yet: the default headers in the reader's language (a closed month gets
    # the site language's, payroll.current_columns).
    columns = found.columns or payroll.default_columns()
    column_rows = [{"order": index + 1, **column} for index, column in enumerate(columns)]
    column_rows += [{"order": "", "field": "", "header": ""}
                    for _blank in range(BLANK_COLUMN_ROWS)]
    return render(request, "insights/payroll/settings.html", {
        "policy_rows": policy_rows, "column_rows": column_rows,
        "field_choices": payroll.field_choices(), "benefit": found,
        "fulfilments": [(value, label, value in found.benefit_fulfilments)
                        for value, label in Fulfilment.choices],
        "decimals": site_decimals(),
    })


def _target_units(text: str) -> int:
    """Points typed in the form → integer units (the site's decimals)."""
    try:
        units = Decimal(text.strip()).scaleb(site_decimals())
    except InvalidOperation:
        units = Decimal(0)
    if not units.is_finite() or units != units.to_integral_value() or units > 10**15:
        units = Decimal(0)  # refused by the service as not a target above 0
    return int(units)


def _save(request: HttpRequest) -> None:
    form = request.POST.get("form")
    if form == "policy":
        target = _target_units(request.POST.get("target", ""))
        payroll.save_policy(actor=request.user, category=request.POST.get("category", ""),
                            target=target, weight=request.POST.get("weight", "").strip(),
                            label=request.POST.get("label", ""),
                            active=request.POST.get("active") == "on")
    elif form == "columns":
        rows = []
        for order, name, header in zip(request.POST.getlist("order"),
                                       request.POST.getlist("field"),
                                       request.POST.getlist("header"), strict=False):
            if name and order.strip():
                try:
                    position = int(order)
                except ValueError:
                    position = 10_000
                rows.append((position, {"field": name, "header": header}))
        payroll.save_columns(actor=request.user,
                             columns=[row for _pos, row in sorted(rows, key=lambda r: r[0])])
    elif form == "benefit":
        payroll.save_benefit_setting(actor=request.user,
                                     enabled=request.POST.get("enabled") == "on",
                                     fulfilments=request.POST.getlist("fulfilment"))
    else:
        raise errors.ValidationError(_("Unknown form."), code=errors.ErrorCode.INVALID_VALUE)
