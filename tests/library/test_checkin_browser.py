"""Check-in and comments in a real browser on a 375 px phone: one tap on the home page,
the calendar shows it; a comment, a rating and a share link on a mall item; axe finds no
serious problem on these pages or on the console's engagement pages."""

from __future__ import annotations

import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from jifen.core.roles import Role
from jifen.earning import services as earning
from jifen.library.selectors import engagement as selectors
from jifen.library.services import engagement as services
from jifen.library.services import engagement_comments as comments
from jifen.mall import services as mall
from tests.browser.axe import AXE_CONTEXT, serious_violations
from tests.browser.conftest import DESKTOP, PHONE, horizontal_overflow, sign_in
from tests.factories import PASSWORD, EmployeeFactory
from tests.mall.conftest import shop_people

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("JIFEN_SCREENSHOTS") else Path(tempfile.gettempdir()) / "jifen-screenshots"
)
COMMENT = "降噪效果很好，通勤路上终于能安静听书了，续航也够用一周。"


@pytest.fixture
def people(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    employee, mall_admin = shop_people(500)
    hr = EmployeeFactory(department=employee.department, employee_no="H001", name="赵人事",
                         roles=[Role.HR_ADMIN])
    earning.ensure_builtin_event_types()
    for name, event_type, points, caps in (("每日签到", "daily_checkin", 1, {"day": 1}),
                                           ("评论", "comment", 2, {"day": 6})):
        earning.create_rule(actor=None, reason="test", name=name, event_type=event_type,
                            category="engagement", formula={"kind": "fixed", "points": points},
                            caps=caps)
    category = mall.save_category(actor=mall_admin.user, name="数码电子", icon="ti-headphones")
    item = mall.create_item(actor=mall_admin.user, name="无线蓝牙耳机", category=category,
                            points=300, fulfilment="shipped", stock=20, status="listed")
    now = timezone.now()
    for back in range(5, 0, -1):  # five days in a row before today
        services.check_in(employee=employee, now=now - timedelta(days=back))
    colleague = EmployeeFactory(department=employee.department, name="陈静")
    comments.post_comment(employee=colleague, kind="item", target_id=item.pk,
                          text="包装很用心，音质对得起这个积分。")
    comments.rate(employee=colleague, kind="item", target_id=item.pk, stars=4)
    return {"employee": employee, "hr": hr, "item": item}


def test_one_tap_check_in_on_a_phone_shows_in_the_calendar(open_page, people):
    phone = open_page(PHONE)
    sign_in(phone, "E001", PASSWORD)
    phone.goto("/")
    card = phone.get_by_test_id("checkin-card")
    expect(card.get_by_test_id("checkin-streak")).to_contain_text("5")
    card.get_by_test_id("checkin-button").click()
    expect(phone.get_by_test_id("checked-today")).to_be_visible()
    expect(phone.get_by_test_id("checkin-done")).to_contain_text("+1")
    expect(phone.get_by_test_id("checkin-streak")).to_contain_text("6")
    assert horizontal_overflow(phone) == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SCREENSHOTS / "checkin-home.png"))

    phone.get_by_test_id("checkin-calendar-link").click()
    today = selectors.today()
    expect(phone.get_by_test_id(f"day-{today.day}")).to_have_attribute("data-checked", "1")
    expect(phone.get_by_test_id("streak")).to_have_text("6")
    expect(phone.get_by_test_id("checked-today")).to_be_visible()
    assert horizontal_overflow(phone) == 0
    phone.set_viewport_size({"width": 375, "height": 900})
    phone.screenshot(path=str(SCREENSHOTS / "checkin-calendar.png"))


def test_comment_rate_and_share_on_a_phone(open_page, people):
    item = people["item"]
    phone = open_page(PHONE)
    sign_in(phone, "E001", PASSWORD)
    phone.goto(f"/mall/items/{item.pk}/")
    panel = phone.get_by_test_id("engagement-panel")
    expect(panel.get_by_test_id("comment")).to_have_count(1)
    phone.get_by_test_id("comment-text").fill(COMMENT)
    phone.get_by_test_id("comment-submit").click()
    expect(phone.get_by_test_id("engagement-notice")).to_contain_text("+2")
    expect(phone.get_by_test_id("comment").first).to_contain_text(COMMENT)
    phone.get_by_test_id("rate-5").click()
    expect(phone.get_by_test_id("rate-5")).to_have_attribute("aria-pressed", "true")
    expect(phone.get_by_test_id("rating-summary")).to_contain_text("4.5")
    phone.get_by_test_id("share-button").click()
    expect(phone.get_by_test_id("share-url")).to_have_value(
        re.compile(r"/s/[a-z2-9]{10}/$"))
    assert horizontal_overflow(phone) == 0
    phone.get_by_test_id("engagement-panel").scroll_into_view_if_needed()
    phone.screenshot(path=str(SCREENSHOTS / "checkin-comments.png"))


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375px", "1280px"])
def test_the_engagement_pages_pass_axe(browser, live_server, people, viewport):
    item = people["item"]
    services.check_in(employee=people["employee"])
    found: list[str] = []
    for username, urls in (
            ("E001", ["/", "/checkin/", f"/mall/items/{item.pk}/",
                      f"/engage/item/{item.pk}/"]),
            ("H001", ["/console/library/moderation/?status=visible",
                      "/console/library/engagement/", "/console/library/engagement/settings/"])):
        context = browser.new_context(viewport=viewport, base_url=live_server.url,
                                      locale="zh-CN", **AXE_CONTEXT)
        page = context.new_page()
        sign_in(page, username, PASSWORD)
        for url in urls:
            page.goto(url)
            if url.startswith("/mall/items/"):
                expect(page.get_by_test_id("engagement-panel")).to_be_visible()
            if url == "/console/library/engagement/":
                page.wait_for_selector("[data-chart=rate] canvas")
            found += [f"{url}: {v}" for v in serious_violations(page)]
        context.close()
    assert found == []
