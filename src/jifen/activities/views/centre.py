"""Activity pages: the centre part. Portal: the activity centre (running, upcoming and
finished lotteries and auctions, my entries and bids, winners). Console: the overview
(status filter, participation, the notice to eligible employees) and each activity's
results (live numbers, charts with their tables, exports)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from jifen.activities.models import Phase
from jifen.activities.selectors import centre as selectors
from jifen.activities.services import common as services
from jifen.core import errors
from jifen.core.exports import spreadsheet_response
from jifen.core.permissions import htmx_partial, require_capability
from jifen.core.roles import Cap
from jifen.ledger import selectors as ledger_selectors
from jifen.ledger.amounts import format_points

# --- portal --------------------------------------------------------------------------------


@login_required
def centre(request: HttpRequest) -> HttpResponse:
    employee = getattr(request.user, "employee", None)
    spendable = (ledger_selectors.balance(employee=employee).spendable
                 if employee is not None else None)
    now = timezone.now()
    sections = selectors.centre(employee=employee, spendable=spendable, now=now)
    mine = selectors.my_participation(employee, now=now) if employee is not None else []
    tab = request.GET.get("tab", "")
    if tab not in sections:
        tab = next((name for name in ("running", "upcoming", "finished") if sections[name]),
                   "running")
    return render(request, "activities/centre.html", {
        "sections": [(name, _section_title(name), sections[name]) for name in
                     ("running", "upcoming", "finished")],
        "tab": tab, "mine": mine, "now": now,
    })


def _section_title(name: str) -> str:
    return {"running": _("Running now"), "upcoming": _("Coming up"),
            "finished": _("Finished")}[name]


# --- console -------------------------------------------------------------------------------


def _phase_choices() -> list[tuple[str, str]]:
    return [(str(p), str(Phase(p).label)) for p in selectors.CONSOLE_PHASES]


@require_capability(Cap.MANAGE_ACTIVITIES)
def console_list(request: HttpRequest) -> HttpResponse:
    phase = request.GET.get("phase", "")
    if phase not in selectors.CONSOLE_PHASES:
        phase = ""
    kind = request.GET.get("kind", "")
    if kind not in selectors.KINDS:
        kind = ""
    now = timezone.now()
    rows = selectors.console_list(phase=phase, kind=kind, now=now)
    counts = selectors.participation_counts(rows)
    items = []
    for activity in rows:
        kind_name = selectors.kind_of(activity)
        numbers = counts.get((kind_name, activity.pk), {"actions": 0, "people": 0})
        activity_phase = activity.phase_at(now)
        items.append({
            "kind": kind_name, "activity": activity, "phase": activity_phase,
            "phase_label": Phase(activity_phase).label, **numbers,
            "can_announce": activity_phase in (Phase.UPCOMING, Phase.RUNNING)
            and activity.notice_sent_at is None,
        })
    return render(request, "activities/console_list.html", {
        "items": items, "phase": phase, "kind": kind, "phases": _phase_choices(),
    })


@require_POST
@require_capability(Cap.MANAGE_ACTIVITIES)
def announce(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    activity = _activity(kind, pk)
    try:
        sent = services.announce(activity=activity, actor=request.user,
                                 message=request.POST.get("message", ""))
    except errors.JifenError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The notice about %(title)s went to %(count)s employees.")
                         % {"title": activity.title, "count": sent})
    return redirect("console:activities")


def _activity(kind: str, pk: int) -> Any:
    try:
        return selectors.get_activity(kind, pk)
    except errors.NotFound:
        raise Http404 from None


def _numbers(stats: selectors.Stats) -> list[dict[str, Any]]:
    lottery = stats.kind == selectors.LOTTERY
    return [
        {"key": "participants", "label": _("Participants"), "value": stats.participants},
        {"key": "actions", "label": pgettext("lottery", "Entries") if lottery else _("Bids"),
         "value": stats.actions},
        {"key": "points", "label": _("Points collected") if lottery else
         (_("Winning bid") if stats.prizes_given else _("Leading bid")),
         "value": format_points(stats.points_collected)},
        {"key": "prizes", "label": _("Prizes given"),
         "value": f"{stats.prizes_given} / {stats.prizes_total}"},
    ]


@require_capability(Cap.MANAGE_ACTIVITIES)
def results(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    activity = _activity(kind, pk)
    now = timezone.now()
    stats = selectors.activity_stats(activity, now=now)
    phase = activity.phase_at(now)
    context = {
        "kind": kind, "activity": activity, "stats": stats, "numbers": _numbers(stats),
        "phase": phase, "phase_label": Phase(phase).label,
        "live": phase in (Phase.UPCOMING, Phase.RUNNING, Phase.DRAWING), "now": now,
    }
    if htmx_partial(request):
        return render(request, "activities/results_numbers.html", context)
    context["winners"] = selectors.winners_of([activity]).get((kind, activity.pk), [])
    context["chart_data"] = _chart_data(stats)
    return render(request, "activities/results.html", context)


def _chart_data(stats: selectors.Stats) -> dict[str, Any]:
    lottery = stats.kind == selectors.LOTTERY
    return {
        "labels": [row["at"] for row in stats.timeline],
        "counts": [row["count"] for row in stats.timeline],
        "totals": [row["total"] for row in stats.timeline],
        "points": [float(format_points(row["points"])) for row in stats.timeline],
        "prizes": [{"name": p["name"], "quantity": p["quantity"], "given": p["given"]}
                   for p in stats.prizes],
        "words": {
            "count": str(pgettext("lottery", "Entries") if lottery else _("Bids")),
            "total": str(_("Total so far")),
            "points": str(_("Points") if lottery else _("Bid amount")),
            "quantity": str(_("Prizes")), "given": str(_("Given")),
        },
    }


@require_capability(Cap.MANAGE_ACTIVITIES)
def results_data(request: HttpRequest, kind: str, pk: int) -> JsonResponse:
    """The charts' numbers as JSON (the page embeds the same with json_script)."""
    activity = _activity(kind, pk)
    return JsonResponse(_chart_data(selectors.activity_stats(activity)))


EXPORTS = {
    selectors.LOTTERY: ("entries", "winners"),
    selectors.AUCTION: ("bids",),
}


@require_capability(Cap.MANAGE_ACTIVITIES)
def export(request: HttpRequest, kind: str, pk: int, what: str, fmt: str) -> HttpResponse:
    activity = _activity(kind, pk)
    if what not in EXPORTS.get(kind, ()):
        raise Http404
    rows: Any
    name = pgettext("person", "Name")
    if what == "entries":
        header = [_("Entry"), _("Employee number"), name, _("Department"), _("Weight"),
                  _("Status"), _("Entered at"), _("Points")]
        cost = format_points(activity.entry_cost)
        rows = ([e.pk, e.employee.employee_no, e.employee.name, e.employee.department.name,
                 e.weight, str(e.get_status_display()),
                 timezone.localtime(e.created_at).replace(tzinfo=None), cost]
                for e in selectors.entries_for_export(activity))
    elif what == "winners":
        header = [_("Draw"), _("Prize"), _("Entry"), _("Employee number"), name,
                  _("Department"), _("Draw value")]
        rows = ([w.draw_index, w.tier.name, w.entry_id, w.entry.employee.employee_no,
                 w.entry.employee.name, w.entry.employee.department.name, w.value]
                for w in selectors.wins_for_export(activity))
    else:
        header = [_("Bid"), _("Employee number"), name, _("Department"), _("Amount"),
                  _("Status"), _("Placed at")]
        rows = ([b.pk, b.employee.employee_no, b.employee.name, b.employee.department.name,
                 format_points(b.amount), str(b.get_status_display()),
                 timezone.localtime(b.created_at).replace(tzinfo=None)]
                for b in selectors.bids_for_export(activity))
    return spreadsheet_response(fmt=fmt, filename=f"{kind}-{activity.pk}-{what}",
                                header=[str(h) for h in header], rows=rows,
                                sheet_title=str(what))


portal_urlpatterns: list = [
    path("activities/", centre, name="activities"),
]
console_urlpatterns: list = [
    path("activities/", console_list, name="activities"),
    path("activities/<str:kind>/<int:pk>/announce/", announce, name="activities_announce"),
    path("activities/<str:kind>/<int:pk>/results/", results, name="activities_results"),
    path("activities/<str:kind>/<int:pk>/results/data/", results_data,
         name="activities_results_data"),
    path("activities/<str:kind>/<int:pk>/export/<str:what>.<str:fmt>", export,
         name="activities_export"),
]
