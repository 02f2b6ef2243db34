"""Acceptance (issue #12): an HR person builds "training ≥ 2 hours and grade ≠ P1 → 5 points
per hour, max 100 a month" without typing CEL, tries it on a sample and on last month's
events, saves a draft and publishes it; then an event through the intake gives the points."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from jifen.earning import selectors, services
from jifen.earning.models import EventStatus, Rule
from jifen.ledger import services as ledger
from jifen.ledger.selectors import balance
from tests.browser.conftest import DESKTOP, PHONE, sign_in
from tests.earning.conftest import event, ops_team
from tests.factories import PASSWORD, DepartmentFactory, EmployeeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _last_month_events(worker, colleague, junior):
    since, _until = selectors.last_month()
    day = since + timedelta(days=4, hours=10)
    services.ingest_events(events=[
        event(worker, "training_completed", {"course": "安全", "hours": 4},
              when=day.isoformat()[:16]),
        event(worker, "training_completed", {"course": "短课", "hours": 1},
              when=(day + timedelta(days=1)).isoformat()[:16]),
        event(colleague, "training_completed", {"course": "安全", "hours": 3},
              when=(day + timedelta(days=2)).isoformat()[:16]),
        event(junior, "training_completed", {"course": "安全", "hours": 6},
              when=(day + timedelta(days=3)).isoformat()[:16]),
    ])


def _row(page, index: int, field: str, op: str, value: str) -> None:
    row = page.get_by_test_id("condition-row").nth(index)
    row.get_by_test_id("row-field").select_option(field)
    row.get_by_test_id("row-op").select_option(op)
    row.get_by_test_id("row-value").fill(value)


def test_hr_builds_tries_drafts_and_publishes_a_rule_without_cel(open_page, verify_clean):
    if hasattr(ledger, "ensure_company_accounts"):
        ledger.ensure_company_accounts()
    _manager, worker, _hr = ops_team()
    worker.grade = "P3"
    worker.save()
    rd = DepartmentFactory(code="RD", name="研发中心")
    colleague = EmployeeFactory(department=rd, employee_no="E002", name="张伟", grade="P4")
    junior = EmployeeFactory(department=rd, employee_no="E003", name="新人", grade="P1")
    _last_month_events(worker, colleague, junior)

    page = open_page(DESKTOP)
    sign_in(page, "H001", PASSWORD)
    page.goto("/console/rules/new/")
    page.fill("#id_name", "培训学时")
    page.select_option("#id_event_type", "training_completed")
    page.select_option("#id_category", "learning")
    # Only what the chosen formula and approval need is shown; no change reason when new.
    expect(page.locator("#id_approver_role")).to_be_hidden()
    expect(page.locator("#id_condition")).to_be_hidden()
    expect(page.locator("#id_reason")).to_have_count(0)
    page.get_by_test_id("add-row").click()
    _row(page, 0, "payload.hours", "ge", "2")
    page.get_by_test_id("add-row").click()
    _row(page, 1, "employee.grade", "ne", "P1")
    compiled = page.get_by_test_id("compiled-cel")
    expect(compiled).to_contain_text("payload.hours >= 2")
    expect(compiled).to_contain_text('employee.grade != "P1"')
    page.select_option("#id_formula_kind", "per_unit")
    expect(page.locator("#id_min_points")).to_be_hidden()
    expect(page.locator("#id_table")).to_be_hidden()
    page.fill("#id_points", "5")
    page.fill("#id_field", "hours")
    page.fill("#id_cap_month", "100")
    page.check("#id_requires_approval")
    expect(page.locator("#id_approver_role")).to_be_visible()
    page.uncheck("#id_requires_approval")

    # A sample event, as a form: words, not a dict.
    page.fill("#id_sample_employee_no", "E002")
    page.fill("#id_sample__hours", "1")
    page.get_by_test_id("try-rule").click()
    summary = page.get_by_test_id("preview-summary")
    expect(summary).to_contain_text("E002 张伟 · 研发中心")
    expect(summary).to_contain_text("≥ 2")
    page.fill("#id_sample__hours", "3")
    page.get_by_test_id("try-rule").click()
    expect(summary).to_contain_text("+15")
    expect(summary).to_contain_text("85")
    page.fill("#id_sample__hours", "three")
    page.get_by_test_id("try-rule").click()
    expect(page.get_by_test_id("preview")).to_contain_text("小时数")

    # Last month's real events: the worker's 4 hours (20) and 张伟's 3 hours (15).
    page.get_by_test_id("backtest-rule").click()
    backtest = page.get_by_test_id("backtest-summary")
    expect(backtest).to_contain_text("35")
    expect(page.get_by_test_id("backtest")).to_contain_text("研发中心")
    expect(page.get_by_test_id("backtest")).to_contain_text("运营部")

    page.get_by_test_id("save-draft").click()
    expect(page.get_by_test_id("draft-notice")).to_be_visible()
    rule = Rule.objects.get()
    assert rule.is_draft and not rule.active
    assert rule.condition == ('("hours" in payload && payload.hours >= 2) && '
                              '(employee.grade != "P1")')
    # The draft comes back as rows, and scores nothing yet.
    expect(page.get_by_test_id("condition-row")).to_have_count(2)
    now = timezone.localtime().replace(microsecond=0)
    early = services.ingest_events(events=[event(
        worker, "training_completed", {"hours": 3}, when=now.isoformat()[:16])])
    assert early[0].status == EventStatus.REJECTED

    page.get_by_test_id("save-rule").click()
    expect(page.get_by_test_id("rule-history")).to_contain_text("v1")
    rule.refresh_from_db()
    assert rule.version == 1 and rule.active and rule.draft is None

    before = balance(employee=worker).spendable
    results = services.ingest_events(events=[event(
        worker, "training_completed", {"hours": 3}, when=now.isoformat()[:16])])
    assert results[0].status == EventStatus.CREDITED
    assert balance(employee=worker).spendable - before == 15
    verify_clean()


def test_the_builder_fits_a_phone(open_page):
    ops_team()
    page = open_page(PHONE)
    sign_in(page, "H001", PASSWORD)
    page.goto("/console/rules/new/")
    page.select_option("#id_event_type", "training_completed")
    page.get_by_test_id("add-row").click()
    expect(page.get_by_test_id("condition-row")).to_have_count(1)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
