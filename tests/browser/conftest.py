"""Helpers for browser tests. The ``browser`` and ``open_page`` fixtures live in
tests/conftest.py so that every browser test, in whichever folder, shares one Playwright
session per process (two sync Playwright sessions cannot run in one thread). Mark each
test ``@pytest.mark.browser`` and ``@pytest.mark.django_db(transaction=True)`` (the live
server thread must see the data)."""

from __future__ import annotations

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


def sign_in(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form button[type=submit]")


def horizontal_overflow(page) -> int:
    """How many pixels the page is wider than the viewport (0 when it fits)."""
    return page.evaluate(
        "Math.max(0, document.documentElement.scrollWidth - window.innerWidth)"
    )
