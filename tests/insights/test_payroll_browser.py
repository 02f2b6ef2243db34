"""HR closes a payroll month on a 375 px phone; the payroll pages pass axe on a phone and
a desktop."""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from jifen.core.roles import Role
from jifen.insights.models import PayrollPeriod
from jifen.insights.services import payroll
from jifen.insights.services.rollups import month_of
from tests.browser.axe import AXE_CONTEXT, serious_violations
from tests.browser.conftest import DESKTOP, PHONE, horizontal_overflow, sign_in
from tests.factories import PASSWORD, DepartmentFactory, EmployeeFactory
from tests.ledger.helpers import earn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("JIFEN_SCREENSHOTS") else Path(tempfile.gettempdir()) / "jifen-screenshots"
)


@pytest.fixture
def last_month(db):
    hq = DepartmentFactory(code="HQ", name="总部")
    hr = EmployeeFactory(department=hq, employee_no="H001", name="周人事", roles=[Role.HR_ADMIN])
    payroll.save_policy(actor=hr.user, category="learning", target=200, weight="10",
                        label="绩效奖金")
    # The month before this one (site time): finished, so it can be closed.
    month = (month_of(timezone.now()) - timedelta(days=1)).replace(day=1)
    when = timezone.make_aware(timezone.datetime(month.year, month.month, 10, 12))
    for number, name, points in (("000101", "王芳", 150), ("000102", "陈晨", 400)):
        earn(EmployeeFactory(department=hq, employee_no=number, name=name), points,
             category="learning", now=when)
    return month


def test_hr_closes_last_month_on_a_phone(open_page, last_month):
    key = f"{last_month:%Y-%m}"
    phone = open_page(PHONE)
    sign_in(phone, "H001", PASSWORD)
    phone.goto("/console/insights/payroll/")
    phone.get_by_role("link", name=f"查看 {key}").click()
    lines = phone.get_by_test_id("payroll-lines")
    expect(lines).to_contain_text("000101")
    expect(lines).to_contain_text("0.0750")  # 150 ÷ 200 × 10 %
    assert horizontal_overflow(phone) == 0
    phone.get_by_test_id("payroll-close").click()
    expect(phone.get_by_test_id("payroll-status")).to_contain_text("已关闭")
    assert PayrollPeriod.objects.get(month=last_month).status == "closed"
    assert horizontal_overflow(phone) == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SCREENSHOTS / "payroll-month-phone.png"), full_page=True)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_payroll_pages_pass_axe(browser, live_server, last_month, viewport):
    context = browser.new_context(viewport=viewport, base_url=live_server.url,
                                  locale="zh-CN", **AXE_CONTEXT)
    page = context.new_page()
    sign_in(page, "H001", PASSWORD)
    found = []
    for url in ("/console/insights/payroll/", f"/console/insights/payroll/{last_month:%Y-%m}/",
                "/console/insights/payroll/settings/"):
        assert page.goto(url).status == 200, url
        page.wait_for_load_state("load")
        found += [f"{url}: {v}" for v in serious_violations(page)]
        assert page.locator("h1").count() == 1, url
        if viewport == PHONE:
            assert horizontal_overflow(page) == 0, url
    context.close()
    assert not found, "\n".join(found)
