"""The mall in a real browser: on a 375 px phone an employee finds an item by search,
redeems it and watches the order; a mall admin approves and ships it from the order desk."""

from __future__ import annotations

import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from jifen.demo.mall import PALETTES, _icon_glyphs, _picture
from jifen.mall import services
from jifen.mall.models import Fulfilment, Item, Order
from tests.browser.conftest import DESKTOP, PHONE, horizontal_overflow, sign_in
from tests.factories import PASSWORD
from tests.mall.conftest import shop_people

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The README's screenshots are refreshed only on request (JIFEN_SCREENSHOTS=1), so a test run
# never leaves the work tree modified.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("JIFEN_SCREENSHOTS") else Path(tempfile.gettempdir()) / "jifen-screenshots"
)

CATALOGUE = [
    ("数码电子", "ti-headphones", [("无线蓝牙耳机", 1500, Fulfilment.SHIPPED, 40),
                                      ("20000mAh 移动电源", 600, Fulfilment.SHIPPED, 60),
                                      ("智能手环", 1200, Fulfilment.SHIPPED, 3)]),
    ("家居生活", "ti-cup", [("304 不锈钢保温杯", 100, Fulfilment.SHIPPED, 200),
                         ("午睡毯", 150, Fulfilment.SHIPPED, 120),
                         ("香薰加湿器", 500, Fulfilment.SHIPPED, 40)]),
    ("购物卡", "ti-credit-card", [("京东 E 卡 100 元", 500, Fulfilment.SERVICE, None),
                               ("星巴克咖啡券（中杯）", 160, Fulfilment.SERVICE, None)]),
    ("带薪假期", "ti-beach", [("带薪假 1 天", 2000, Fulfilment.SERVICE, None)]),
]


@pytest.fixture
def shop(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    employee, admin = shop_people(3000)
    home = None
    font, glyphs = _icon_glyphs()
    for n, (category_name, icon, items) in enumerate(CATALOGUE):
        category = services.save_category(actor=admin.user, name=category_name, icon=icon,
                                          sort_order=n, slug=f"c{n}")
        home = home or category
        for name, points, fulfilment, stock in items:
            item = services.create_item(
                actor=admin.user, name=name, category=category, points=points,
                fulfilment=fulfilment, stock=stock, status="listed",
                low_stock_threshold=5 if stock else 0, tags="耳机,蓝牙" if "耳机" in name else "")
            if font is not None and icon in glyphs:  # pictures as the demo draws them
                services.add_item_image(item=item, actor=admin.user, upload=_picture(
                    font, glyphs[icon], PALETTES["physical" if n < 2 else "virtual"], False))
    now = timezone.now()
    services.save_campaign(actor=admin.user, name="暖冬 8 折", kind="percent", value=20,
                           starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=3),
                           categories=[home])
    return {"employee": employee, "admin": admin}


def test_an_employee_redeems_on_a_phone_and_an_admin_ships_it(open_page, shop):
    phone = open_page(PHONE)
    sign_in(phone, "E001", PASSWORD)
    phone.goto("/mall/")
    expect(phone.get_by_test_id("mall-spendable")).to_contain_text("3000")
    expect(phone.get_by_test_id("row-hot")).to_be_visible()
    assert horizontal_overflow(phone) == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # A tall phone rather than a full-page shot, which would paint the fixed tab bar midway.
    phone.set_viewport_size({"width": 375, "height": 1100})
    phone.screenshot(path=str(SCREENSHOTS / "mall-home.png"))
    phone.set_viewport_size(PHONE)

    # Search finds the earphones from part of their name.
    phone.get_by_test_id("mall-search").fill("耳机")
    phone.get_by_test_id("mall-search").press("Enter")
    expect(phone).to_have_url(re.compile(r"/mall/items/\?q="))
    cards = phone.get_by_test_id("item-card")
    expect(cards).to_have_count(1)
    cards.first.click()
    expect(phone.get_by_test_id("item-name")).to_have_text("无线蓝牙耳机")
    expect(phone.get_by_test_id("item-price")).to_contain_text("1200")  # 20 % off 1500
    expect(phone.get_by_test_id("countdown")).to_be_visible()
    assert horizontal_overflow(phone) == 0

    phone.get_by_test_id("redeem").click()
    phone.get_by_test_id("confirm-redeem").click()
    expect(phone).to_have_url(re.compile(r"/orders/\d+/$"))
    expect(phone.get_by_test_id("order-status")).to_contain_text("已提交")
    order = Order.objects.get(employee=shop["employee"])
    assert order.points == 1200
    phone.goto("/orders/")
    expect(phone.get_by_test_id("my-orders")).to_contain_text("无线蓝牙耳机")
    assert horizontal_overflow(phone) == 0

    # The admin works the order desk.
    desk = open_page(DESKTOP)
    sign_in(desk, "M001", PASSWORD)
    desk.goto("/console/mall/")
    table = desk.get_by_test_id("desk-table")
    expect(table).to_contain_text(order.number)
    desk.locator(f'input[name=orders][value="{order.pk}"]').check()
    desk.screenshot(path=str(SCREENSHOTS / "order-desk.png"))
    desk.get_by_test_id("bulk-approve").click()
    expect(desk.locator(".alert-success")).to_be_visible()
    desk.goto(f"/console/mall/orders/{order.pk}/")
    expect(desk.get_by_test_id("desk-order-status")).to_contain_text("已审批")
    desk.fill("input[name=carrier]", "顺丰速运")
    desk.fill("input[name=tracking_no]", "SF1234567890")
    desk.get_by_test_id("ship").click()
    expect(desk.get_by_test_id("desk-order-status")).to_contain_text("已发货")

    # The employee watches the order move.
    phone.goto(f"/orders/{order.pk}/")
    expect(phone.get_by_test_id("order-status")).to_contain_text("已发货")
    expect(phone.get_by_test_id("tracking")).to_have_text("SF1234567890")
    expect(phone.get_by_test_id("timeline")).to_contain_text("已审批")
    assert horizontal_overflow(phone) == 0


def test_the_order_desk_fits_a_phone(open_page, shop):
    order = services.create_order(employee=shop["employee"],
                                  item=Item.objects.get(name="午睡毯"),
                                  idempotency_key="phone-desk")
    page = open_page(PHONE)
    sign_in(page, "M001", PASSWORD)
    page.goto("/console/mall/")
    expect(page.get_by_test_id("desk-table")).to_contain_text(order.number)
    assert horizontal_overflow(page) == 0
