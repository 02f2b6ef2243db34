"""Console tables on a 375 px phone: no cell squeezed below about three characters (names one
character per line), no page wider than the screen, no tab row cut off, and any table that
still scrolls sideways says so (a fade at the edge and a "scroll →" hint above it). The
pages are those of test_accessibility (every console URL name), and axe checks them at this
width too."""

from __future__ import annotations

import pytest

from tests.browser.axe import serious_violations
from tests.browser.conftest import PHONE, horizontal_overflow
from tests.browser.test_accessibility import (
    _signed_in,
    pages_for,
    site,  # noqa: F401 - the demo company fixture
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

_MEASURE = """() => {
  const found = [];
  const where = (el) => el.tagName.toLowerCase() + (el.className ? "." +
    String(el.className).trim().split(/\\s+/).join(".") : "");
  const visible = (el) => el.offsetParent !== null || getComputedStyle(el).position === "fixed";
  // Cells: room for the first three characters of their text on one line, measured in the
  // cell's own font.
  const pen = document.createElement("canvas").getContext("2d");
  for (const cell of document.querySelectorAll("#main td, #main th")) {
    if (!visible(cell)) continue;
    const text = cell.innerText.trim();
    if (!text) continue;
    const style = getComputedStyle(cell);
    const room = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    pen.font = style.font;
    const need = pen.measureText([...text.split(/\\s/)[0]].slice(0, 3).join("")).width;
    if (room + 1 < need) {
      found.push(`a cell ${Math.round(room)}px wide for "${text.slice(0, 30)}" (${where(cell)})`);
    }
  }
  for (const box of document.querySelectorAll("#main *")) {
    if (!visible(box) || box.scrollWidth - box.clientWidth <= 4 || !box.innerText.trim()) continue;
    const overflow = getComputedStyle(box).overflowX;
    const label = `${where(box)} "${box.innerText.trim().slice(0, 40)}"`;
    if (overflow === "auto" || overflow === "scroll") {
      // Still scrolls sideways: it must say so.
      const hint = box.previousElementSibling;
      const marked = box.classList.contains("jf-scrolls") && hint &&
        hint.classList.contains("jf-scroll-hint") && visible(hint);
      // A row of tabs or filters fades out on the right while more follows.
      const row = box.classList.contains("jf-scroll-row") &&
        (box.classList.contains("jf-more-right") ||
         box.scrollWidth - box.clientWidth - box.scrollLeft <= 4);
      if (!marked && !row) found.push(`scrolls sideways without a hint: ${label}`);
    } else if ((overflow === "hidden" || overflow === "clip") &&
               box.querySelector("a, button") && !box.closest(".dropdown-menu")) {
      found.push(`links or buttons cut off: ${label}`);
    }
  }
  return found;
}"""


def test_console_tables_fit_a_phone(browser, live_server, site):  # noqa: F811
    context, page = _signed_in(browser, live_server, PHONE, "admin")
    found = []
    try:
        for name, url in pages_for(site["admin"], console=True, portal=False):
            response = page.goto(url)
            assert response and response.status == 200, f"{name} {url}"
            page.wait_for_load_state("load")
            page.wait_for_timeout(50)
            overflow = horizontal_overflow(page)
            if overflow:
                found.append(f"{name} {url}: the page is {overflow}px wider than the phone")
            found += [f"{name} {url}: {problem}" for problem in page.evaluate(_MEASURE)]
            found += [f"{name} {url}: {problem}" for problem in serious_violations(page)]
    finally:
        context.close()
    assert not found, f"{len(found)} phone layout problems:\n" + "\n".join(found)
