"""The notification settings page in a real browser on a 375 px phone: every checkbox has
a label, the page fits the screen, a change is saved; the console's defaults page too.
axe finds nothing serious on either."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from jifen.core.roles import Role
from jifen.notifications import selectors
from tests.browser.axe import AXE_CONTEXT, serious_violations
from tests.browser.conftest import PHONE, horizontal_overflow, sign_in
from tests.factories import PASSWORD, DepartmentFactory, EmployeeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people():
    hq = DepartmentFactory(code="HQ", name="总部")
    return {"employee": EmployeeFactory(department=hq, employee_no="E001", name="李小明"),
            "hr": EmployeeFactory(department=hq, employee_no="H001", name="王人事",
                                  roles=[Role.HR_ADMIN])}


def test_an_employee_sets_notifications_on_a_phone(open_page, people):
    phone = open_page(PHONE)
    sign_in(phone, "E001", PASSWORD)
    phone.goto("/notifications/")
    phone.get_by_test_id("notification-settings-link").click()
    expect(phone.get_by_test_id("notification-settings")).to_be_visible()
    expect(phone.get_by_test_id("im-hint")).to_be_visible()
    assert horizontal_overflow(phone) == 0
    box = phone.get_by_label("批准了积分奖励: 邮箱")
    box.check()
    phone.select_option("select[name=mode]", "daily")
    phone.get_by_role("button", name="保存").click()
    expect(phone.get_by_text("通知设置已保存。")).to_be_visible()
    row = {r.name: r.on for r in selectors.preference_grid(people["employee"].user)}
    assert row["earning.award_approved"]["email"] is True
    assert selectors.delivery_of(people["employee"].user).mode == "daily"


def test_the_settings_and_defaults_pages_pass_axe_on_a_phone(browser, live_server, people):
    found = []
    for username, url in (("E001", "/notifications/settings/"),
                          ("H001", "/console/notifications/defaults/")):
        context = browser.new_context(viewport=PHONE, base_url=live_server.url,
                                      locale="zh-CN", **AXE_CONTEXT)
        page = context.new_page()
        sign_in(page, username, PASSWORD)
        assert page.goto(url).status == 200, url
        page.wait_for_load_state("load")
        found += [f"{url}: {v}" for v in serious_violations(page)]
        assert page.locator("h1").count() == 1, url
        assert horizontal_overflow(page) == 0, url
        context.close()
    assert not found, "\n".join(found)
