"""In a real browser on a phone (375 px): an employee finds the thanks page from "How to
earn", finds a colleague by name and then by pinyin initials, tags a company value,
@mentions someone and sends; the colleague gets the points and the mention shows."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from jifen.earning import services
from jifen.earning.models import Recognition
from jifen.ledger import services as ledger
from jifen.ledger.selectors import balance
from tests.browser.conftest import PHONE, horizontal_overflow, sign_in
from tests.factories import PASSWORD, DepartmentFactory, EmployeeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_thanking_a_colleague_found_by_name_and_initials_on_a_phone(open_page, verify_clean):
    if hasattr(ledger, "ensure_company_accounts"):
        ledger.ensure_company_accounts()
    services.ensure_company_values()
    rd = DepartmentFactory(code="RD", name="研发中心")
    EmployeeFactory(department=rd, employee_no="E001", name="李雷")
    zhang = EmployeeFactory(department=rd, employee_no="E002", name="张伟")
    han = EmployeeFactory(department=rd, employee_no="E004", name="韩梅梅")
    EmployeeFactory(department=rd, employee_no="E005", name="赵文")

    page = open_page(PHONE)
    sign_in(page, "E001", PASSWORD)
    page.goto("/earn/")
    page.get_by_role("link", name="感谢同事").first.click()
    expect(page).to_have_url(re.compile(r"/earn/thanks/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("感谢同事")
    assert horizontal_overflow(page) == 0

    colleague = page.get_by_role("combobox", name="同事")
    options = page.locator("#jf-recipient-list [role=option]")
    # By name.
    colleague.press_sequentially("张伟")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("张伟")
    expect(options.first).to_contain_text("研发中心")
    # By pinyin initials: 张伟 first; 赵文 (zw too) after.
    colleague.fill("")
    colleague.press_sequentially("zw")
    expect(options).to_have_count(2)
    expect(options.first).to_contain_text("张伟")
    assert horizontal_overflow(page) == 0
    options.first.click()
    expect(page.get_by_test_id("picked")).to_contain_text("张伟")

    page.get_by_label("积分").fill("10")
    page.get_by_test_id("value-tags").get_by_text("团队合作").click()

    message = page.get_by_label("留言")
    message.press_sequentially("谢谢 @hmm")
    mention = page.locator("#jf-mention-list [role=option]")
    expect(mention).to_have_count(1)
    expect(mention.first).to_contain_text("韩梅梅")
    mention.first.click()
    expect(message).to_have_value("谢谢 @韩梅梅 ")
    message.press_sequentially("一起帮我改方案")

    with page.expect_navigation():
        page.get_by_role("button", name="发送感谢").click()
    feed = page.get_by_test_id("recognition-feed")
    first = feed.get_by_test_id("recognition").first
    expect(first).to_contain_text("张伟")
    expect(first).to_contain_text("团队合作")
    expect(first.locator("a.jf-mention")).to_have_text("@韩梅梅")
    assert horizontal_overflow(page) == 0

    gift = Recognition.objects.get()
    assert (gift.recipient, list(gift.mentions.all())) == (zhang, [han])
    assert balance(employee=zhang).spendable == 10

    # The mention links to the thank-yous about 韩梅梅.
    first.locator("a.jf-mention").click()
    expect(page.get_by_role("heading", name=re.compile("韩梅梅"))).to_be_visible()
    expect(page.get_by_test_id("recognition")).to_have_count(1)
    verify_clean()
