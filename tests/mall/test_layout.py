"""Mall pages on a 375 px phone, in Chinese and in English: no label is squeezed, cut off or
spills out of its button, pill or card, and no page scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from jifen.mall import services
from jifen.mall.models import Fulfilment
from tests.browser.conftest import PHONE, horizontal_overflow, sign_in
from tests.factories import PASSWORD
from tests.mall.conftest import shop_people

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["zh-hans", "en"]

# For every element matched by the selector: is its text wider than its box (cut off or
# spilling out), or does its box reach past the content box of `container` (the closest
# ancestor matching it)? Answers a description of each offender.
_SPILLS = """([selector, container]) => {
  const bad = [];
  for (const el of document.querySelectorAll(selector)) {
    const box = el.getBoundingClientRect();
    if (box.width === 0) continue;
    const label = (el.innerText || el.placeholder || el.tagName).trim().slice(0, 40);
    if (el.scrollWidth > el.clientWidth + 1) {
      bad.push(`${label}: text ${el.scrollWidth}px in a ${el.clientWidth}px box`);
    }
    const outer = container && el.parentElement.closest(container);
    if (outer) {  // the container's content box: its padding is not room for text
      const limit = outer.getBoundingClientRect(), style = getComputedStyle(outer);
      const left = limit.left + parseFloat(style.borderLeftWidth) + parseFloat(style.paddingLeft);
      const right = limit.right - parseFloat(style.borderRightWidth)
        - parseFloat(style.paddingRight);
      if (box.left < left - 1 || box.right > right + 1) {
        bad.push(`${label}: ${box.left}–${box.right} outside ${left}–${right}`);
      }
    }
  }
  return bad;
}"""

# Elements whose text runs over more than one line (an inline box broken across lines
# has one client rect per line).
_BROKEN = """(selector) => [...document.querySelectorAll(selector)]
  .filter((el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
    return tops.size > 1;
  })
  .map((el) => el.innerText.trim())"""

# Elements whose boxes overlap the next one's (pills laid on top of each other).
_OVERLAPS = """(selector) => {
  const boxes = [...document.querySelectorAll(selector)].map((el) => [el.innerText.trim(),
    el.getBoundingClientRect()]);
  const bad = [];
  for (let i = 1; i < boxes.length; i++) {
    const [a, left] = boxes[i - 1], [b, right] = boxes[i];
    if (left.right > right.left + 0.5 && left.top < right.bottom && right.top < left.bottom) {
      bad.push(`${a} / ${b}`);
    }
  }
  return bad;
}"""


def spills(page, selector: str, container: str | None = None) -> list[str]:
    return page.evaluate(_SPILLS, [selector, container])


def phone_page(open_page, live_server, username: str, language: str):
    page = open_page(PHONE)
    page.context.add_cookies([{"name": "django_language", "value": language,
                               "url": live_server.url}])
    sign_in(page, username, PASSWORD)
    return page


@pytest.fixture
def shop(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    employee, admin = shop_people(5000)
    category = services.save_category(actor=admin.user, name="数码电子", slug="digital")
    headphones = services.create_item(actor=admin.user, name="无线蓝牙耳机", category=category,
                                      points=300, fulfilment=Fulfilment.SHIPPED, stock=40,
                                      status="listed")
    order = services.create_order(employee=employee, item=headphones,
                                  idempotency_key="layout-1")
    services.approve_order(order=order, actor=admin.user)
    waiting = services.create_order(employee=employee, item=headphones,
                                    idempotency_key="layout-2")
    return {"employee": employee, "admin": admin, "category": category, "order": order,
            "waiting": waiting}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_order_status_pills_scroll_instead_of_squeezing(open_page, live_server, shop,
                                                            language):
    page = phone_page(open_page, live_server, "E001", language)
    page.goto("/orders/")
    pills = "[data-testid=order-filters] a"
    expect(page.locator(pills)).to_have_count(9)
    assert spills(page, pills) == []  # every label whole ("已取消" was cut off)
    assert page.evaluate(_BROKEN, pills) == []  # and on one line
    assert page.evaluate(_OVERLAPS, pills) == []  # English labels overlapped
    row = page.get_by_test_id("order-filters")
    assert row.evaluate("el => el.scrollWidth > el.clientWidth")  # it scrolls instead
    assert horizontal_overflow(page) == 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_progress_bar_labels_fit_the_card(open_page, live_server, shop, language):
    page = phone_page(open_page, live_server, "E001", language)
    page.goto(f"/orders/{shop['order'].pk}/")
    expect(page.get_by_test_id("progress").locator("> div")).to_have_count(5)
    steps = "[data-testid=progress] > div"
    assert spills(page, steps, ".card-body") == []  # "Completed" ran past the card
    assert page.evaluate(_BROKEN, steps) == []  # and no label is broken mid-word
    assert horizontal_overflow(page) == 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_desk_order_buttons_hold_their_text(open_page, live_server, shop, language):
    page = phone_page(open_page, live_server, "M001", language)
    page.goto(f"/console/mall/orders/{shop['waiting'].pk}/")
    expect(page.get_by_test_id("cancel-with-refund")).to_be_visible()
    actions = "[data-testid=desk-actions] button, [data-testid=desk-actions] input"
    assert spills(page, actions, ".card-body") == []
    # The two reason boxes say which is which, in a label the eye can see.
    for box in ("reject", "cancel"):
        field = page.get_by_test_id(f"{box}-reason")
        label = page.locator(f"label[for='{field.get_attribute('id')}']")
        expect(label).to_be_visible()
        expect(label).not_to_have_text("")
    assert (page.locator("label[for=id_reject_reason]").inner_text()
            != page.locator("label[for=id_cancel_reason]").inner_text())
    assert horizontal_overflow(page) == 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalogue_checkboxes_keep_their_labels_on_one_line(open_page, live_server, shop,
                                                               language):
    page = phone_page(open_page, live_server, "E001", language)
    page.goto(f"/mall/items/?category={shop['category'].pk}")
    labels = "form[role=search] .form-check-label"
    expect(page.locator(labels)).to_have_count(2)
    assert page.evaluate(_BROKEN, labels) == []  # "有 / 货" broke over two lines
    assert spills(page, "form[role=search] label.form-check", "form") == []
    assert horizontal_overflow(page) == 0
