"""What the activity centre (portal) and the console's overview and results pages read:
activities by phase, both kinds together; who may take part; an employee's own entries and
bids; the winners; and participation statistics for the charts.

Every list is bounded (``limit``) and built in a fixed number of queries whatever its
length. A phase is read from status and times exactly as ``Activity.phase_at`` reads it, so
the lists and the cards agree at the boundary instants (an activity opens AT ``starts_at``
and is over AT ``ends_at``)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.activities.models import (
    Activity,
    ActivityStatus,
    Auction,
    AuctionOutcome,
    Bid,
    BidStatus,
    Entry,
    EntryStatus,
    Lottery,
    Phase,
    Win,
)
from jifen.activities.selectors.eligibility import eligibility_problem
from jifen.core import errors
from jifen.core.pagination import cursor_value, decode_cursor, encode_cursor
from jifen.people.models import Employee, EmployeeStatus

LOTTERY = "lottery"
AUCTION = "auction"
KINDS: dict[str, Any] = {LOTTERY: Lottery, AUCTION: Auction}
# The phases the centre lists; "drawing" lotteries are shown with the finished ones.
LISTED_PHASES = (Phase.RUNNING, Phase.UPCOMING, Phase.FINISHED)
# Console status filter: the phases plus what only admins see.
CONSOLE_PHASES = (Phase.DRAFT, Phase.UPCOMING, Phase.RUNNING, Phase.DRAWING, Phase.FINISHED,
                  Phase.CANCELLED)


def kind_of(activity: Activity) -> str:
    return LOTTERY if isinstance(activity, Lottery) else AUCTION


def page_url(kind: str, pk: int) -> str:
    """The portal page of a lottery or auction."""
    return reverse("portal:lottery" if kind == LOTTERY else "portal:auction", args=[pk])


def get_activity(kind: str, pk: int) -> Lottery | Auction:
    """The lottery or auction ``pk`` (NotFound for an unknown kind or id)."""
    model = KINDS.get(kind)
    found = model.objects.filter(pk=pk).first() if model is not None else None
    if found is None:
        raise errors.NotFound(_("No such activity."))
    return found


def phase_filter(kind: str, phase: str, now: datetime) -> Q:
    """The rows of ``kind`` whose ``phase_at(now)`` is ``phase``."""
    published = Q(status=ActivityStatus.PUBLISHED)
    ended = Q(status=ActivityStatus.CLOSED) | (published & Q(ends_at__lte=now))
    if phase == Phase.UPCOMING:
        return published & Q(starts_at__gt=now, ends_at__gt=now)
    if phase == Phase.RUNNING:
        return published & Q(starts_at__lte=now, ends_at__gt=now)
    if phase == Phase.DRAWING:
        return ended if kind == LOTTERY else Q(pk__in=[])
    if phase == Phase.FINISHED:
        finished = Q(status=ActivityStatus.FINISHED)
        # An auction past its end is over even before the worker (or a reader) closes it.
        return finished | ended if kind == AUCTION else finished
    if phase == Phase.DRAFT:
        return Q(status=ActivityStatus.DRAFT)
    if phase == Phase.CANCELLED:
        return Q(status=ActivityStatus.CANCELLED)
    raise errors.ValidationError(f"phase {phase}", code=errors.ErrorCode.INVALID_STATUS)


@dataclass
class Card:
    """One activity as the centre shows it."""

    kind: str
    activity: Any
    phase: str
    problem: str = ""  # why the viewer may not take part ("" when they may)
    # When the countdown on the card ends: opening, closing, or the draw; None when none.
    countdown_to: datetime | None = None
    # Entry cost (lottery) or current price (auction, the starting price before a bid).
    price: int = 0
    winners: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pk(self) -> int:
        return int(self.activity.pk)

    @property
    def eligible(self) -> bool:
        return not self.problem

    @property
    def phase_label(self) -> str:
        return str(Phase(self.phase).label)


def _countdown(activity: Activity, phase: str) -> datetime | None:
    if phase == Phase.UPCOMING:
        return activity.starts_at
    if phase == Phase.RUNNING:
        return activity.ends_at
    if phase == Phase.DRAWING and isinstance(activity, Lottery):
        return activity.draw_at
    return None


def _price(activity: Activity) -> int:
    if isinstance(activity, Lottery):
        return int(activity.entry_cost)
    assert isinstance(activity, Auction)
    return int(activity.price or activity.starting_price)


def _queryset(kind: str) -> QuerySet:
    if kind == LOTTERY:
        return Lottery.objects.prefetch_related("eligible_departments", "tiers")
    return Auction.objects.select_related("item", "leader__department").prefetch_related(
        "eligible_departments")


def _phases_for_section(phase: str) -> tuple[str, ...]:
    return (Phase.FINISHED, Phase.DRAWING) if phase == Phase.FINISHED else (phase,)


def activities_in_phase(phase: str, *, now: datetime | None = None, limit: int = 24,
                        kind: str = "") -> list[Any]:
    """Lotteries and auctions in ``phase`` (finished includes lotteries waiting for their
    draw), at most ``limit``: upcoming ones soonest first, the others newest first."""
    now = now or timezone.now()
    rows: list[Any] = []
    for each in (kind,) if kind else tuple(KINDS):
        condition = Q(pk__in=[])
        for p in _phases_for_section(phase):
            condition |= phase_filter(each, p, now)
        order = ("starts_at", "id") if phase == Phase.UPCOMING else ("-starts_at", "-id")
        rows.extend(_queryset(each).filter(condition).order_by(*order)[:limit])
    if phase == Phase.UPCOMING:
        rows.sort(key=lambda a: (a.starts_at, kind_of(a), a.pk))
    else:
        rows.sort(key=lambda a: (a.starts_at, kind_of(a) == LOTTERY, a.pk), reverse=True)
    return rows[:limit]


def cards(activities: Iterable[Any], *, employee: Employee | None = None,
          spendable: int | None = None, now: datetime | None = None) -> list[Card]:
    """Cards for ``activities``, with the viewer's eligibility and the winners of finished
    ones (two queries for the winners, however many cards)."""
    now = now or timezone.now()
    out = []
    for activity in activities:
        phase = activity.phase_at(now)
        out.append(Card(
            kind=kind_of(activity), activity=activity, phase=phase,
            problem=eligibility_problem(activity, employee, spendable=spendable)
            if employee is not None else "",
            countdown_to=_countdown(activity, phase), price=_price(activity)))
    finished = [c for c in out if c.phase == Phase.FINISHED]
    found = winners_of([c.activity for c in finished])
    for card in finished:
        card.winners = found.get((card.kind, card.pk), [])
    return out


def centre(*, employee: Employee | None, spendable: int | None = None,
           now: datetime | None = None, limit: int = 24) -> dict[str, list[Card]]:
    """The activity centre: {"running": [...], "upcoming": [...], "finished": [...]}."""
    now = now or timezone.now()
    return {str(phase): cards(activities_in_phase(phase, now=now, limit=limit),
                              employee=employee, spendable=spendable, now=now)
            for phase in LISTED_PHASES}


def winners_of(activities: Iterable[Any]) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """The winners of these lotteries and auctions, keyed by (kind, pk): for a lottery each
    drawn win in draw order (name, department, prize); for an auction sold to the highest
    bid, its leader and price. Full names: the company sees who won inside the company."""
    lotteries = [a.pk for a in activities if isinstance(a, Lottery)]
    auctions = [a for a in activities if isinstance(a, Auction)]
    out: dict[tuple[str, int], list[dict[str, Any]]] = {}
    if lotteries:
        wins = (Win.objects.filter(lottery_id__in=lotteries)
                .select_related("tier", "entry__employee__department")
                .order_by("lottery_id", "draw_index"))
        for win in wins:
            person = win.entry.employee
            out.setdefault((LOTTERY, win.lottery_id), []).append({
                "name": person.name, "employee_no": person.employee_no,
                "department": person.department.name, "prize": win.tier.name,
                "rank": win.tier.rank, "draw_index": win.draw_index,
                "entry_id": win.entry_id})
    for auction in auctions:
        leader = auction.leader if auction.leader_id else None
        if auction.outcome == AuctionOutcome.WON and leader is not None:
            out[(AUCTION, auction.pk)] = [{
                "name": leader.name, "employee_no": leader.employee_no,
                "department": leader.department.name,
                "prize": auction.item.name, "amount": int(auction.price)}]
    return out


# --- my entries and bids ------------------------------------------------------------------

@dataclass
class Mine:
    """What one employee did in one activity."""

    kind: str
    activity: Any
    phase: str
    count: int  # entries (active ones) or bids
    points: int  # points spent on entries, or my highest bid
    status: str  # lottery: "entered", "won", "lost", "refunded"; auction: a BidStatus
    prize: str = ""

    @property
    def pk(self) -> int:
        return int(self.activity.pk)


def my_participation(employee: Employee, *, now: datetime | None = None,
                     limit: int = 50) -> list[Mine]:
    """The lotteries ``employee`` entered and the auctions they bid in, newest activity
    first, at most ``limit`` of each kind (a handful of queries whatever the count)."""
    now = now or timezone.now()
    out: list[Mine] = []
    entered = (Entry.objects.filter(employee=employee).values("lottery_id")
               .annotate(active=Count("id", filter=Q(status=EntryStatus.ACTIVE)),
                         total=Count("id"), last=Max("created_at"))
               .order_by("-last")[:limit])
    per_lottery = {row["lottery_id"]: row for row in entered}
    lotteries = Lottery.objects.in_bulk(list(per_lottery))
    prizes = dict(Win.objects.filter(lottery_id__in=list(per_lottery), entry__employee=employee)
                  .values_list("lottery_id", "tier__name"))
    for lottery_id, row in per_lottery.items():
        lottery = lotteries[lottery_id]
        phase = lottery.phase_at(now)
        if lottery_id in prizes:
            status = "won"
        elif not row["active"]:
            status = "refunded"
        elif phase == Phase.FINISHED:
            status = "lost"
        else:
            status = "entered"
        out.append(Mine(kind=LOTTERY, activity=lottery, phase=phase, count=row["active"],
                        points=row["active"] * int(lottery.entry_cost), status=status,
                        prize=prizes.get(lottery_id, "")))
    bid_rows = (Bid.objects.filter(employee=employee).values("auction_id")
                .annotate(count=Count("id"), top=Max("amount"), last=Max("created_at"))
                .order_by("-last")[:limit])
    per_auction = {row["auction_id"]: row for row in bid_rows}
    auctions = Auction.objects.select_related("item").in_bulk(list(per_auction))
    for auction_id, row in per_auction.items():
        auction = auctions[auction_id]
        phase = auction.phase_at(now)
        if auction.leader_id == employee.pk:
            won = auction.outcome == AuctionOutcome.WON
            status = BidStatus.WON if won else BidStatus.LEADING
            if phase == Phase.FINISHED and not won:
                status = BidStatus.RELEASED
        else:
            status = BidStatus.OUTBID if phase != Phase.FINISHED else BidStatus.RELEASED
        out.append(Mine(kind=AUCTION, activity=auction, phase=phase, count=row["count"],
                        points=int(row["top"]), status=status,
                        prize=auction.item.name if status == BidStatus.WON else ""))
    out.sort(key=lambda m: (m.activity.starts_at, m.pk), reverse=True)
    return out


# --- who is eligible (for the notice) -------------------------------------------------------

def eligible_employees(activity: Any, *, on: Any = None) -> QuerySet[Employee]:
    """ACTIVE employees with a user account who meet the activity's departments (with their
    sub-departments), grades and tenure — the same rules as ``eligibility_problem``, as one
    query. The minimum balance is not applied: it is checked when they take part."""
    today = on or timezone.localdate()
    people = Employee.objects.filter(status=EmployeeStatus.ACTIVE, user__isnull=False,
                                     user__is_active=True)
    departments = list(activity.eligible_departments.all())
    if departments:
        within = Q(pk__in=[])
        for department in departments:
            within |= Q(department__path__startswith=department.path)
        people = people.filter(within)
    if activity.grade_list:
        people = people.filter(grade__in=activity.grade_list)
    if activity.min_tenure_days:
        people = people.filter(hire_date__lte=today - timedelta(days=activity.min_tenure_days))
    return people


# --- participation statistics --------------------------------------------------------------

@dataclass
class Stats:
    kind: str
    activity: Any
    participants: int
    actions: int  # entries (active) or bids
    points_collected: int
    prizes_total: int
    prizes_given: int
    bucket: str  # "hour" or "day"
    timeline: list[dict[str, Any]]  # [{"at": label, "start": datetime, "count", "total", "points"}]
    prizes: list[dict[str, Any]]  # [{"name", "quantity", "given"}]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "id": self.activity.pk, "participants": self.participants,
            "actions": self.actions, "points_collected": self.points_collected,
            "prizes_total": self.prizes_total, "prizes_given": self.prizes_given,
            "bucket": self.bucket,
            "timeline": [{k: v for k, v in row.items() if k != "start"} | {
                "start": row["start"].isoformat()} for row in self.timeline],
            "prizes": self.prizes,
        }


MAX_BUCKETS = 24 * 14


def _timeline(times: Iterable[tuple[datetime, int]], *, start: datetime,
              end: datetime) -> tuple[str, list[dict[str, Any]]]:
    """Counts and points per hour (a window up to three days) or per day, every bucket from
    ``start`` to ``end`` present (zeros included) so the chart's time axis is even. Buckets
    are in the site's time zone."""
    span = end - start
    hourly = span <= timedelta(days=3)
    step = timedelta(hours=1) if hourly else timedelta(days=1)

    def floor(moment: datetime) -> datetime:
        local = timezone.localtime(moment)
        if hourly:
            return local.replace(minute=0, second=0, microsecond=0)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

    buckets: OrderedDict[datetime, dict[str, Any]] = OrderedDict()
    cursor = floor(start)
    last = floor(end)
    while cursor <= last and len(buckets) < MAX_BUCKETS:
        buckets[cursor] = {"start": cursor, "count": 0, "points": 0}
        cursor = timezone.localtime(cursor + step)
        cursor = floor(cursor)
    for moment, points in times:
        key = floor(moment)
        row = buckets.get(key)
        if row is None:  # outside the window (a bid after an extension, or clock skew)
            row = buckets.setdefault(key, {"start": key, "count": 0, "points": 0})
        row["count"] += 1
        row["points"] += points
    total = 0
    out = []
    for key in sorted(buckets):
        row = buckets[key]
        total += row["count"]
        label = key.strftime("%m-%d %H:00") if hourly else key.strftime("%Y-%m-%d")
        out.append({**row, "at": label, "total": total})
    return ("hour" if hourly else "day"), out


def activity_stats(activity: Any, *, now: datetime | None = None) -> Stats:
    """Participation and results of one lottery or auction: participants, entries or bids
    (and over time), points collected — active entries × cost for a lottery, the winning
    bid for an auction (the leading bid while it runs) — and prizes given."""
    now = now or timezone.now()
    end = min(max(now, activity.starts_at), activity.ends_at)
    if isinstance(activity, Lottery):
        entries = Entry.objects.filter(lottery=activity, status=EntryStatus.ACTIVE)
        agg = entries.aggregate(n=Count("id"), people=Count("employee_id", distinct=True))
        cost = int(activity.entry_cost)
        bucket, timeline = _timeline(
            ((at, cost) for at in entries.values_list("created_at", flat=True).iterator()),
            start=activity.starts_at, end=end)
        tiers = list(activity.tiers.annotate(given=Count("wins")).order_by("rank", "id"))
        prizes = [{"name": t.name, "rank": t.rank, "kind": t.kind, "quantity": t.quantity,
                   "given": t.given} for t in tiers]
        return Stats(kind=LOTTERY, activity=activity, participants=agg["people"],
                     actions=agg["n"], points_collected=agg["n"] * cost,
                     prizes_total=sum(t.quantity for t in tiers),
                     prizes_given=sum(t.given for t in tiers), bucket=bucket,
                     timeline=timeline, prizes=prizes)
    bids = Bid.objects.filter(auction=activity)
    agg = bids.aggregate(n=Count("id"), people=Count("employee_id", distinct=True))
    bucket, timeline = _timeline(bids.values_list("created_at", "amount").iterator(),
                                 start=activity.starts_at, end=end)
    won = activity.outcome == AuctionOutcome.WON
    # While it runs, the leading bid (held); once closed, only a sale collects anything.
    collected = int(activity.price) if won or (not activity.outcome and agg["n"]) else 0
    return Stats(kind=AUCTION, activity=activity, participants=agg["people"],
                 actions=agg["n"], points_collected=collected, prizes_total=1,
                 prizes_given=1 if won else 0, bucket=bucket, timeline=timeline,
                 prizes=[{"name": activity.item.name, "rank": 1, "kind": "item", "quantity": 1,
                          "given": 1 if won else 0}])


def participation_counts(activities: Iterable[Any]) -> dict[tuple[str, int], dict[str, int]]:
    """For the console list: participants and entries/bids per activity (two queries)."""
    activities = list(activities)
    out: dict[tuple[str, int], dict[str, int]] = {}
    lottery_ids = [a.pk for a in activities if isinstance(a, Lottery)]
    auction_ids = [a.pk for a in activities if isinstance(a, Auction)]
    if lottery_ids:
        for row in (Entry.objects.filter(lottery_id__in=lottery_ids, status=EntryStatus.ACTIVE)
                    .values("lottery_id")
                    .annotate(n=Count("id"), people=Count("employee_id", distinct=True))):
            out[(LOTTERY, row["lottery_id"])] = {"actions": row["n"], "people": row["people"]}
    if auction_ids:
        for row in (Bid.objects.filter(auction_id__in=auction_ids).values("auction_id")
                    .annotate(n=Count("id"), people=Count("employee_id", distinct=True))):
            out[(AUCTION, row["auction_id"])] = {"actions": row["n"], "people": row["people"]}
    return out


def console_list(*, phase: str = "", kind: str = "", now: datetime | None = None,
                 limit: int = 100) -> list[Any]:
    """The console's activities (every status), newest first, optionally one phase/kind."""
    now = now or timezone.now()
    rows: list[Any] = []
    for each in (kind,) if kind else tuple(KINDS):
        qs = KINDS[each].objects.all()
        if each == AUCTION:
            qs = qs.select_related("item")
        if phase:
            qs = qs.filter(phase_filter(each, phase, now))
        rows.extend(qs.order_by("-starts_at", "-id")[:limit])
    rows.sort(key=lambda a: (a.starts_at, kind_of(a) == LOTTERY, a.pk), reverse=True)
    return rows[:limit]


# --- exports -------------------------------------------------------------------------------

def entries_for_export(lottery: Lottery) -> Iterable[Entry]:
    return (Entry.objects.filter(lottery=lottery).select_related("employee__department")
            .order_by("id").iterator(chunk_size=2000))


def wins_for_export(lottery: Lottery) -> list[Win]:
    return list(Win.objects.filter(lottery=lottery)
                .select_related("tier", "entry__employee__department").order_by("draw_index"))


def bids_for_export(auction: Auction) -> Iterable[Bid]:
    return (Bid.objects.filter(auction=auction).select_related("employee__department")
            .order_by("created_at", "id").iterator(chunk_size=2000))



# --- the API's list ------------------------------------------------------------------------

# Newest first by (starts_at, rank, id), both kinds in one order: at the same start a
# lottery (rank 1) comes before an auction (rank 0).
RANK = {LOTTERY: 1, AUCTION: 0}
PUBLIC_PHASES = (Phase.UPCOMING, Phase.RUNNING, Phase.DRAWING, Phase.FINISHED)


def _after(kind: str, cursor: str) -> Q:
    values = decode_cursor(cursor)
    if (not isinstance(values, list) or len(values) != 3 or type(values[1]) is not int
            or values[1] not in (0, 1)):
        raise errors.ValidationError(_("The cursor is not valid."),
                                     code=errors.ErrorCode.INVALID_CURSOR)
    model = KINDS[kind]
    starts = cursor_value(model._meta.get_field("starts_at"), values[0])
    rank = values[1]
    last_id = cursor_value(model._meta.pk, values[2])
    mine = RANK[kind]
    condition = Q(starts_at__lt=starts)
    if mine < rank:
        condition |= Q(starts_at=starts)
    elif mine == rank:
        condition |= Q(starts_at=starts, pk__lt=last_id)
    return condition


def page_of_activities(*, kind: str = "", phase: str = "", everything: bool = False,
                       cursor: str | None = None, limit: int = 50,
                       now: datetime | None = None) -> tuple[list[Any], str | None]:
    """One page of lotteries and auctions, newest first (keyset over start, kind, id), at
    most ``limit`` + 1 rows read per kind. Without ``everything`` (employees) only what
    employees see: published and later, never drafts or cancelled ones."""
    now = now or timezone.now()
    rows: list[Any] = []
    for each in (kind,) if kind else tuple(KINDS):
        qs = _queryset(each)
        if phase:
            qs = qs.filter(phase_filter(each, phase, now))
        if not everything:
            visible = Q(pk__in=[])
            for p in PUBLIC_PHASES:
                visible |= phase_filter(each, p, now)
            qs = qs.filter(visible)
        if cursor:
            qs = qs.filter(_after(each, cursor))
        rows.extend(qs.order_by("-starts_at", "-id")[:limit + 1])
    rows.sort(key=lambda a: (a.starts_at, RANK[kind_of(a)], a.pk), reverse=True)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([last.starts_at.isoformat(), RANK[kind_of(last)], last.pk])
    return rows, next_cursor
