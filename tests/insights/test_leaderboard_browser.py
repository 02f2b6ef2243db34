"""The leaderboard in a real browser on a 375 px phone: the board with the viewer
highlighted and their rank card, a colleague who hid their name shown as anonymous,
filters that refresh the board in place, hiding one's own name; axe finds nothing serious."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from jifen.insights.services import leaderboard as lb_services
from jifen.insights.services import rollups
from tests.browser.axe import AXE_CONTEXT, serious_violations
from tests.browser.conftest import DESKTOP, PHONE, horizontal_overflow, sign_in
from tests.factories import PASSWORD, DepartmentFactory, EmployeeFactory
from tests.ledger.helpers import earn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Refreshed only on request (JIFEN_SCREENSHOTS=1), so a test run leaves the tree unchanged.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("JIFEN_SCREENSHOTS") else Path(tempfile.gettempdir()) / "jifen-screenshots"
)


@pytest.fixture
def board():
    hq = DepartmentFactory(code="HQ", name="总部")
    rd = DepartmentFactory(code="RD", name="研发部", parent=hq)
    me = EmployeeFactory(department=rd, employee_no="E001", name="李小明")
    names = ["王芳", "陈晨", "刘洋", "赵磊", "孙丽", "周杰", "吴敏"]
    others = [EmployeeFactory(department=rd if n % 2 else hq, employee_no=f"E1{n:02d}",
                              name=name) for n, name in enumerate(names)]
    for n, person in enumerate(others):
        earn(person, 300 - n * 30, category="learning" if n % 2 else "teamwork")
    earn(me, 210, category="learning")
    rollups.fold_pending()
    lb_services.set_ranking_privacy(employee=others[0], hidden=True)
    return {"me": me, "others": others}


def test_an_employee_reads_the_leaderboard_on_a_phone(open_page, board):
    phone = open_page(PHONE)
    sign_in(phone, "E001", PASSWORD)
    phone.goto("/leaderboard/")
    table = phone.get_by_test_id("leaderboard")
    expect(table.locator("tbody tr")).to_have_count(8)
    expect(phone.get_by_test_id("row-me")).to_contain_text("李小明")
    expect(phone.get_by_test_id("anonymous")).to_have_text("匿名同事")
    expect(table).not_to_contain_text("王芳")
    expect(phone.get_by_test_id("my-rank-number")).to_have_text("#4")
    expect(phone.get_by_test_id("updated-note")).to_be_visible()
    assert horizontal_overflow(phone) == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.set_viewport_size({"width": 375, "height": 1400})
    phone.screenshot(path=str(SCREENSHOTS / "leaderboard-phone.png"), full_page=True)
    phone.set_viewport_size(PHONE)

    # Learning only, my department: the board refreshes in place (htmx) and the URL follows.
    phone.locator("#lb-category").select_option("learning")
    expect(table.locator("tbody tr")).to_have_count(4)
    phone.locator("#lb-scope").select_option("department")
    expect(phone.get_by_test_id("leaderboard").locator("tbody tr")).to_have_count(4)
    expect(phone).to_have_url(re.compile(r"scope=department.*category=learning"))
    phone.locator("#lb-period").select_option(str(timezone.localdate().year - 3))
    expect(phone.get_by_test_id("leaderboard-empty")).to_be_visible()
    expect(phone.get_by_test_id("my-rank-none")).to_be_visible()
    assert horizontal_overflow(phone) == 0

    phone.get_by_test_id("privacy-toggle").click()
    expect(phone.get_by_test_id("privacy-state")).to_have_text("你的名字已隐藏")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_leaderboard_passes_axe(browser, live_server, board, viewport):
    context = browser.new_context(viewport=viewport, base_url=live_server.url,
                                  locale="zh-CN", **AXE_CONTEXT)
    page = context.new_page()
    sign_in(page, "E001", PASSWORD)
    found = []
    for url in ["/leaderboard/", "/leaderboard/?period=2001&category=learning",
                "/leaderboard/?scope=department&period=all"]:
        assert page.goto(url).status == 200, url
        page.wait_for_load_state("load")
        found += [f"{url}: {v}" for v in serious_violations(page)]
        assert page.locator("h1").count() == 1, url
    context.close()
    assert not found, "\n".join(found)
