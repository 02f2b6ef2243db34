"""The webhook pages in a real browser: on a 375 px phone an admin adds an endpoint and
copies its secret, sends a test event and reads its delivery; axe finds nothing serious and
nothing is wider than the phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from jifen.core.roles import Role
from jifen.integrations.models import WebhookDelivery
from tests.browser.axe import AXE_CONTEXT, serious_violations
from tests.browser.conftest import PHONE, horizontal_overflow, sign_in
from tests.factories import PASSWORD, DepartmentFactory, EmployeeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_sets_up_a_webhook_on_a_phone(browser, live_server, settings):
    settings.JIFEN_OUTBOUND_ALLOW_HOSTS = ["127.0.0.1"]
    EmployeeFactory(department=DepartmentFactory(code="HQ", name="总部"), employee_no="A001",
                    name="管理员", roles=[Role.SUPER_ADMIN])
    context = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="zh-CN",
                                  **AXE_CONTEXT)
    page = context.new_page()
    sign_in(page, "A001", PASSWORD)
    found = []
    page.goto("/console/webhooks/")
    found += [f"list: {v}" for v in serious_violations(page)]
    page.fill("input[name=url]", "http://127.0.0.1:9/hooks")
    page.locator("input[name=event_types][value='points.credited']").check()
    with page.expect_navigation():
        page.get_by_test_id("endpoint-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("plain-secret")).to_have_value(re.compile("^whsec_"))
    found += [f"created: {v}" for v in serious_violations(page)]
    assert horizontal_overflow(page) == 0
    page.get_by_test_id("endpoint-list").locator("a").first.click()
    page.wait_for_load_state("load")
    with page.expect_navigation():
        page.get_by_role("button", name="发送测试事件").click()
    expect(page.get_by_test_id("delivery-list")).to_contain_text("webhook.test")
    page.reload()  # without the flash message (its close link is the base layout's)
    found += [f"detail: {v}" for v in serious_violations(page)]
    assert horizontal_overflow(page) == 0
    page.goto(f"/console/webhook-deliveries/{WebhookDelivery.objects.get().pk}/")
    found += [f"delivery: {v}" for v in serious_violations(page)]
    assert page.locator("h1").count() == 1
    assert horizontal_overflow(page) == 0
    context.close()
    assert not found, "\n".join(found)
