"""In a real browser, on a 375 px phone and a 1280 px desktop, in Chinese and English: the
earning pages fit their width (no page-level sideways scrolling), a long rule badge wraps
instead of being cut off, and the rules table keeps its History button on screen."""

from __future__ import annotations

import pytest

from jifen.earning import services
from jifen.earning.models import Rule
from tests.browser.conftest import DESKTOP, PHONE, horizontal_overflow, sign_in
from tests.earning.conftest import event, ops_team
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DIFFICULTY = {"kind": "table", "field": "difficulty",
              "points": {"low": 50, "medium": 100, "high": 150, "critical": 200}}


@pytest.fixture
def company():
    manager, worker, hr = ops_team()
    delivered = services.create_rule(
        actor=hr.user, reason="上线", name="模块按时交付", event_type="task_delivered",
        category="performance", description="按难度计分：低 50，中 100，高 150，关键 200",
        condition="has(payload.on_time) && payload.on_time", formula=DIFFICULTY)
    services.update_rule(rule=delivered, actor=hr.user, reason="加上上限和过期规则",
                         caps={"month": 400, "year": 2000}, requires_approval=True,
                         approver_role="hr", expiry={"mode": "year_end", "years_after": 1},
                         condition='has(payload.on_time) && payload.on_time && '
                                   '"RD" in employee.department_path')
    services.create_rule(actor=hr.user, reason="上线", name="跨部门协作",
                         event_type="helped_colleague", category="teamwork",
                         formula={"kind": "range", "min": 30, "max": 80})
    services.ingest_events(events=[event(worker, "helped_colleague", {
        "description": "协助其他部门完成上线，并整理了一份很长的交接文档供后续参考使用",
        "other_department": True, "colleague_employee_no": "E002"})])
    return {"manager": manager, "worker": worker, "hr": hr, "rule": delivered}


def open_as(open_page, viewport, username, language):
    page = open_page(viewport)
    sign_in(page, username, PASSWORD)
    page.context.add_cookies([{"name": "django_language", "value": language,
                               "url": page.url}])
    return page


def fits(page, locator) -> bool:
    """The element lies within the viewport's width and shows all of its text."""
    box = locator.bounding_box()
    inner = page.evaluate("window.innerWidth")
    clipped = locator.evaluate("el => el.scrollWidth > el.clientWidth + 1")
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= inner + 1 and (
        not clipped)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_how_to_earn_badge_wraps_on_a_phone(open_page, company, language):
    page = open_as(open_page, PHONE, "E001", language)
    page.goto("/earn/")
    badge = page.get_by_test_id("rule-points").first
    text = badge.inner_text()
    assert ("Difficulty" in text) if language == "en" else ("难度" in text)
    assert "difficulty" not in text
    assert fits(page, badge)
    assert horizontal_overflow(page) == 0


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_rules_table_keeps_history_on_screen_on_a_desktop(open_page, company, language):
    page = open_as(open_page, DESKTOP, "H001", language)
    page.goto("/console/rules/")
    table = page.get_by_test_id("rules-table")
    assert "kind" not in table.inner_text()
    for button in table.locator("a[href$='/history/']").all():
        assert fits(page, button)
    assert horizontal_overflow(page) == 0


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("path", ["/console/rules/", "history", "/console/rules/events/"])
def test_rule_console_pages_fit_a_phone(open_page, company, language, path):
    page = open_as(open_page, PHONE, "H001", language)
    if path == "history":
        path = f"/console/rules/{company['rule'].pk}/history/"
    page.goto(path)
    assert page.locator("h1, h2").first.is_visible()
    assert horizontal_overflow(page) == 0


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_rule_history_speaks_words_and_fits_a_phone(open_page, company, language):
    page = open_as(open_page, PHONE, "H001", language)
    page.goto(f"/console/rules/{company['rule'].pk}/history/")
    changes = page.get_by_test_id("rule-changes").first.inner_text()
    assert "requires_approval" not in changes and '{"' not in changes
    assert ("Requires approval" in changes) if language == "en" else ("需要审批" in changes)
    assert horizontal_overflow(page) == 0


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_approval_queue_shows_labelled_payload_and_fits_a_phone(open_page, company,
                                                                language):
    page = open_as(open_page, PHONE, "M001", language)
    page.goto("/console/rules/approvals/")
    payload = page.get_by_test_id("payload").first.inner_text()
    assert "协助其他部门完成上线" in payload and "other_department" not in payload
    assert ("Other department: Yes" in payload) if language == "en" else (
        "其他部门" in payload and "是" in payload)
    assert horizontal_overflow(page) == 0
    assert Rule.objects.count() == 2
