"""Library pages: the engagement part.

Portal: the check-in page (month calendar, streak, make-up cards) and the one-tap check-in
the home page's card posts to; the comments + rating + share fragment that any target's
page loads with htmx (``library_comments``: the mall's item page, the library's resource
page); the share landing ``/s/<code>/``. Console: the moderation queue, the engagement
settings and the operators' page with its exports. Thin: parse, check, call one service or
selector, render."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from jifen.core import errors
from jifen.core.exports import spreadsheet_response
from jifen.core.forms import StyledForm
from jifen.core.permissions import htmx_partial, require_capability
from jifen.core.roles import Cap
from jifen.ledger.amounts import format_points
from jifen.library.models import CommentStatus
from jifen.library.selectors import engagement as selectors
from jifen.library.services import engagement as services
from jifen.library.services import engagement_comments as comment_services
from jifen.library.services import engagement_shares as share_services
from jifen.library.targets import find_target

COMMENTS_SHOWN = 20
OPERATOR_DAYS = (7, 30, 90)


def _employee(request: HttpRequest) -> Any:
    return getattr(request.user, "employee", None)


def _month(value: str | None, today: date) -> tuple[int, int]:
    """``YYYY-MM`` from the query string, or this month; never a month after this one."""
    try:
        year, month = (int(part) for part in (value or "").split("-", 1))
        if 2000 <= year <= 2100 and 1 <= month <= 12 and (year, month) <= (
                today.year, today.month):
            return year, month
    except ValueError:
        pass
    return today.year, today.month


# --- check-in --------------------------------------------------------------------------


def _earned_message(earned: int) -> str:
    if earned:
        return _("Checked in: +%(points)s points.") % {"points": format_points(earned)}
    return _("Checked in.")


@login_required
@require_http_methods(["GET", "POST"])
def checkin(request: HttpRequest) -> HttpResponse:
    employee = _employee(request)
    if employee is None:
        raise Http404
    if request.method == "POST":
        try:
            result = services.check_in(employee=employee)
        except errors.JifenError as exc:
            messages.error(request, exc.message)
            return redirect("portal:library_checkin")
        if htmx_partial(request):
            return render(request, "library/checkin_card.html", {
                "checkin": selectors.check_in_card(employee), "just_checked_in": result.created,
                "earned": format_points(result.earned) if result.earned else ""})
        if result.created:
            messages.success(request, _earned_message(result.earned))
        else:
            messages.info(request, _("You have already checked in today."))
        return redirect("portal:library_checkin")
    today = selectors.today()
    year, month = _month(request.GET.get("month"), today)
    overview = selectors.check_in_month(employee, year, month)
    return render(request, "library/checkin.html", {
        "overview": overview, "month_start": date(year, month, 1),
        "weekdays": [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")],
        "longest": selectors.longest_streak(employee),
        "days_in_month": calendar.monthrange(year, month)[1],
        "settings": selectors.engagement_settings(),
    })


@login_required
@require_POST
def checkin_makeup(request: HttpRequest) -> HttpResponse:
    employee = _employee(request)
    if employee is None:
        raise Http404
    try:
        day = date.fromisoformat((request.POST.get("day") or "").strip())
    except ValueError:
        messages.error(request, _("Choose a day to make up."))
        return redirect("portal:library_checkin")
    try:
        services.make_up_day(employee=employee, day=day)
    except errors.JifenError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(day)s is made up: your streak is whole again.")
                         % {"day": day.isoformat()})
    return redirect(f"{reverse('portal:library_checkin')}?month={day:%Y-%m}")


# --- comments, ratings and shares (a fragment on any target's page) ---------------------


def _engagement_context(request: HttpRequest, kind: str, target_id: int,
                        **extra: Any) -> dict[str, Any]:
    employee = _employee(request)
    target = find_target(kind, target_id, employee)
    if target is None:
        raise Http404
    comments = list(selectors.shown_comments(target.kind, target.id)[:COMMENTS_SHOWN + 1])
    link = selectors.share_link_for(employee, target.kind, target.id) if employee else None
    return {
        "target": target, "comments": comments[:COMMENTS_SHOWN],
        "more_comments": len(comments) > COMMENTS_SHOWN,
        "total_comments": selectors.shown_comments(target.kind, target.id).count(),
        "rating": selectors.rating_summary(target.kind, target.id, employee),
        "stars": range(1, 6), "employee": employee,
        "share_url": request.build_absolute_uri(reverse("portal:library_share",
                                                        args=[link.code])) if link else "",
        "min_length": selectors.engagement_settings().comment_min_length,
        "max_length": comment_services.MAX_COMMENT_LENGTH,
        **extra,
    }


def _fragment(request: HttpRequest, kind: str, target_id: int, **extra: Any) -> HttpResponse:
    context = _engagement_context(request, kind, target_id, **extra)
    if htmx_partial(request):
        return render(request, "library/engagement_panel.html", context)
    return render(request, "library/engagement_page.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def comments(request: HttpRequest, kind: str, target_id: int) -> HttpResponse:
    """GET: the panel (comments, rating, share). POST: post a comment, then the panel."""
    if request.method == "GET":
        return _fragment(request, kind, target_id)
    employee = _employee(request)
    if employee is None:
        raise Http404
    text = request.POST.get("text", "")
    try:
        _comment, earned = comment_services.post_comment(
            employee=employee, kind=kind, target_id=target_id, text=text)
    except errors.NotFound:
        raise Http404 from None
    except errors.JifenError as exc:
        return _fragment(request, kind, target_id, comment_error=exc.message, draft=text)
    notice = (_("Comment posted: +%(points)s points.") % {"points": format_points(earned)}
              if earned else _("Comment posted."))
    return _fragment(request, kind, target_id, notice=notice)


@login_required
@require_POST
def rate(request: HttpRequest, kind: str, target_id: int) -> HttpResponse:
    employee = _employee(request)
    if employee is None:
        raise Http404
    try:
        comment_services.rate(employee=employee, kind=kind, target_id=target_id,
                              stars=request.POST.get("stars"))
    except errors.NotFound:
        raise Http404 from None
    except errors.JifenError as exc:
        return _fragment(request, kind, target_id, rating_error=exc.message)
    return _fragment(request, kind, target_id, notice=_("Thank you for rating."))


@login_required
@require_POST
def share(request: HttpRequest, kind: str, target_id: int) -> HttpResponse:
    employee = _employee(request)
    if employee is None:
        raise Http404
    try:
        share_services.create_share_link(employee=employee, kind=kind, target_id=target_id)
    except errors.NotFound:
        raise Http404 from None
    except errors.JifenError as exc:
        return _fragment(request, kind, target_id, notice=exc.message)
    return _fragment(request, kind, target_id, share_open=True)


@login_required
@require_POST
def report_comment(request: HttpRequest, pk: int) -> HttpResponse:
    employee = _employee(request)
    if employee is None:
        raise Http404
    try:
        comment = comment_services.report_comment(employee=employee, comment_id=pk,
                                                  reason=request.POST.get("reason", ""))
    except errors.NotFound:
        raise Http404 from None
    except errors.JifenError as exc:
        kind, target_id = request.POST.get("kind", ""), request.POST.get("target_id", "")
        if not str(target_id).isdigit():
            raise Http404 from None
        return _fragment(request, kind, int(target_id), notice=exc.message)
    return _fragment(request, comment.target_kind, comment.target_id,
                     notice=_("Thank you: the moderators will look at it."))


@login_required
def share_landing(request: HttpRequest, code: str) -> HttpResponse:
    """A colleague opens a share link: the visit is recorded (it earns the sharer, once per
    colleague, never for the sharer's own visits) and they go on to the target."""
    link = selectors.share_link_by_code(code)
    if link is None:
        raise Http404
    employee = _employee(request)
    target = find_target(link.target_kind, link.target_id, employee)
    if target is None or not target.url:
        raise Http404
    if employee is not None:
        share_services.record_share_visit(link=link, visitor=employee)
    return redirect(target.url)


# --- console ---------------------------------------------------------------------------


@require_capability(Cap.MANAGE_LIBRARY)
def moderation(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or CommentStatus.REPORTED
    if status not in CommentStatus.values:
        status = CommentStatus.REPORTED
    rows = list(selectors.moderation_queue(status)[:200])
    titles = selectors.targets_of(rows)
    return render(request, "library/engagement_moderation.html", {
        "rows": [(c, titles.get((c.target_kind, c.target_id))) for c in rows],
        "status": status, "statuses": CommentStatus.choices,
    })


@require_capability(Cap.MANAGE_LIBRARY)
@require_POST
def moderate(request: HttpRequest, pk: int) -> HttpResponse:
    action = request.POST.get("action")
    act = {"hide": comment_services.hide_comment,
           "unhide": comment_services.unhide_comment}.get(action or "")
    back = f"{reverse('console:library_moderation')}?status=" + (
        request.POST.get("status") or CommentStatus.REPORTED)
    if act is None:
        messages.error(request, _("Unknown action."))
        return redirect(back)
    try:
        act(actor=request.user, comment_id=pk, reason=request.POST.get("reason", ""))
    except errors.JifenError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The comment is hidden everywhere.") if action == "hide"
                         else _("The comment is shown again."))
    return redirect(back)


class EngagementSettingsForm(StyledForm, forms.Form):
    makeup_cards_enabled = forms.BooleanField(
        label=gettext_lazy("Allow make-up cards"), required=False,
        help_text=gettext_lazy("A missed day may be made up with a make-up card bought in "
                               "the mall."))
    makeup_item_id = forms.IntegerField(
        label=gettext_lazy("Make-up card item id"), required=False, min_value=1,
        max_value=2**63 - 1, help_text=gettext_lazy(
            "The id of the mall item that is the card (shown in its address). Each paid "
            "order of it gives one card per unit."))
    makeup_window_days = forms.IntegerField(
        label=gettext_lazy("Days back that can be made up"), min_value=1, max_value=31)
    comment_min_length = forms.IntegerField(
        label=gettext_lazy("Minimum length of a comment that earns"), min_value=1,
        max_value=comment_services.MAX_COMMENT_LENGTH)
    sensitive_words = forms.CharField(
        label=gettext_lazy("Sensitive words"), required=False,
        widget=forms.Textarea(attrs={"rows": 6}), max_length=20000,
        help_text=gettext_lazy("One word or phrase a line. A comment containing one is "
                               "refused and the author is told which."))


@require_capability(Cap.MANAGE_LIBRARY)
@require_http_methods(["GET", "POST"])
def engagement_settings(request: HttpRequest) -> HttpResponse:
    current = selectors.engagement_settings()
    initial = {name: getattr(current, name) for name in services.SETTINGS_FIELDS}
    form = EngagementSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_engagement_settings(actor=request.user, **form.cleaned_data)
        except errors.JifenError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("console:library_engagement_settings")
    return render(request, "library/engagement_settings.html", {"form": form})


def _period(request: HttpRequest) -> tuple[int, date, date]:
    try:
        days = int(request.GET.get("days") or 30)
    except ValueError:
        days = 30
    if days not in OPERATOR_DAYS:
        days = 30
    until = selectors.today()
    return days, until - timedelta(days=days - 1), until


@require_capability(Cap.MANAGE_LIBRARY)
def engagement_overview(request: HttpRequest) -> HttpResponse:
    days, since, until = _period(request)
    figures = selectors.daily_figures(since, until)
    heatmap = selectors.check_in_heatmap(since, until)
    return render(request, "library/engagement_overview.html", {
        "days": days, "periods": OPERATOR_DAYS, "since": since, "until": until,
        "figures": figures,
        "chart": {
            "days": [f.day.isoformat() for f in figures],
            "rate": [round(f.rate * 100, 1) for f in figures],
            "checkins": [f.check_ins for f in figures],
            "comments": [f.comments for f in figures],
            "shares": [f.share_visits for f in figures],
            "heatmap": [[hour, weekday, heatmap[weekday][hour]]
                        for weekday in range(7) for hour in range(24)],
            "heatmap_max": max([max(row) for row in heatmap] + [1]),
            "weekdays": [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"),
                         _("Sun")],
            "labels": {"rate": _("Check-in rate (%)"), "checkins": _("Check-ins"),
                       "comments": _("Comments"), "shares": _("Share visits")},
        },
        "total_checkins": sum(f.check_ins for f in figures),
        "average_rate": round(sum(f.rate for f in figures) / len(figures) * 100, 1),
        "total_comments": sum(f.comments for f in figures),
        "total_shares": sum(f.share_visits for f in figures),
        "commenters": selectors.top_commenters(since, until),
        "sharers": selectors.top_sharers(since, until),
    })


@require_capability(Cap.MANAGE_LIBRARY)
def engagement_export(request: HttpRequest, fmt: str) -> HttpResponse:
    _days, since, until = _period(request)
    rows = [[f.day, f.check_ins, round(f.rate * 100, 1), f.comments, f.share_visits]
            for f in selectors.daily_figures(since, until)]
    return spreadsheet_response(
        fmt=fmt, filename=f"engagement-{since}-{until}",
        header=[_("Day"), _("Check-ins"), _("Check-in rate (%)"), _("Comments"),
                _("Share visits")], rows=rows, sheet_title=_("Engagement"),
        widths=[14, 12, 18, 12, 14])


@require_capability(Cap.MANAGE_LIBRARY)
def comments_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """Every comment anyone can read (hidden ones never), newest first."""
    rows_qs = list(selectors.shown_comments()[:50000])
    titles = selectors.targets_of(rows_qs)
    rows = []
    for c in rows_qs:
        target = titles.get((c.target_kind, c.target_id))
        rows.append([c.created_at.astimezone(services.company_zone()).replace(tzinfo=None),
                     c.author.name, c.author.employee_no, c.target_kind,
                     target.title if target else c.target_id, c.text, c.get_status_display()])
    return spreadsheet_response(
        fmt=fmt, filename="comments",
        header=[_("Posted"), _("Name"), _("Employee number"), _("Kind"), _("About"),
                _("Comment"), _("Status")], rows=rows, sheet_title=_("Comments"),
        widths=[18, 12, 14, 10, 24, 60, 10])


portal_urlpatterns = [
    path("checkin/", checkin, name="library_checkin"),
    path("checkin/make-up/", checkin_makeup, name="library_checkin_makeup"),
    path("engage/<slug:kind>/<int:target_id>/", comments, name="library_comments"),
    path("engage/<slug:kind>/<int:target_id>/rate/", rate, name="library_rate"),
    path("engage/<slug:kind>/<int:target_id>/share/", share, name="library_share_create"),
    path("engage/comments/<int:pk>/report/", report_comment, name="library_comment_report"),
    path("s/<str:code>/", share_landing, name="library_share"),
]
console_urlpatterns = [
    path("library/moderation/", moderation, name="library_moderation"),
    path("library/moderation/<int:pk>/", moderate, name="library_moderate"),
    path("library/engagement/", engagement_overview, name="library_engagement"),
    path("library/engagement/settings/", engagement_settings,
         name="library_engagement_settings"),
    path("library/engagement/export.<str:fmt>", engagement_export,
         name="library_engagement_export"),
    path("library/engagement/comments.<str:fmt>", comments_export,
         name="library_comments_export"),
]
