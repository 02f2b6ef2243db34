"""Demo earning: the issue's example rules and twelve months of events scored through the
intake service (backdated), plus approvals, department budgets, manager awards, thanks
between colleagues and feedback on the rules."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from jifen.core import errors
from jifen.core.roles import Role
from jifen.demo.builder import DemoContext, demo_step
from jifen.earning import services
from jifen.earning.models import Award, AwardStatus, CompanyValue, FeedbackStatus
from jifen.earning.services import EventIn

RULES: tuple[dict[str, Any], ...] = (
    {"name": "模块按时交付", "event_type": "task_delivered", "category": "performance",
     "description": "按难度计分：低 50，中 100，高 150，关键 200",
     "condition": "has(payload.on_time) && payload.on_time",
     "formula": {"kind": "table", "field": "difficulty",
                 "points": {"low": 50, "medium": 100, "high": 150, "critical": 200}}},
    {"name": "上线后获好评", "event_type": "task_delivered", "category": "performance",
     "condition": "has(payload.acclaim) && payload.acclaim",
     "formula": {"kind": "fixed", "points": 50}},
    {"name": "完成两天培训", "event_type": "training_completed", "category": "learning",
     "condition": "has(payload.days) && payload.days >= 2",
     "formula": {"kind": "fixed", "points": 30}, "caps": {"month": 90}},
    {"name": "获得职业证书", "event_type": "certificate_obtained", "category": "learning",
     "description": "初级 100，中级 200，高级 300",
     "formula": {"kind": "table", "field": "level",
                 "points": {"junior": 100, "intermediate": 200, "senior": 300}},
     "expiry": {"mode": "never"}},
    {"name": "建议被采纳", "event_type": "idea_adopted", "category": "culture",
     "formula": {"kind": "fixed", "points": 20}},
    {"name": "跨部门协作", "event_type": "helped_colleague", "category": "teamwork",
     "description": "由经理在 30–80 之间评定",
     "condition": "has(payload.other_department) && payload.other_department",
     "formula": {"kind": "range", "min": 30, "max": 80}, "requires_approval": True},
    {"name": "社区志愿服务", "event_type": "volunteering", "category": "culture",
     "formula": {"kind": "fixed", "points": 20}, "caps": {"month": 40}},
    {"name": "正面宣传（已审核）", "event_type": "social_post_approved", "category": "culture",
     "formula": {"kind": "fixed", "points": 10}, "caps": {"month": 30}},
    {"name": "当月全勤", "event_type": "attendance_full_month", "category": "attendance",
     "formula": {"kind": "fixed", "points": 10}, "caps": {"month": 10}},
    {"name": "迟到", "event_type": "attendance_late", "category": "attendance",
     "formula": {"kind": "fixed", "points": -5}},
    {"name": "绩效优秀", "event_type": "performance_rating", "category": "performance",
     "description": "S 级 +20，A 级 +10",
     "formula": {"kind": "table", "field": "rating", "points": {"S": 20, "A": 10}}},
    {"name": "销售目标达成", "event_type": "sales_target_reached", "category": "performance",
     "condition": '"SALES" in employee.department_path && payload.percent >= 100',
     "formula": {"kind": "fixed", "points": 50}, "caps": {"month": 50}},
    {"name": "每日签到", "event_type": "daily_checkin", "category": "engagement",
     "formula": {"kind": "fixed", "points": 1}, "caps": {"day": 1}},
)

FEEDBACK = (
    ("迟到", "地铁故障导致的迟到能否不扣分？"),
    ("跨部门协作", "希望说明 30 分和 80 分分别对应什么样的帮助。"),
    ("每日签到", "签到积分太少了，可以连续签到有额外奖励吗？"),
)
THANKS = ("谢谢你熬夜帮忙排查线上问题！", "感谢你耐心地带新人。", "方案写得非常清楚，帮了大忙。",
          "谢谢你临时顶班。", "活动组织得太棒了！", "感谢你帮我们对接客户。")


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _month_starts(today: date, months: int) -> list[date]:
    first = today.replace(day=1)
    starts = []
    for back in range(months, 0, -1):
        year, month = first.year, first.month - back
        while month <= 0:
            year, month = year - 1, month + 12
        starts.append(date(year, month, 1))
    return [*starts, first]


def _plan_events(ctx: DemoContext) -> list[EventIn]:
    rng, today = ctx.rng, ctx.today
    people = ctx.employees
    star = ctx.logins.get(Role.EMPLOYEE)
    events: list[EventIn] = []

    def add(type_: str, who: Any, when: datetime, payload: dict[str, Any],
            source: str = "hr") -> None:
        if when.date() > today or (who.hire_date and when.date() < who.hire_date):
            return
        events.append(EventIn(source=source, id=f"demo-{len(events) + 1}", type=type_,
                              employee_no=who.employee_no, occurred_at=when, payload=payload))

    for start in _month_starts(today, 12):
        last_day = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)

        def day_in_month(start: date = start, last_day: date = last_day) -> date:
            return start + timedelta(days=rng.randint(0, (last_day - start).days))

        in_month = rng.sample(people, min(60, len(people)))
        if star is not None and star not in in_month:
            in_month[0] = star
        if last_day < today:
            for who in in_month:
                add("attendance_full_month", who, _at(last_day, 18),
                    {"month": start.strftime("%Y-%m")}, source="attendance")
        for who in rng.sample(people, min(15, len(people))):
            add("attendance_late", who, _at(day_in_month(), 9, rng.randint(5, 50)),
                {"minutes": rng.randint(3, 40)}, source="attendance")
        for who in [*rng.sample(people, min(24, len(people))), *([star] if star else [])]:
            add("task_delivered", who, _at(day_in_month(), 17),
                {"name": rng.choice(("支付模块", "报表导出", "权限改造", "搜索优化", "小程序首页")),
                 "difficulty": rng.choice(("low", "medium", "medium", "high", "critical")),
                 "on_time": rng.random() < 0.85, "acclaim": rng.random() < 0.3},
                source="pm")
        for who in rng.sample(people, min(10, len(people))):
            add("training_completed", who, _at(day_in_month(), 16),
                {"course": rng.choice(("项目管理", "沟通技巧", "安全生产", "数据分析")),
                 "days": rng.choice((1, 2, 2, 3))}, source="lms")
        for who in rng.sample(people, min(5, len(people))):
            add("idea_adopted", who, _at(day_in_month(), 11), {"title": "流程优化建议"})
        for who in rng.sample(people, min(6, len(people))):
            add("helped_colleague", who, _at(day_in_month(), 15),
                {"other_department": True, "description": "协助其他部门完成上线"}, source="im")
        for who in rng.sample(people, min(3, len(people))):
            add("volunteering", who, _at(day_in_month(), 10),
                {"activity": rng.choice(("社区义诊", "植树", "图书捐赠")), "hours": 4})
        for who in rng.sample(people, min(5, len(people))):
            add("social_post_approved", who, _at(day_in_month(), 20),
                {"platform": rng.choice(("微信", "微博", "领英"))}, source="brand")
        for who in [p for p in people if p.department.code.startswith("SALES")][:12]:
            add("sales_target_reached", who, _at(last_day, 19),
                {"percent": rng.choice((85, 100, 110, 130))}, source="crm")
        if start.month % 3 == 0 and last_day < today:
            for who in rng.sample(people, min(80, len(people))):
                add("performance_rating", who, _at(last_day, 12),
                    {"rating": rng.choice("SAABBBC"), "period": f"{start.year}Q{start.month // 3}"})
        if start.month in (4, 10):
            for who in rng.sample(people, min(15, len(people))):
                add("certificate_obtained", who, _at(day_in_month(), 14),
                    {"level": rng.choice(("junior", "intermediate", "intermediate", "senior")),
                     "name": "PMP"})
    for back in range(14, -1, -1):
        day = today - timedelta(days=back)
        for who in [*rng.sample(people, min(40, len(people))), *([star] if star else [])]:
            add("daily_checkin", who, _at(day, 8, rng.randint(30, 59)), {}, source="app")
    events.sort(key=lambda e: e.occurred_at)
    return events


def _settle_approvals(ctx: DemoContext) -> None:
    """Older discretionary awards were decided by HR; the last month's wait in queues."""
    hr = ctx.actor(Role.HR_ADMIN)
    cutoff = timezone.make_aware(datetime.combine(ctx.today - timedelta(days=30), time()))
    for award in (Award.objects.filter(status=AwardStatus.PENDING, occurred_at__lt=cutoff)
                  .select_related("employee").order_by("pk")):
        try:
            if ctx.rng.random() < 0.85:
                services.approve_award(award=award, actor=hr,
                                       points=ctx.rng.choice((30, 40, 50, 60, 80)),
                                       reason="贡献突出")
            else:
                services.reject_award(award=award, actor=hr, reason="属于本职工作范围")
        except errors.JifenError:
            continue


def _budgets_and_awards(ctx: DemoContext) -> None:
    hr = ctx.actor(Role.HR_ADMIN)
    for code, department in ctx.departments.items():
        services.fund_department_budget(department=department, points=1000, actor=hr,
                                        reason="本月部门激励预算",
                                        idempotency_key=f"demo:budget:{code}")
    for code, manager in ctx.managers.items():
        team = [e for e in ctx.employees if e.department.code == code and e.pk != manager.pk]
        for who in ctx.rng.sample(team, min(3, len(team))):
            try:
                services.award_from_budget(manager=manager, recipient=who,
                                           points=ctx.rng.choice((20, 30, 50)),
                                           message="本月表现突出", actor=manager.user)
            except errors.JifenError:
                continue


def _thanks(ctx: DemoContext) -> None:
    values = list(CompanyValue.objects.filter(active=True))
    people = ctx.employees
    for start in _month_starts(ctx.today, 6):
        for _n in range(25):
            giver, recipient = ctx.rng.sample(people, 2)
            when = _at(start + timedelta(days=ctx.rng.randint(0, 27)), 15)
            if when.date() > ctx.today:
                continue
            try:
                services.give_recognition(giver=giver, recipient=recipient,
                                          points=ctx.rng.choice((5, 10, 20)),
                                          message=ctx.rng.choice(THANKS),
                                          value=ctx.rng.choice(values) if values else None,
                                          now=when)
            except errors.JifenError:
                continue


def _feedback(ctx: DemoContext, rules: dict[str, Any]) -> None:
    hr = ctx.actor(Role.HR_ADMIN)
    for index, (rule_name, message) in enumerate(FEEDBACK):
        employee = ctx.employees[(index * 37) % len(ctx.employees)]
        item = services.send_rule_feedback(employee=employee, rule=rules[rule_name],
                                           message=message)
        if index == 0:
            services.answer_rule_feedback(feedback=item, actor=hr, status=FeedbackStatus.PLANNED,
                                          answer="下季度起，凭交通延误证明可申请免扣。")


@demo_step(order=40, name="earning")
def create_earning(ctx: DemoContext) -> None:
    services.ensure_builtin_event_types()
    services.ensure_company_values()
    admin = ctx.actor(Role.HR_ADMIN)
    rules = {spec["name"]: services.create_rule(actor=admin, reason="初始规则", **spec)
             for spec in RULES}
    # One rule with a real history: the late penalty was once harsher.
    late = rules["迟到"]
    services.update_rule(rule=late, actor=admin, reason="员工反馈后调整",
                         formula={"kind": "fixed", "points": -10})
    services.update_rule(rule=late, actor=admin, reason="恢复为 -5，超过 30 分钟另行处理",
                         formula={"kind": "fixed", "points": -5})
    events = _plan_events(ctx)
    results = services.ingest_many(events=events, actor=None, received_by="demo",
                                   backdate=True)
    _settle_approvals(ctx)
    _budgets_and_awards(ctx)
    _thanks(ctx)
    _feedback(ctx, rules)
    credited = sum(1 for r in results if r.status == "credited")
    ctx.created["earning"] = {"rules": rules, "events": len(events)}
    ctx.log(f"    {len(rules)} rules, {len(events)} events ({credited} credited)")
