"""The library in a real browser on a 375 px phone: an employee finds a resource, sees its
preview pages, buys it after a confirmation that shows price and balance, downloads it,
and finds it in "my library". Every page is axe clean and fits the phone."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from jifen.library.models import Download, Purchase
from tests.browser.axe import AXE_CONTEXT, serious_violations
from tests.browser.conftest import DESKTOP, PHONE, horizontal_overflow, sign_in
from tests.factories import PASSWORD, EmployeeFactory
from tests.library.conftest import fund, pdf_upload, spendable

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("JIFEN_SCREENSHOTS") else Path(tempfile.gettempdir()) / "jifen-screenshots"
)


@pytest.fixture
def shelf(make_resource, department, editor):
    employee = EmployeeFactory(department=department, employee_no="E001", name="李小明")
    fund(employee, 120)
    make_resource(title="绩效面谈模板", description="季度与年度绩效面谈的提纲、记录表与改进计划。",
                  price=30, tags="模板,经理", upload=pdf_upload("绩效面谈模板.pdf", pages=3))
    make_resource(title="招聘技巧大全", description="渠道选择、JD 撰写、简历筛选到 offer 谈判。",
                  price=0, tags="招聘")
    make_resource(title="销售岗绩效提升指南", description="拜访节奏、漏斗管理与复盘方法。",
                  price=40, tags="销售")
    return employee


@pytest.fixture
def axe_page(browser, live_server):
    """open_page's twin whose context lets axe's script in (``bypass_csp``)."""
    contexts = []

    def open_(viewport: dict):
        context = browser.new_context(viewport=viewport, base_url=live_server.url,
                                      locale="zh-CN", accept_downloads=True, **AXE_CONTEXT)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


def check(page) -> None:
    # A dialog still fading in has half-transparent text: axe would measure its contrast
    # mid-way (it failed so on a loaded machine).
    page.wait_for_function("() => document.getAnimations().every("
                           "(a) => a.playState !== 'running')")
    assert horizontal_overflow(page) == 0
    assert serious_violations(page) == []


def test_buy_and_download_a_resource_on_a_phone(axe_page, shelf):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone = axe_page(PHONE)
    sign_in(phone, "E001", PASSWORD)
    phone.goto("/library/")
    expect(phone.get_by_test_id("resource-card")).to_have_count(3)
    check(phone)
    phone.screenshot(path=str(SCREENSHOTS / "library-home.png"))

    phone.get_by_test_id("library-search").fill("面谈")
    phone.get_by_test_id("library-search").press("Enter")
    cards = phone.get_by_test_id("resource-card")
    expect(cards).to_have_count(1)
    cards.first.click()
    expect(phone.get_by_test_id("resource-title")).to_have_text("绩效面谈模板")
    expect(phone.get_by_test_id("preview-page")).to_have_count(3)
    check(phone)

    phone.get_by_test_id("buy").click()
    expect(phone.get_by_test_id("confirm-price")).to_contain_text("30")
    expect(phone.get_by_test_id("confirm-balance")).to_contain_text("120")
    check(phone)
    phone.screenshot(path=str(SCREENSHOTS / "library-buy.png"))
    phone.get_by_test_id("confirm-buy").click()
    expect(phone.get_by_test_id("owned")).to_be_visible()
    assert spendable(shelf) == 90

    with phone.expect_download() as waiting:
        phone.get_by_test_id("download").click()
    download = waiting.value
    assert download.suggested_filename == "绩效面谈模板.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF-")
    with phone.expect_download():
        phone.get_by_test_id("download").click()  # again: free
    assert spendable(shelf) == 90
    assert Purchase.objects.filter(employee=shelf).count() == 1
    assert Download.objects.filter(employee=shelf).count() == 2

    phone.goto("/library/mine/")
    expect(phone.get_by_test_id("my-library")).to_contain_text("绩效面谈模板")
    check(phone)
    phone.screenshot(path=str(SCREENSHOTS / "library-mine.png"))


def test_console_library_pages_are_axe_clean(axe_page, open_page, shelf, editor):
    desk = axe_page(DESKTOP)
    sign_in(desk, editor.employee_no, PASSWORD)
    for url in ("/console/library/", "/console/library/reviews/", "/console/library/insights/",
                "/console/library/resources/new/"):
        desk.goto(url)
        expect(desk.locator("h1")).to_have_count(1)
        assert serious_violations(desk) == [], url
    desk.goto("/console/library/insights/")
    expect(desk.locator("#library-chart canvas")).to_have_count(1)
    desk.screenshot(path=str(SCREENSHOTS / "library-insights.png"))
    phone = open_page(PHONE)
    sign_in(phone, editor.employee_no, PASSWORD)
    phone.goto("/console/library/")
    assert horizontal_overflow(phone) == 0
    assert re.search(r"/console/library/$", phone.url)
