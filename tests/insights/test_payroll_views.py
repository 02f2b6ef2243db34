"""Payroll console pages: who sees them, closing and reopening from the page, settings
forms (policy, columns, benefit) and the download."""

from __future__ import annotations

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.urls import reverse

from jifen.core.roles import Role
from jifen.insights.models import BonusPolicy, PayrollExport, PayrollPeriod
from jifen.insights.services import payroll, payroll_exports
from tests.conftest import login_client
from tests.factories import EmployeeFactory
from tests.ledger.helpers import earn

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
IN_OCT = datetime(2026, 10, 15, 10, 0, tzinfo=SH)


@pytest.fixture
def hr_client(hr_admin):
    return login_client(hr_admin.user)


def exported(client, month: str) -> bytes:
    """Ask for the spreadsheet on the period page, let the worker build it, download it."""
    asked = client.post(reverse("console:payroll_export", args=[month]))
    assert asked.status_code == 302 and asked["Location"].endswith(f"/{month}/#export")
    job = PayrollExport.objects.latest("id")
    payroll_exports.run_export(job_id=job.pk)
    page = client.get(reverse("console:payroll_period", args=[month])).content.decode()
    file_url = reverse("console:payroll_export", args=[month]) + f"?job={job.pk}"
    assert file_url in page
    return client.get(file_url).content


def test_the_export_is_built_by_the_worker_with_progress_on_the_page(hr_client, hr_admin):
    EmployeeFactory(employee_no="000501", name="李雷")
    month = "2026-10"
    assert hr_client.get(reverse("console:payroll_export", args=[month])).status_code == 404
    hr_client.post(reverse("console:payroll_export", args=[month]))
    hr_client.post(reverse("console:payroll_export", args=[month]))  # a second click
    job = PayrollExport.objects.get()  # one job, not two
    status_url = reverse("console:payroll_period", args=[month]) + f"?export={job.pk}"
    waiting = hr_client.get(reverse("console:payroll_period", args=[month])).content.decode()
    assert 'data-status="queued"' in waiting and status_url in waiting  # polled
    file_url = reverse("console:payroll_export", args=[month]) + f"?job={job.pk}"
    assert hr_client.get(file_url).status_code == 404  # not built yet
    payroll_exports.run_export(job_id=job.pk)
    ready = hr_client.get(status_url).content.decode()
    assert 'data-status="done"' in ready and "hx-get" not in ready
    download = hr_client.get(file_url)
    numbers = [row[0] for row in openpyxl.load_workbook(io.BytesIO(download.content))
               .active.iter_rows(min_row=2, values_only=True)]
    assert "000501" in numbers
    assert job.__class__.objects.get(pk=job.pk).total == len(numbers)
    other_month = reverse("console:payroll_period", args=["2026-09"]) + f"?export={job.pk}"
    assert hr_client.get(other_month).status_code == 404


def test_a_closed_months_file_from_the_worker_is_the_same_bytes(hr_client, hr_admin):
    earn(EmployeeFactory(employee_no="000601"), 40, category="learning", now=IN_OCT)
    payroll.close_period(month=date(2026, 10, 1), actor=hr_admin.user,
                         now=datetime(2026, 11, 2, tzinfo=SH))
    assert exported(hr_client, "2026-10") == payroll.export_xlsx(month=date(2026, 10, 1))


def test_hr_sees_the_months_and_a_months_lines(hr_client, hr_admin):
    payroll.save_policy(actor=hr_admin.user, category="learning", target=200, weight="10")
    earn(EmployeeFactory(employee_no="000777", name="王芳"), 100, category="learning",
         now=IN_OCT)
    assert hr_client.get(reverse("console:payroll")).status_code == 200
    page = hr_client.get(reverse("console:payroll_period", args=["2026-10"]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "000777" in text and "王芳" in text and "0.0500" in text
    assert hr_client.get(reverse("console:payroll_period", args=["2026-13"])).status_code == 404
    picked = hr_client.get(reverse("console:payroll"), {"month": "2026-10"})
    assert picked.url == reverse("console:payroll_period", args=["2026-10"])


def test_managers_and_employees_are_refused(make_role_employee):
    manager = login_client(make_role_employee(Role.MANAGER).user)
    assert manager.get(reverse("console:payroll")).status_code == 403
    auditor = login_client(make_role_employee(Role.AUDITOR).user)
    assert auditor.get(reverse("console:payroll")).status_code == 200
    assert auditor.get(reverse("console:payroll_settings")).status_code == 403
    assert auditor.post(reverse("console:payroll_close", args=["2026-10"])).status_code == 403


def test_closing_and_reopening_from_the_page(hr_client):
    url = reverse("console:payroll_close", args=["2026-10"])
    hr_client.post(url)
    assert PayrollPeriod.objects.get(month=date(2026, 10, 1)).status == "closed"
    page = hr_client.get(reverse("console:payroll_period", args=["2026-10"])).content.decode()
    assert "payroll-close" not in page
    hr_client.post(reverse("console:payroll_reopen", args=["2026-10"]), {"reason": ""})
    assert PayrollPeriod.objects.get(month=date(2026, 10, 1)).status == "closed"
    hr_client.post(reverse("console:payroll_reopen", args=["2026-10"]), {"reason": "补录"})
    assert PayrollPeriod.objects.get(month=date(2026, 10, 1)).status == "open"


def test_settings_forms_change_policy_columns_and_benefit(hr_client):
    url = reverse("console:payroll_settings")
    assert hr_client.get(url).status_code == 200
    hr_client.post(url, {"form": "policy", "category": "learning", "target": "300",
                         "weight": "10", "label": "绩效奖金", "active": "on"})
    policy = BonusPolicy.objects.get(category="learning")
    assert (policy.target, str(policy.weight), policy.active) == (300, "10.0000", True)
    response = hr_client.post(url, {"form": "policy", "category": "learning", "target": "0",
                                    "weight": "10"}, follow=True)
    assert BonusPolicy.objects.get(category="learning").target == 300
    assert response.status_code == 200
    hr_client.post(url, {"form": "columns", "order": ["2", "1", "", ""],
                         "field": ["name", "employee_no", "department", ""],
                         "header": ["Name", "No.", "Dept", ""]})
    EmployeeFactory(employee_no="0099", name="赵六")
    rows = list(openpyxl.load_workbook(io.BytesIO(exported(hr_client, "2026-10")))
                .active.iter_rows(values_only=True))
    assert rows[0] == ("No.", "Name")
    assert ("0099", "赵六") in rows
    hr_client.post(url, {"form": "benefit", "fulfilment": ["code"]})
    found = payroll.current_settings()
    assert (found.benefit_enabled, found.benefit_fulfilments) == (False, ["code"])
