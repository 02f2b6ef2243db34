"""Lottery pages: the portal's lottery page (enter, my entries, winners) and public
verifier, and the console's create/edit form with publish, cancel and draw-now."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jifen.activities.lottery_forms import (
    LotteryForm,
    tier_rows,
    tiers_from_post,
    tiers_of,
)
from jifen.activities.models import ActivityStatus, Lottery, Phase, PrizeKind
from jifen.activities.selectors import lottery as selectors
from jifen.activities.selectors.eligibility import eligibility_problem
from jifen.activities.services import lottery as services
from jifen.core import errors
from jifen.core.exports import csv_bytes
from jifen.core.permissions import require_capability
from jifen.core.roles import Cap
from jifen.ledger import selectors as ledger_selectors


def _employee(request: HttpRequest) -> Any:
    return getattr(request.user, "employee", None)


def _visible(pk: int) -> Lottery:
    """A lottery employees may see (not a draft), drawn first when its time has come."""
    lottery = selectors.visible_lottery(pk)
    if lottery is None:
        raise Http404
    return services.draw_if_due(lottery)


# --- portal ---------------------------------------------------------------------------------

@login_required
def lottery_page(request: HttpRequest, pk: int) -> HttpResponse:
    lottery = _visible(pk)
    employee = _employee(request)
    spendable = (ledger_selectors.balance(employee=employee).spendable
                 if employee is not None else None)
    problem = (eligibility_problem(lottery, employee, spendable=spendable)
               if employee is not None else _("Only employees can enter."))
    entries = selectors.my_entries(lottery, employee)
    active = sum(1 for e in entries if e.status == "active")
    phase = lottery.phase
    return render(request, "activities/lottery_page.html", {
        "lottery": lottery, "phase": phase, "phase_label": Phase(phase).label,
        "tiers": list(lottery.tiers.all()),
        "problem": problem, "entries": entries, "active_entries": active,
        "limit_left": max(0, lottery.entry_limit - active), "spendable": spendable,
        "short_by": (max(0, lottery.entry_cost - spendable) if spendable is not None else 0),
        "full": (lottery.entry_slots is not None
                 and lottery.entries_count >= lottery.entry_slots),
        "winners": selectors.winners(lottery), "token": uuid.uuid4().hex,
    })


@login_required
@require_POST
def lottery_enter(request: HttpRequest, pk: int) -> HttpResponse:
    lottery = _visible(pk)
    employee = _employee(request)
    if employee is None:
        messages.error(request, _("Only employees can enter."))
        return redirect("portal:lottery", pk=pk)
    token = (request.POST.get("token") or "").strip()[:64]
    try:
        entry = services.enter_lottery(lottery=lottery, employee=employee,
                                       idempotency_key=f"web:{token}" if token else "",
                                       actor=request.user)
    except errors.JifenError as exc:
        messages.error(request, exc.message)
        return redirect("portal:lottery", pk=pk)
    win = getattr(entry, "win", None)
    if win is not None:
        messages.success(request, _("You won %(prize)s!") % {"prize": win.tier.name})
    else:
        messages.success(request, _("You are in! Entry #%(id)s.") % {"id": entry.pk})
    return redirect("portal:lottery", pk=pk)


@login_required
def lottery_verify(request: HttpRequest, pk: int) -> HttpResponse:
    lottery = _visible(pk)
    proof = selectors.proof(lottery, employee=_employee(request))
    mine = [e["id"] for e in proof["entries"] if e["mine"]]
    return render(request, "activities/lottery_verify.html", {
        "lottery": lottery, "proof": proof, "proof_json": json.loads(
            json.dumps(proof, cls=DjangoJSONEncoder)),
        "mine": mine, "shown_entries": proof["entries"][:200],
        "more_entries": max(0, len(proof["entries"]) - 200),
        "tiers": {t["id"]: t["name"] for t in proof["tiers"]},
    })


@login_required
def lottery_proof_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The proof as JSON, or the entry list as CSV (the reader's own entries marked)."""
    lottery = _visible(pk)
    proof = selectors.proof(lottery, employee=_employee(request))
    if fmt == "json":
        response = HttpResponse(json.dumps(proof, cls=DjangoJSONEncoder, indent=1),
                                content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="lottery-{pk}-proof.json"'
        return response
    rows = ([entry["id"], entry["weight"], "yes" if entry["mine"] else ""]
            for entry in proof["entries"])
    response = HttpResponse(csv_bytes(["entry_id", "weight", "mine"], rows),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="lottery-{pk}-entries.csv"'
    return response


# --- console --------------------------------------------------------------------------------

def _form_context(form: LotteryForm, rows: list[dict[str, Any]],
                  lottery: Lottery | None) -> dict[str, Any]:
    return {"form": form, "rows": tier_rows(rows), "kinds": PrizeKind.choices,
            "items": selectors.prize_items(), "lottery": lottery}


def _save(request: HttpRequest, lottery: Lottery | None) -> tuple[Lottery | None, LotteryForm,
                                                                 list[dict[str, Any]]]:
    form = LotteryForm(request.POST)
    rows = tiers_from_post(request.POST)
    if not form.is_valid():
        return None, form, rows
    data = dict(form.cleaned_data)
    departments = data.pop("eligible_departments")
    try:
        saved = services.save_lottery(actor=request.user, data=data, tiers=rows,
                                      departments=departments, lottery=lottery)
    except errors.JifenError as exc:
        form.add_error(None, exc.message)
        return None, form, rows
    return saved, form, rows


@require_capability(Cap.MANAGE_ACTIVITIES)
def console_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        saved, form, rows = _save(request, None)
        if saved is not None:
            if request.POST.get("action") == "publish":
                return _act(request, saved, "publish")
            messages.success(request, _("Lottery saved as a draft."))
            return redirect("console:activities_lottery", pk=saved.pk)
    else:
        form, rows = LotteryForm(), []
    return render(request, "activities/lottery_form.html", _form_context(form, rows, None))


def _act(request: HttpRequest, lottery: Lottery, action: str) -> HttpResponse:
    try:
        if action == "publish":
            services.publish_lottery(lottery=lottery, actor=request.user)
            messages.success(request, _("Published. The seed's commitment is public."))
        elif action == "cancel":
            services.cancel_lottery(lottery=lottery, actor=request.user,
                                    reason=request.POST.get("reason", ""))
            messages.success(request, _("Cancelled; every entry was refunded."))
        elif action == "draw":
            services.draw_lottery(lottery=lottery, actor=request.user, force=True)
            messages.success(request, _("Drawn. The winners have been told."))
    except errors.JifenError as exc:
        messages.error(request, exc.message)
    return redirect("console:activities_lottery", pk=lottery.pk)


@require_capability(Cap.MANAGE_ACTIVITIES)
def console_lottery(request: HttpRequest, pk: int) -> HttpResponse:
    lottery = selectors.lottery_by_id(pk)
    if lottery is None:
        raise Http404
    lottery = services.draw_if_due(lottery)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    form = rows = None
    if action in ("publish", "cancel", "draw"):
        return _act(request, lottery, action)
    if action == "save":
        saved, form, rows = _save(request, lottery)
        if saved is not None:
            messages.success(request, _("Lottery saved."))
            return redirect("console:activities_lottery", pk=pk)
    if lottery.status == ActivityStatus.DRAFT and form is None:
        form, rows = LotteryForm(lottery=lottery), tiers_of(lottery)
    context = _form_context(form, rows or [], lottery) if form is not None else {
        "lottery": lottery}
    context.update({"winners": selectors.winners(lottery),
                    "tiers": list(lottery.tiers.all()),
                    "verify_url": reverse("portal:lottery_verify", args=[pk])})
    return render(request, "activities/lottery_console.html", context)


portal_urlpatterns: list = [
    path("activities/lotteries/<int:pk>/", lottery_page, name="lottery"),
    path("activities/lotteries/<int:pk>/enter/", lottery_enter, name="lottery_enter"),
    path("activities/lotteries/<int:pk>/verify/", lottery_verify, name="lottery_verify"),
    path("activities/lotteries/<int:pk>/proof.<str:fmt>", lottery_proof_download,
         name="lottery_proof"),
]
console_urlpatterns: list = [
    path("activities/lotteries/new/", console_new, name="activities_lottery_new"),
    path("activities/lotteries/<int:pk>/", console_lottery, name="activities_lottery"),
]
