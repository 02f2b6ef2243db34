"""Auctions in a real browser: on a 375 px phone an employee bids and watches the live price
move when someone else outbids them; an admin creates and publishes an auction in the
console. axe finds nothing serious on either page."""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from jifen.activities.models import ActivityStatus, Auction
from jifen.activities.services import auction as auctions
from jifen.core.roles import Role
from jifen.mall import services as mall
from jifen.mall.models import Fulfilment
from tests.activities.auction_fixtures import fund
from tests.browser.axe import AXE_CONTEXT, serious_violations
from tests.browser.conftest import DESKTOP, PHONE, horizontal_overflow, sign_in
from tests.factories import PASSWORD, DepartmentFactory, EmployeeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("JIFEN_SCREENSHOTS") else Path(tempfile.gettempdir()) / "jifen-screenshots"
)


@pytest.fixture
def people():
    hq = DepartmentFactory(code="HQ", name="总部")
    bidder = EmployeeFactory(department=hq, employee_no="E001", name="李小明")
    rival = EmployeeFactory(department=hq, employee_no="E002", name="王晓红")
    admin = EmployeeFactory(department=hq, employee_no="M001", name="周活动",
                            roles=[Role.MALL_ADMIN])
    fund(bidder, 3000)
    fund(rival, 3000)
    category = mall.save_category(actor=admin.user, name="数码电子")
    item = mall.create_item(actor=admin.user, name="机械键盘", points=800, category=category,
                            status="listed", fulfilment=Fulfilment.SHIPPED, stock=3)
    return {"bidder": bidder, "rival": rival, "admin": admin, "item": item}


def _axe(browser, live_server, viewport, url: str, username: str = "M001") -> list[str]:
    context = browser.new_context(viewport=viewport, base_url=live_server.url, locale="zh-CN",
                                  **AXE_CONTEXT)
    try:
        page = context.new_page()
        sign_in(page, username, PASSWORD)
        page.goto(url)
        return serious_violations(page)
    finally:
        context.close()


def test_an_employee_bids_on_a_phone_and_sees_the_live_price(open_page, people, browser,
                                                             live_server):
    now = timezone.now()
    auction = auctions.create_auction(
        actor=people["admin"].user, title="竞拍：机械键盘", item_id=people["item"].pk,
        starting_price=200, min_increment=20, starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=2), extend_minutes=5,
        description="全新未拆封，Cherry 红轴。")
    auctions.publish_auction(auction=auction, actor=people["admin"].user)
    phone = open_page(PHONE)
    sign_in(phone, "E001", PASSWORD)
    phone.goto(f"/activities/auctions/{auction.pk}/")
    expect(phone.get_by_test_id("auction-price")).to_have_text("200")
    expect(phone.get_by_test_id("bid-amount")).to_have_value("200")
    expect(phone.get_by_test_id("auction-countdown")).to_contain_text(":")
    phone.get_by_test_id("bid-amount").fill("260")
    phone.once("dialog", lambda dialog: dialog.accept())
    phone.get_by_test_id("place-bid").click()
    expect(phone.get_by_test_id("you-lead")).to_be_visible()
    expect(phone.get_by_test_id("auction-price")).to_have_text("260")
    assert horizontal_overflow(phone) == 0

    # Someone else outbids: the page shows it by itself within a few seconds.
    auctions.place_bid(auction=auction, employee=people["rival"], amount=300)
    expect(phone.get_by_test_id("auction-price")).to_have_text("300", timeout=10_000)
    expect(phone.get_by_test_id("you-outbid")).to_be_visible()
    expect(phone.get_by_test_id("bid-amount")).to_have_value("320")
    expect(phone.get_by_test_id("bid-history")).to_contain_text("王**")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.set_viewport_size({"width": 375, "height": 1100})
    phone.screenshot(path=str(SCREENSHOTS / "auction-bid-phone.png"))
    assert _axe(browser, live_server, PHONE, f"/activities/auctions/{auction.pk}/", "E001") == []


def test_an_admin_creates_and_publishes_an_auction_on_a_phone(open_page, people, browser,
                                                              live_server):
    page = open_page(PHONE)
    sign_in(page, "M001", PASSWORD)
    page.goto("/console/activities/auctions/new/")
    now = timezone.localtime()
    page.locator("#id_title").fill("竞拍：机械键盘")
    page.locator("#id_item").select_option(str(people["item"].pk))
    page.locator("#id_starting_price").fill("200")
    page.locator("#id_min_increment").fill("20")
    page.locator("#id_reserve_price").fill("500")
    page.locator("#id_starts_at").fill((now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"))
    page.locator("#id_ends_at").fill((now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
    page.locator("#id_extend_minutes").fill("5")
    assert horizontal_overflow(page) == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "auction-console-new.png"), full_page=True)
    page.get_by_test_id("save-auction").click()
    expect(page.get_by_test_id("publish-auction")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("publish-auction").click()
    expect(page.get_by_test_id("auction-status")).to_be_visible()
    expect(page.get_by_test_id("publish-auction")).to_have_count(0)
    auction = Auction.objects.get()
    assert auction.status == ActivityStatus.PUBLISHED and auction.reserve_price == 500
    assert _axe(browser, live_server, DESKTOP, "/console/activities/auctions/new/") == []
    assert _axe(browser, live_server, PHONE, f"/console/activities/auctions/{auction.pk}/") == []
    assert horizontal_overflow(page) == 0
