"""The activity centre and its console pages in a real browser: on a 375 px phone an
employee sees running, upcoming and finished activities with live countdowns and their own
entries; an admin sends the notice from the console list; the results page draws its
charts. axe finds nothing serious on any of them."""

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
from jifen.notifications.models import Notification
from tests.activities.centre_fixtures import (
    HOUR,
    bid,
    draw,
    enter,
    fund,
    make_auction,
    make_item,
    make_lottery,
)
from tests.browser.axe import AXE_CONTEXT, serious_violations
from tests.browser.conftest import DESKTOP, PHONE, horizontal_overflow, sign_in
from tests.factories import PASSWORD, DepartmentFactory, EmployeeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Refreshed only on request (JIFEN_SCREENSHOTS=1), so a test run leaves the tree unchanged.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("JIFEN_SCREENSHOTS") else Path(tempfile.gettempdir()) / "jifen-screenshots"
)


@pytest.fixture
def activities(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    hq = DepartmentFactory(code="HQ", name="总部")
    employee = EmployeeFactory(department=hq, employee_no="E001", name="李小明")
    admin = EmployeeFactory(department=hq, employee_no="M001", name="周活动",
                            roles=[Role.MALL_ADMIN])
    others = [EmployeeFactory(department=hq, employee_no=f"E10{n}", name=name)
              for n, name in enumerate(["王芳", "陈晨", "刘洋"])]
    for person in [employee, *others]:
        fund(person, 2000)
    now = timezone.now()
    running = make_lottery(title="周五下午茶抽奖", entry_cost=20,
                           starts_at=now - 5 * HOUR, ends_at=now + 30 * HOUR)
    for n, person in enumerate([employee, *others, employee]):
        enter(running, person, at=now - (4 - n) * HOUR)
    auction = make_auction(make_item(admin.user), title="降噪耳机竞拍", starting_price=300,
                           starts_at=now - 20 * HOUR, ends_at=now + 2 * HOUR)
    bid(auction, others[0], 300, at=now - 10 * HOUR)
    bid(auction, employee, 350, at=now - 3 * HOUR)
    make_lottery(title="春季新品抽奖", entry_cost=0, starts_at=now + 3 * 24 * HOUR)
    finished = make_lottery(title="年终积分抽奖", tiers=(("一等奖", 1), ("二等奖", 2)),
                            starts_at=now - 10 * 24 * HOUR, ends_at=now - 3 * 24 * HOUR)
    entries = [enter(finished, p, at=finished.starts_at + timedelta(hours=n))
               for n, p in enumerate(others)]
    draw(finished, entries)
    return {"employee": employee, "admin": admin, "running": running, "auction": auction}


def test_an_employee_follows_activities_on_a_phone(open_page, activities):
    phone = open_page(PHONE)
    sign_in(phone, "E001", PASSWORD)
    phone.goto("/activities/")
    cards = phone.get_by_test_id("activity-card")
    expect(cards).to_have_count(2)
    expect(phone.get_by_test_id("section-running")).to_contain_text("周五下午茶抽奖")
    # The countdown runs in the browser: hh:mm:ss (with days when far off), not the date.
    countdown = phone.get_by_test_id("countdown").first
    expect(countdown).to_have_text(re.compile(r"^(\d+\S* )?\d\d:\d\d:\d\d$"))
    first = countdown.text_content()
    phone.wait_for_timeout(1100)
    assert countdown.text_content() != first
    mine = phone.get_by_test_id("mine-row")
    expect(mine).to_have_count(2)
    expect(phone.get_by_test_id("mine")).to_contain_text("降噪耳机竞拍")
    assert horizontal_overflow(phone) == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.set_viewport_size({"width": 375, "height": 1300})
    phone.screenshot(path=str(SCREENSHOTS / "activities-centre.png"))
    phone.set_viewport_size(PHONE)

    phone.get_by_test_id("tab-finished").click()
    expect(phone.get_by_test_id("winners")).to_contain_text("王芳")
    phone.get_by_test_id("tab-upcoming").click()
    expect(phone.get_by_test_id("section-upcoming")).to_contain_text("春季新品抽奖")
    assert horizontal_overflow(phone) == 0


def test_an_admin_sends_the_notice_and_reads_the_results(open_page, activities):
    phone = open_page(PHONE)
    sign_in(phone, "M001", PASSWORD)
    phone.goto("/console/activities/")
    rows = phone.get_by_test_id("activity-row")
    expect(rows).to_have_count(4)
    assert horizontal_overflow(phone) == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.set_viewport_size({"width": 375, "height": 1100})
    phone.screenshot(path=str(SCREENSHOTS / "activities-console.png"))
    running = activities["running"]
    row = phone.locator(f'[data-testid=activity-row][data-kind=lottery][data-pk="{running.pk}"]')
    row.get_by_test_id("announce").locator("summary").click()
    row.locator("textarea").fill("周五下午三点开奖")
    phone.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button").click()
    phone.wait_for_url("**/console/activities/")
    expect(phone.locator(".alert-success")).to_contain_text("周五下午茶抽奖")
    assert Notification.objects.filter(kind="activities.announced").count() == 5

    desk = open_page(DESKTOP)
    sign_in(desk, "M001", PASSWORD)
    desk.goto(f"/console/activities/lottery/{running.pk}/results/")
    expect(desk.get_by_test_id("number-actions")).to_have_text("5")
    expect(desk.get_by_test_id("number-points")).to_have_text("100")
    expect(desk.locator("#chart-timeline canvas")).to_have_count(1)
    expect(desk.locator("#chart-prizes canvas")).to_have_count(1)
    desk.set_viewport_size({"width": 1280, "height": 1200})
    desk.screenshot(path=str(SCREENSHOTS / "activities-results.png"))


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_activity_pages_pass_axe(browser, live_server, activities, viewport):
    pages = {"E001": ["/activities/", "/activities/?tab=finished", "/activities/?tab=upcoming"],
             "M001": ["/console/activities/",
                      f"/console/activities/lottery/{activities['running'].pk}/results/",
                      f"/console/activities/auction/{activities['auction'].pk}/results/"]}
    found = []
    for username, urls in pages.items():
        context = browser.new_context(viewport=viewport, base_url=live_server.url,
                                      locale="zh-CN", **AXE_CONTEXT)
        page = context.new_page()
        sign_in(page, username, PASSWORD)
        for url in urls:
            assert page.goto(url).status == 200, url
            page.wait_for_load_state("load")
            found += [f"{url}: {v}" for v in serious_violations(page)]
            assert page.locator("h1").count() == 1, url
        context.close()
    assert not found, "\n".join(found)
