"""Activity pages: the auction part. Portal: the auction page, its live fragment (polled by
htmx every few seconds: no thread is held per viewer) and the bid form. Console: create,
edit, publish and cancel. Every read of an auction past its end closes it first."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jifen.activities.auction_forms import AuctionForm
from jifen.activities.models import ActivityStatus, Auction
from jifen.activities.selectors import auction as selectors
from jifen.activities.selectors.eligibility import eligibility_problem
from jifen.activities.services import auction as services
from jifen.core import errors
from jifen.core.permissions import require_capability
from jifen.core.roles import Cap
from jifen.ledger import selectors as ledger_selectors

POLL_SECONDS = 3


def _employee(request: HttpRequest):
    return getattr(request.user, "employee", None)


def _auction(pk: int, *, drafts: bool = False) -> Auction:
    services.close_if_due(pk, quiet=True)
    auction = selectors.auction_by_id(pk)
    if auction is None or (auction.status == ActivityStatus.DRAFT and not drafts):
        raise Http404
    return auction


def _live_context(request: HttpRequest, auction: Auction) -> dict:
    employee = _employee(request)
    state = selectors.auction_state(auction, viewer=employee)
    return {"auction": auction, "state": state, "poll_seconds": POLL_SECONDS,
            "viewer_id": employee.pk if employee is not None else None,
            "polling": state.phase in ("upcoming", "running")}


@login_required
def auction_page(request: HttpRequest, pk: int) -> HttpResponse:
    auction = _auction(pk)
    employee = _employee(request)
    context = _live_context(request, auction)
    spendable = None
    problem = ""
    if employee is not None:
        spendable = ledger_selectors.balance(employee=employee).spendable
        problem = eligibility_problem(auction, employee, spendable=spendable)
    context.update({"spendable": spendable, "problem": problem,
                    "bid_key": uuid.uuid4().hex})
    return render(request, "activities/auction_page.html", context)


@login_required
def auction_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The part of the auction page that changes: price, minimum, countdown, standing,
    latest bids. htmx asks for it every few seconds while the auction is open."""
    auction = _auction(pk)
    response = render(request, "activities/auction_live.html", _live_context(request, auction))
    if auction.phase_at() not in ("upcoming", "running"):
        # Over: the page reloads once to show the result and drop the bid form.
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def auction_bid(request: HttpRequest, pk: int) -> HttpResponse:
    employee = _employee(request)
    if employee is None:
        raise Http404
    _auction(pk)
    raw = (request.POST.get("amount") or "").strip()
    if not raw.isdigit() or len(raw) > 15:
        messages.error(request, _("Bid a whole number of points above 0."))
        return redirect("portal:auction", pk=pk)
    key = (request.POST.get("key") or "").strip()[:64]
    try:
        services.place_bid(auction=pk, employee=employee, amount=int(raw),
                           idempotency_key=f"web:{employee.pk}:{key}" if key else "",
                           actor=request.user)
    except errors.JifenError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your bid of %(points)s points leads.") % {"points": raw})
    return redirect("portal:auction", pk=pk)


# --- console -------------------------------------------------------------------------------

def _save(request: HttpRequest, form: AuctionForm, auction: Auction | None) -> Auction | None:
    if not form.is_valid():
        return None
    fields = form.service_fields()
    departments = fields.pop("departments")
    try:
        if auction is None:
            return services.create_auction(actor=request.user, departments=departments,
                                           **fields)
        return services.update_auction(auction=auction, actor=request.user,
                                       departments=departments, **fields)
    except errors.ValidationError as exc:
        field = (exc.details or {}).get("field")
        form.add_error(field if field in form.fields else None, exc.message)
    except errors.JifenError as exc:
        form.add_error(None, exc.message)
    return None


@require_capability(Cap.MANAGE_ACTIVITIES)
def console_new(request: HttpRequest) -> HttpResponse:
    form = AuctionForm(request.POST or None)
    if request.method == "POST":
        auction = _save(request, form, None)
        if auction is not None:
            messages.success(request, _("Auction saved as a draft: publish it when ready."))
            return redirect("console:activities_auction", pk=auction.pk)
    return render(request, "activities/auction_form.html", {"form": form, "auction": None})


@require_capability(Cap.MANAGE_ACTIVITIES)
def console_auction(request: HttpRequest, pk: int) -> HttpResponse:
    auction = _auction(pk, drafts=True)
    editable = auction.status == ActivityStatus.DRAFT
    form = AuctionForm(request.POST if request.method == "POST" and editable else None,
                       instance=auction) if editable else None
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if action == "publish":
                services.publish_auction(auction=auction, actor=request.user)
                messages.success(request, _("Auction published."))
                return redirect("console:activities_auction", pk=pk)
            if action == "cancel":
                services.cancel_auction(auction=auction, actor=request.user,
                                        reason=request.POST.get("reason", ""))
                messages.success(request, _("Auction cancelled; every held point is back."))
                return redirect("console:activities_auction", pk=pk)
        except errors.JifenError as exc:
            messages.error(request, exc.message)
            return redirect("console:activities_auction", pk=pk)
        if action == "save" and form is not None and _save(request, form, auction) is not None:
            messages.success(request, _("Auction saved."))
            return redirect("console:activities_auction", pk=pk)
    bids = selectors.latest_bids(auction)
    return render(request, "activities/auction_form.html", {
        "form": form, "auction": auction, "bids": bids,
        "can_cancel": auction.status in (ActivityStatus.DRAFT, ActivityStatus.PUBLISHED)})


portal_urlpatterns: list = [
    path("activities/auctions/<int:pk>/", auction_page, name="auction"),
    path("activities/auctions/<int:pk>/live/", auction_live, name="auction_live"),
    path("activities/auctions/<int:pk>/bid/", auction_bid, name="auction_bid"),
]
console_urlpatterns: list = [
    path("activities/auctions/new/", console_new, name="activities_auction_new"),
    path("activities/auctions/<int:pk>/", console_auction, name="activities_auction"),
]
