"""The IM channels page in a real browser: a super admin on a 375 px phone adds a robot
and a route; axe finds nothing serious on the list, robot and app pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from jifen.core.roles import Role
from jifen.integrations.models import ImRobot, ImRoute
from tests.browser.axe import AXE_CONTEXT, serious_violations
from tests.browser.conftest import DESKTOP, PHONE, horizontal_overflow, sign_in
from tests.factories import PASSWORD, DepartmentFactory, EmployeeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin():
    hq = DepartmentFactory(code="HQ", name="总部")
    return EmployeeFactory(department=hq, employee_no="S001", name="钱超管",
                           roles=[Role.SUPER_ADMIN])


def test_a_robot_and_a_route_added_on_a_phone(browser, live_server, admin, settings):
    settings.JIFEN_OUTBOUND_ALLOW_HOSTS = ("127.0.0.1",)
    context = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="zh-CN",
                                  **AXE_CONTEXT)
    try:
        page = context.new_page()
        sign_in(page, "S001", PASSWORD)
        page.goto("/console/im/")
        form = page.get_by_test_id("robot-form")
        form.get_by_label("平台").select_option("wecom")
        form.get_by_label("名称").fill("商城运营群")
        form.get_by_label("Webhook 地址").fill(
            "http://127.0.0.1:9/cgi-bin/webhook/send?key=k")
        form.get_by_role("button", name="添加机器人").click()
        expect(page.get_by_test_id("robot-list")).to_contain_text("商城运营群")
        assert horizontal_overflow(page) == 0
        assert serious_violations(page) == []

        routes = page.get_by_test_id("route-form")
        routes.get_by_label("通知").select_option("mall.low_stock")
        routes.get_by_role("button", name="添加路由").click()
        expect(page.get_by_test_id("route-list")).to_contain_text("mall.low_stock")
        robot = ImRobot.objects.get()
        assert ImRoute.objects.get().robot == robot

        for url in (f"/console/im/robots/{robot.pk}/", "/console/im/apps/wecom/"):
            page.goto(url)
            assert horizontal_overflow(page) == 0, url
            assert serious_violations(page) == [], url
        page.set_viewport_size(DESKTOP)
        page.goto("/console/im/")
        assert serious_violations(page) == []
    finally:
        context.close()
