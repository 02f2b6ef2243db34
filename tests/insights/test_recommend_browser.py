"""The recommendations in a real browser on a 375 px phone: the mall home's "为你推荐" row
with its reasons and the "affordable soon" badge, scrolling sideways inside the row rather
than the page; its "关闭推荐" link leads to the switch, which hides the row. axe finds
nothing serious on the pages that carry a row, nor on the switch's page."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.axe import AXE_CONTEXT, serious_violations
from tests.browser.conftest import DESKTOP, PHONE, horizontal_overflow, sign_in
from tests.factories import PASSWORD
from tests.insights.test_recommend_pages import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Refreshed only on request (JIFEN_SCREENSHOTS=1), so a test run leaves the tree unchanged.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("JIFEN_SCREENSHOTS") else Path(tempfile.gettempdir()) / "jifen-screenshots"
)


@pytest.fixture
def world(make_role_employee):
    return build_world(make_role_employee)


def test_the_mall_home_recommends_on_a_phone_and_the_row_can_be_turned_off(open_page, world):
    phone = open_page(PHONE)
    sign_in(phone, "E001", PASSWORD)
    phone.goto("/mall/")
    row = phone.get_by_test_id("row-suggested")
    expect(row).to_be_visible()
    expect(row).to_contain_text("充电宝")
    expect(row).to_contain_text("因为你兑换过「无线蓝牙耳机」")
    expect(row.get_by_test_id("short-by")).to_contain_text("再攒 100")
    assert horizontal_overflow(phone) == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    row.scroll_into_view_if_needed()
    phone.screenshot(path=str(SCREENSHOTS / "mall-recommended-phone.png"))

    phone.get_by_test_id("suggestions-off").click()
    expect(phone).to_have_url(re.compile(r"/me/recommendations/$"))
    phone.get_by_test_id("recommendations-off").click()
    expect(phone.get_by_test_id("recommendations-on")).to_be_visible()
    phone.goto("/mall/")
    expect(phone.get_by_test_id("row-hot")).to_be_visible()
    expect(phone.get_by_test_id("row-suggested")).to_have_count(0)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_pages_with_recommendations_pass_axe(browser, live_server, world, viewport):
    context = browser.new_context(viewport=viewport, base_url=live_server.url,
                                  locale="zh-CN", **AXE_CONTEXT)
    page = context.new_page()
    sign_in(page, "E001", PASSWORD)
    found = []
    urls = ["/mall/", f"/mall/items/{world['earbuds'].pk}/", "/library/",
            "/me/recommendations/"]
    for url in urls:
        assert page.goto(url).status == 200, url
        page.wait_for_load_state("load")
        found += [f"{url}: {v}" for v in serious_violations(page)]
        assert page.locator("h1").count() == 1, url
    expect(page.get_by_test_id("recommendations-off")).to_be_visible()
    context.close()
    assert not found, "\n".join(found)
