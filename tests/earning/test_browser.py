"""In a real browser: an admin writes and edits a rule and sees the diff in its history;
a manager approves a pending award; the employee sees the points and the rule."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from jifen.earning import services
from jifen.earning.models import Rule
from jifen.ledger import services as ledger
from tests.browser.conftest import DESKTOP, sign_in
from tests.earning.conftest import event, ops_team
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rule_edit_approval_and_points_arrive(open_page, verify_clean):
    if hasattr(ledger, "ensure_company_accounts"):
        ledger.ensure_company_accounts()
    _manager, worker, _hr = ops_team()

    page = open_page(DESKTOP)
    sign_in(page, "H001", PASSWORD)
    page.goto("/console/rules/new/")
    page.fill("#id_name", "跨部门协作")
    page.select_option("#id_event_type", "helped_colleague")
    page.select_option("#id_category", "teamwork")
    page.select_option("#id_formula_kind", "range")
    page.fill("#id_min_points", "30")
    page.fill("#id_max_points", "80")
    page.get_by_test_id("save-rule").click()
    expect(page.get_by_test_id("rule-history")).to_contain_text("v1")
    rule = Rule.objects.get()
    page.goto(f"/console/rules/{rule.pk}/")
    page.select_option("#id_sample__other_department", "true")  # the sample is a form
    page.get_by_test_id("try-rule").click()
    expect(page.get_by_test_id("preview")).to_contain_text("30")
    page.fill("#id_max_points", "100")
    page.fill("#id_reason", "上限提高到 100")
    page.get_by_test_id("save-rule").click()
    history = page.get_by_test_id("rule-history")
    expect(history).to_contain_text("v2")
    expect(history).to_contain_text("上限提高到 100")
    expect(history).to_contain_text("30–100")

    services.ingest_events(events=[event(worker, "helped_colleague",
                                         {"other_department": True})])

    manager_page = open_page(DESKTOP)
    sign_in(manager_page, "M001", PASSWORD)
    manager_page.goto("/console/rules/approvals/")
    queue = manager_page.get_by_test_id("approval-queue")
    expect(queue).to_contain_text("李小明")
    queue.locator("input[name=points]").fill("60")
    queue.get_by_test_id("approve").click()
    expect(manager_page.get_by_test_id("approval-queue")).not_to_contain_text("李小明")

    employee_page = open_page(DESKTOP)
    sign_in(employee_page, "E001", PASSWORD)
    employee_page.goto("/earn/")
    expect(employee_page.get_by_test_id("published-rules")).to_contain_text("跨部门协作")
    expect(employee_page.get_by_test_id("my-awards")).to_contain_text("+60")
    verify_clean()
