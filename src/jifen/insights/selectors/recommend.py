"""Recommendations for one employee, read from the nightly build (``services.recommend``).

A thing's score multiplies what the build found, so each part says how much it moved it:

    everyone's mean interest × department lift × leaning lift × (1 + CF_WEIGHT × similarity)
    × affordability

``similarity`` is the weighted mean cosine between the thing and what the employee
redeemed, kept or looked at. The largest of those factors is the reason the card gives
("因为你兑换过…", "研发中心的同事常兑换", "你最近在学习"); when none lifts the thing by
``REASON_LIFT``, it is "popular across the company". Only what the employee could take
now is offered: listed (published), in stock, eligible, not already redeemed (owned or
downloaded in the library) and not at its limit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, prefetch_related_objects
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.insights.models import (
    Catalogue,
    CompanyMonth,
    EmployeeMonth,
    GroupTaste,
    Neighbour,
    RecommendationOptOut,
)
from jifen.insights.services import recommend as build
from jifen.ledger import selectors as ledger_selectors
from jifen.ledger.models import Category, TransactionKind
from jifen.library.models import Download, Purchase, Resource, ResourceStatus
from jifen.library.selectors import resources as library_selectors
from jifen.mall import selectors as mall_selectors
from jifen.mall.models import Item, ItemStatus, Order, PurchaseCounter
from jifen.people.models import Department, Employee
from jifen.people.selectors import path_ids

CF_WEIGHT = 4.0
REASON_LIFT = 1.2  # a factor must lift a thing this much to be named as the reason
SOON_SHARE = 0.2  # "affordable soon": within 20% of the price
SOON_BOOST = 1.25
OUT_OF_REACH = 0.6  # further away than that


class Reason:
    REDEEMED = "redeemed"
    FAVOURITED = "favourited"
    VIEWED = "viewed"
    DOWNLOADED = "downloaded"
    DEPARTMENT = "department"
    LEANING = "leaning"
    POPULAR = "popular"
    ALSO = "also"


def _leaning_words(category: str) -> str:
    words: dict[str, str] = {
        Category.LEARNING: _("You have been learning lately"),
        Category.PERFORMANCE: _("Your work has been earning points lately"),
        Category.TEAMWORK: _("You have been helping your team lately"),
        Category.CULTURE: _("You have been joining company culture lately"),
        Category.ATTENDANCE: _("Your attendance has been earning points lately"),
        Category.ENGAGEMENT: _("You have been active in the community lately"),
    }
    return words.get(category, _("Picked for your recent points"))


@dataclass(frozen=True)
class Why:
    """Why a thing is shown: a code and its parameters, put in words in the reader's
    language when read."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        name = self.params.get("name", "")
        library = self.params.get("catalogue") == Catalogue.LIBRARY
        if self.code == Reason.REDEEMED:
            return _("Because you redeemed “%(name)s”") % {"name": name}
        if self.code == Reason.FAVOURITED:
            return _("Because you saved “%(name)s”") % {"name": name}
        if self.code == Reason.VIEWED:
            return _("Because you looked at “%(name)s”") % {"name": name}
        if self.code == Reason.DOWNLOADED:
            return _("Because you downloaded “%(name)s”") % {"name": name}
        if self.code == Reason.DEPARTMENT:
            words = (_("Often downloaded by colleagues in %(department)s") if library
                     else _("Often redeemed by colleagues in %(department)s"))
            return words % {"department": self.params.get("department", "")}
        if self.code == Reason.LEANING:
            return _leaning_words(self.params.get("category", ""))
        if self.code == Reason.ALSO:
            return _("Also redeemed by those who redeemed “%(name)s”") % {"name": name}
        return (_("Popular across the company") if not library
                else _("Popular in the library"))


@dataclass
class Suggestion:
    catalogue: str
    thing: Item | Resource
    score: float
    why: Why
    points: int  # the price now (a mall discount applied)
    short_by: int = 0  # points still missing when "affordable soon"
    price: Any = None  # the mall's Price (for the card's sale badge)

    @property
    def target_id(self) -> int:
        return int(self.thing.pk)

    @property
    def name(self) -> str:
        return self.thing.name if isinstance(self.thing, Item) else self.thing.title

    @property
    def url(self) -> str:
        """Its page in the portal."""
        page = ("portal:mall_item" if self.catalogue == Catalogue.MALL
                else "portal:library_resource")
        return reverse(page, args=[self.target_id])


# --- the switch ---------------------------------------------------------------------------


def enabled_for(employee: Employee | None) -> bool:
    """Whether the employee gets recommendations (on unless they turned them off)."""
    if employee is None:
        return False
    return not RecommendationOptOut.objects.filter(employee=employee).exists()


# --- what the employee did ----------------------------------------------------------------


def _own_signals(employee: Employee, catalogue: str, now: datetime) -> dict[int, int]:
    """Thing → the strongest weight the employee gave it (as the nightly build counts)."""
    return build.signals(catalogue, now, employee=employee).get(employee.pk, {})


def leaning_of(employee: Employee, now: datetime | None = None) -> str:
    """The earning category the employee's last 90 days lean to ("" when none stands out),
    as the nightly build decides it."""
    since = (timezone.localdate(now or timezone.now())
             - timedelta(days=build.LOOKS_DAYS)).replace(day=1)
    earned = EmployeeMonth.objects.filter(employee=employee, month__gte=since,
                                          kind=TransactionKind.EARN, amount__gt=0)
    mine: dict[str, int] = defaultdict(int)
    for category, amount in earned.exclude(category="").values_list("category", "amount"):
        mine[category] += amount
    if not mine:
        return ""
    company: dict[str, int] = defaultdict(int)
    for category, amount in (CompanyMonth.objects.filter(
            month__gte=since, kind=TransactionKind.EARN, amount__gt=0).exclude(category="")
            .values_list("category", "amount")):
        company[category] += amount
    return build.lean(mine, company)


# --- what may be offered ------------------------------------------------------------------


def _mall_candidates(employee: Employee) -> dict[int, Item]:
    """Listed, in-stock items the employee may redeem and has not: the departments, grades
    and tenure an item asks for checked as ``mall.selectors.eligibility_problem`` does, in
    the query (a row has no images yet; ``_with_pictures`` adds them to the few shown)."""
    taken = Order.objects.filter(employee=employee, item_id=OuterRef("pk")).exclude(
        status__in=build.NOT_TAKEN)
    audience = Item.eligible_departments.through.objects.filter(item_id=OuterRef("pk"))
    items = (Item.objects.filter(status=ItemStatus.LISTED)
             .filter(Q(stock__isnull=True) | Q(stock__gt=0))
             .filter(min_tenure_years__lte=employee.tenure_years())
             .filter(~Exists(audience) | Exists(audience.filter(
                 department_id__in=_department_chain(employee, top=True))))
             .exclude(Exists(taken))
             .defer("description", "search_text").select_related("category"))
    counters = {(item_id, key): quantity for item_id, key, quantity in
                PurchaseCounter.objects.filter(employee=employee, quantity__gt=0)
                .values_list("item_id", "period_key", "quantity")}
    grade = (employee.grade or "").strip()
    offered: dict[int, Item] = {}
    for item in items:
        if item.per_employee_limit and counters.get(
                (item.pk, mall_selectors.limit_period_key(item.limit_period)),
                0) >= item.per_employee_limit:
            continue
        if item.eligible_grades and grade not in item.grade_list:
            continue
        offered[item.pk] = item
    return offered


def _library_candidates(employee: Employee) -> dict[int, Resource]:
    mine = Q(Exists(Purchase.objects.filter(employee=employee, resource_id=OuterRef("pk")))) | Q(
        Exists(Download.objects.filter(employee=employee, resource_id=OuterRef("pk"))))
    resources = (library_selectors.visible_to(employee)
                 .filter(status=ResourceStatus.PUBLISHED).exclude(mine)
                 .select_related("category"))
    return {resource.pk: resource for resource in resources}


# --- scoring ------------------------------------------------------------------------------


@dataclass
class _Factors:
    popular: float
    department: float = 1.0
    department_id: int | None = None
    leaning: float = 1.0
    similar: float = 0.0
    because: tuple[int, int] | None = None  # (source thing, its weight)


def _department_chain(employee: Employee, *, top: bool = False) -> list[int]:
    """The employee's department and its ancestors, the top one only with ``top`` (the
    top department's members are everyone)."""
    department = employee.department
    if department is None:
        return []
    chain = path_ids(department.path) or [department.pk]
    return chain if top else build.below_top(chain)


def _factors(employee: Employee, catalogue: str, candidates: set[int], now: datetime,
             own: dict[int, int]) -> tuple[dict[int, _Factors], str]:
    chain = _department_chain(employee)
    leaning = leaning_of(employee, now)
    groups = Q(group=GroupTaste.Group.EVERYONE) | Q(
        group=GroupTaste.Group.DEPARTMENT, key__in=[str(d) for d in chain])
    if leaning:
        groups |= Q(group=GroupTaste.Group.EARNING, key=leaning)
    rows = [row for row in GroupTaste.objects.filter(groups, catalogue=catalogue)
            .values_list("group", "key", "target_id", "score") if row[2] in candidates]
    popular = {thing: score for group, _k, thing, score in rows
               if group == GroupTaste.Group.EVERYONE}
    floor = min(popular.values(), default=1.0) / 2  # a thing nobody touched yet
    factors = {thing: _Factors(popular=popular.get(thing, floor)) for thing in candidates}
    for group, key, thing, score in rows:
        found = factors[thing]
        if group == GroupTaste.Group.DEPARTMENT and score > found.department:
            found.department, found.department_id = score, int(key)
        elif group == GroupTaste.Group.EARNING:
            found.leaning = score
    if own:
        total = sum(own.values())
        best: dict[int, float] = defaultdict(float)
        for source, target, score in Neighbour.objects.filter(
                catalogue=catalogue, source_id__in=list(own), target_id__in=candidates
        ).values_list("source_id", "target_id", "score"):
            part = own[source] * score
            factors[target].similar += part / total
            if part > best[target]:
                best[target] = part
                factors[target].because = (source, own[source])
    return factors, leaning


def _reason(found: _Factors, catalogue: str, leaning: str, names: dict[int, str],
            departments: dict[int, str]) -> Why:
    similar = 1 + CF_WEIGHT * found.similar
    strongest = max(similar, found.department, found.leaning)
    if strongest < REASON_LIFT:
        return Why(Reason.POPULAR, {"catalogue": catalogue})
    if similar == strongest and found.because is not None:
        source, weight = found.because
        code = {build.REDEEMED: Reason.REDEEMED,
                build.KEPT: Reason.FAVOURITED if catalogue == Catalogue.MALL
                else Reason.DOWNLOADED}.get(weight, Reason.VIEWED)
        return Why(code, {"name": names.get(source, ""), "catalogue": catalogue,
                          "source_id": source})
    if found.department == strongest and found.department_id is not None:
        return Why(Reason.DEPARTMENT, {"department": departments.get(found.department_id, ""),
                                       "catalogue": catalogue,
                                       "department_id": found.department_id})
    return Why(Reason.LEANING, {"category": leaning, "catalogue": catalogue})


def _reach(points: int, spendable: int | None) -> tuple[float, int]:
    """The affordability factor and the points still missing (0 when affordable or far)."""
    if spendable is None or points <= spendable:
        return 1.0, 0
    if points - spendable <= points * SOON_SHARE:
        return SOON_BOOST, points - spendable
    return OUT_OF_REACH, 0


def _names(catalogue: str, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    if catalogue == Catalogue.MALL:
        return dict(Item.objects.filter(pk__in=ids).values_list("pk", "name"))
    return dict(Resource.objects.filter(pk__in=ids).values_list("pk", "title"))


def _suggestions(catalogue: str, things: dict[int, Any], scored: list[tuple[float, int]],
                 limit: int, spendable: int | None,
                 why_of: Any) -> list[Suggestion]:
    chosen = scored[:limit]
    prices = {}
    if catalogue == Catalogue.MALL:
        shown = [things[t] for _s, t in chosen]
        prefetch_related_objects(shown, "images")  # the cards' pictures
        prices = mall_selectors.prices_for(shown)
    found = []
    for score, thing_id in chosen:
        thing = things[thing_id]
        price = prices.get(thing_id)
        points = price.points if price is not None else int(
            thing.points if catalogue == Catalogue.MALL else thing.price)
        _factor, short_by = _reach(points, spendable)
        found.append(Suggestion(catalogue=catalogue, thing=thing, score=round(score, 6),
                                why=why_of(thing_id), points=points, short_by=short_by,
                                price=price))
    return found


def _candidates(employee: Employee, catalogue: str) -> dict[int, Any]:
    return (_mall_candidates(employee) if catalogue == Catalogue.MALL
            else _library_candidates(employee))


def for_employee(employee: Employee | None, *, catalogue: str = Catalogue.MALL,
                 limit: int = 10, spendable: int | None = None,
                 now: datetime | None = None) -> list[Suggestion]:
    """Up to ``limit`` things for the employee, best first, each with its reason; none
    when they turned recommendations off. ``spendable`` (their balance) lets a thing
    within 20% of it rise ("affordable soon") and one far beyond it sink."""
    if employee is None or not enabled_for(employee):
        return []
    now = now or timezone.now()
    things = _candidates(employee, catalogue)
    if not things:
        return []
    own = _own_signals(employee, catalogue, now)
    factors, leaning = _factors(employee, catalogue, set(things), now, own)
    scored = []
    for thing_id, found in factors.items():
        price = things[thing_id].points if catalogue == Catalogue.MALL else things[
            thing_id].price
        reach, _short = _reach(int(price), spendable)
        score = (found.popular * found.department * found.leaning
                 * (1 + CF_WEIGHT * found.similar) * reach)
        scored.append((score, thing_id))
    scored.sort(key=lambda pair: (-pair[0], -pair[1]))
    top = [factors[t] for _s, t in scored[:limit]]
    names = _names(catalogue, {f.because[0] for f in top if f.because})
    departments = dict(Department.objects.filter(
        pk__in={f.department_id for f in top if f.department_id}).values_list("pk", "name"))
    return _suggestions(catalogue, things, scored, limit, spendable,
                        lambda t: _reason(factors[t], catalogue, leaning, names, departments))


def popular_for(employee: Employee, *, catalogue: str = Catalogue.MALL,
                limit: int = 10) -> list[Suggestion]:
    """The fallback the recommendations are measured against: the most popular things
    (everyone's mean interest) among those the employee may take, with the same filters."""
    things = _candidates(employee, catalogue)
    popular = dict(GroupTaste.objects.filter(
        catalogue=catalogue, group=GroupTaste.Group.EVERYONE, target_id__in=list(things))
        .values_list("target_id", "score"))
    scored = sorted(((popular.get(t, 0.0), t) for t in things),
                    key=lambda pair: (-pair[0], -pair[1]))
    why = Why(Reason.POPULAR, {"catalogue": catalogue})
    return _suggestions(catalogue, things, scored, limit, None, lambda _t: why)


def also_redeemed(item: Item, *, employee: Employee | None, limit: int = 6) -> list[Suggestion]:
    """Items most like ``item`` by who redeemed, kept or looked at both, that the employee
    may take; none when they turned recommendations off."""
    if employee is None or not enabled_for(employee):
        return []
    similar = list(Neighbour.objects.filter(catalogue=Catalogue.MALL, source_id=item.pk)
                   .order_by("-score", "target_id").values_list("target_id", "score"))
    if not similar:
        return []
    things = _candidates(employee, Catalogue.MALL)
    scored = [(score, t) for t, score in similar if t in things and t != item.pk]
    why = Why(Reason.ALSO, {"name": item.name, "catalogue": Catalogue.MALL,
                            "source_id": item.pk})
    return _suggestions(Catalogue.MALL, things, scored, limit, None, lambda _t: why)


# --- the rows pages ask for (``jifen.core.suggestions``) ----------------------------------

ROW = 8  # a row on the mall home or the library
DIGEST_ROW = 3


def mall_home_row(*, employee: Employee | None, spendable: int | None = None) -> list[Suggestion]:
    return for_employee(employee, catalogue=Catalogue.MALL, limit=ROW, spendable=spendable)


def library_row(*, employee: Employee | None, spendable: int | None = None) -> list[Suggestion]:
    return for_employee(employee, catalogue=Catalogue.LIBRARY, limit=ROW, spendable=spendable)


def item_row(*, employee: Employee | None, item: Item) -> list[Suggestion]:
    return also_redeemed(item, employee=employee, limit=ROW)


def digest_row(*, user: Any) -> list[Suggestion]:
    employee = getattr(user, "employee", None)
    if employee is None:
        return []
    spendable = ledger_selectors.balance(employee=employee).spendable
    return for_employee(employee, catalogue=Catalogue.MALL, limit=DIGEST_ROW,
                        spendable=spendable)
