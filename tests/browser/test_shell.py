"""An employee and an admin use the site in a real browser, on a desktop and on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from jifen.core.models import AuditEntry
from jifen.core.roles import Role
from jifen.people.models import Employee
from tests.browser.conftest import DESKTOP, PHONE, horizontal_overflow, sign_in
from tests.factories import PASSWORD, DepartmentFactory, EmployeeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "375px"])


@pytest.fixture
def company():
    hq = DepartmentFactory(code="HQ", name="总部")
    rd = DepartmentFactory(code="RD", name="研发中心", parent=hq)
    for n in range(12):
        EmployeeFactory(department=rd, employee_no=f"R{n:03d}", name=f"研发同事{n}",
                        email=f"a.very.long.email.address.{n}@subsidiary.example.com")
    return {
        "employee": EmployeeFactory(department=rd, employee_no="E001", name="李小明",
                                    position="前端工程师"),
        "admin": EmployeeFactory(department=hq, employee_no="A001", name="周管理",
                                 roles=[Role.SUPER_ADMIN]),
    }


@VIEWPORTS
def test_an_employee_uses_the_portal_but_not_the_console(open_page, company, viewport):
    page = open_page(viewport)
    sign_in(page, "E001", PASSWORD)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_test_id("greeting")).to_contain_text("李小明")
    expect(page.get_by_test_id("balance-card")).to_be_visible()
    tabbar = page.get_by_test_id("tabbar")
    if viewport is PHONE:
        expect(tabbar).to_be_visible()
        page.locator('.jf-tabbar a[href="/earn/"]').click()
        expect(page).to_have_url(re.compile(r"/earn/$"))
        expect(page.locator(".jf-tabbar a.active")).to_have_attribute("href", "/earn/")
    else:
        expect(tabbar).to_be_hidden()
        page.locator('header nav a[href="/earn/"]').click()
        expect(page).to_have_url(re.compile(r"/earn/$"))
        expect(page.locator("header nav a.active")).to_have_attribute("href", "/earn/")
    assert horizontal_overflow(page) == 0
    expect(page.get_by_test_id("console-link")).to_have_count(0)

    response = page.goto("/console/")
    assert response.status == 403
    expect(page.get_by_test_id("forbidden")).to_be_visible()
    page.goto("/console/people/")
    expect(page.get_by_test_id("forbidden")).to_be_visible()
    assert horizontal_overflow(page) == 0


@VIEWPORTS
def test_an_admin_finds_and_edits_an_employee_then_sees_it_in_the_audit_log(
    open_page, company, viewport
):
    page = open_page(viewport)
    sign_in(page, "A001", PASSWORD)
    page.get_by_test_id("console-link").click()
    expect(page).to_have_url(re.compile(r"/console/$"))

    page.goto("/console/people/")
    expect(page.get_by_test_id("people-table")).to_be_visible()
    assert horizontal_overflow(page) == 0

    # The search narrows the list as one types (htmx), and the address follows.
    page.fill("input[name=q]", "李小明")
    rows = page.locator('[data-testid="people-table"] tbody tr')
    expect(rows).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=%E6%9D%8E"))
    rows.first.locator("a").first.click()
    expect(page.locator(".page-title")).to_have_text("李小明")

    page.get_by_test_id("edit-employee").click()
    expect(page.locator("input[name=name]")).to_have_value("李小明")
    page.fill("input[name=position]", "高级前端工程师")
    page.get_by_test_id("employee-form").locator("button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator(".jf-dl")).to_contain_text("高级前端工程师")
    assert Employee.objects.get(employee_no="E001").position == "高级前端工程师"
    assert horizontal_overflow(page) == 0

    # The audit log, reached through the menu (collapsed behind a toggler on a phone).
    if viewport is PHONE:
        page.locator(".navbar-toggler").click()
        # Clicked only once the menu has finished opening: a link still sliding into place
        # (the menu is longer now) can miss the tap.
        expect(page.locator("#console-menu")).to_have_class(re.compile(r"\bshow\b"))
    page.locator('#console-menu a[href="/console/audit/"]').click()
    expect(page).to_have_url(re.compile(r"/console/audit/$"))
    entry = page.get_by_test_id("audit-entry").filter(
        has=page.locator('[title="employee.update"]')).first
    expect(entry).to_contain_text("李小明")
    expect(entry.locator(".jf-diff-old")).to_contain_text("前端工程师")
    expect(entry.locator(".jf-diff-new")).to_contain_text("高级前端工程师")
    expect(entry).to_contain_text("周管理")
    assert horizontal_overflow(page) == 0
    assert AuditEntry.objects.filter(action="employee.update").count() == 1


def test_the_login_page_says_why_sign_in_failed(open_page, company):
    page = open_page(PHONE)
    sign_in(page, "E001", "wrong-password")
    expect(page.locator(".alert-danger")).to_be_visible()
    expect(page.get_by_test_id("platform-name")).to_have_text("积分商城")
    assert horizontal_overflow(page) == 0


def test_marking_someone_as_left_asks_for_confirmation_first(open_page, company):
    page = open_page(DESKTOP)
    sign_in(page, "A001", PASSWORD)
    leaver = Employee.objects.get(employee_no="R000")
    page.goto(f"/console/people/{leaver.pk}/")
    page.locator('[data-bs-target="#left-modal"]').click()
    dialog = page.locator("#left-modal")
    expect(dialog).to_be_visible()
    dialog.locator("button[data-bs-dismiss=modal]").click()
    expect(dialog).to_be_hidden()
    leaver.refresh_from_db()
    assert leaver.status == "active"

    page.locator('[data-bs-target="#left-modal"]').click()
    page.get_by_test_id("confirm-left").click()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator('[data-bs-target="#left-modal"]')).to_have_count(0)
    leaver.refresh_from_db()
    assert leaver.status == "left" and not leaver.user.is_active


@VIEWPORTS
def test_the_unread_count_sits_whole_inside_the_header_and_is_readable(open_page, company,
                                                                         viewport):
    """It sat half above the top of the window, dark grey on red."""
    from jifen.notifications.services import notify

    for n in range(3):
        notify(recipient=company["employee"].user, kind="earning.recognition",
               params={"name": "李雷", "points": n + 1, "message": f"通知{n}"})
    page = open_page(viewport)
    sign_in(page, "E001", PASSWORD)
    count = page.locator("[data-testid=unread-count]:visible")
    expect(count).to_have_text("3")
    box = count.bounding_box()
    header = page.locator("header").first.bounding_box()
    assert box["y"] >= header["y"] and box["y"] + box["height"] <= header["y"] + header["height"]
    assert count.evaluate("e => getComputedStyle(e).color") == "rgb(255, 255, 255)"
