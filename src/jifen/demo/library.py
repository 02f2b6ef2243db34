"""The demo company's resource library: ~40 HR resources (templates, guides, courses) with
small generated files, prices, three months of views, purchases and downloads, the rules
that reward learning and contributions, and a few contributions waiting for review."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from jifen.core.roles import Role
from jifen.demo.builder import DemoContext, demo_step
from jifen.earning import services as earning
from jifen.earning.models import Rule
from jifen.ledger import selectors as ledger_selectors
from jifen.ledger import services as ledger
from jifen.library import samples
from jifen.library.models import Download, Purchase, Resource, ResourceView
from jifen.library.services import resources as services

CATEGORIES = ("绩效管理", "招聘与面试", "培训发展", "员工关系", "薪酬福利", "办公效率")

# (category, title, description, tags, price, file: pdf|docx|xlsx|pptx|zip|link, English
# heading for the PDF preview — the PDF's standard font has no Chinese)
RESOURCES: tuple[tuple[str, str, str, str, int, str, str], ...] = (
    ("绩效管理", "绩效面谈模板", "季度与年度绩效面谈的提纲、记录表与改进计划，经理与员工各一份。",
     "模板,经理,面谈", 20, "pdf", "Performance review conversation"),
    ("绩效管理", "销售岗绩效提升指南", "面向一线销售：拜访节奏、漏斗管理与复盘，附 12 周行动表。",
     "销售,指南", 40, "pdf", "Sales performance improvement guide"),
    ("绩效管理", "OKR 制定与对齐实战", "从公司目标到个人 OKR 的拆解示例与常见误区。",
     "OKR,目标", 30, "pdf", "OKR in practice"),
    ("绩效管理", "绩效改进计划（PIP）模板", "目标、支持措施、检查点与结论的标准格式。",
     "模板,PIP", 15, "docx", ""),
    ("绩效管理", "360 度评估问卷", "按能力素质模型设计的 360 度评估题库，可直接发放。",
     "问卷,评估", 25, "xlsx", ""),
    ("绩效管理", "绩效校准会议流程", "校准会的准备清单、议程与分布检查表。",
     "流程,经理", 0, "pdf", "Calibration meeting playbook"),
    ("绩效管理", "KPI 指标库（研发/销售/职能）", "三大序列 300+ 常用 KPI 及计算口径。",
     "KPI,指标", 50, "xlsx", ""),
    ("招聘与面试", "招聘技巧大全", "渠道选择、JD 撰写、简历筛选到 offer 谈判的全流程技巧。",
     "招聘,技巧", 30, "pdf", "The recruiting handbook"),
    ("招聘与面试", "结构化面试题库", "按岗位与能力分类的行为面试题及评分锚点。",
     "面试,题库", 35, "docx", ""),
    ("招聘与面试", "面试官培训课件", "新任面试官必修：提问、追问、记录与偏见规避。",
     "面试,培训", 20, "pptx", ""),
    ("招聘与面试", "校园招聘宣讲 PPT 模板", "雇主品牌版式，含公司介绍与岗位页。",
     "校招,模板", 10, "pptx", ""),
    ("招聘与面试", "候选人评估表", "面试打分表与综合评价，支持多轮汇总。",
     "模板,面试", 0, "xlsx", ""),
    ("招聘与面试", "背景调查操作指引", "合规要点、授权书与访谈提纲。",
     "背调,合规", 15, "pdf", "Reference check guide"),
    ("招聘与面试", "新员工入职清单", "入职前、首日、首周、首月的待办与负责人。",
     "入职,清单", 0, "xlsx", ""),
    ("培训发展", "新经理 90 天成长路线", "从骨干到经理：角色转变、团队沟通与授权。",
     "经理,成长", 45, "pdf", "New manager: the first 90 days"),
    ("培训发展", "高效沟通在线课程", "8 节微课：倾听、反馈、非暴力沟通。",
     "沟通,课程", 60, "link", ""),
    ("培训发展", "时间管理与精力管理", "四象限、番茄工作法与精力曲线的实操练习。",
     "效率,课程", 20, "link", ""),
    ("培训发展", "导师制实施手册", "导师遴选、配对、辅导记录与结业评估。",
     "导师,手册", 25, "pdf", "Mentoring programme handbook"),
    ("培训发展", "培训需求调研问卷", "按部门汇总培训需求的问卷与分析表。",
     "问卷,培训", 0, "xlsx", ""),
    ("培训发展", "领导力模型与行为描述", "公司领导力五维度及各层级行为示例。",
     "领导力", 30, "pdf", "Leadership model"),
    ("培训发展", "数据分析入门（Excel 篇）", "透视表、函数与图表，附练习数据。",
     "Excel,数据", 35, "zip", ""),
    ("培训发展", "项目管理基础课程", "范围、进度、风险与干系人管理入门。",
     "项目管理,课程", 50, "link", ""),
    ("员工关系", "员工手册（2026 版）", "考勤、休假、行为准则与奖惩制度。",
     "制度,手册", 0, "pdf", "Employee handbook 2026"),
    ("员工关系", "离职面谈提纲", "了解离职原因与改进机会的访谈问题。",
     "离职,面谈", 10, "docx", ""),
    ("员工关系", "员工满意度调研模板", "敬业度与满意度题目，含分析模板。",
     "调研,敬业度", 20, "xlsx", ""),
    ("员工关系", "劳动合同管理要点", "签订、续签、变更与解除的合规提醒。",
     "合规,合同", 25, "pdf", "Employment contracts checklist"),
    ("员工关系", "团建活动方案 20 例", "不同预算与人数的团建方案与物料清单。",
     "团建,活动", 15, "docx", ""),
    ("员工关系", "冲突调解沟通话术", "经理处理团队冲突的步骤与话术示例。",
     "沟通,经理", 20, "pdf", "Resolving team conflict"),
    ("薪酬福利", "薪酬结构设计指南", "宽带薪酬、职级对应与调薪矩阵。",
     "薪酬,指南", 50, "pdf", "Designing pay structures"),
    ("薪酬福利", "年终奖分配测算表", "按绩效系数与部门预算测算年终奖。",
     "年终奖,测算", 40, "xlsx", ""),
    ("薪酬福利", "弹性福利方案介绍", "积分制弹性福利的设计思路与案例。",
     "福利,积分", 0, "pdf", "Flexible benefits with points"),
    ("薪酬福利", "个税专项附加扣除说明", "六项专项附加扣除的填报指引。",
     "个税,说明", 0, "docx", ""),
    ("薪酬福利", "销售提成方案模板", "阶梯提成、回款条件与封顶规则示例。",
     "销售,提成", 35, "xlsx", ""),
    ("办公效率", "周报月报模板合集", "个人周报、团队月报与项目周报模板。",
     "模板,汇报", 5, "zip", ""),
    ("办公效率", "会议纪要模板", "决议、待办、负责人与截止日期一目了然。",
     "模板,会议", 0, "docx", ""),
    ("办公效率", "PPT 汇报设计规范", "配色、字体、图表与版式规范。",
     "PPT,规范", 15, "pptx", ""),
    ("办公效率", "Excel 常用函数速查", "VLOOKUP、XLOOKUP、SUMIFS 等 60 个函数示例。",
     "Excel,速查", 10, "xlsx", ""),
    ("办公效率", "高效邮件写作指南", "主题、结构与语气，附 20 个常用模板。",
     "邮件,写作", 10, "pdf", "Writing clear e-mail"),
    ("办公效率", "思维导图入门课程", "用思维导图做计划、笔记与头脑风暴。",
     "思维导图,课程", 15, "link", ""),
    ("办公效率", "远程协作最佳实践", "异步沟通、文档协作与线上会议礼仪。",
     "远程,协作", 20, "pdf", "Remote collaboration"),
)

# Contributions by employees: (title, description, file kind, reviewed: None = pending,
# True = approved, or the reason it was rejected).
CONTRIBUTIONS: tuple[tuple[str, str, str, Any], ...] = (
    ("客服岗绩效面谈实例", "我在客服中心做绩效面谈的真实案例（已脱敏）。", "pdf", True),
    ("新人带教计划表", "我们组新人前 30 天的带教安排。", "xlsx", True),
    ("销售周会复盘模板", "每周销售复盘的结构与示例。", "docx", None),
    ("面试官自查清单", "面试前后自查的 15 个问题。", "pdf", None),
    ("年会节目策划方案", "去年年会节目的策划与分工。", "docx", "与“团建活动方案 20 例”内容重复。"),
)

RULES: tuple[dict[str, Any], ...] = (
    {"name": "学习资料下载", "event_type": "download", "category": "learning",
     "description": "首次下载学习资料，每月最多 20 分",
     "formula": {"kind": "fixed", "points": 2}, "caps": {"month": 20}},
    {"name": "资料投稿通过", "event_type": "resource_approved", "category": "learning",
     "formula": {"kind": "fixed", "points": 50}, "caps": {"month": 200}},
    {"name": "投稿资料被购买", "event_type": "resource_download_share", "category": "learning",
     "description": "同事每购买一次你的投稿，+5 分，每月最多 100 分",
     "formula": {"kind": "fixed", "points": 5}, "caps": {"month": 100}},
)


def _at(ctx: DemoContext, days_ago: int, hour: int, minute: int = 0) -> datetime:
    day = ctx.today - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, time(hour=hour, minute=minute)))


def _file(title: str, kind: str, heading: str, description: str) -> SimpleUploadedFile:
    if kind == "pdf":
        pages = [[heading, "", "1. Why it matters", "2. How to use this template",
                  "3. Checklist", "", "jifen demo library"],
                 [f"{heading} (2)", "", "Worked example", "Notes for managers"]]
        data = samples.make_pdf(pages)
    elif kind == "docx":
        data = samples.make_docx(title, [description, "一、适用范围", "二、使用说明", "三、附录"])
    elif kind == "xlsx":
        data = samples.make_xlsx(title[:20], ["项目", "说明", "负责人"],
                                 [["示例一", description[:40], "人力资源部"],
                                  ["示例二", "请按实际情况填写", "部门经理"]])
    elif kind == "pptx":
        data = samples.make_pptx(title)
    else:
        data = samples.make_zip({"说明.txt": description,
                                 "示例.xlsx": samples.make_xlsx("示例", ["列"], [["值"]])})
    return SimpleUploadedFile(f"{title}.{kind}", data)


def _ensure_points(employee: Any, needed: int, now: datetime) -> None:
    spendable = ledger_selectors.balance(employee=employee).spendable
    if spendable >= needed:
        return
    key = f"demo:library:topup:{employee.pk}"
    ledger.credit(employee=employee, amount=needed - spendable + 100, category="learning",
                  idempotency_key=key, cause=("demo.library", employee.pk),
                  reason="学习激励积分", earned_at=now, now=now)


@demo_step(order=65, name="library")
def build_library(ctx: DemoContext) -> None:
    editor = ctx.actor(Role.HR_ADMIN) or ctx.actor(Role.SUPER_ADMIN)
    rng = ctx.rng
    existing = set(Rule.objects.values_list("event_type__code", flat=True))
    for spec in RULES:
        if spec["event_type"] not in existing:
            earning.create_rule(actor=editor, reason="资料库上线", **spec)
    categories = {name: services.save_category(actor=editor, name=name, position=n)
                  for n, name in enumerate(CATEGORIES)}
    resources: list[Resource] = []
    for n, (category, title, description, tags, price, kind, heading) in enumerate(RESOURCES):
        published = _at(ctx, 92 - n * 2, 10)
        if kind == "link":
            resource = services.create_resource(
                actor=editor, title=title, description=description,
                category=categories[category], tags=tags, price=price, kind="link",
                external_url=f"https://learning.example.com/courses/{1001 + n}",
                status="published")
        else:
            resource = services.create_resource(
                actor=editor, title=title, description=description,
                category=categories[category], tags=tags, price=price,
                upload=_file(title, kind, heading, description), status="published")
        Resource.objects.filter(pk=resource.pk).update(created_at=published,
                                                       published_at=published)
        resources.append(resource)
    # One resource only for sales, one only for managers' grades, one withdrawn after sales.
    by_title = {r.title: r for r in resources}
    sales = [d for code, d in ctx.departments.items() if "SALES" in code.upper()
             or "销售" in d.name]
    if sales:
        by_title["销售提成方案模板"].eligible_departments.set(sales[:1])
    contributors = rng.sample(ctx.employees, min(len(CONTRIBUTIONS), len(ctx.employees)))
    for (title, description, kind, reviewed), employee in zip(CONTRIBUTIONS, contributors,
                                                              strict=False):
        resource = services.submit_contribution(
            employee=employee, title=title, description=description,
            category=categories["绩效管理"], price=0,
            upload=_file(title, kind, "Contributed by a colleague", description))
        if reviewed is True:
            resource = services.review_contribution(actor=editor, resource=resource,
                                                    approve=True)
            Resource.objects.filter(pk=resource.pk).update(price=10)
            resources.append(Resource.objects.get(pk=resource.pk))
        elif reviewed:
            services.review_contribution(actor=editor, resource=resource, approve=False,
                                         reason=reviewed)
    _history(ctx, resources)
    services.withdraw_resource(actor=editor, resource=by_title["个税专项附加扣除说明"])
    ctx.created["library"] = {"resources": Resource.objects.count(),
                              "purchases": Purchase.objects.count()}
    ctx.log(f"    {Resource.objects.count()} resources, {Purchase.objects.count()} purchases, "
            f"{Download.objects.count()} downloads")


def _history(ctx: DemoContext, resources: list[Resource]) -> None:
    """Three months of views, purchases and downloads: popular resources drawn more."""
    rng = ctx.rng
    me = ctx.logins.get(Role.EMPLOYEE)
    people = rng.sample(ctx.employees, min(120, len(ctx.employees)))
    if me is not None and me not in people:
        people.insert(0, me)
    weights = [max(1, 12 - (n % 12)) for n in range(len(resources))]
    views, downloads = [], []
    for employee in people:
        for resource in set(rng.choices(resources, weights=weights, k=rng.randint(2, 7))):
            if employee.pk == getattr(resource, "contributor_id", None):
                continue
            days_ago = rng.randint(0, 85)
            seen = _at(ctx, days_ago, rng.randint(9, 20), rng.randint(0, 59))
            views.extend(ResourceView(resource=resource, employee=employee, at=seen)
                         for _ in range(rng.randint(1, 3)))
            if rng.random() < 0.45 and not resource.eligible_departments.exists():
                _ensure_points(employee, resource.price, seen)
                services.buy(resource=resource, employee=employee, now=seen)
                downloads.extend(Download(resource=resource, employee=employee,
                                          at=seen + timedelta(minutes=k * 37))
                                 for k in range(rng.randint(1, 3)))
    ResourceView.objects.bulk_create(views)
    Download.objects.bulk_create(downloads)
