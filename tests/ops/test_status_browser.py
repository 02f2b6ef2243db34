"""The system status page in a real browser: on a 375 px phone it fits, shows a running and
a stopped worker, retries a failed task, and axe finds nothing serious (issue #19)."""

from __future__ import annotations

import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks import task
from playwright.sync_api import expect

from jifen.core.observability import services
from jifen.core.roles import Role
from tests.browser.axe import AXE_CONTEXT, serious_violations
from tests.browser.conftest import DESKTOP, PHONE, horizontal_overflow, sign_in
from tests.factories import PASSWORD, EmployeeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("JIFEN_SCREENSHOTS") else Path(tempfile.gettempdir()) / "jifen-screenshots"
)


@task()
def send_payroll_file(month: str) -> None:
    raise ConnectionError(f"payroll server unreachable for {month}")


@pytest.fixture
def system(db):
    admin = EmployeeFactory(name="超级管理员", roles=[Role.SUPER_ADMIN])
    now = timezone.now()
    services.beat(worker_id="app-a:4121:1f2e", started_at=now - timedelta(hours=5),
                  now=now - timedelta(seconds=4))
    services.beat(worker_id="app-b:977:9c0d", started_at=now - timedelta(hours=5),
                  now=now - timedelta(minutes=3))
    send_payroll_file.enqueue("2026-11")
    call_command("worker", batch=True, no_periodic=True, verbosity=0)
    send_payroll_file.enqueue("2026-12")  # waits in the queue
    return admin


def test_a_super_admin_reads_the_status_and_retries_a_failed_task_on_a_phone(open_page, system):
    phone = open_page(PHONE)
    sign_in(phone, system.user.username, PASSWORD)
    phone.goto("/console/system/")
    expect(phone.get_by_test_id("worker")).to_have_count(2)
    expect(phone.get_by_test_id("worker-stopped")).to_have_count(1)
    expect(phone.get_by_test_id("readiness")).to_be_visible()
    expect(phone.get_by_test_id("queue")).to_contain_text("send_payroll_file")
    assert horizontal_overflow(phone) == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.set_viewport_size({"width": 375, "height": 1600})
    phone.screenshot(path=str(SCREENSHOTS / "system-status.png"), full_page=True)
    phone.get_by_test_id("retry").click()
    phone.wait_for_url("**/console/system/")
    expect(phone.get_by_role("alert")).to_have_class(re.compile("alert-success"))
    expect(phone.get_by_test_id("queue")).to_contain_text(": 2")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_status_page_passes_axe(browser, live_server, system, viewport):
    context = browser.new_context(viewport=viewport, base_url=live_server.url, locale="zh-CN",
                                  **AXE_CONTEXT)
    page = context.new_page()
    sign_in(page, system.user.username, PASSWORD)
    assert page.goto("/console/system/").status == 200
    page.wait_for_load_state("load")
    found = serious_violations(page)
    assert page.locator("h1").count() == 1
    context.close()
    assert not found, "\n".join(map(str, found))
