"""Reads of lotteries: what the portal, console, API and verifier show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import QuerySet

from jifen.activities.models import (
    ActivityStatus,
    DrawMode,
    Entry,
    EntryStatus,
    Lottery,
    Win,
)
from jifen.people.models import Employee


def lottery_by_id(pk: int) -> Lottery | None:
    return Lottery.objects.filter(pk=pk).first()


def visible_lottery(pk: int) -> Lottery | None:
    """A lottery employees may see: not a draft."""
    return Lottery.objects.filter(pk=pk).exclude(status=ActivityStatus.DRAFT).first()


def entry_with_win(pk: int) -> Entry:
    return Entry.objects.select_related("win__tier").get(pk=pk)


def prize_items(limit: int = 500) -> list[Any]:
    """Mall items on offer, to choose a prize from (read through the model registry: the
    activities do not import the mall)."""
    item = apps.get_model("mall", "Item")
    return list(item.objects.filter(status="listed").order_by("name").only("pk", "name")[:limit])


def lotteries() -> QuerySet[Lottery]:
    return Lottery.objects.all().prefetch_related("tiers")


def visible_lotteries() -> QuerySet[Lottery]:
    """What employees may see: everything but drafts."""
    return lotteries().exclude(status=ActivityStatus.DRAFT)


def my_entries(lottery: Lottery, employee: Employee | None) -> list[Entry]:
    if employee is None:
        return []
    return list(Entry.objects.filter(lottery=lottery, employee=employee)
                .select_related("win__tier").order_by("pk"))


def active_entries_of(lottery: Lottery, employee: Employee | None) -> int:
    if employee is None:
        return 0
    return Entry.objects.filter(lottery=lottery, employee=employee,
                                status=EntryStatus.ACTIVE).count()


def winners(lottery: Lottery) -> list[Win]:
    return list(Win.objects.filter(lottery=lottery)
                .select_related("tier", "entry__employee__department").order_by("draw_index"))


@dataclass(frozen=True)
class ProofEntry:
    id: int
    weight: int
    mine: bool


def proof(lottery: Lottery, *, employee: Employee | None = None) -> dict[str, Any]:
    """The public draw proof: what anyone signed in may check the draw with (the seed only
    once revealed; entries by id and weight, the reader's own marked)."""
    frozen = bool(lottery.snapshot_hash)
    entries: list[dict[str, Any]] = []
    if frozen:
        rows = (Entry.objects.filter(lottery=lottery)
                .exclude(status=EntryStatus.REFUNDED)
                .order_by("pk").values_list("pk", "weight", "employee_id"))
        entries = [{"id": pk, "weight": weight,
                    "mine": employee is not None and owner == employee.pk}
                   for pk, weight, owner in rows]
    tiers = list(lottery.tiers.order_by("rank", "id"))
    revealed = lottery.revealed_at is not None
    wins = winners(lottery) if lottery.status == ActivityStatus.FINISHED or (
        lottery.mode == DrawMode.INSTANT) else []
    return {
        "lottery_id": lottery.pk,
        "title": lottery.title,
        "status": lottery.status,
        "mode": lottery.mode,
        "algorithm": lottery.algorithm,
        "commitment": lottery.commitment,
        "committed_at": lottery.committed_at,
        "entry_slots": lottery.entry_slots,
        "snapshot_hash": lottery.snapshot_hash,
        "snapshot_at": lottery.snapshot_at,
        "entries": entries,
        "tiers": [{"id": t.pk, "rank": t.rank, "name": t.name, "quantity": t.quantity}
                  for t in tiers],
        "seed": lottery.seed if revealed else None,
        "revealed_at": lottery.revealed_at,
        "drawn_at": lottery.drawn_at,
        "winners": [{"draw_index": w.draw_index, "entry_id": w.entry_id, "tier_id": w.tier_id,
                     "tier": w.tier.name, "value": w.value,
                     "mine": employee is not None and w.entry.employee_id == employee.pk}
                    for w in wins],
    }
