"""The insights dashboards in Chromium: every chart drawn at 1280 px (axe clean, no CSP
violation), its table one click away, and the page usable on a 375 px phone."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from jifen.core.roles import Role
from jifen.insights.selectors.dashboards import CHARTS
from jifen.library.services.engagement import check_in
from tests.browser.axe import AXE_CONTEXT, serious_violations
from tests.browser.conftest import DESKTOP, PHONE, horizontal_overflow, sign_in
from tests.factories import PASSWORD, EmployeeFactory
from tests.insights.dashboards_data import at, build_company

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("JIFEN_SCREENSHOTS") else Path(tempfile.gettempdir()) / "jifen-screenshots"
)
PAGE = "/console/insights/?from=2026-01&to=2026-04"


@pytest.fixture
def analyst(db):
    company = build_company()
    for person, day, hour in ((company.a1_person, 2, 8), (company.a2, 2, 9), (company.b1, 3, 8),
                              (company.a1_person, 3, 9), (company.b2, 6, 18)):
        check_in(employee=person, now=at(3, day, hour))
    return EmployeeFactory(department=company.a, roles=[Role.HR_ADMIN], name="数据分析师")


@pytest.fixture
def axe_page(browser, live_server, csp_violations):
    contexts = []

    def open_(viewport: dict):
        context = browser.new_context(viewport=viewport, base_url=live_server.url,
                                      locale="zh-CN", **AXE_CONTEXT)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


def test_the_dashboard_at_1280_px(axe_page, open_page, analyst):
    desk = axe_page(DESKTOP)
    sign_in(desk, analyst.employee_no, PASSWORD)
    desk.goto(PAGE)
    expect(desk.locator("h1")).to_have_count(1)
    for key in CHARTS:
        expect(desk.locator(f"#plot-{key} canvas").first).to_be_visible()
    expect(desk.get_by_test_id("gini-words")).to_contain_text("0.")
    expect(desk.get_by_test_id("breakage-formula")).to_be_visible()
    desk.get_by_test_id("chart-flows").locator("summary").click()
    expect(desk.get_by_test_id("table-flows").locator("tbody tr")).to_have_count(4)
    assert serious_violations(desk) == []
    assert horizontal_overflow(desk) == 0
    desk.screenshot(path=str(SCREENSHOTS / "insights-dashboard.png"), full_page=True)

    phone = open_page(PHONE)
    sign_in(phone, analyst.employee_no, PASSWORD)
    phone.goto(PAGE)
    expect(phone.locator("#plot-flows canvas")).to_have_count(1)
    assert horizontal_overflow(phone) == 0
    phone.locator("#f-department").select_option("B")
    phone.locator("form[data-testid=filters] button[type=submit]").click()
    phone.wait_for_url("**department=B**")
    expect(phone.locator("#f-department")).to_have_value("B")
