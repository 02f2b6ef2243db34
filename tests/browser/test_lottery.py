"""Lotteries in a real browser: on a 375 px phone an employee enters a lottery; HR creates
one in the console with the plain form (no code); the public verifier recomputes a finished
draw with WebCrypto and agrees — and disagrees once the published data is tampered with."""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from jifen.activities.models import ActivityStatus, Entry, Lottery
from jifen.activities.services import lottery as services
from jifen.core.roles import Role
from tests.activities.conftest import fund, make_lottery, spendable
from tests.browser.axe import AXE_CONTEXT, serious_violations
from tests.browser.conftest import PHONE, horizontal_overflow, sign_in
from tests.factories import PASSWORD, DepartmentFactory, EmployeeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("JIFEN_SCREENSHOTS") else Path(tempfile.gettempdir()) / "jifen-screenshots"
)


@pytest.fixture
def axe_page(browser, live_server):
    """axe_page(username) → a signed-in phone page whose context lets axe in (the page's
    own CSP would refuse its script; see tests/browser/axe.py)."""
    contexts = []

    def open_(username: str):
        context = browser.new_context(viewport=PHONE, base_url=live_server.url,
                                      locale="zh-CN", **AXE_CONTEXT)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        sign_in(page, username, PASSWORD)
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def people():
    from jifen.ledger import services as ledger
    ledger.ensure_company_accounts()
    hq = DepartmentFactory(code="HQ", name="总部")
    employee = EmployeeFactory(department=hq, employee_no="E001", name="李小明")
    admin = EmployeeFactory(department=hq, employee_no="H001", name="王人事",
                            roles=[Role.HR_ADMIN])
    fund(employee, 100)
    return employee, admin


def test_an_employee_enters_a_lottery_on_a_phone(open_page, axe_page, people):
    employee, admin = people
    lottery = make_lottery(admin.user, title="年会抽奖", entry_cost=10, entry_limit=2,
                           tiers=[{"name": "一等奖 · 1000 积分", "kind": "points",
                                   "points": 1000, "quantity": 1},
                                  {"name": "年会纪念品", "kind": "custom", "quantity": 10}])
    phone = open_page(PHONE)
    sign_in(phone, "E001", PASSWORD)
    phone.goto(f"/activities/lotteries/{lottery.pk}/")
    expect(phone.get_by_test_id("lottery-title")).to_contain_text("年会抽奖")
    expect(phone.get_by_test_id("countdown")).to_be_visible()
    assert horizontal_overflow(phone) == 0
    checked = axe_page("E001")
    checked.goto(f"/activities/lotteries/{lottery.pk}/")
    assert serious_violations(checked) == []
    checked.get_by_test_id("enter").click()
    expect(checked.get_by_test_id("confirm-entry")).to_be_visible()
    assert serious_violations(checked) == []
    phone.get_by_test_id("enter").click()
    with phone.expect_navigation():
        phone.get_by_test_id("confirm-entry").click()
    expect(phone.get_by_test_id("my-entries")).to_contain_text("#")
    assert Entry.objects.filter(lottery=lottery, employee=employee).count() == 1
    assert spendable(employee) == 90
    checked.goto(f"/activities/lotteries/{lottery.pk}/")
    assert serious_violations(checked) == []  # with "my entries"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # A tall phone rather than a full-page shot, which paints the fixed tab bar midway.
    phone.set_viewport_size({"width": 375, "height": 1400})
    phone.screenshot(path=str(SCREENSHOTS / "lottery-enter.png"))


def test_hr_creates_a_lottery_in_the_console_without_code(open_page, axe_page, people):
    phone = open_page(PHONE)
    sign_in(phone, "H001", PASSWORD)
    checked = axe_page("H001")
    checked.goto("/console/activities/lotteries/new/")
    assert serious_violations(checked) == []
    phone.goto("/console/activities/lotteries/new/")
    now = timezone.localtime()
    phone.get_by_label("标题").fill("中秋抽奖")
    phone.locator("input[name=starts_at]").fill((now - timedelta(minutes=5)).strftime(
        "%Y-%m-%dT%H:%M"))
    phone.locator("input[name=ends_at]").fill((now + timedelta(days=3)).strftime(
        "%Y-%m-%dT%H:%M"))
    phone.locator("input[name=entry_cost]").fill("20")
    phone.get_by_test_id("tier-1-name").fill("一等奖")
    phone.get_by_test_id("tier-1-kind").select_option("points")
    phone.get_by_test_id("tier-1-points").fill("500")
    phone.get_by_test_id("tier-1-quantity").fill("1")
    phone.get_by_test_id("tier-2-name").fill("月饼礼盒")
    phone.get_by_test_id("tier-2-kind").select_option("custom")
    phone.get_by_test_id("tier-2-quantity").fill("20")
    phone.on("dialog", lambda dialog: dialog.accept())
    with phone.expect_navigation():
        phone.get_by_test_id("save-publish").click()
    expect(phone.get_by_test_id("lottery-status")).to_be_visible()
    lottery = Lottery.objects.get(title="中秋抽奖")
    assert lottery.status == ActivityStatus.PUBLISHED and lottery.entry_cost == 20
    assert [(t.name, t.quantity) for t in lottery.tiers.all()] == [("一等奖", 1),
                                                                   ("月饼礼盒", 20)]
    assert horizontal_overflow(phone) == 0
    checked.goto(f"/console/activities/lotteries/{lottery.pk}/")
    assert serious_violations(checked) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # A tall phone rather than a full-page shot, which paints the fixed tab bar midway.
    phone.set_viewport_size({"width": 375, "height": 1400})
    phone.screenshot(path=str(SCREENSHOTS / "lottery-console.png"))


def test_the_verifier_agrees_and_disagrees_when_tampered(open_page, axe_page, people):
    employee, admin = people
    lottery = make_lottery(admin.user, title="周年抽奖", entry_cost=0,
                           tiers=[{"name": "一等奖", "kind": "points", "points": 100,
                                   "quantity": 1},
                                  {"name": "二等奖", "kind": "custom", "quantity": 2}])
    services.enter_lottery(lottery=lottery, employee=employee)
    for n in range(7):
        services.enter_lottery(lottery=lottery, employee=EmployeeFactory(employee_no=f"X{n}"))
    past = timezone.now() - timedelta(seconds=1)
    Lottery.objects.filter(pk=lottery.pk).update(ends_at=past, draw_at=past)
    phone = open_page(PHONE)
    sign_in(phone, "E001", PASSWORD)
    phone.goto(f"/activities/lotteries/{lottery.pk}/verify/")  # the lazy draw happens here
    expect(phone.get_by_test_id("seed")).to_be_visible()
    expect(phone.get_by_test_id("my-entry-ids")).to_be_visible()
    phone.get_by_test_id("verify-run").click()
    verdict = phone.get_by_test_id("verdict")
    expect(verdict).to_have_attribute("data-result", "agree")
    assert horizontal_overflow(phone) == 0
    checked = axe_page("E001")
    checked.goto(f"/activities/lotteries/{lottery.pk}/verify/")
    checked.get_by_test_id("verify-run").click()
    expect(checked.get_by_test_id("verdict")).to_have_attribute("data-result", "agree")
    assert serious_violations(checked) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # A tall phone rather than a full-page shot, which paints the fixed tab bar midway.
    phone.set_viewport_size({"width": 375, "height": 1400})
    phone.screenshot(path=str(SCREENSHOTS / "lottery-verify.png"))
    # Tamper with the published entry list: drop the first entry.
    phone.evaluate("""() => {
      const node = document.getElementById("lottery-proof");
      const proof = JSON.parse(node.textContent);
      proof.entries = proof.entries.slice(1);
      node.textContent = JSON.stringify(proof);
    }""")
    phone.get_by_test_id("verify-run").click()
    expect(verdict).to_have_attribute("data-result", "disagree")
    # And the seed.
    phone.evaluate("""() => {
      const node = document.getElementById("lottery-proof");
      const proof = JSON.parse(node.textContent);
      proof.seed = "ab".repeat(32);
      node.textContent = JSON.stringify(proof);
    }""")
    phone.get_by_test_id("verify-run").click()
    expect(verdict).to_have_attribute("data-result", "disagree")
    expect(phone.locator('[data-check="seed"]')).to_have_class("text-danger")


def test_the_verifier_agrees_on_an_instant_win_lottery(open_page, people):
    employee, admin = people
    lottery = make_lottery(admin.user, title="即开抽奖", entry_cost=0, mode="instant",
                           entry_slots=12,
                           tiers=[{"name": "一等奖", "kind": "custom", "quantity": 1},
                                  {"name": "二等奖", "kind": "points", "points": 10,
                                   "quantity": 3}])
    services.enter_lottery(lottery=lottery, employee=employee)
    for n in range(9):
        services.enter_lottery(lottery=lottery, employee=EmployeeFactory(employee_no=f"Y{n}"))
    past = timezone.now() - timedelta(seconds=1)
    Lottery.objects.filter(pk=lottery.pk).update(ends_at=past)
    phone = open_page(PHONE)
    sign_in(phone, "E001", PASSWORD)
    phone.goto(f"/activities/lotteries/{lottery.pk}/verify/")
    expect(phone.get_by_test_id("seed")).to_be_visible()
    phone.get_by_test_id("verify-run").click()
    expect(phone.get_by_test_id("verdict")).to_have_attribute("data-result", "agree")
