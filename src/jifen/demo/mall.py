"""Demo step: the points mall — a category tree, about 60 believable items (roughly 5
points to the yuan: a 100-point insulated cup is worth about ¥20, a 500-point shopping card
¥100, a day of paid leave 2,000 points), code pools, a running discount campaign, a
year-end redemption window, and orders in every state, placed and moved through the
mall's services (so points move through the ledger)."""

from __future__ import annotations

import io
import random
import re
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont, ImageOps

from jifen.core.roles import Role
from jifen.demo import tastes
from jifen.demo.builder import DemoContext, demo_step
from jifen.ledger import selectors as ledger_selectors
from jifen.ledger import services as ledger
from jifen.mall import services
from jifen.mall.models import Category, Fulfilment, Item, ItemStatus, LimitPeriod, Order
from jifen.people.selectors import path_ids

# (slug, name, kind, icon, parent slug)
CATEGORIES = [
    ("physical", "实物商品", "physical", "ti-package", None),
    ("digital", "数码电子", "physical", "ti-headphones", "physical"),
    ("home", "家居生活", "physical", "ti-cup", "physical"),
    ("office", "办公文具", "physical", "ti-pencil", "physical"),
    ("virtual", "虚拟商品", "virtual", "ti-credit-card", None),
    ("cards", "购物卡", "virtual", "ti-credit-card", "virtual"),
    ("topup", "话费充值", "virtual", "ti-device-mobile", "virtual"),
    ("member", "会员权益", "virtual", "ti-crown", "virtual"),
    ("courses", "在线课程", "virtual", "ti-school", "virtual"),
    ("services", "服务与假期", "service", "ti-heart-handshake", None),
    ("leave", "带薪假期", "service", "ti-beach", "services"),
    ("health", "健康体检", "service", "ti-stethoscope", "services"),
    ("training", "培训发展", "service", "ti-certificate", "services"),
]

S, C, V, P = Fulfilment.SHIPPED, Fulfilment.CODE, Fulfilment.SERVICE, Fulfilment.PICKUP

# (category, name, points, market value CNY, stock (None = unlimited), fulfilment, supplier,
#  tags, extra fields)
ITEMS: list[tuple[str, str, int, int, int | None, str, str, str, dict[str, Any]]] = [
    ("digital", "无线蓝牙耳机", 1500, 299, 40, S, "京东企业购", "耳机,蓝牙,音频", {}),
    ("digital", "降噪头戴式耳机", 4500, 899, 8, S, "京东企业购", "耳机,降噪",
     {"low_stock_threshold": 5}),
    ("digital", "20000mAh 移动电源", 600, 119, 60, S, "京东企业购", "充电宝,出差", {}),
    ("digital", "智能手环", 1200, 239, 30, S, "京东企业购", "运动,健康", {}),
    ("digital", "机械键盘", 2000, 399, 20, S, "京东企业购", "键盘,办公", {}),
    ("digital", "无线鼠标", 400, 79, 80, S, "京东企业购", "鼠标,办公", {}),
    ("digital", "蓝牙音箱", 1000, 199, 25, S, "京东企业购", "音箱,音频", {}),
    ("digital", "平板电脑", 15000, 2999, 3, S, "京东企业购", "平板",
     {"min_tenure_years": 3, "per_employee_limit": 1, "limit_period": LimitPeriod.YEAR,
      "low_stock_threshold": 2}),
    ("digital", "电子阅读器", 3500, 699, 10, S, "京东企业购", "阅读", {}),
    ("digital", "快充充电器套装", 300, 59, 100, S, "京东企业购", "充电", {}),
    ("home", "304 不锈钢保温杯", 100, 20, 200, S, "得力集团", "保温杯,杯子",
     {"low_stock_threshold": 20}),
    ("home", "陶瓷马克杯（公司定制）", 80, 15, 300, P, "行政部", "杯子,周边", {}),
    ("home", "午睡毯", 150, 30, 120, S, "网易严选", "午休,毯子", {}),
    ("home", "U 型护颈枕", 200, 39, 80, S, "网易严选", "出差,午休", {}),
    ("home", "香薰加湿器", 500, 99, 40, S, "网易严选", "加湿器", {}),
    ("home", "电动牙刷", 750, 149, 35, S, "京东企业购", "个护", {}),
    ("home", "便携榨汁杯", 450, 89, 50, S, "网易严选", "厨房", {}),
    ("home", "双肩电脑包", 800, 159, 45, S, "网易严选", "背包,出差", {}),
    ("home", "晴雨伞", 150, 29, 150, P, "行政部", "雨伞", {}),
    ("home", "家用体脂秤", 400, 79, 30, S, "京东企业购", "健康", {}),
    ("office", "精装笔记本三件套", 120, 25, 200, P, "得力集团", "本子,文具", {}),
    ("office", "中性笔礼盒", 60, 12, 400, P, "得力集团", "笔,文具", {}),
    ("office", "人体工学腰靠", 350, 69, 60, S, "网易严选", "办公,健康", {}),
    ("office", "显示器增高架", 450, 89, 40, S, "得力集团", "办公", {}),
    ("office", "桌面绿植（多肉组合）", 100, 19, 0, P, "行政部", "绿植", {}),
    ("office", "公司文化衫", 150, 30, 200, P, "行政部", "周边,衣服", {}),
    ("cards", "京东 E 卡 100 元", 500, 100, None, C, "京东", "购物卡,京东",
     {"auto_approve": True, "per_employee_limit": 5, "limit_period": LimitPeriod.MONTH}),
    ("cards", "京东 E 卡 500 元", 2500, 500, None, C, "京东", "购物卡,京东",
     {"auto_approve": True, "per_employee_limit": 2, "limit_period": LimitPeriod.MONTH}),
    ("cards", "天猫超市卡 100 元", 500, 100, None, C, "天猫", "购物卡,超市",
     {"auto_approve": True}),
    ("cards", "星巴克咖啡券（中杯）", 160, 32, None, C, "星巴克", "咖啡,饮品",
     {"auto_approve": True}),
    ("cards", "瑞幸咖啡券 5 张", 300, 60, None, C, "瑞幸咖啡", "咖啡", {"auto_approve": True}),
    ("cards", "盒马鲜生卡 200 元", 1000, 200, None, C, "盒马", "购物卡,生鲜", {}),
    ("cards", "电影票兑换券 2 张", 350, 70, None, C, "猫眼", "电影,娱乐",
     {"auto_approve": True}),
    ("topup", "话费充值 50 元", 250, 50, None, V, "中国移动/联通/电信", "话费,充值", {}),
    ("topup", "话费充值 100 元", 500, 100, None, V, "中国移动/联通/电信", "话费,充值", {}),
    ("topup", "流量包 10GB", 150, 30, None, V, "中国移动/联通/电信", "流量", {}),
    ("member", "视频会员月卡", 100, 25, None, C, "爱奇艺", "会员,视频", {"auto_approve": True}),
    ("member", "音乐会员季卡", 220, 45, None, C, "QQ 音乐", "会员,音乐", {"auto_approve": True}),
    ("member", "视频会员年卡", 900, 198, None, C, "腾讯视频", "会员,视频", {}),
    ("member", "网盘超级会员月卡", 150, 30, None, C, "百度网盘", "会员", {"auto_approve": True}),
    ("member", "读书会员年卡", 450, 88, None, C, "微信读书", "会员,阅读", {}),
    ("courses", "Python 数据分析实战（在线课）", 1000, 199, None, C, "极客时间", "课程,编程",
     {"auto_approve": True}),
    ("courses", "商务英语口语 30 课", 1500, 299, None, C, "英语流利说", "课程,英语", {}),
    ("courses", "项目管理 PMP 备考课", 3000, 599, None, C, "光环国际", "课程,管理", {}),
    ("courses", "Excel 高效办公（在线课）", 300, 59, None, C, "网易云课堂", "课程,办公",
     {"auto_approve": True}),
    ("courses", "演讲与表达训练营", 800, 159, None, C, "得到", "课程,沟通", {}),
    ("leave", "带薪假 1 天", 2000, 400, None, V, "人力资源部", "假期,带薪假",
     {"per_employee_limit": 2, "limit_period": LimitPeriod.YEAR}),
    ("leave", "带薪假半天", 1000, 200, None, V, "人力资源部", "假期,带薪假",
     {"per_employee_limit": 4, "limit_period": LimitPeriod.YEAR}),
    ("leave", "生日假 1 天", 1500, 400, None, V, "人力资源部", "假期,生日",
     {"per_employee_limit": 1, "limit_period": LimitPeriod.YEAR}),
    ("leave", "弹性上班券（晚到 2 小时）", 300, 60, None, V, "人力资源部", "弹性", {}),
    ("health", "家属体检套餐", 3000, 599, 50, V, "美年大健康", "体检,家属", {}),
    ("health", "深度体检升级包", 2500, 499, 50, V, "爱康国宾", "体检",
     {"eligible_grades": "M1,M2,M3,P7,P8"}),
    ("health", "中医理疗 1 次", 600, 120, 40, V, "固生堂", "理疗,健康", {}),
    ("health", "健身房月卡", 1200, 240, 30, V, "乐刻运动", "健身,运动", {}),
    ("health", "眼科检查（含验光）", 400, 80, 60, V, "爱尔眼科", "眼科,健康", {}),
    ("training", "外部培训报销额度 1000 元", 5000, 1000, None, V, "人力资源部",
     "培训,学习", {"min_tenure_years": 1}),
    ("training", "专业认证考试报名费", 4000, 800, None, V, "人力资源部", "认证,考试", {}),
    ("training", "与 CEO 共进午餐", 3000, 300, 4, V, "总裁办", "交流,体验",
     {"per_employee_limit": 1, "limit_period": LimitPeriod.EVER}),
    ("training", "行业大会门票", 2500, 500, 10, V, "市场部", "大会,学习", {}),
    ("training", "读书会年度会员", 200, 40, None, P, "工会", "阅读,社团", {}),
    ("home", "公司吉祥物公仔（限量）", 300, 50, 0, P, "行政部", "周边,限量", {}),
]

DESCRIPTIONS = {
    Fulfilment.SHIPPED: "全国包邮，审批通过后 3 个工作日内发货。可在「我的订单」查看物流。",
    Fulfilment.CODE: "虚拟商品，审批通过后兑换码即刻显示在订单页，仅本人可见。请在有效期内使用。",
    Fulfilment.SERVICE: "由人力资源部或服务商安排，审批通过后会有专人联系你确认时间。",
    Fulfilment.PICKUP: "审批通过后凭订单号到所在办公区前台领取，工作日 9:00–18:00。",
}

STREETS = ["张江路 88 号", "世纪大道 1000 号", "科苑路 399 号", "南京西路 1266 号",
           "中关村大街 27 号", "深南大道 9966 号", "文三路 478 号", "天府大道 1700 号"]
REGIONS = ["上海市浦东新区", "上海市静安区", "北京市海淀区", "深圳市南山区", "杭州市西湖区",
           "成都市高新区"]
CARRIERS = ["顺丰速运", "京东物流", "中通快递"]


PALETTES = {"physical": ("#ffb199", "#ff5e62"), "virtual": ("#a1c4fd", "#5b6fd6"),
            "service": ("#96e6a1", "#2f9e78")}


def _icon_glyphs() -> tuple[Any, dict[str, str]]:
    """The Tabler icon font and its glyphs by class name, to draw product pictures
    (None when the front-end assets are not installed)."""
    font_path = finders.find("vendor/tabler-icons/fonts/tabler-icons.ttf")
    css_path = finders.find("vendor/tabler-icons/tabler-icons.min.css")
    if not font_path or not css_path:
        return None, {}
    with open(css_path, encoding="utf-8") as css:
        glyphs = {name: chr(int(code, 16)) for name, code in
                  re.findall(r'\.(ti-[\w-]+):before\{content:"\\([0-9a-f]+)"\}', css.read())}
    return ImageFont.truetype(font_path, 200), glyphs


def _picture(font: Any, glyph: str, colours: tuple[str, str], flip: bool) -> ContentFile:
    """A 480 × 480 product picture: a soft gradient with the category's icon."""
    top, bottom = colours[::-1] if flip else colours
    image = ImageOps.colorize(Image.linear_gradient("L").resize((480, 480)), top, bottom)
    draw = ImageDraw.Draw(image)
    draw.text((240, 250 if not flip else 230), glyph, font=font, fill="white", anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return ContentFile(out.getvalue(), name="item.png")


def _at(ctx: DemoContext, days_ago: int, hour: int) -> datetime:
    day = ctx.today - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, time(hour=hour, minute=(days_ago * 7) % 60)))


def _ensure_points(ctx: DemoContext, employee: Any, needed: int, n: int) -> None:
    """Top up through the ledger so the demo orders can be paid for (an earlier step may
    already have credited enough)."""
    spendable = ledger_selectors.balance(employee=employee).spendable
    if spendable >= needed:
        return
    key = f"demo:mall:topup:{employee.pk}:{n}"
    ledger.credit(employee=employee, amount=needed - spendable + ctx.rng.randint(200, 2000),
                  category="performance", idempotency_key=key, cause=("demo.mall", employee.pk),
                  reason="年度绩效奖励积分", earned_at=_at(ctx, 120, 10), now=_at(ctx, 120, 10))


@demo_step(order=60, name="mall")
def build_mall(ctx: DemoContext) -> None:
    admin = ctx.actor(Role.MALL_ADMIN) or ctx.actor(Role.SUPER_ADMIN)
    rng = ctx.rng
    categories: dict[str, Category] = {}
    for n, (slug, name, kind, icon, parent) in enumerate(CATEGORIES):
        categories[slug] = services.save_category(
            actor=admin, name=name, slug=slug, kind=kind, icon=icon, sort_order=n,
            parent=categories[parent] if parent else None)

    items: list[Item] = []
    font, glyphs = _icon_glyphs()
    for n, (cat, name, points, value, stock, fulfilment, supplier, tags, extra) in enumerate(
            ITEMS):
        extra = dict(extra)
        item = services.create_item(
            actor=admin, name=name, category=categories[cat], points=points, market_value=value,
            stock=stock, fulfilment=fulfilment, supplier=supplier, tags=tags,
            description=DESCRIPTIONS[fulfilment], status=ItemStatus.LISTED,
            low_stock_threshold=extra.pop("low_stock_threshold", 5 if stock else 0), **extra)
        Item.objects.filter(pk=item.pk).update(created_at=_at(ctx, 90 - n, 9))
        if fulfilment == Fulfilment.CODE:
            services.import_codes(item=item, actor=admin, codes=[
                f"{item.pk:03d}-{rng.randrange(16**4):04X}-{rng.randrange(16**4):04X}-{k:03d}"
                for k in range(rng.randint(40, 120))])
        if font is not None and categories[cat].icon in glyphs:
            colours = PALETTES[categories[cat].kind]
            for flip in (False, True)[: 2 if fulfilment in (S, P) else 1]:
                services.add_item_image(item=item, actor=admin, upload=_picture(
                    font, glyphs[categories[cat].icon], colours, flip))
        items.append(Item.objects.get(pk=item.pk))
    by_name = {i.name: i for i in items}
    services.set_item_status(item=by_name["公司吉祥物公仔（限量）"], status=ItemStatus.DELISTED,
                             actor=admin)

    now = timezone.now()
    services.save_campaign(actor=admin, name="暖冬家居节 8 折", kind="percent", value=20,
                           starts_at=now - timedelta(days=2), ends_at=now + timedelta(days=5),
                           categories=[categories["home"]])
    services.save_campaign(actor=admin, name="耳机限时直降", kind="fixed", value=300,
                           starts_at=now - timedelta(hours=6), ends_at=now + timedelta(days=2),
                           items=[by_name["无线蓝牙耳机"]])
    year_end = services.save_window(
        actor=admin, name="年终福利兑换季", mode="periods",
        periods=[(now - timedelta(days=1), now + timedelta(days=45))])
    services.save_category(actor=admin, category=categories["training"], name="培训发展",
                           parent=categories["services"], kind="service", icon="ti-certificate",
                           sort_order=12, window=year_end)
    services.save_window(actor=admin, name="每月 1–25 日", mode="monthly", day_from=1,
                         day_to=25)

    _place_orders(ctx, admin, items, by_name)
    ctx.created["mall"] = {"categories": len(categories), "items": len(items)}
    ctx.log(f"    {len(items)} items in {len(categories)} categories, "
            f"{Order.objects.count()} orders")


def _address(ctx: DemoContext, employee: Any) -> Any:
    existing = employee.shipping_addresses.first()
    if existing is not None:
        return existing
    return services.add_address(employee=employee, recipient=employee.name,
                                phone=employee.phone or "13800000000",
                                region=ctx.rng.choice(REGIONS),
                                address=f"{ctx.rng.choice(STREETS)} 公司前台")


def _place_orders(ctx: DemoContext, admin: Any, items: list[Item],
                  by_name: dict[str, Item]) -> None:
    rng = ctx.rng
    me = ctx.logins.get(Role.EMPLOYEE)
    buyers = rng.sample(ctx.employees, min(80, len(ctx.employees)))
    if me is not None and me not in buyers:
        buyers.insert(0, me)
    orderable = [i for i in items if i.status == ItemStatus.LISTED and (i.stock is None
                                                                       or i.stock > 3)
                 and not i.eligible_grades and not i.min_tenure_years
                 and i.category.window_id is None and i.points <= 5000]
    # Each buyer picks by their department's and their own taste (``demo.tastes``).
    taste_of = _tastes(ctx, [*buyers, *_lookers(ctx)], items)
    choices = [(i.pk, i.category.slug, i.points) for i in orderable]
    appeals = {i.pk: tastes.appeal(ctx.seed, i.name) for i in orderable}
    # What happens to each order, in roughly the shares a real mall sees.
    fates = (["completed"] * 8 + ["delivered"] * 2 + ["shipped"] * 3 + ["approved"] * 3
             + ["submitted"] * 5 + ["rejected"] * 1 + ["cancelled"] * 2)
    plans: list[tuple[Any, Item, str, int]] = []
    # The demo login's one code order is the scripted one below (the tour shows its code).
    mine = [choice for choice, item in zip(choices, orderable, strict=True)
            if item.fulfilment != Fulfilment.CODE]
    by_pk = {item.pk: item for item in orderable}
    for buyer in buyers:
        ordered: set[int] = set()
        options = mine if buyer == me else choices
        for _ in range(rng.randint(1, 3)):
            index = tastes.pick(rng, taste_of[buyer.pk], options, redeemed=ordered,
                                appeals=appeals) or 0
            chosen = by_pk[options[index][0]]
            ordered.add(chosen.pk)
            plans.append((buyer, chosen, rng.choice(fates), rng.randint(1, 55)))
    if me is not None:
        plans += [(me, by_name["无线蓝牙耳机"], "shipped", 6),
                  (me, by_name["京东 E 卡 100 元"], "fulfilled", 12),
                  (me, by_name["304 不锈钢保温杯"], "submitted", 1),
                  (me, by_name["午睡毯"], "completed", 30)]
        for name in ("降噪头戴式耳机", "带薪假 1 天", "电子阅读器"):
            services.toggle_favourite(employee=me, item=by_name[name])
    for n, (buyer, item, fate, days_ago) in enumerate(plans):
        _ensure_points(ctx, buyer, item.points * 3, n)
        when = _at(ctx, days_ago, 9 + n % 9)
        address = _address(ctx, buyer) if item.fulfilment == Fulfilment.SHIPPED else None
        try:
            order = services.create_order(employee=buyer, item=item, address=address,
                                          idempotency_key=f"demo:mall:{n}", now=when,
                                          actor=buyer.user)
        except Exception as exc:  # a limit or stock refusal just means one order fewer
            if getattr(exc, "code", None) in ("limit_reached", "out_of_stock",
                                              "insufficient_points", "not_eligible"):
                continue
            raise
        _advance(order, fate, admin, buyer, when, rng)
    _look_around(ctx, taste_of, [i for i in items if i.status == ItemStatus.LISTED])


LOOKERS = 40  # employees (besides the demo login) who looked around the mall lately


def _lookers(ctx: DemoContext) -> list[Any]:
    """The demo login and a few dozen others, who get item views."""
    me = ctx.logins.get(Role.EMPLOYEE)
    others = random.Random(f"{ctx.seed}/mall/lookers").sample(
        ctx.employees, min(LOOKERS, len(ctx.employees)))
    return list(dict.fromkeys([*([me] if me is not None else []), *others]))


def _tastes(ctx: DemoContext, people: list[Any], items: list[Item]) -> dict[int, tastes.Taste]:
    """Employee id → taste: the top-level department's favoured categories and their
    own interest, from a generator of their own (the step's other draws stay as they were)."""
    rng = random.Random(f"{ctx.seed}/mall/tastes")
    categories = sorted({i.category.slug for i in items})
    codes = {d.pk: code for code, d in ctx.departments.items()}
    found: dict[int, tastes.Taste] = {}
    for person in sorted(set(people), key=lambda p: p.pk):
        department = person.department
        chain = path_ids(department.path)
        top = chain[1] if len(chain) > 1 else department.pk
        favoured = tastes.favoured_categories(ctx.seed, codes.get(top, top), categories)
        found[person.pk] = tastes.taste_for(rng, favoured, categories)
    return found


def _look_around(ctx: DemoContext, taste_of: dict[int, tastes.Taste],
                 listed: list[Item]) -> None:
    """Item views of the last weeks, mostly at what each looker's taste goes for, so the
    mall home has "because you looked at …" rows at once."""
    rng = random.Random(f"{ctx.seed}/mall/looks")
    choices = [(i.pk, i.category.slug, i.points) for i in listed]
    appeals = {i.pk: tastes.appeal(ctx.seed, i.name) for i in listed}
    for person in _lookers(ctx):
        for _n in range(rng.randint(6, 14) if person == ctx.logins.get(Role.EMPLOYEE)
                        else rng.randint(2, 6)):
            item = listed[(tastes.pick(rng, taste_of[person.pk], choices, appeals=appeals)
                           or 0) if rng.random() < 0.75 else rng.randrange(len(listed))]
            services.record_item_view(employee=person, item=item,
                                      day=ctx.today - timedelta(days=rng.randrange(60)))


def _advance(order: Order, fate: str, admin: Any, buyer: Any, when: datetime,
             rng: Any) -> None:
    """Move a fresh order towards ``fate`` through the services, a few hours per step.

    Each step comes strictly after the one before (an order is never shipped before it
    was approved) and before now: a step takes 3–20 hours, or half the time left when
    less remains, so even yesterday's orders fit their whole timeline into the past."""
    last = when
    end = max(timezone.now(), when + timedelta(hours=1))

    def later() -> datetime:
        nonlocal last
        last += min(timedelta(hours=rng.randint(3, 20)), (end - last) / 2)
        return last

    if fate == "submitted":
        return
    if fate in ("cancelled", "rejected"):
        if order.status != "submitted":  # auto-approved: too late to take back
            return
        if fate == "cancelled":
            services.cancel_order(order=order, actor=buyer.user, now=later())
        else:
            services.reject_order(order=order, actor=admin, now=later(),
                                  reason="该商品本批次已分配完，积分已退回")
        return
    if order.status == "submitted":
        order = services.approve_order(order=order, actor=admin, now=later())
    if fate == "approved":
        return
    if order.fulfilment == Fulfilment.SHIPPED:
        order = services.ship_order(order=order, actor=admin, carrier=rng.choice(CARRIERS),
                                    tracking_no=f"SF{rng.randrange(10**11, 10**12)}",
                                    now=later())
        if fate == "shipped":
            return
        order = services.deliver_order(order=order, actor=admin, now=later())
        if fate == "delivered":
            return
    elif order.status == "approved":
        order = services.fulfil_order(order=order, actor=admin, now=later())
    if fate == "completed":
        services.complete_order(order=order, actor=buyer.user, now=later())
