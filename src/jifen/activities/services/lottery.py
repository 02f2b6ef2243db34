"""Lotteries: drafts and their prize tiers, publishing (the seed's commitment), entering,
the draw (scheduled or instant), giving prizes, revealing the seed, cancelling.

Entry cost is a ledger ``hold`` caused by the entry: the points leave the wallet when the
employee enters; the draw captures every hold into the activities sink; cancelling releases
every hold back into the very lots it came from — an exact refund. Entering takes the
lottery's row lock first (``select_for_update``), so the per-employee limit and the entry
slots are counted under it, and ``entries_count`` moves by a conditional UPDATE. The draw
happens once: under the same row lock, only from ``published``/``closed``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.activities import fairness, notices
from jifen.activities.models import (
    ActivityStatus,
    DrawMode,
    Entry,
    EntryStatus,
    Lottery,
    PrizeKind,
    PrizeTier,
    Win,
)
from jifen.activities.selectors.eligibility import eligibility_problem
from jifen.activities.signals import lottery_drawn
from jifen.core import errors
from jifen.core.actors import Actor
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
from jifen.ledger.amounts import format_points
from jifen.ledger.models import AccountKind, Category, Transaction
from jifen.notifications.services import Message, notify, notify_bulk
from jifen.people.models import Department, Employee

logger = logging.getLogger(__name__)

MAX_TIERS = 20
MAX_QUANTITY = 10_000
MAX_ENTRY_LIMIT = 1000
# Lottery fields an admin sets (the rest are the service's).
FIELDS = ("title", "description", "starts_at", "ends_at", "draw_at", "mode", "entry_cost",
          "entry_limit", "entry_slots", "min_balance", "eligible_grades", "min_tenure_days")


# --- drafts ---------------------------------------------------------------------------------

def _invalid(message: str, field: str, code: errors.ErrorCode = errors.ErrorCode.INVALID_VALUE
             ) -> errors.ValidationError:
    return errors.ValidationError(message, code=code, details={"field": field})


def _int(value: Any, field: str, *, minimum: int = 0, maximum: int = 10**12,
         empty: int | None = None) -> int | None:
    if value in (None, ""):
        if empty is None and field not in ("entry_slots", "points"):
            raise _invalid(_("Enter a whole number."), field)
        return empty
    if isinstance(value, bool):
        raise _invalid(_("Enter a whole number."), field)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _invalid(_("Enter a whole number."), field) from None
    if isinstance(value, float) and value != number:
        raise _invalid(_("Enter a whole number."), field)
    if not minimum <= number <= maximum:
        raise _invalid(_("Enter a number from %(min)s to %(max)s.")
                       % {"min": minimum, "max": maximum}, field)
    return number


def _clean(data: Mapping[str, Any]) -> dict[str, Any]:
    title = str(data.get("title") or "").strip()
    if not title or len(title) > 120:
        raise _invalid(_("Give the lottery a title of at most 120 characters."), "title")
    starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
    if not isinstance(starts_at, datetime) or not isinstance(ends_at, datetime):
        raise _invalid(_("Set when the lottery opens and closes."), "starts_at",
                       errors.ErrorCode.INVALID_DATETIME)
    if ends_at <= starts_at:
        raise _invalid(_("The lottery must close after it opens."), "ends_at",
                       errors.ErrorCode.INVALID_DATETIME)
    mode = data.get("mode") or DrawMode.SCHEDULED
    if mode not in DrawMode.values:
        raise _invalid(_("Choose a draw mode."), "mode", errors.ErrorCode.INVALID_MODE)
    draw_at = data.get("draw_at") or None
    if mode == DrawMode.INSTANT:
        draw_at = None
    elif draw_at is None:
        draw_at = ends_at
    elif not isinstance(draw_at, datetime) or draw_at < ends_at:
        raise _invalid(_("The draw cannot come before entries close."), "draw_at",
                       errors.ErrorCode.INVALID_DATETIME)
    slots = _int(data.get("entry_slots"), "entry_slots", minimum=1, maximum=10_000_000)
    if mode == DrawMode.INSTANT and slots is None:
        raise _invalid(_("An instant-win lottery needs a number of entries in total."),
                       "entry_slots")
    return {
        "title": title,
        "description": str(data.get("description") or "")[:5000],
        "starts_at": starts_at, "ends_at": ends_at, "draw_at": draw_at, "mode": mode,
        "entry_cost": _int(data.get("entry_cost", 0), "entry_cost", empty=0),
        "entry_limit": _int(data.get("entry_limit", 1), "entry_limit", minimum=1,
                            maximum=MAX_ENTRY_LIMIT, empty=1),
        "entry_slots": slots,
        "min_balance": _int(data.get("min_balance", 0), "min_balance", empty=0),
        "eligible_grades": str(data.get("eligible_grades") or "").strip()[:200],
        "min_tenure_days": _int(data.get("min_tenure_days", 0), "min_tenure_days",
                                maximum=100_000, empty=0),
    }


def _clean_tiers(tiers: Iterable[Mapping[str, Any]], item_exists) -> list[dict[str, Any]]:
    cleaned = []
    for number, tier in enumerate(tiers, start=1):
        field = f"tiers.{number}"
        name = str(tier.get("name") or "").strip()
        if not name or len(name) > 80:
            raise _invalid(_("Name each prize (at most 80 characters)."), f"{field}.name")
        kind = tier.get("kind") or PrizeKind.CUSTOM
        if kind not in PrizeKind.values:
            raise _invalid(_("Choose what the prize is."), f"{field}.kind",
                           errors.ErrorCode.INVALID_KIND)
        quantity = _int(tier.get("quantity", 1), f"{field}.quantity", minimum=1,
                        maximum=MAX_QUANTITY, empty=1)
        points = item_id = None
        if kind == PrizeKind.POINTS:
            points = _int(tier.get("points"), f"{field}.points", minimum=1)
            if points is None:
                raise _invalid(_("Say how many points the prize is."), f"{field}.points")
        elif kind == PrizeKind.ITEM:
            item_id = _int(tier.get("item_id") or tier.get("item"), f"{field}.item", minimum=1)
            if item_id is None or not item_exists(item_id):
                raise _invalid(_("Choose an item of the mall."), f"{field}.item")
        cleaned.append({"rank": number, "name": name, "kind": kind, "points": points,
                        "item_id": item_id, "quantity": quantity})
    if not cleaned:
        raise _invalid(_("Add at least one prize."), "tiers")
    if len(cleaned) > MAX_TIERS:
        raise _invalid(_("At most %s prize tiers.") % MAX_TIERS, "tiers")
    return cleaned


def _item_exists(item_id: int) -> bool:
    return PrizeTier._meta.get_field("item").related_model.objects.filter(  # type: ignore[union-attr]
        pk=item_id).exists()


def _snapshot(lottery: Lottery) -> dict[str, Any]:
    data: dict[str, Any] = {f: getattr(lottery, f) for f in FIELDS}
    for f in ("starts_at", "ends_at", "draw_at"):
        data[f] = data[f].isoformat() if data[f] else None
    data["tiers"] = [{"name": t.name, "kind": t.kind, "points": t.points,
                      "item_id": t.item_id, "quantity": t.quantity}
                     for t in lottery.tiers.all()]
    return data


def save_lottery(*, actor: Actor, data: Mapping[str, Any], tiers: Iterable[Mapping[str, Any]],
                 departments: Iterable[Department] = (), lottery: Lottery | None = None
                 ) -> Lottery:
    """Create a draft lottery, or change one still a draft, with its prize tiers (each
    ``{name, kind, quantity, points?, item_id?}``, in rank order). 422 on bad input."""
    fields = _clean(data)
    tier_rows = _clean_tiers(list(tiers), _item_exists)
    departments = list(departments)
    with transaction.atomic():
        before = None
        if lottery is None:
            lottery = Lottery(created_by=actor if isinstance(actor, get_user_model()) else None)
        else:
            lottery = Lottery.objects.select_for_update().get(pk=lottery.pk)
            if lottery.status != ActivityStatus.DRAFT:
                raise errors.Conflict(_("Only a draft can be changed."),
                                      code=errors.ErrorCode.INVALID_TRANSITION)
            before = _snapshot(lottery)
        for name, value in fields.items():
            setattr(lottery, name, value)
        lottery.save()
        lottery.eligible_departments.set(departments)
        lottery.tiers.all().delete()
        PrizeTier.objects.bulk_create(
            [PrizeTier(lottery=lottery, remaining=row["quantity"], **row) for row in tier_rows])
        record_audit(actor=actor, action="activities.lottery.update" if before else
                     "activities.lottery.create", obj=lottery, before=before,
                     after=_snapshot(lottery))
    return lottery


def publish_lottery(*, lottery: Lottery, actor: Actor, now: datetime | None = None) -> Lottery:
    """Publish a draft: its seed is made and ``sha256(seed)`` published with the time
    (``committed_at``); from then on nobody can change it, only cancel it."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Lottery.objects.select_for_update().get(pk=lottery.pk)
        if locked.status != ActivityStatus.DRAFT:
            raise errors.Conflict(_("Only a draft can be published."),
                                  code=errors.ErrorCode.INVALID_TRANSITION)
        if locked.ends_at <= now:
            raise errors.Conflict(_("This lottery's closing time has passed."),
                                  code=errors.ErrorCode.ACTIVITY_CLOSED)
        seed = fairness.new_seed()
        locked.seed = seed
        locked.commitment = fairness.commitment_of(seed)
        locked.algorithm = fairness.ALGORITHM
        locked.committed_at = locked.published_at = now
        locked.status = ActivityStatus.PUBLISHED
        locked.save()
        locked.tiers.update(remaining=F("quantity"))
        # Item prizes leave the shelf now, so a winner never meets an empty one (409
        # ``out_of_stock`` refuses the publication).
        for item_id, quantity in (locked.tiers.filter(kind=PrizeKind.ITEM).exclude(item=None)
                                  .values_list("item_id", "quantity")):
            reserve_prize_stock(item_id, quantity)
        record_audit(actor=actor, action="activities.lottery.publish", obj=locked,
                     after={"commitment": locked.commitment})
        due = locked.draw_at or locked.ends_at
        transaction.on_commit(lambda: _schedule_draw(locked.pk, due))
    return locked


def _schedule_draw(lottery_id: int, due: datetime) -> None:
    # Here, not at the top: the tasks module imports this one.
    from jifen.activities.tasks import draw_lottery_task
    try:
        draw_lottery_task.using(run_after=due).enqueue(lottery_id)
    except Exception:  # the worker's sweep and the lazy draw on read still draw it
        logger.exception("lottery %s: could not schedule the draw", lottery_id)


# --- entering -------------------------------------------------------------------------------

def _spend_key(employee: Employee, key: str) -> str:
    key = (key or "").strip()
    return f"lottery:{employee.pk}:{key}"[:200] if key else ""


def enter_lottery(*, lottery: Lottery, employee: Employee, idempotency_key: str = "",
                  actor: Actor = None, now: datetime | None = None) -> Entry:
    """Enter ``employee`` once: 409 ``activity_not_open`` / ``activity_closed`` outside the
    lottery's window, ``not_eligible``, ``entry_limit_reached``, ``entries_full``,
    ``insufficient_points``. The same ``idempotency_key`` answers the first entry, with
    one charge. An instant-win entry is drawn at once (its ``win`` tells)."""
    key = _spend_key(employee, idempotency_key)

    def replay() -> Entry | None:
        return Entry.objects.filter(idempotency_key=key).first() if key else None

    def work() -> Entry:
        return _enter(lottery_id=lottery.pk, employee=employee, key=key or None,
                      actor=actor if actor is not None else employee.user,
                      now=now or timezone.now())

    if key and (done := replay()) is not None:
        return done
    return atomic_with_retry(work, replay=replay, replay_refusals=bool(key),
                             label="lottery entry")


def _enter(*, lottery_id: int, employee: Employee, key: str | None, actor: Actor,
           now: datetime) -> Entry:
    # The row lock first: every check below reads the latest committed state under it
    # (a locking read, also on MySQL's REPEATABLE READ).
    lottery = Lottery.objects.select_for_update().filter(pk=lottery_id).first()
    if lottery is None:
        raise errors.NotFound(_("Lottery not found."), code=errors.ErrorCode.NOT_FOUND)
    if key and (done := Entry.objects.select_for_update().filter(
            idempotency_key=key).first()) is not None:
        return done
    if lottery.status == ActivityStatus.DRAFT or (
            lottery.status == ActivityStatus.PUBLISHED and now < lottery.starts_at):
        raise errors.Conflict(_("This lottery is not open yet."),
                              code=errors.ErrorCode.ACTIVITY_NOT_OPEN)
    if lottery.status != ActivityStatus.PUBLISHED or now >= lottery.ends_at:
        raise errors.Conflict(_("This lottery is closed."),
                              code=errors.ErrorCode.ACTIVITY_CLOSED)
    spendable = (ledger_selectors.balance(employee=employee, now=now).spendable
                 if lottery.min_balance else None)
    problem = eligibility_problem(lottery, employee, spendable=spendable,
                                  on=timezone.localdate(now))
    if problem:
        raise errors.Conflict(problem, code=errors.ErrorCode.NOT_ELIGIBLE)
    mine = len(Entry.objects.select_for_update().filter(
        lottery=lottery, employee=employee, status=EntryStatus.ACTIVE).values_list("pk", flat=True))
    if mine >= lottery.entry_limit:
        raise errors.Conflict(
            _("You have entered this lottery %(count)s times, the most allowed.")
            % {"count": mine}, code=errors.ErrorCode.ENTRY_LIMIT_REACHED,
            details={"limit": lottery.entry_limit})
    taken = Lottery.objects.filter(pk=lottery.pk, status=ActivityStatus.PUBLISHED)
    if lottery.entry_slots is not None:
        taken = taken.filter(entries_count__lt=lottery.entry_slots)
    if not taken.update(entries_count=F("entries_count") + 1):
        raise errors.Conflict(_("Every entry of this lottery is taken."),
                              code=errors.ErrorCode.ENTRIES_FULL)
    entry = Entry.objects.create(lottery=lottery, employee=employee, weight=1,
                                 idempotency_key=key, created_at=now)
    if lottery.entry_cost:
        hold = ledger.hold_for_new_cause(
            employee=employee, amount=lottery.entry_cost,
            idempotency_key=f"activities:entry:{entry.pk}:hold", cause=entry,
            reason=f"lottery {lottery.pk} entry {entry.pk}", actor=actor, now=now)
        entry.hold_txn_id = hold.pk
        Entry.objects.filter(pk=entry.pk).update(hold_txn_id=hold.pk)
    if lottery.mode == DrawMode.INSTANT:
        _instant(lottery, entry, actor=actor, now=now)
    return entry


def _instant(lottery: Lottery, entry: Entry, *, actor: Actor, now: datetime) -> None:
    """Draw an instant-win entry against the prizes left (fairness.instant_draw)."""
    assert lottery.entry_slots is not None
    position = Entry.objects.filter(lottery=lottery, pk__lte=entry.pk).count()
    tiers = list(lottery.tiers.order_by("rank", "id"))
    result = fairness.instant_draw(
        seed=lottery.seed, commitment=lottery.commitment, entry_id=entry.pk, position=position,
        slots=lottery.entry_slots,
        remaining=[(t.pk, t.remaining) for t in tiers if t.remaining > 0])
    if result.tier_id is None:
        return
    tier = next(t for t in tiers if t.pk == result.tier_id)
    PrizeTier.objects.filter(pk=tier.pk, remaining__gt=0).update(remaining=F("remaining") - 1)
    win = Win.objects.create(lottery=lottery, tier=tier, entry=entry, draw_index=position,
                             value=result.value, created_at=now)
    _give_prize(lottery, win, tier, entry.employee, actor=actor, now=now)
    _tell_winner(lottery, tier, entry.employee)


# --- the draw -------------------------------------------------------------------------------

def draw_due_at(lottery: Lottery) -> datetime:
    return lottery.draw_at or lottery.ends_at


def is_due(lottery: Lottery, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return (lottery.status in (ActivityStatus.PUBLISHED, ActivityStatus.CLOSED)
            and now >= lottery.ends_at and now >= draw_due_at(lottery))


def draw_if_due(lottery: Lottery, *, now: datetime | None = None) -> Lottery:
    """The lazy draw: a page or API call reading a lottery past its draw time draws it
    (once, whoever comes first). Returns the lottery as it is now."""
    now = now or timezone.now()
    if (lottery.status == ActivityStatus.PUBLISHED and now >= lottery.ends_at
            and not is_due(lottery, now)):
        close_entries(lottery=lottery, now=now)
        lottery.refresh_from_db()
    elif is_due(lottery, now):
        draw_lottery(lottery=lottery, now=now)
        lottery.refresh_from_db()
    return lottery


def close_entries(*, lottery: Lottery, now: datetime | None = None) -> Lottery:
    """Freeze the entries: the snapshot hash is published (status ``closed``)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Lottery.objects.select_for_update().get(pk=lottery.pk)
        if locked.status == ActivityStatus.PUBLISHED and now >= locked.ends_at:
            _freeze(locked, now)
            locked.save(update_fields=["status", "snapshot_hash", "snapshot_at", "updated_at"])
    return locked


def _freeze(lottery: Lottery, now: datetime) -> list[tuple[int, int]]:
    entries = snapshot_entries(lottery)
    if not lottery.snapshot_hash:
        lottery.snapshot_hash = fairness.snapshot_hash(entries)
        lottery.snapshot_at = now
    lottery.status = ActivityStatus.CLOSED
    return entries


def snapshot_entries(lottery: Lottery) -> list[tuple[int, int]]:
    return list(Entry.objects.filter(lottery=lottery, status=EntryStatus.ACTIVE)
                .order_by("pk").values_list("pk", "weight"))


def draw_lottery(*, lottery: Lottery, actor: Actor = None, now: datetime | None = None,
                 force: bool = False) -> Lottery:
    """Draw a lottery whose time has come (or at once with ``force``: an admin's "draw
    now", which closes the entries first): freeze the snapshot, draw the winners, give the
    prizes, capture the entry costs, reveal the seed, tell everyone who took part. Runs
    once: a second call (a worker and a reader at the same moment) finds it finished."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Lottery.objects.select_for_update().get(pk=lottery.pk)
        if locked.status not in (ActivityStatus.PUBLISHED, ActivityStatus.CLOSED):
            if force:
                raise errors.Conflict(_("This lottery cannot be drawn now."),
                                      code=errors.ErrorCode.INVALID_TRANSITION)
            return locked
        if not force and not is_due(locked, now):
            return locked
        if force and locked.status == ActivityStatus.PUBLISHED and now < locked.starts_at:
            raise errors.Conflict(_("This lottery is not open yet."),
                                  code=errors.ErrorCode.ACTIVITY_NOT_OPEN)
        if force and now < locked.ends_at:
            locked.ends_at = max(now, locked.starts_at + _tick())
        if force and locked.draw_at and now < locked.draw_at:
            locked.draw_at = locked.ends_at
        entries = _freeze(locked, now)
        employees = dict(Entry.objects.filter(lottery=locked, status=EntryStatus.ACTIVE)
                         .values_list("pk", "employee_id"))
        tiers = list(locked.tiers.order_by("rank", "id"))
        if locked.mode == DrawMode.SCHEDULED:
            picks = fairness.draw(seed=locked.seed, snapshot=locked.snapshot_hash,
                                  entries=entries, tiers=[(t.pk, t.quantity) for t in tiers])
            by_id = {t.pk: t for t in tiers}
            people = {e.pk: e for e in Employee.objects.filter(
                pk__in=[employees[p.entry_id] for p in picks]).select_related("user")}
            for pick in picks:
                tier = by_id[pick.tier_id]
                win = Win.objects.create(lottery=locked, tier=tier, entry_id=pick.entry_id,
                                         draw_index=pick.index, value=pick.value,
                                         created_at=now)
                PrizeTier.objects.filter(pk=tier.pk, remaining__gt=0).update(
                    remaining=F("remaining") - 1)
                employee = people[employees[pick.entry_id]]
                _give_prize(locked, win, tier, employee, actor=actor, now=now)
                _tell_winner(locked, tier, employee)
        _capture_entries(locked, actor=actor, now=now)
        _return_unused_items(locked)
        locked.status = ActivityStatus.FINISHED
        locked.drawn_at = locked.revealed_at = now
        locked.save()
        winners = set(Win.objects.filter(lottery=locked).values_list("entry__employee_id",
                                                                     flat=True))
        losers = (Employee.objects.filter(pk__in=set(employees.values()) - winners)
                  .exclude(user=None).values_list("user_id", flat=True))
        url = reverse("portal:lottery", args=[locked.pk])
        notify_bulk(kind=notices.DRAW_RESULTS, messages=[
            Message(recipient_id=uid, params={"title": locked.title}, url=url,
                    dedupe_key=f"lottery:{locked.pk}:results") for uid in losers])
        lottery_drawn.send(sender=Lottery, lottery=locked, at=now, winners=list(
            Win.objects.filter(lottery=locked).order_by("draw_index", "id")
            .values_list("entry__employee_id", "tier__name")))
        record_audit(actor=actor, action="activities.lottery.draw", obj=locked,
                     after={"snapshot_hash": locked.snapshot_hash,
                            "winners": Win.objects.filter(lottery=locked).count(),
                            "forced": force})
    return locked


def _return_unused_items(lottery: Lottery) -> None:
    """Item prizes nobody won (fewer entries than prizes) go back on the shelf."""
    for item_id, remaining in (PrizeTier.objects.filter(lottery=lottery, kind=PrizeKind.ITEM,
                                                        remaining__gt=0).exclude(item=None)
                               .values_list("item_id", "remaining")):
        return_prize_stock(item_id, remaining)


def _tick() -> timedelta:
    return timedelta(microseconds=1)


def _capture_entries(lottery: Lottery, *, actor: Actor, now: datetime) -> None:
    holds = Transaction.objects.in_bulk(list(
        Entry.objects.filter(lottery=lottery, status=EntryStatus.ACTIVE)
        .exclude(hold_txn_id=None).values_list("hold_txn_id", flat=True)))
    for txn in holds.values():
        ledger.capture(hold=txn, idempotency_key=f"activities:entry:{txn.cause_id}:capture",
                       sink=AccountKind.ACTIVITIES, reason=f"lottery {lottery.pk}",
                       actor=actor, now=now)


def _give_prize(lottery: Lottery, win: Win, tier: PrizeTier, employee: Employee, *,
                actor: Actor, now: datetime) -> None:
    if tier.kind == PrizeKind.POINTS and tier.points:
        txn = ledger.credit(employee=employee, amount=tier.points,
                            category=Category.ENGAGEMENT,
                            idempotency_key=f"activities:win:{win.pk}:points", cause=win,
                            reason=f"lottery {lottery.pk} prize {tier.name}", actor=actor,
                            now=now)
        Win.objects.filter(pk=win.pk).update(points_txn_id=txn.pk)
    elif tier.kind == PrizeKind.ITEM and tier.item_id:
        try:
            with transaction.atomic():
                order_id = place_prize_order(PrizeOrder(
                    employee_id=employee.pk, item_id=tier.item_id, points=0, hold_txn_id=None,
                    key=f"activities:win:{win.pk}", source=f"activities.lottery:{lottery.pk}",
                    stock_reserved=True),
                    actor=actor, now=now)
            Win.objects.filter(pk=win.pk).update(order_id=order_id)
        except errors.JifenError:
            # The draw stands; HR gives this prize by hand (the console lists prizes
            # without an order).
            logger.warning("lottery %s: no order for win %s", lottery.pk, win.pk, exc_info=True)


def _tell_winner(lottery: Lottery, tier: PrizeTier, employee: Employee) -> None:
    if employee.user_id is None:
        return
    notify(recipient=employee.user, kind=notices.LOTTERY_WON,
           params={"title": lottery.title, "prize": tier.name},
           url=reverse("portal:lottery", args=[lottery.pk]),
           dedupe_key=f"lottery:{lottery.pk}:won:{tier.pk}")


def draw_due_lotteries(*, now: datetime | None = None) -> int:
    """The worker's sweep: close and draw every lottery whose time has come."""
    now = now or timezone.now()
    due = Lottery.objects.filter(
        Q(status__in=[ActivityStatus.PUBLISHED, ActivityStatus.CLOSED]), ends_at__lte=now)
    count = 0
    for lottery in due:
        before = lottery.status
        after = draw_if_due(lottery, now=now)
        count += after.status != before
    return count


# --- cancelling -----------------------------------------------------------------------------

def cancel_lottery(*, lottery: Lottery, actor: Actor, reason: str = "",
                   now: datetime | None = None) -> Lottery:
    """Cancel a lottery not yet drawn: every entry's points are released back to the
    entrant (exactly the lots they came from) and every entrant is told."""
    now = now or timezone.now()
    reason = (reason or "").strip()[:200]
    with transaction.atomic():
        locked = Lottery.objects.select_for_update().get(pk=lottery.pk)
        if locked.status in (ActivityStatus.FINISHED, ActivityStatus.CANCELLED):
            raise errors.Conflict(_("A drawn or cancelled lottery cannot be cancelled."),
                                  code=errors.ErrorCode.INVALID_TRANSITION)
        if Win.objects.filter(lottery=locked).exists():
            raise errors.Conflict(_("Prizes were already won; this lottery cannot be "
                                    "cancelled."), code=errors.ErrorCode.INVALID_TRANSITION)
        entries = list(Entry.objects.filter(lottery=locked, status=EntryStatus.ACTIVE)
                       .select_related("employee"))
        holds = Transaction.objects.in_bulk([e.hold_txn_id for e in entries if e.hold_txn_id])
        refunded: dict[int, int] = {}
        for entry in entries:
            if entry.hold_txn_id:
                ledger.release(hold=holds[entry.hold_txn_id],
                               idempotency_key=f"activities:entry:{entry.pk}:release",
                               reason=f"lottery {locked.pk} cancelled", actor=actor, now=now)
                refunded[entry.employee.user_id or 0] = (
                    refunded.get(entry.employee.user_id or 0, 0) + locked.entry_cost)
            else:
                refunded.setdefault(entry.employee.user_id or 0, 0)
        Entry.objects.filter(pk__in=[e.pk for e in entries]).update(status=EntryStatus.REFUNDED)
        before = {"status": locked.status}
        if locked.status != ActivityStatus.DRAFT:
            _return_unused_items(locked)  # reserved when it was published
        locked.status = ActivityStatus.CANCELLED
        locked.cancelled_at = now
        locked.cancel_reason = reason
        # The seed is revealed too: nothing is drawn with it any more.
        locked.revealed_at = now
        locked.save()
        url = reverse("portal:lottery", args=[locked.pk])
        notify_bulk(kind=notices.CANCELLED, messages=[
            Message(recipient_id=uid,
                    params={"title": locked.title, "reason": reason,
                            "points": format_points(points), "variant": "refunded"}
                    if points else {"title": locked.title, "reason": reason},
                    url=url, dedupe_key=f"lottery:{locked.pk}:cancelled")
            for uid, points in refunded.items() if uid])
        record_audit(actor=actor, action="activities.lottery.cancel", obj=locked,
                     before=before, after={"status": locked.status, "reason": reason,
                                           "refunded_entries": len(entries)})
    return locked


def new_key() -> str:
    return uuid.uuid4().hex
