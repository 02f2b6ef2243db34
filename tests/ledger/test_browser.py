"""The ledger console's tabs on a phone, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from jifen.core.roles import Role
from tests.browser.conftest import PHONE, horizontal_overflow, sign_in
from tests.factories import PASSWORD, DepartmentFactory, EmployeeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_on_a_phone_the_tabs_show_that_more_follow_and_the_current_one_is_in_view(open_page,
                                                                                live_server):
    """At 375 px in English "Adjust points" lay off-screen with no hint the row scrolls."""
    EmployeeFactory(department=DepartmentFactory(code="HQ", name="总部"), employee_no="H001",
                    name="赵人事", roles=[Role.HR_ADMIN])
    page = open_page(PHONE)
    page.context.add_cookies([{"name": "django_language", "value": "en",
                               "url": live_server.url}])
    sign_in(page, "H001", PASSWORD)
    page.goto("/console/ledger/")
    tabs = page.get_by_test_id("ledger-tabs")
    assert tabs.evaluate("el => el.scrollWidth > el.clientWidth")  # the row does scroll
    expect(tabs).to_have_class(re.compile(r"\bjf-more-right\b"))

    page.goto("/console/ledger/adjust/")
    tabs = page.get_by_test_id("ledger-tabs")
    row, current = tabs.bounding_box(), tabs.locator(".active").bounding_box()
    assert row["x"] <= current["x"]
    assert current["x"] + current["width"] <= row["x"] + row["width"] + 1  # sub-pixel
    expect(tabs).not_to_have_class(re.compile(r"\bjf-more-right\b"))  # nothing beyond it
    assert horizontal_overflow(page) == 0
