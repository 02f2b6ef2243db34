"""Demo engagement: HR's rules for check-in streaks, comments and shares; six weeks of
check-ins with real streaks (scored through the intake, backdated); a make-up card in
the mall; comments and ratings on mall items (and on library resources when that half of
the library exists); share links colleagues opened; a reported and a hidden comment for the
moderation queue."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.utils import timezone

from jifen.core.roles import Role
from jifen.demo.builder import DemoContext, demo_step
from jifen.earning import services as earning
from jifen.earning.services import EventIn
from jifen.library.models import CheckIn, Comment
from jifen.library.services import engagement as services
from jifen.library.services import engagement_comments as comments
from jifen.library.services import engagement_shares as shares
from jifen.mall import services as mall
from jifen.mall.models import Category, Fulfilment, Item, ItemStatus

HISTORY_DAYS = 45

RULES: tuple[dict[str, Any], ...] = (
    {"name": "连续签到 7 天奖励", "event_type": "daily_checkin", "category": "engagement",
     "description": "连续签到第 7 天额外 +10",
     "condition": "has(payload.streak) && payload.streak == 7",
     "formula": {"kind": "fixed", "points": 10}},
    {"name": "连续签到 30 天奖励", "event_type": "daily_checkin", "category": "engagement",
     "description": "连续签到第 30 天额外 +50",
     "condition": "has(payload.streak) && payload.streak == 30",
     "formula": {"kind": "fixed", "points": 50}},
    {"name": "优质评论", "event_type": "comment", "category": "engagement",
     "description": "15 字以上的评论 +2，每天最多 6 分",
     "formula": {"kind": "fixed", "points": 2}, "caps": {"day": 6}},
    {"name": "分享被同事打开", "event_type": "share", "category": "engagement",
     "description": "每位同事首次打开你的分享链接 +5，每天最多 20 分",
     "formula": {"kind": "fixed", "points": 5}, "caps": {"day": 20}},
)

ITEM_COMMENTS = (
    "包装很用心，东西和描述一致，积分花得值。",
    "物流很快，第二天就到了，质量比想象中好。",
    "用了一周，续航和做工都不错，推荐给经常出差的同事。",
    "颜色比图片稍深一点，不过整体很满意。",
    "性价比很高，已经推荐给组里的同事了。",
    "券码秒到，直接在小程序里就能用，方便。",
    "家里人很喜欢，下次还会再换一个。",
    "体检预约流程很顺，人事同事回复也很及时。",
    "课程内容实用，第三章讲的方法马上就能用在工作里。",
    "有点小瑕疵，联系商城管理员后很快换了新的。",
    "分量足，办公室分着吃刚好。",
    "假期兑换很顺利，审批当天就通过了。",
)
RESOURCE_COMMENTS = (
    "模板结构清楚，面谈前照着准备省了不少时间。",
    "案例很贴近我们的业务，建议新经理都看看。",
    "第二部分的提问清单特别有用，已经收藏。",
    "内容扎实，如果能再补充几个销售岗位的例子就更好了。",
)
SHORT_COMMENTS = ("不错", "好用", "喜欢", "赞")
REPORTED = "想要更多积分的加我微信，帮你刷分，价格便宜。"
SENSITIVE_WORDS = "刷分\n代刷\n加我微信\n兼职日结"


def _moment(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=services.company_zone())


def _check_in_hour(rng: Any) -> tuple[int, int]:
    """When people check in: most on arrival, some at lunch, a few in the evening."""
    roll = rng.random()
    if roll < 0.6:
        return rng.choice((8, 8, 9, 9, 10)), rng.randint(0, 59)
    if roll < 0.85:
        return rng.choice((12, 13)), rng.randint(0, 59)
    return rng.choice((18, 20, 21, 22)), rng.randint(0, 59)


def _history(ctx: DemoContext) -> list[EventIn]:
    """Check-in rows for the last ``HISTORY_DAYS`` days (not today: the demo login taps
    that one) and the facts they report, as one backdated batch."""
    rng = ctx.rng
    today = ctx.today
    people = list(ctx.employees)
    me = ctx.logins.get(Role.EMPLOYEE)
    diligence = {p.pk: rng.choice((0.97, 0.9, 0.8, 0.6, 0.35)) for p in people}
    rows: list[CheckIn] = []
    for person in people:
        streak = 0
        for back in range(HISTORY_DAYS, 0, -1):
            day = today - timedelta(days=back)
            if me is not None and person.pk == me.pk:
                present = back <= 6 or (back > 8 and rng.random() < 0.8)  # 6 days running
            else:
                present = rng.random() < diligence[person.pk]
            if not present:
                streak = 0
                continue
            streak += 1
            hour, minute = _check_in_hour(rng)
            rows.append(CheckIn(employee=person, day=day, streak=streak,
                                created_at=_moment(day, hour, minute)))
    CheckIn.objects.bulk_create(rows, batch_size=1000)
    numbers = {p.pk: p.employee_no for p in people}
    facts = [services.checkin_fact(row, numbers[row.employee_id]) for row in rows]
    return [EventIn(source=f.source, id=f.id, type=f.type, employee_no=f.employee_no,
                    occurred_at=f.occurred_at, payload=dict(f.payload)) for f in facts]


def _makeup_card(ctx: DemoContext) -> Item:
    admin = ctx.actor(Role.MALL_ADMIN) or ctx.actor(Role.SUPER_ADMIN)
    category = Category.objects.filter(slug="member").first() or Category.objects.filter(
        kind="virtual").first()
    return mall.create_item(
        actor=admin, name="补签卡", category=category, points=20, stock=None,
        fulfilment=Fulfilment.SERVICE, status=ItemStatus.LISTED, auto_approve=True,
        description="漏签了？用一张补签卡补回最近 7 天内的任意一天，连续签到不断档。",
        tags="签到")


def _comment_on(kind: str, target_id: int, texts: tuple[str, ...], ctx: DemoContext,
                count: int) -> int:
    rng = ctx.rng
    posted = 0
    authors = rng.sample(ctx.employees, min(count, len(ctx.employees)))
    for n, author in enumerate(authors):
        when = timezone.now() - timedelta(days=rng.randint(1, 40), hours=rng.randint(0, 9))
        text = rng.choice(SHORT_COMMENTS) if n % 5 == 4 else rng.choice(texts)
        comments.post_comment(employee=author, kind=kind, target_id=target_id, text=text,
                              now=when)
        comments.rate(employee=author, kind=kind, target_id=target_id,
                      stars=rng.choice((5, 5, 4, 4, 4, 3, 2)))
        posted += 1
    return posted


@demo_step(order=70, name="engagement")
def build_engagement(ctx: DemoContext) -> None:
    hr = ctx.actor(Role.HR_ADMIN)
    rng = ctx.rng
    earning.ensure_builtin_event_types()
    for spec in RULES:
        earning.create_rule(actor=hr, reason="互动积分规则", **spec)
    card = _makeup_card(ctx)
    services.update_engagement_settings(
        actor=hr, makeup_cards_enabled=True, makeup_item_id=card.pk, makeup_window_days=7,
        comment_min_length=15, sensitive_words=SENSITIVE_WORDS)

    events = _history(ctx)
    results = earning.ingest_many(events=events, actor=None, received_by="library",
                                  backdate=True)
    credited = sum(1 for r in results if r.status == "credited")

    posted = 0
    items = list(Item.objects.filter(status=ItemStatus.LISTED).exclude(pk=card.pk)
                 .order_by("pk"))
    for item in rng.sample(items, min(14, len(items))):
        posted += _comment_on("item", item.pk, ITEM_COMMENTS, ctx, rng.randint(2, 7))
    try:
        resource_model = apps.get_model("library", "Resource")
    except LookupError:
        resource_model = None
    if resource_model is not None:
        for resource in resource_model.objects.order_by("pk")[:12]:
            try:
                posted += _comment_on("resource", resource.pk, RESOURCE_COMMENTS, ctx,
                                      rng.randint(1, 5))
            except Exception:
                continue

    # Share links that colleagues opened (the sharer earns; their own visits do not).
    visits = 0
    for sharer in rng.sample(ctx.employees, min(12, len(ctx.employees))):
        item = rng.choice(items)
        link = shares.create_share_link(employee=sharer, kind="item", target_id=item.pk)
        for visitor in rng.sample(ctx.employees, min(rng.randint(1, 6), len(ctx.employees))):
            when = timezone.now() - timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 8))
            visits += shares.record_share_visit(link=link, visitor=visitor, now=when).counted

    # One comment waits in the moderation queue, one was hidden. (Posted before the
    # sensitive-words list would refuse it: saved as it was written then.)
    if items and len(ctx.employees) > 3:
        spammer, reporter, other = ctx.employees[-1], ctx.employees[0], ctx.employees[1]
        spam = Comment.objects.create(target_kind="item", target_id=items[0].pk,
                                      author=spammer, text=REPORTED,
                                      created_at=timezone.now() - timedelta(days=2))
        comments.report_comment(employee=reporter, comment_id=spam.pk, reason="广告刷分")
        hidden = Comment.objects.create(target_kind="item", target_id=items[1].pk,
                                        author=spammer, text="兼职日结，私聊。",
                                        created_at=timezone.now() - timedelta(days=5))
        comments.report_comment(employee=other, comment_id=hidden.pk, reason="广告")
        comments.hide_comment(actor=hr, comment_id=hidden.pk, reason="广告")
    ctx.created["engagement"] = {"check_ins": len(events), "comments": posted,
                                 "share_visits": visits}
    ctx.log(f"    {len(events)} check-ins ({credited} credited), {posted} comments, "
            f"{visits} share visits")
