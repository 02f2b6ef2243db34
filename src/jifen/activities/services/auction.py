"""Auctions: create, update, publish and cancel (admins, audited); bid (employees); close
(the worker, or whoever reads an auction past its end first).

- A bid holds the bidder's points (``ledger.hold`` caused by the Bid) and, in the same
  transaction, releases the hold of the bid it beats. Bids on one auction are serialised
  by a row lock on the auction (``select_for_update``; SQLite's IMMEDIATE transactions
  lock the database instead) taken before anything else is written, so exactly one bid
  leads at any moment and an equal later bid is too low: ties go to the earlier bid.
- Anti-sniping: a bid within the last ``extend_minutes`` moves ``ends_at`` on by
  ``extend_minutes``, never past ``latest_end``.
- A bidder may raise their own leading bid: the new bid holds the new amount and the old
  hold is released in the same transaction (so the leader never holds twice).
- Publishing reserves one of the item (``core.prizes.reserve_prize_stock``), so the winner
  never meets an empty shelf; a cancelled auction or one without a winner gives it back.
- Closing happens once: the winner's hold becomes a mall order (``core.prizes``), or every
  hold comes back (no bids, reserve not met).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.activities import notices
from jifen.activities.models import ActivityStatus, Auction, AuctionOutcome, Bid, BidStatus
from jifen.activities.selectors.auction import minimum_bid
from jifen.activities.selectors.eligibility import eligibility_problem
from jifen.activities.signals import auction_closed
from jifen.core import errors
from jifen.core.actors import Actor, actor_user
from jifen.core.db import atomic_with_retry
from jifen.core.prizes import (
    PrizeOrder,
    place_prize_order,
    reserve_prize_stock,
    return_prize_stock,
)
from jifen.core.services import record_audit
from jifen.ledger import selectors as ledger_selectors
from jifen.ledger import services as ledger
from jifen.ledger.models import Transaction
from jifen.notifications.services import notify
from jifen.people.models import Department, Employee

logger = logging.getLogger(__name__)

MAX_EXTEND_MINUTES = 24 * 60
# The fields an admin sets (``create_auction`` / ``update_auction``).
AUCTION_FIELDS = ("title", "description", "item_id", "starting_price", "min_increment",
                  "reserve_price", "starts_at", "ends_at", "extend_minutes", "latest_end",
                  "min_balance", "eligible_grades", "min_tenure_days")


# --- admin ---------------------------------------------------------------------------------

def _item_exists(item_id: Any) -> bool:
    from django.apps import apps

    return apps.get_model("mall", "Item").objects.filter(pk=item_id).exists()


def _check(fields: dict[str, Any]) -> None:
    """Refuse an auction that cannot run: prices, times and anti-sniping that do not fit."""
    title = (fields.get("title") or "").strip()
    if not title:
        raise errors.ValidationError(_("Give the auction a title."),
                                     code=errors.ErrorCode.VALIDATION_ERROR,
                                     details={"field": "title"})
    if not isinstance(fields.get("item_id"), int) or not _item_exists(fields["item_id"]):
        raise errors.ValidationError(_("Choose an item of the mall."),
                                     code=errors.ErrorCode.NOT_FOUND, details={"field": "item"})
    start, increment = fields.get("starting_price"), fields.get("min_increment")
    if not isinstance(start, int) or start <= 0:
        raise errors.ValidationError(_("The starting price must be more than 0 points."),
                                     code=errors.ErrorCode.INVALID_AMOUNT,
                                     details={"field": "starting_price"})
    if not isinstance(increment, int) or increment <= 0:
        raise errors.ValidationError(_("The minimum raise must be more than 0 points."),
                                     code=errors.ErrorCode.INVALID_AMOUNT,
                                     details={"field": "min_increment"})
    reserve = fields.get("reserve_price")
    if reserve is not None and (not isinstance(reserve, int) or reserve < start):
        raise errors.ValidationError(_("The reserve price cannot be below the starting price."),
                                     code=errors.ErrorCode.INVALID_AMOUNT,
                                     details={"field": "reserve_price"})
    starts, ends, latest = fields.get("starts_at"), fields.get("ends_at"), fields.get("latest_end")
    if not isinstance(starts, datetime) or not isinstance(ends, datetime) or ends <= starts:
        raise errors.ValidationError(_("The auction must close after it opens."),
                                     code=errors.ErrorCode.INVALID_DATETIME,
                                     details={"field": "ends_at"})
    if latest is not None and (not isinstance(latest, datetime) or latest < ends):
        raise errors.ValidationError(_("The latest end cannot be before the close."),
                                     code=errors.ErrorCode.INVALID_DATETIME,
                                     details={"field": "latest_end"})
    extend = fields.get("extend_minutes", 0)
    if not isinstance(extend, int) or not 0 <= extend <= MAX_EXTEND_MINUTES:
        raise errors.ValidationError(
            _("Anti-sniping takes 0 to %(max)s minutes.") % {"max": MAX_EXTEND_MINUTES},
            code=errors.ErrorCode.INVALID_VALUE, details={"field": "extend_minutes"})
    if len(fields.get("eligible_grades") or "") > 200:
        raise errors.ValidationError(_("List fewer grades (200 characters at most)."),
                                     code=errors.ErrorCode.INVALID_VALUE,
                                     details={"field": "eligible_grades"})
    if (fields.get("min_balance") or 0) < 0 or (fields.get("min_tenure_days") or 0) < 0:
        raise errors.ValidationError(_("Eligibility limits cannot be negative."),
                                     code=errors.ErrorCode.INVALID_VALUE)


def _snapshot(auction: Auction) -> dict[str, Any]:
    return {
        "title": auction.title, "item_id": auction.item_id, "status": auction.status,
        "starting_price": auction.starting_price, "min_increment": auction.min_increment,
        "reserve_price": auction.reserve_price, "starts_at": auction.starts_at.isoformat(),
        "ends_at": auction.ends_at.isoformat(), "extend_minutes": auction.extend_minutes,
        "latest_end": auction.latest_end.isoformat() if auction.latest_end else None,
    }


@transaction.atomic
def create_auction(*, actor: Actor, departments: Iterable[Department] = (),
                   **fields: Any) -> Auction:
    """A new auction, as a draft, of one mall item. 422 when prices or times do not fit."""
    unknown = set(fields) - set(AUCTION_FIELDS)
    if unknown:
        raise TypeError(f"unknown auction fields {sorted(unknown)}")
    fields.setdefault("extend_minutes", 5)
    fields.setdefault("min_increment", 1)
    _check(fields)
    fields["title"] = fields["title"].strip()
    auction = Auction.objects.create(created_by=actor_user(actor), **fields)
    auction.eligible_departments.set(list(departments))
    record_audit(actor=actor, action="activities.auction.create", obj=auction,
                 after=_snapshot(auction))
    return auction


@transaction.atomic
def update_auction(*, auction: Auction, actor: Actor,
                   departments: Iterable[Department] | None = None, **fields: Any) -> Auction:
    """Change a draft auction (409 ``invalid_transition`` once published)."""
    current = Auction.objects.select_for_update().get(pk=auction.pk)
    if current.status != ActivityStatus.DRAFT:
        raise errors.Conflict(_("Only a draft auction can be changed."),
                              code=errors.ErrorCode.INVALID_TRANSITION)
    unknown = set(fields) - set(AUCTION_FIELDS)
    if unknown:
        raise TypeError(f"unknown auction fields {sorted(unknown)}")
    before = _snapshot(current)
    merged = {name: getattr(current, name) for name in AUCTION_FIELDS} | fields
    _check(merged)
    merged["title"] = merged["title"].strip()
    for name, value in merged.items():
        setattr(current, name, value)
    current.save()
    if departments is not None:
        current.eligible_departments.set(list(departments))
    record_audit(actor=actor, action="activities.auction.update", obj=current, before=before,
                 after=_snapshot(current))
    return current


@transaction.atomic
def publish_auction(*, auction: Auction, actor: Actor, now: datetime | None = None) -> Auction:
    """Publish a draft: one of its item is set aside for the winner (409 ``out_of_stock``
    when none is left); employees see it and may bid from ``starts_at``. An auction whose
    close has already passed cannot be published (409 ``activity_closed``)."""
    now = now or timezone.now()
    current = Auction.objects.select_for_update().get(pk=auction.pk)
    if current.status != ActivityStatus.DRAFT:
        raise errors.Conflict(_("Only a draft auction can be published."),
                              code=errors.ErrorCode.INVALID_TRANSITION)
    if current.ends_at <= now:
        raise errors.Conflict(_("This auction's close has passed; change its times first."),
                              code=errors.ErrorCode.ACTIVITY_CLOSED)
    reserve_prize_stock(current.item_id, 1)
    Auction.objects.filter(pk=current.pk).update(status=ActivityStatus.PUBLISHED,
                                                 published_at=now)
    current.status, current.published_at = ActivityStatus.PUBLISHED, now
    record_audit(actor=actor, action="activities.auction.publish", obj=current,
                 before={"status": ActivityStatus.DRAFT},
                 after={"status": ActivityStatus.PUBLISHED})
    _schedule_close(current.pk, current.ends_at)
    return current


@transaction.atomic
def cancel_auction(*, auction: Auction, actor: Actor, reason: str,
                   now: datetime | None = None) -> Auction:
    """Cancel a draft or running auction with a reason: the leading bid's hold is released
    (the only one still held), the reserved item returns to the shelf, every bidder is
    told. 409 ``invalid_transition`` once finished or cancelled."""
    reason = (reason or "").strip()
    if not reason:
        raise errors.ValidationError(_("Say why the auction is cancelled."),
                                     code=errors.ErrorCode.REASON_REQUIRED)
    now = now or timezone.now()
    current = Auction.objects.select_for_update().get(pk=auction.pk)
    if current.status not in (ActivityStatus.DRAFT, ActivityStatus.PUBLISHED):
        raise errors.Conflict(_("This auction can no longer be cancelled."),
                              code=errors.ErrorCode.INVALID_TRANSITION)
    was = current.status
    leading = _leading_bid(current)
    if leading is not None:
        _release_bid(leading, status=BidStatus.RELEASED, reason="cancel", actor=actor, now=now)
    if was == ActivityStatus.PUBLISHED:
        return_prize_stock(current.item_id, 1)
    Auction.objects.filter(pk=current.pk).update(
        status=ActivityStatus.CANCELLED, cancelled_at=now, cancel_reason=reason[:200],
        closed_at=now)
    current.status, current.cancelled_at, current.cancel_reason = (
        ActivityStatus.CANCELLED, now, reason[:200])
    record_audit(actor=actor, action="activities.auction.cancel", obj=current,
                 before={"status": was},
                 after={"status": ActivityStatus.CANCELLED, "reason": reason})
    url = reverse("portal:auction", args=[current.pk])
    for employee in _bidders(current):
        refunded = leading is not None and employee.pk == leading.employee_id
        notices_params: dict[str, Any] = {"title": current.title, "reason": reason,
                          "variant": "refunded" if refunded else ""}
        if refunded:
            notices_params["points"] = leading.amount  # type: ignore[union-attr]
        _notify(employee, notices.CANCELLED, notices_params, url,
                dedupe_key=f"auction:{current.pk}:cancelled")
    return current


# --- bidding -------------------------------------------------------------------------------

def place_bid(*, auction: Auction | int, employee: Employee, amount: int,
              idempotency_key: str = "", actor: Actor = None,
              now: datetime | None = None) -> Bid:
    """Bid ``amount`` points on a running auction. In one transaction: the auction row is
    locked; the bid must reach ``minimum_bid`` (409 ``bid_too_low`` with ``details.price``
    and ``details.minimum``); the bidder must be eligible (``not_eligible``) and able to pay
    (``insufficient_points``); their points are held; the previous leading bid's hold is
    released and its bidder told; the end moves on when the bid comes in the last
    ``extend_minutes``. The same ``idempotency_key`` answers with the first bid."""
    auction_id = auction if isinstance(auction, int) else auction.pk
    key = (idempotency_key or "").strip()[:200] or None
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise errors.ValidationError(_("Bid a whole number of points above 0."),
                                     code=errors.ErrorCode.INVALID_AMOUNT)

    def replay() -> Bid | None:
        if key is None:
            return None
        found = Bid.objects.filter(idempotency_key=key).first()
        if found is not None and found.employee_id != employee.pk:
            raise errors.Conflict(_("This idempotency key was already used."),
                                  code=errors.ErrorCode.IDEMPOTENCY_KEY_REUSED)
        return found

    if (done := replay()) is not None:
        return done
    close_if_due(auction_id, now=now)
    return atomic_with_retry(
        lambda: _place_bid(auction_id, employee, amount, key,
                           actor if actor is not None else employee.user, now or timezone.now()),
        replay=replay, replay_refusals=key is not None, label="auction bid")


def _place_bid(auction_id: int, employee: Employee, amount: int, key: str | None, actor: Actor,
               now: datetime) -> Bid:
    # The lock that serialises bids on this auction comes first, before any other write.
    try:
        auction = Auction.objects.select_for_update().get(pk=auction_id)
    except Auction.DoesNotExist:
        raise errors.NotFound(_("Auction not found.")) from None
    if auction.status in (ActivityStatus.DRAFT,) or (
            auction.status == ActivityStatus.PUBLISHED and now < auction.starts_at):
        raise errors.Conflict(_("This auction has not opened yet."),
                              code=errors.ErrorCode.ACTIVITY_NOT_OPEN,
                              details={"starts_at": auction.starts_at.isoformat()})
    if auction.status != ActivityStatus.PUBLISHED or now >= auction.ends_at:
        raise errors.Conflict(_("This auction is closed."), code=errors.ErrorCode.ACTIVITY_CLOSED)
    minimum = minimum_bid(auction)
    if amount < minimum:
        raise errors.Conflict(
            _("Bid at least %(minimum)s points.") % {"minimum": minimum},
            code=errors.ErrorCode.BID_TOO_LOW,
            details={"price": auction.price if auction.leader_id else None,
                     "minimum": minimum})
    problem = eligibility_problem(
        auction, employee, on=timezone.localdate(now),
        spendable=(ledger_selectors.balance(employee=employee).spendable
                   if auction.min_balance else None))
    if problem:
        raise errors.Conflict(problem, code=errors.ErrorCode.NOT_ELIGIBLE)
    previous = _leading_bid(auction)
    bid = Bid.objects.create(auction=auction, employee=employee, amount=amount,
                             idempotency_key=key, created_at=now)
    hold = ledger.hold_for_new_cause(
        employee=employee, amount=amount, idempotency_key=f"activities:bid:{bid.pk}:hold",
        cause=bid, reason=f"{auction.title}", actor=actor, now=now)
    Bid.objects.filter(pk=bid.pk).update(hold_txn_id=hold.pk)
    bid.hold_txn_id = hold.pk
    if previous is not None:
        own = previous.employee_id == employee.pk
        _release_bid(previous, status=BidStatus.RELEASED if own else BidStatus.OUTBID,
                     reason="outbid", actor=actor, now=now)
    ends_at = auction.ends_at
    if auction.extend_minutes and now >= ends_at - timedelta(minutes=auction.extend_minutes):
        ends_at = ends_at + timedelta(minutes=auction.extend_minutes)
        if auction.latest_end is not None:
            ends_at = min(ends_at, max(auction.latest_end, auction.ends_at))
    # One conditional UPDATE on the row this transaction has locked: it must still be
    # the price and end this bid was judged against.
    moved = Auction.objects.filter(
        pk=auction.pk, price=auction.price, status=ActivityStatus.PUBLISHED,
        ends_at__gt=now,
    ).update(price=amount, leader=employee, bid_count=F("bid_count") + 1, ends_at=ends_at)
    if moved != 1:
        raise errors.Conflict(_("Another bid came first; try again."),
                              code=errors.ErrorCode.BID_TOO_LOW,
                              details={"price": None, "minimum": minimum})
    if ends_at != auction.ends_at:
        _schedule_close(auction.pk, ends_at)
    if previous is not None and previous.employee_id != employee.pk:
        _notify(previous.employee, notices.OUTBID,
                {"title": auction.title, "amount": amount, "points": previous.amount},
                reverse("portal:auction", args=[auction.pk]))
    return bid


def _leading_bid(auction: Auction) -> Bid | None:
    return (Bid.objects.filter(auction=auction, status=BidStatus.LEADING)
            .select_related("employee__user").order_by("-amount", "id").first())


def _release_bid(bid: Bid, *, status: str, reason: str, actor: Actor, now: datetime) -> None:
    """Give a bid's held points back and mark it ``status`` (outbid, returned)."""
    if bid.hold_txn_id is not None:
        ledger.release(hold=Transaction.objects.get(pk=bid.hold_txn_id),
                       idempotency_key=f"activities:bid:{bid.pk}:release",
                       reason=reason, actor=actor, now=now)
    Bid.objects.filter(pk=bid.pk).update(status=status)
    bid.status = status


# --- closing -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Closed:
    auction_id: int
    outcome: str
    order_id: int | None


def close_if_due(auction: Auction | int, *, now: datetime | None = None,
                 quiet: bool = False) -> Closed | None:
    """Close a published auction whose end has passed (once: a second call, or a
    concurrent one, finds it closed and does nothing). Every page and API answer that
    reads an auction calls this first, so an auction never shows "running" past its end
    even when no worker runs. Returns what happened, or None when nothing was due."""
    now = now or timezone.now()
    auction_id = auction if isinstance(auction, int) else auction.pk
    if isinstance(auction, Auction) and not (
            auction.status == ActivityStatus.PUBLISHED and auction.ends_at <= now):
        return None
    if not Auction.objects.filter(pk=auction_id, status=ActivityStatus.PUBLISHED,
                                  ends_at__lte=now).exists():
        return None
    try:
        return atomic_with_retry(lambda: _close(auction_id, now), label="auction close")
    except errors.JifenError:
        if not quiet:
            raise
        # A page or API answer reading the auction: it shows the auction as over (its
        # phase comes from the time) and the worker's run reports what went wrong.
        logger.exception("auction %s could not be closed", auction_id)
        return None


def close_due_auctions(*, now: datetime | None = None, limit: int = 100) -> list[Closed]:
    """Close every published auction whose end has passed (the worker's job)."""
    now = now or timezone.now()
    due = list(Auction.objects.filter(status=ActivityStatus.PUBLISHED, ends_at__lte=now)
               .order_by("ends_at").values_list("pk", flat=True)[:limit])
    return [closed for pk in due
            if (closed := close_if_due(pk, now=now, quiet=True)) is not None]


def _close(auction_id: int, now: datetime) -> Closed | None:
    auction = Auction.objects.select_for_update().get(pk=auction_id)
    if auction.status != ActivityStatus.PUBLISHED or auction.ends_at > now:
        return None  # closed by someone else meanwhile, or extended
    leading = _leading_bid(auction)
    url = reverse("portal:auction", args=[auction.pk])
    order_id = None
    if leading is None:
        outcome = AuctionOutcome.NO_BIDS
    elif auction.reserve_price is not None and leading.amount < auction.reserve_price:
        outcome = AuctionOutcome.RESERVE_NOT_MET
    else:
        outcome = AuctionOutcome.WON
    if outcome == AuctionOutcome.WON:
        assert leading is not None
        order_id = place_prize_order(PrizeOrder(
            employee_id=leading.employee_id, item_id=auction.item_id, points=leading.amount,
            hold_txn_id=leading.hold_txn_id, key=f"auction:{auction.pk}",
            source=f"activities.auction:{auction.pk}", stock_reserved=True), actor=None, now=now)
        Bid.objects.filter(pk=leading.pk).update(status=BidStatus.WON)
    else:
        if leading is not None:
            _release_bid(leading, status=BidStatus.RELEASED, reason="closed", actor=None, now=now)
        return_prize_stock(auction.item_id, 1)
    Auction.objects.filter(pk=auction.pk).update(
        status=ActivityStatus.FINISHED, outcome=outcome, closed_at=now, order_id=order_id)
    won = outcome == AuctionOutcome.WON and leading is not None
    auction_closed.send(sender=Auction, auction=auction, outcome=outcome, at=now,
                        winner_id=leading.employee_id if won and leading else None,
                        amount=leading.amount if won and leading else None,
                        order_id=order_id)
    if outcome == AuctionOutcome.WON:
        assert leading is not None
        _notify(leading.employee, notices.AUCTION_WON,
                {"title": auction.title, "amount": leading.amount,
                 "number": f"M{order_id:06d}"},
                reverse("portal:order_detail", args=[order_id]),
                dedupe_key=f"auction:{auction.pk}:won")
    variant = "reserve_not_met" if outcome == AuctionOutcome.RESERVE_NOT_MET else ""
    for employee in _bidders(auction):
        if outcome == AuctionOutcome.WON and leading is not None \
                and employee.pk == leading.employee_id:
            continue
        _notify(employee, notices.AUCTION_LOST, {"title": auction.title, "variant": variant},
                url, dedupe_key=f"auction:{auction.pk}:ended")
    return Closed(auction.pk, outcome, order_id)


def _bidders(auction: Auction) -> list[Employee]:
    ids = Bid.objects.filter(auction=auction).values_list("employee_id", flat=True).distinct()
    return list(Employee.objects.filter(pk__in=ids).select_related("user").order_by("pk"))


def _notify(employee: Employee, kind: Any, params: dict[str, Any], url: str,
            dedupe_key: str = "") -> None:
    if employee.user_id is None:
        return
    notify(recipient=employee.user, kind=kind, params=params, url=url, dedupe_key=dedupe_key)


def _schedule_close(auction_id: int, ends_at: datetime) -> None:
    """Ask the worker to close the auction at ``ends_at`` (after this transaction commits).
    An extended auction is simply scheduled again; the early run finds it not yet due."""
    # Not at the top: the tasks module imports this one.
    from jifen.activities.auction_tasks import close_auction_task

    def enqueue() -> None:
        # A backend that cannot defer (the immediate one some tests and one-off commands
        # use) gets nothing: the first read after the end closes the auction instead.
        if close_auction_task.get_backend().supports_defer:
            close_auction_task.using(run_after=ends_at).enqueue(auction_id)

    transaction.on_commit(enqueue)
