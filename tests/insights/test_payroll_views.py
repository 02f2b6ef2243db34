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
from jifen.insights.models import BonusPolicy, PayrollPeriod
from jifen.insights.services import payroll
from tests.conftest import login_client
from tests.factories import EmployeeFactory
from tests.ledger.helpers import earn

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
IN_OCT = datetime(2026, 10, 15, 10, 0, tzinfo=SH)


@pytest.fixture
def hr_client(hr_admin):
    return login_client(hr_admin.user)


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
    download = hr_client.get(reverse("console:payroll_export", args=["2026-10"]))
    rows = list(openpyxl.load_workbook(io.BytesIO(download.content)).active.iter_rows(
        values_only=True))
    assert rows[0] == ("No.", "Name")
    assert ("0099", "赵六") in rows
    hr_client.post(url, {"form": "benefit", "fulfilment": ["code"]})
    found = payroll.current_settings()
    assert (found.benefit_enabled, found.benefit_fulfilments) == (False, ["code"])
