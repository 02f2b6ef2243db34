"""Auctions in words and checks, registered from ``ActivitiesConfig.ready()``: how the
audit log names an auction, how the ledger's history names a bid's hold and release, and
the invariant ``jifen ledger verify`` adds for auctions (holds match bids)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from jifen.activities.models import ActivityStatus, Auction, Bid, BidStatus
from jifen.core.describe import by_pk, register_object_describer
from jifen.core.roles import Cap
from jifen.ledger.hooks import CauseInfo, register_cause_describer
from jifen.ledger.models import Transaction
from jifen.ledger.verify import register_check

LIMIT = 50


def describe_bids(ids: list[str], *, for_employee: bool) -> dict[str, CauseInfo]:
    """Each bid as "Bid on 竞拍：机械键盘" with what became of it ("Outbid")."""
    pks = [int(i) for i in ids if i.isdigit()]
    found = {}
    for bid in Bid.objects.filter(pk__in=pks).select_related("auction"):
        found[str(bid.pk)] = CauseInfo(
            label=_("Bid on %(title)s") % {"title": bid.auction.title},
            status_label=str(bid.get_status_display()),
            return_label=_("Bid on %(title)s returned") % {"title": bid.auction.title},
            url_for_employee=reverse("portal:auction", args=[bid.auction_id]),
            url_for_console=reverse("console:activities_auction", args=[bid.auction_id]),
            console_cap=Cap.MANAGE_ACTIVITIES)
    return found


def holds_match_bids() -> list[str]:
    """Each auction has at most one leading bid, which is its leader's and still held;
    every bid that no longer leads has its points back (or, once won, in an order)."""
    settled = Transaction.objects.filter(settles__isnull=False).values("settles_id")
    lines = [f"bid #{pk} leads but its hold was settled" for pk in
             Bid.objects.filter(status=BidStatus.LEADING, hold_txn_id__in=settled)
             .values_list("pk", flat=True)[:LIMIT]]
    lines += [f"bid #{pk} is {status} but its points were never given back"
              for pk, status in
              Bid.objects.filter(status__in=(BidStatus.OUTBID, BidStatus.RELEASED))
              .exclude(hold_txn_id__in=settled).values_list("pk", "status")[:LIMIT]]
    lines += [f"bid #{pk} has no hold" for pk in
              Bid.objects.filter(hold_txn_id__isnull=True).values_list("pk", flat=True)[:LIMIT]]
    for auction in Auction.objects.filter(status=ActivityStatus.PUBLISHED, bid_count__gt=0)[:500]:
        leading = list(Bid.objects.filter(auction=auction, status=BidStatus.LEADING)
                       .values_list("employee_id", "amount"))
        if leading != [(auction.leader_id, auction.price)]:
            lines.append(f"auction #{auction.pk} leads with {auction.leader_id}/{auction.price} "
                         f"but its leading bids are {leading}")
    return lines


def register() -> None:
    register_object_describer("activities.auction", by_pk(
        Auction, lambda a: _("Auction %(title)s") % {"title": a.title},
        url_name="console:activities_auction", capability=Cap.MANAGE_ACTIVITIES,
        name=lambda a: a.title))
    register_cause_describer("activities.bid", describe_bids)
    register_check(holds_match_bids)
