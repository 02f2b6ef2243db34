"""Recommendations: the nightly build and the employee's on/off switch.

The build reads what employees did — mall redemptions, favourites and item views; library
purchases, downloads and resource views — as one weight per employee and thing (the
strongest signal wins: redeemed/bought 3, favourite/download 2, a look 1) and writes:

- ``Neighbour``: for each thing, the 20 most similar ones (cosine over those weights),
  counting only pairs that at least ``MIN_SUPPORT`` employees share;
- ``GroupTaste``: per department (with its sub-departments) and per "leaning" (the earning
  category an employee's last 90 days of points lean to most, against the company's mix),
  how much its members go for each thing, shrunk towards everyone's figure so a small
  team's one redemption is no trend; and ``everyone``'s plain popularity.

Reading them per employee (``selectors.recommend``) is a few indexed queries. The whole
build replaces the tables in one transaction: a reader sees yesterday's or today's, never
half of each.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from jifen.insights.models import (
    Catalogue,
    EmployeeMonth,
    GroupTaste,
    Neighbour,
    RecommendationBuild,
    RecommendationOptOut,
)
from jifen.ledger.models import Category, TransactionKind
from jifen.library.models import Download, Purchase, ResourceView
from jifen.library.services import resources as library_services
from jifen.mall import services as mall_services
from jifen.mall.models import Favourite, ItemView, Order, OrderStatus
from jifen.people.models import Department, Employee, EmployeeStatus
from jifen.people.selectors import path_ids

REDEEMED, KEPT, LOOKED = 3, 2, 1
HISTORY_DAYS = 365  # redemptions and purchases counted
LOOKS_DAYS = 90  # views and leanings counted
MIN_SUPPORT = 3  # employees who must share a pair before it counts
NEIGHBOURS_KEPT = 20
PAIRED_PER_EMPLOYEE = 60  # the strongest signals of one employee that pair up (k² work)
SHRINK = 5  # pseudo-members of "everyone" added to each group's figures
NOT_TAKEN = (OrderStatus.REJECTED, OrderStatus.CANCELLED)

Signals = dict[int, dict[int, int]]  # employee → thing → weight


@dataclass
class BuildResult:
    seconds: float
    employees: int
    signals: int
    neighbours: int
    tastes: int


def _strongest(rows: Iterable[tuple[int, int]], weight: int, into: Signals) -> None:
    for employee_id, thing_id in rows:
        mine = into[employee_id]
        if mine.get(thing_id, 0) < weight:
            mine[thing_id] = weight


def signals(catalogue: str, now: datetime, *, employee: Employee | None = None) -> Signals:
    """Employee → thing → the strongest weight they gave it, in the mall or the library:
    everyone's for the build, one employee's (``employee``) for reading their row."""
    found: Signals = defaultdict(dict)
    since = now - timedelta(days=HISTORY_DAYS)
    mine = {"employee": employee} if employee is not None else {}
    sources: tuple[tuple[QuerySet[Any], str, int], ...]
    if catalogue == Catalogue.MALL:
        looked_since = timezone.localdate(now) - timedelta(days=LOOKS_DAYS)
        sources = (
            (Order.objects.filter(created_at__gte=since).exclude(status__in=NOT_TAKEN),
             "item_id", REDEEMED),
            (Favourite.objects.all(), "item_id", KEPT),
            (ItemView.objects.filter(day__gte=looked_since), "item_id", LOOKED))
    else:
        sources = (
            (Purchase.objects.filter(created_at__gte=since), "resource_id", REDEEMED),
            (Download.objects.filter(at__gte=since), "resource_id", KEPT),
            (ResourceView.objects.filter(at__gte=now - timedelta(days=LOOKS_DAYS)),
             "resource_id", LOOKED))
    for rows, thing, weight in sources:
        _strongest(rows.filter(**mine).values_list("employee_id", thing).iterator(
            chunk_size=5000), weight, found)
    return found


def neighbours(signals: Signals) -> list[tuple[int, int, float, int]]:
    """(source, target, cosine, support) for the ``NEIGHBOURS_KEPT`` most similar targets
    of each source, pairs shared by fewer than ``MIN_SUPPORT`` employees left out."""
    dot: dict[tuple[int, int], int] = defaultdict(int)
    support: dict[tuple[int, int], int] = defaultdict(int)
    norm: dict[int, int] = defaultdict(int)
    for things in signals.values():
        pairs = sorted(things.items(), key=lambda pair: (-pair[1], pair[0]))
        pairs = pairs[:PAIRED_PER_EMPLOYEE]
        for a, wa in pairs:
            norm[a] += wa * wa
            for b, wb in pairs:
                if a != b:
                    dot[a, b] += wa * wb
                    support[a, b] += 1
    by_source: dict[int, list[tuple[float, int, int]]] = defaultdict(list)
    for (a, b), value in dot.items():
        shared = support[a, b]
        if shared >= MIN_SUPPORT:
            by_source[a].append((value / math.sqrt(norm[a] * norm[b]), b, shared))
    rows = []
    for a, found in by_source.items():
        found.sort(key=lambda row: (-row[0], row[1]))
        rows += [(a, b, round(score, 6), shared) for score, b, shared in
                 found[:NEIGHBOURS_KEPT]]
    return rows


def leanings(now: datetime) -> dict[int, str]:
    """Employee → the earning category their points of the last 90 days lean to most,
    against the company's own mix (everyone earns attendance points; someone earning
    three times the company's share of learning points is learning)."""
    since = (timezone.localdate(now) - timedelta(days=LOOKS_DAYS)).replace(day=1)
    earned: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    company: dict[str, int] = defaultdict(int)
    for employee_id, category, amount in (
            EmployeeMonth.objects.filter(month__gte=since, kind=TransactionKind.EARN,
                                         amount__gt=0).exclude(category="")
            .values_list("employee_id", "category", "amount").iterator(chunk_size=5000)):
        earned[employee_id][category] += amount
        company[category] += amount
    return {employee_id: leaning for employee_id, mine in earned.items()
            if (leaning := lean(mine, company))}


def lean(mine: dict[str, int], company: dict[str, int]) -> str:
    """The earning category whose share of ``mine`` is at least 1.5 times its share of
    the company's points and the most so ("" when none is)."""
    total, own_total = sum(company.values()), sum(mine.values())
    if not total or not own_total:
        return ""
    lifts = [((amount / own_total) / (company[c] / total), c) for c, amount in mine.items()
             if company.get(c) and c in Category.values]
    if not lifts:
        return ""
    lift, best = max(lifts)
    return best if lift >= 1.5 else ""


def _department_paths() -> dict[int, list[int]]:
    """Department → itself and its ancestors below the top (the top is everyone)."""
    return {pk: below_top(path_ids(path) or [pk])
            for pk, path in Department.objects.values_list("pk", "path")}


def below_top(chain: list[int]) -> list[int]:
    """A department chain without its top (the top's members are everyone), unless the
    chain is the top alone."""
    return chain[1:] if len(chain) > 1 else chain


def tastes(signals: Signals, groups: dict[int, list[tuple[str, str]]],
           everyone: int) -> list[tuple[str, str, int, float, int]]:
    """(group, key, thing, score, support) rows. ``everyone``'s score is the mean weight
    all employees give a thing; a group's is the lift of its members' mean weight
    (shrunk towards everyone's by ``SHRINK`` pseudo-members) over everyone's, kept when
    it is above 1 and at least two members show it."""
    overall: dict[int, int] = defaultdict(int)
    shown: dict[int, int] = defaultdict(int)
    sums: dict[tuple[str, str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    counts: dict[tuple[str, str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for employee_id, things in signals.items():
        for thing, weight in things.items():
            overall[thing] += weight
            shown[thing] += 1
        for group in groups.get(employee_id, ()):
            for thing, weight in things.items():
                sums[group][thing] += weight
                counts[group][thing] += 1
    members: dict[tuple[str, str], int] = defaultdict(int)
    for member_of in groups.values():
        for group in member_of:
            members[group] += 1
    everyone = max(everyone, 1)
    mean = {thing: total / everyone for thing, total in overall.items()}
    rows = [(GroupTaste.Group.EVERYONE.value, "", thing, round(mean[thing], 6), shown[thing])
            for thing in overall]
    for group, things in sums.items():
        size = members[group]
        for thing, total in things.items():
            if counts[group][thing] < 2:
                continue
            lift = (total + SHRINK * mean[thing]) / (size + SHRINK) / mean[thing]
            if lift > 1.0:
                rows.append((group[0], group[1], thing, round(lift, 6), counts[group][thing]))
    return rows


def build(*, now: datetime | None = None) -> BuildResult:
    """Recompute neighbours and group tastes for the mall and the library from what
    employees did, and replace yesterday's in one transaction. Also forgets item and
    resource views past their 90 days."""
    started = time.monotonic()
    now = now or timezone.now()
    mall_services.prune_item_views(today=timezone.localdate(now))
    library_services.prune_views(now=now)
    paths = _department_paths()
    leaning = leanings(now)
    groups: dict[int, list[tuple[str, str]]] = {}
    active = 0
    staff = Employee.objects.filter(status=EmployeeStatus.ACTIVE)
    for employee_id, department_id in staff.values_list("pk", "department_id").iterator(
            chunk_size=5000):
        active += 1
        member_of = [(GroupTaste.Group.DEPARTMENT.value, str(d))
                     for d in paths.get(department_id, [])]
        if employee_id in leaning:
            member_of.append((GroupTaste.Group.EARNING.value, leaning[employee_id]))
        groups[employee_id] = member_of
    neighbour_rows: list[Neighbour] = []
    taste_rows: list[GroupTaste] = []
    signal_count = 0
    for catalogue in (Catalogue.MALL, Catalogue.LIBRARY):
        done = signals(catalogue, now)
        signal_count += sum(len(things) for things in done.values())
        neighbour_rows += [Neighbour(catalogue=catalogue, source_id=a, target_id=b,
                                     score=score, support=shared)
                           for a, b, score, shared in neighbours(done)]
        taste_rows += [GroupTaste(catalogue=catalogue, group=group, key=key, target_id=thing,
                                  score=score, support=shown)
                       for group, key, thing, score, shown in tastes(done, groups, active)]
    with transaction.atomic():
        Neighbour.objects.all().delete()
        GroupTaste.objects.all().delete()
        Neighbour.objects.bulk_create(neighbour_rows, batch_size=2000)
        GroupTaste.objects.bulk_create(taste_rows, batch_size=2000)
        result = BuildResult(seconds=round(time.monotonic() - started, 3), employees=active,
                             signals=signal_count, neighbours=len(neighbour_rows),
                             tastes=len(taste_rows))
        RecommendationBuild.objects.update_or_create(pk=1, defaults={
            "built_at": now, "seconds": result.seconds, "employees": active,
            "signals": signal_count, "neighbours": len(neighbour_rows),
            "tastes": len(taste_rows)})
    return result


@transaction.atomic
def set_recommendations(*, employee: Employee, enabled: bool) -> bool:
    """Turn the employee's recommendations on or off (every row of them, the digest's
    too); returns ``enabled``. Saying the same twice changes nothing."""
    if enabled:
        RecommendationOptOut.objects.filter(employee=employee).delete()
    else:
        RecommendationOptOut.objects.get_or_create(employee=employee)
    return enabled
