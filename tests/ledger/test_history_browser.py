"""The honest history and the profile's points on a phone (375 px): the order is one line
whose steps open on a tap, nothing scrolls sideways, and adjusting from the profile comes
back to it."""

from __future__ import annotations

import pytest

from jifen.core.roles import Role
from jifen.mall import services as mall
from tests.browser.conftest import PHONE, horizontal_overflow, sign_in
from tests.conftest import PASSWORD
from tests.factories import DepartmentFactory, EmployeeFactory
from tests.ledger.helpers import nap_blanket
from tests.mall.conftest import fund, order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _people():
    hq = DepartmentFactory(code="HQ", name="总部")
    worker = EmployeeFactory(department=hq, employee_no="E001", name="李小明")
    admin = EmployeeFactory(department=hq, employee_no="M001", name="周商城",
                            roles=[Role.MALL_ADMIN])
    hr = EmployeeFactory(department=hq, employee_no="H001", name="赵人事", roles=[Role.HR_ADMIN])
    item = nap_blanket(admin.user)
    fund(worker, 500)
    placed = order(worker, item)
    mall.approve_order(order=placed, actor=admin.user)
    mall.fulfil_order(order=placed, actor=admin.user)
    mall.complete_order(order=placed, actor=admin.user)
    return worker, hr, placed


def test_the_order_is_one_line_with_its_steps_on_a_phone(open_page):
    worker, _hr, placed = _people()
    page = open_page(PHONE)
    sign_in(page, worker.user.username, PASSWORD)

    page.goto("/points/")

    line = page.locator("[data-testid=history-line]").first
    assert f"订单 {placed.number} 午睡毯 — 已完成" in line.inner_text()
    assert not line.get_by_text("积分已扣除").is_visible()
    line.locator("summary").click()
    assert line.get_by_text("积分已扣除").is_visible()
    assert "冻结" not in page.locator("[data-testid=history]").inner_text()
    assert horizontal_overflow(page) == 0


def test_adjusting_from_the_profile_comes_back_to_it_on_a_phone(open_page):
    worker, hr, _placed = _people()
    page = open_page(PHONE)
    sign_in(page, hr.user.username, PASSWORD)

    page.goto(f"/console/people/{worker.pk}/")
    assert page.get_by_test_id("profile-spendable").inner_text() == "350"
    assert horizontal_overflow(page) == 0
    page.get_by_test_id("adjust-points").click()
    page.fill("input[name=amount]", "20")
    page.fill("textarea[name=reason]", "季度之星")
    page.get_by_role("button", name="核对").click()
    page.get_by_test_id("post-adjustment").click()

    page.wait_for_url(f"**/console/people/{worker.pk}/")
    assert page.get_by_test_id("profile-spendable").inner_text() == "370"
    assert "人事调整：季度之星" in page.get_by_test_id("profile-points").inner_text()
