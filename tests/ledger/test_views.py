"""The ledger's web pages: My points (balance, history, export) and the console's
adjustments, ledger browser and outstanding points."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from jifen.core.models import AuditEntry
from jifen.core.roles import Role
from jifen.ledger.models import Transaction, TransactionKind
from tests.conftest import login_client
from tests.factories import DepartmentFactory, EmployeeFactory
from tests.ledger.helpers import earn, hold, spend, spendable

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(make_role_employee):
    return make_role_employee(Role.AUDITOR, name="审计员")


def _adjust_audits() -> int:
    return AuditEntry.objects.filter(action="ledger.adjust").count()


# --- My points ---------------------------------------------------------------------------

def test_my_points_shows_own_balance_and_history_only(employee, department):
    other = EmployeeFactory(department=department)
    earn(employee, 120, reason="分享会讲师")
    spend(employee, 20, reason="兑换咖啡")
    hold(employee, 30)
    earn(other, 999, reason="别人的积分")
    earn(employee, 5, reason="即将过期", expires_at=timezone.now() + timedelta(days=10))

    response = login_client(employee.user).get(reverse("portal:points"))

    assert response.status_code == 200
    body = response.content.decode()
    assert response.context["spendable"] == "75"
    assert response.context["held"] == "30"
    assert response.context["expiring_30"] == "5"
    reasons = [line["reason"] for line in response.context["lines"]]
    assert "分享会讲师" in reasons and "兑换咖啡" in reasons
    assert "别人的积分" not in body
    spent = next(line for line in response.context["lines"] if line["reason"] == "兑换咖啡")
    assert spent["amount_text"] == "−20"
    assert spent["balance_after"] == "100"
    assert "text-danger" in body and "text-success" in body


def test_my_points_lists_points_expiring_within_90_days_with_dates(employee):
    soon = timezone.now() + timedelta(days=45)
    earn(employee, 40, expires_at=soon)
    earn(employee, 60, expires_at=timezone.now() + timedelta(days=200))

    response = login_client(employee.user).get(reverse("portal:points"))

    assert response.context["expiring_30"] == "0"
    assert response.context["expiring_90"] == "40"
    assert [e["amount"] for e in response.context["expiring"]] == ["40"]
    assert timezone.localtime(soon).strftime("%Y-%m-%d") in response.content.decode()


def test_my_points_filters_by_kind(employee):
    earn(employee, 50, reason="学习")
    spend(employee, 10, reason="兑换")

    response = login_client(employee.user).get(reverse("portal:points"),
                                               {"kind": TransactionKind.REDEEM})

    assert [line["reason"] for line in response.context["lines"]] == ["兑换"]


def test_my_points_filters_by_date_range(employee):
    now = timezone.now()
    earn(employee, 10, reason="上个月", now=now - timedelta(days=40))
    earn(employee, 20, reason="本周", now=now - timedelta(days=2))
    since = timezone.localtime(now - timedelta(days=7)).date().isoformat()

    response = login_client(employee.user).get(reverse("portal:points"), {"since": since})

    assert [line["reason"] for line in response.context["lines"]] == ["本周"]


def test_a_cause_the_page_does_not_know_is_named_other_not_by_its_code(employee):
    earn(employee, 50, cause=("vendor.bonus", "1"))

    client = login_client(employee.user)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("portal:points"))

    assert page.context["lines"][0]["description"] == "Earned"
    assert "vendor.bonus" not in page.content.decode()


def test_my_points_history_query_count_is_bounded(employee, django_assert_max_num_queries):
    for n in range(30):
        earn(employee, 10 + n, reason=f"活动{n}")
    client = login_client(employee.user)
    client.get(reverse("portal:points"))  # warm caches (site settings, policy)

    # session, user, employee, groups, balance, history page + count, unread notifications,
    # the mall's window (for points that would expire while it is closed), the running
    # balances (one aggregate)…
    with django_assert_max_num_queries(11):
        response = client.get(reverse("portal:points"), {"page": 2})

    assert len(response.context["lines"]) == 10


def test_my_points_without_an_employee_shows_an_empty_state(db):
    from tests.factories import UserFactory

    user = UserFactory(roles=[Role.EMPLOYEE])

    response = login_client(user).get(reverse("portal:points"))

    assert response.status_code == 200
    assert "lines" not in response.context


def test_export_csv_contains_exactly_the_filtered_own_rows(employee, department):
    other = EmployeeFactory(department=department)
    earn(employee, 50, reason="学习")
    earn(employee, 30, reason="团队")
    spend(employee, 10, reason="兑换咖啡")
    earn(other, 77, reason="别人的")

    response = login_client(employee.user).get(
        reverse("portal:points_export", args=["csv"]), {"kind": TransactionKind.EARN})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 3  # header + the two earnings
    assert sorted(row[3] for row in rows[1:]) == ["团队", "学习"]
    assert sorted(row[4] for row in rows[1:]) == ["30", "50"]


def test_an_export_with_a_malformed_filter_sends_back_to_the_filter(employee):
    earn(employee, 50, reason="学习")
    client = login_client(employee.user)

    response = client.get(reverse("portal:points_export", args=["csv"]), {"since": "上周"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:points") + "?since=")
    page = client.get(response["Location"])
    assert page.context["form"].errors["since"]
    assert [m.level_tag for m in page.context["messages"]] == ["error"]


def test_export_xlsx_contains_exactly_the_filtered_own_rows(employee, department):
    earn(employee, 50, reason="学习")
    spend(employee, 10, reason="兑换咖啡")
    earn(EmployeeFactory(department=department), 77, reason="别人的")

    response = login_client(employee.user).get(
        reverse("portal:points_export", args=["xlsx"]), {"kind": TransactionKind.REDEEM})

    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][3] == "兑换咖啡"
    assert rows[1][4] == -10
    assert rows[1][5] == 40


def test_a_reason_that_looks_like_a_formula_stays_text_in_the_export(employee):
    earn(employee, 50, reason='=HYPERLINK("http://evil.example","x")')

    response = login_client(employee.user).get(reverse("portal:points_export", args=["xlsx"]))

    cell = load_workbook(io.BytesIO(response.content)).active.cell(row=2, column=4)
    assert cell.data_type == "s"
    assert cell.value == '\'=HYPERLINK("http://evil.example","x")'


def test_export_of_an_unknown_format_is_404(employee):
    response = login_client(employee.user).get(reverse("portal:points_export", args=["pdf"]))

    assert response.status_code == 404


# --- console permissions -----------------------------------------------------------------

CONSOLE_PAGES = ["console:ledger", "console:ledger_accounts", "console:outstanding",
                 "console:adjust"]


@pytest.mark.parametrize("name", CONSOLE_PAGES)
def test_an_employee_gets_403_on_ledger_console_pages(employee, name):
    response = login_client(employee.user).get(reverse(name))

    assert response.status_code == 403


def test_an_employee_gets_403_on_a_transaction_page(employee):
    txn = earn(employee, 10)

    response = login_client(employee.user).get(
        reverse("console:ledger_transaction", args=[txn.pk]))

    assert response.status_code == 403


def test_an_auditor_browses_the_ledger(auditor, employee):
    txn = earn(employee, 80, reason="季度之星")
    spend(employee, 30, reason="兑换耳机")
    client = login_client(auditor.user)

    listing = client.get(reverse("console:ledger"), {"employee": employee.employee_no})
    detail = client.get(reverse("console:ledger_transaction", args=[txn.pk]))
    accounts = client.get(reverse("console:ledger_accounts"),
                          {"q": employee.employee_no, "kind": "wallet"})
    outstanding = client.get(reverse("console:outstanding"))

    assert listing.status_code == 200
    assert {row["txn"].reason for row in listing.context["rows"]} == {"季度之星", "兑换耳机"}
    assert detail.status_code == 200
    assert "季度之星" in detail.content.decode()
    assert accounts.status_code == 200
    assert [row["balance"] for row in accounts.context["rows"]] == ["50"]
    assert outstanding.status_code == 200
    assert outstanding.context["totals"]["spendable"] == "50"


def test_outstanding_per_head_divides_by_the_department_headcount(auditor):
    # Three colleagues, one holding 90 points: 30 a head, not 90; a leaver is not a head.
    team = DepartmentFactory()
    holder, _idle, _other = (EmployeeFactory(department=team) for _n in range(3))
    EmployeeFactory(department=team, status="left")
    earn(holder, 90)
    response = login_client(auditor.user).get(reverse("console:outstanding"))
    [row] = [r for r in response.context["departments"] if r["department_id"] == team.pk]
    assert (row["employees"], row["headcount"], row["per_head"]) == (1, 3, "30")


def test_the_transaction_list_filters_by_employee_and_kind(auditor, employee, department):
    other = EmployeeFactory(department=department, name="李娜")
    earn(employee, 10, reason="张的")
    earn(other, 10, reason="李的")
    spend(other, 5, reason="李的兑换")
    client = login_client(auditor.user)

    by_name = client.get(reverse("console:ledger"), {"employee": "李娜"})
    by_kind = client.get(reverse("console:ledger"), {"kind": TransactionKind.REDEEM})

    assert {row["txn"].reason for row in by_name.context["rows"]} == {"李的", "李的兑换"}
    assert [row["txn"].reason for row in by_kind.context["rows"]] == ["李的兑换"]


def test_a_transaction_page_shows_the_lots_it_consumed(auditor, employee):
    first = earn(employee, 30)
    earn(employee, 50)
    redeem = spend(employee, 40)

    response = login_client(auditor.user).get(
        reverse("console:ledger_transaction", args=[redeem.pk]))

    consumed = response.context["consumed"]
    assert [row["amount"] for row in consumed] == ["30", "10"]
    assert consumed[0]["use"].lot.source_transaction_id == first.pk
    assert len(response.context["entries"]) == 2


def test_an_auditor_cannot_adjust(auditor, employee):
    earn(employee, 10)
    client = login_client(auditor.user)

    shown = client.get(reverse("console:adjust"))
    posted = client.post(reverse("console:adjust"), {
        "employee": employee.employee_no, "amount": "100", "reason": "试试", "key": "k1",
        "confirm": "1"})

    assert shown.status_code == 403
    assert posted.status_code == 403
    assert spendable(employee) == 10
    assert _adjust_audits() == 0


def test_outstanding_shows_totals_and_departments_per_head(auditor, employee, department):
    other = EmployeeFactory(department=department)
    earn(employee, 100, expires_at=timezone.now() + timedelta(days=10))
    earn(other, 50)
    hold(other, 20)

    response = login_client(auditor.user).get(reverse("console:outstanding"))

    totals = response.context["totals"]
    assert (totals["spendable"], totals["held"], totals["expiring_30"]) == ("130", "20", "100")
    [row] = response.context["departments"]
    assert row["department_name"] == department.name
    assert row["per_head"] == "43"  # 130 over three: the auditor works there too


# --- adjustments -------------------------------------------------------------------------

def test_the_adjust_page_finds_employees_by_number_or_name(hr_admin, employee):
    client = login_client(hr_admin.user)

    by_name = client.get(reverse("console:adjust"), {"q": "张"})
    by_number = client.get(reverse("console:adjust"), {"q": employee.employee_no})

    assert employee in by_name.context["found"]
    assert employee in by_number.context["found"]


def test_hr_admin_adjusts_with_confirmation_once_even_when_confirmed_twice(hr_admin, employee):
    earn(employee, 100)
    client = login_client(hr_admin.user)
    shown = client.get(reverse("console:adjust"), {"employee": employee.employee_no})
    key = shown.context["form"]["key"].value()
    assert key
    data = {"employee": employee.employee_no, "amount": "-30", "reason": "多发更正",
            "key": key}

    review = client.post(reverse("console:adjust"), data)

    assert review.status_code == 200
    assert review.context["current"] == "100"
    assert review.context["result"] == "70"
    assert spendable(employee) == 100  # nothing moves before the confirmation
    assert _adjust_audits() == 0

    first = client.post(reverse("console:adjust"), {**data, "confirm": "1"})
    second = client.post(reverse("console:adjust"), {**data, "confirm": "1"})

    assert first.status_code == 302 and second.status_code == 302
    assert first["Location"] == second["Location"]
    notices = [str(m) for m in second.wsgi_request._messages]
    assert any("已经" in m or "already" in m for m in notices)
    assert spendable(employee) == 70
    assert _adjust_audits() == 1
    assert Transaction.objects.filter(kind=TransactionKind.ADJUST).count() == 1
    detail = client.get(first["Location"])
    assert "多发更正" in detail.content.decode()


def test_a_positive_adjustment_credits_the_employee(hr_admin, employee):
    client = login_client(hr_admin.user)

    client.post(reverse("console:adjust"), {
        "employee": employee.employee_no, "amount": "25", "reason": "补发", "key": "abc",
        "confirm": "1"})

    assert spendable(employee) == 25


@pytest.mark.parametrize("amount", ["0", "abc", "1.5", "", "1e30"])
def test_a_bad_amount_shows_an_error_and_changes_nothing(hr_admin, employee, amount):
    earn(employee, 10)
    client = login_client(hr_admin.user)

    response = client.post(reverse("console:adjust"), {
        "employee": employee.employee_no, "amount": amount, "reason": "更正", "key": "k",
        "confirm": "1"})

    assert response.status_code == 200
    assert response.context["form"].errors["amount"]
    assert "invalid-feedback" in response.content.decode()
    assert spendable(employee) == 10
    assert _adjust_audits() == 0


@pytest.mark.parametrize("amount", ["99999999999999999999", "1000000000000001",
                                    "0.0000001", "1e-30", "1e999"])
def test_an_amount_out_of_range_says_so_in_plain_words(hr_admin, employee, amount):
    """Django's own message spoke of digits before the decimal point, on a site of whole
    points."""
    client = login_client(hr_admin.user)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("console:adjust"), {
        "employee": employee.employee_no, "amount": amount, "reason": "更正", "key": "k"})
    errors = response.context["form"].errors["amount"]
    assert not any("digit" in e or "decimal point" in e for e in errors), errors
    assert ("too large" in errors[0]) is (abs(float(amount)) > 1), errors
    assert spendable(employee) == 0


def test_taking_more_than_the_balance_shows_an_error_and_changes_nothing(hr_admin, employee):
    earn(employee, 10)
    client = login_client(hr_admin.user)
    data = {"employee": employee.employee_no, "amount": "-50", "reason": "更正", "key": "k"}

    review = client.post(reverse("console:adjust"), data)
    forced = client.post(reverse("console:adjust"), {**data, "confirm": "1"})

    assert review.context["form"].errors["amount"]
    assert forced.status_code == 200
    assert forced.context["form"].non_field_errors()
    assert spendable(employee) == 10
    assert _adjust_audits() == 0


def test_a_missing_reason_shows_an_error_and_changes_nothing(hr_admin, employee):
    client = login_client(hr_admin.user)

    response = client.post(reverse("console:adjust"), {
        "employee": employee.employee_no, "amount": "10", "reason": "   ", "key": "k",
        "confirm": "1"})

    assert response.context["form"].errors["reason"]
    assert spendable(employee) == 0


def test_the_ledger_pages_speak_chinese_by_default(hr_admin, employee):
    earn(employee, 10)
    portal = login_client(employee.user).get(reverse("portal:points")).content.decode()
    console = login_client(hr_admin.user).get(reverse("console:outstanding")).content.decode()

    assert "我的积分" in portal and "未来 90 天内过期" in portal
    assert "未兑付积分" in console and "人均" in console


# --- points that expire while the mall is closed -------------------------------------------

def _mall_open(*periods):
    from jifen.mall.services import save_window

    now = timezone.now()
    save_window(actor=None, name="兑换期", mode="periods", is_default=True,
                periods=[(now + timedelta(days=a), now + timedelta(days=b)) for a, b in periods])


def test_points_expiring_before_the_mall_reopens_are_flagged(employee):
    _mall_open((5, 6))  # closed now, opens in five days
    now = timezone.now()
    earn(employee, 30, expires_at=now + timedelta(days=2))
    earn(employee, 70, expires_at=now + timedelta(days=10))

    page = login_client(employee.user).get(reverse("portal:points"))

    warning = page.context["lost_to_window"]
    assert warning["amount"] == "30" and warning["closes_at"] is None
    assert warning["opens_at"] > timezone.localtime(now + timedelta(days=4))
    assert 'data-testid="window-warning"' in page.content.decode()


def test_points_expiring_after_the_mall_closes_say_when_to_spend_them(employee):
    _mall_open((-1, 3), (10, 12))  # open now until day 3, then again from day 10
    now = timezone.now()
    earn(employee, 10, expires_at=now + timedelta(days=2))  # spendable while open
    earn(employee, 20, expires_at=now + timedelta(days=5))  # lost in the gap
    earn(employee, 40, expires_at=now + timedelta(days=11))  # spendable after it reopens

    warning = login_client(employee.user).get(reverse("portal:points")).context[
        "lost_to_window"]

    assert warning["amount"] == "20"
    assert warning["closes_at"] < timezone.localtime(now + timedelta(days=3, minutes=1))


def test_an_always_open_mall_warns_of_nothing(employee):
    earn(employee, 30, expires_at=timezone.now() + timedelta(days=2))
    page = login_client(employee.user).get(reverse("portal:points"))
    assert page.context["lost_to_window"] is None
    assert 'data-testid="window-warning"' not in page.content.decode()
