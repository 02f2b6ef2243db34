"""Demo step: activities — a FINISHED lottery whose draw anyone can check (entries taken,
entries frozen, winners drawn, seed revealed), a RUNNING auction with a few bids, and an
UPCOMING lottery. Everything goes through the lottery and auction services (points move
through the ledger; the draw is the real provably fair one), with times set back through
their ``now`` arguments so the finished lottery really ran last week.

The lottery and auction services are built beside this step; when either is missing the
step says so and skips that part, so the demo still builds."""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

from django.utils import timezone

from jifen.core.roles import Role
from jifen.demo.builder import DemoContext, demo_step
from jifen.ledger import selectors as ledger_selectors
from jifen.mall.models import Item, ItemStatus

ENTRY_COST = 20
FINISHED_ENTRANTS = 36
AUCTION_BIDS = 7


def _services(name: str, ctx: DemoContext) -> ModuleType | None:
    try:
        return importlib.import_module(f"jifen.activities.services.{name}")
    except ImportError:
        ctx.log(f"    (activities: the {name} services are not there yet; skipped)")
        return None


def _at(day_offset: int, hour: int) -> datetime:
    """Today + ``day_offset`` days at ``hour`` o'clock, in the site's zone."""
    today = timezone.localtime().replace(hour=hour, minute=0, second=0, microsecond=0)
    return today + timedelta(days=day_offset)


def _people_with(ctx: DemoContext, points: int, count: int) -> list[Any]:
    """``count`` employees (picked with the step's own generator) who can spend ``points``."""
    pool = [e for e in ctx.employees if e.user_id]
    ctx.rng.shuffle(pool)
    chosen = []
    for employee in pool:
        if ledger_selectors.balance(employee=employee).spendable >= points:
            chosen.append(employee)
            if len(chosen) == count:
                break
    return chosen


def _finished_lottery(ctx: DemoContext, lottery: ModuleType, actor: Any) -> Any:
    starts, ends = _at(-10, 9), _at(-3, 18)
    made = lottery.save_lottery(actor=actor, data={
        "title": "年终积分抽奖",
        "description": "每次参与消耗 20 积分，每人最多 3 次。开奖前公布承诺值，开奖后公开种子，"
                       "人人可以自己验证开奖是否公正。",
        "starts_at": starts, "ends_at": ends, "draw_at": ends + timedelta(minutes=30),
        "mode": "scheduled", "entry_cost": ENTRY_COST, "entry_limit": 3,
    }, tiers=[
        {"name": "一等奖", "kind": "points", "points": 2000, "quantity": 1},
        {"name": "二等奖", "kind": "points", "points": 500, "quantity": 3},
        {"name": "三等奖", "kind": "custom", "quantity": 5},
    ])
    made = lottery.publish_lottery(lottery=made, actor=actor, now=starts - timedelta(hours=1))
    span = int((ends - starts).total_seconds())
    moments = sorted(ctx.rng.randrange(60, span - 60) for _ in range(FINISHED_ENTRANTS * 2))
    people = _people_with(ctx, ENTRY_COST * 3, FINISHED_ENTRANTS)
    for number, moment in enumerate(moments):
        employee = people[number % len(people)] if people else None
        if employee is None:
            break
        lottery.enter_lottery(lottery=made, employee=employee,
                              idempotency_key=f"demo-entry-{number}",
                              now=starts + timedelta(seconds=moment))
    lottery.close_entries(lottery=made, now=ends)
    return lottery.draw_lottery(lottery=made, actor=actor,
                                now=ends + timedelta(minutes=31))


def _upcoming_lottery(lottery: ModuleType, actor: Any) -> Any:
    starts = _at(3, 10)
    made = lottery.save_lottery(actor=actor, data={
        "title": "春季新品抽奖",
        "description": "免费参与，每人一次：抽取三台降噪耳机和十张 100 元购物卡。",
        "starts_at": starts, "ends_at": starts + timedelta(days=7),
        "mode": "scheduled", "entry_cost": 0, "entry_limit": 1,
    }, tiers=[
        {"name": "一等奖", "kind": "custom", "quantity": 3},
        {"name": "二等奖", "kind": "points", "points": 500, "quantity": 10},
    ])
    return lottery.publish_lottery(lottery=made, actor=actor)


def _running_auction(ctx: DemoContext, auction: ModuleType, actor: Any) -> Any | None:
    item = (Item.objects.filter(status=ItemStatus.LISTED, stock__gte=2, points__gte=1000,
                                points__lte=5000).order_by("-points", "pk").first())
    if item is None:
        ctx.log("    (activities: no mall item to auction; skipped)")
        return None
    starts, ends = _at(-1, 9), _at(2, 20)
    start_price = max(100, item.points // 5)
    made = auction.create_auction(
        actor=actor, title=f"{item.name} 积分竞拍",
        description="每次加价至少 50 积分；最后 5 分钟内出价会把结束时间顺延 5 分钟。",
        item_id=item.pk, starting_price=start_price, min_increment=50,
        reserve_price=start_price * 2, starts_at=starts, ends_at=ends, extend_minutes=5,
        latest_end=ends + timedelta(hours=2))
    made = auction.publish_auction(auction=made, actor=actor, now=starts - timedelta(hours=1))
    price = start_price
    bidders = _people_with(ctx, start_price + 50 * 3 * AUCTION_BIDS, 4)
    moment = starts
    for number in range(AUCTION_BIDS if bidders else 0):
        moment += timedelta(minutes=ctx.rng.randrange(20, 180))
        if moment >= timezone.now():
            break
        employee = bidders[number % len(bidders)]
        auction.place_bid(auction=made, employee=employee, amount=price,
                          idempotency_key=f"demo-bid-{number}", now=moment)
        price += 50 * ctx.rng.randrange(1, 4)
    return made


@demo_step(order=70, name="activities", atomic=False)
def activities(ctx: DemoContext) -> None:
    actor = ctx.actor(Role.MALL_ADMIN) or ctx.actor()
    made: dict[str, Any] = {}
    lottery = _services("lottery", ctx)
    if lottery is not None:
        made["finished_lottery"] = _finished_lottery(ctx, lottery, actor).pk
        made["upcoming_lottery"] = _upcoming_lottery(lottery, actor).pk
    auction = _services("auction", ctx)
    if auction is not None:
        running = _running_auction(ctx, auction, actor)
        if running is not None:
            made["running_auction"] = running.pk
    ctx.created["activities"] = made
