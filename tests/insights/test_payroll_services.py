"""Payroll period export: factor math, benefit value, who gets a line, closing freezes the
numbers, and the xlsx (column mapping, employee numbers as text, same bytes twice)."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from jifen.core import errors
from jifen.core.models import AuditEntry
from jifen.core.roles import Role
from jifen.insights.models import PayrollPeriod
from jifen.insights.services import payroll
from jifen.ledger import services as ledger
from jifen.mall import services as mall
from jifen.mall.models import Fulfilment, ItemStatus
from jifen.people.models import EmployeeStatus
from tests.factories import DepartmentFactory, EmployeeFactory
from tests.ledger.helpers import earn, key

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
OCT = date(2026, 10, 1)
IN_OCT = datetime(2026, 10, 15, 10, 0, tzinfo=SH)
AFTER_OCT = datetime(2026, 11, 3, 9, 0, tzinfo=SH)


@pytest.fixture
def hr(db):
    return EmployeeFactory(employee_no="HR01", name="人事", roles=[Role.HR_ADMIN]).user


@pytest.fixture
def policies(hr):
    payroll.save_policy(actor=hr, category="learning", target=200, weight="10",
                        label="绩效奖金")
    payroll.save_policy(actor=hr, category="teamwork", target=300, weight="5")


def line_of(month, employee_no):
    view = payroll.read_period(month=month, limit=1000)
    return next(line for line in view.lines if line.employee_no == employee_no)


def test_factor_is_min_of_points_over_target_and_one_times_weight_rounded_half_up():
    policy = payroll.Policy(category="learning", target=300, weight=Decimal("10"), label="")
    assert payroll.factor(0, policy) == Decimal("0.0000")
    assert payroll.factor(100, policy) == Decimal("0.0333")   # 100/300 × 10% = 0.03333…
    assert payroll.factor(200, policy) == Decimal("0.0667")   # 0.06666… rounds up
    assert payroll.factor(300, policy) == Decimal("0.1000")   # at target
    assert payroll.factor(900, policy) == Decimal("0.1000")   # over target: capped
    assert payroll.factor(-50, policy) == Decimal("0.0000")   # penalties beyond earnings
    half = payroll.Policy(category="x", target=2000, weight=Decimal("10"), label="")
    assert payroll.factor(1, half) == Decimal("0.0001")        # 0.00005 rounds half up


def test_factors_per_category_and_total_from_a_months_earnings_less_penalties(policies):
    alice = EmployeeFactory(employee_no="000123", name="爱丽丝")
    earn(alice, 150, category="learning", now=IN_OCT)
    earn(alice, 500, category="teamwork", now=IN_OCT)
    ledger.penalize(employee=alice, amount=50, category="learning", idempotency_key=key(),
                    cause=("test.event", key()), now=IN_OCT)
    earn(alice, 999, category="learning", now=AFTER_OCT)  # another month
    line = line_of(OCT, "000123")
    assert line.points["learning"] == 100 and line.points["teamwork"] == 500
    assert line.points["culture"] == 0
    # learning: 100/200 × 10% = 0.05; teamwork: capped at 1 × 5% = 0.05
    assert line.factors == {"learning": Decimal("0.0500"), "teamwork": Decimal("0.0500")}
    assert line.total_factor == Decimal("0.1000")


def test_a_policy_needs_a_target_above_zero_a_known_category_and_a_sane_weight(hr):
    with pytest.raises(errors.ValidationError) as caught:
        payroll.save_policy(actor=hr, category="learning", target=0, weight="10")
    assert caught.value.code == errors.ErrorCode.INVALID_TARGET
    with pytest.raises(errors.ValidationError) as caught:
        payroll.save_policy(actor=hr, category="nope", target=10, weight="10")
    assert caught.value.code == errors.ErrorCode.UNKNOWN_CATEGORY
    for weight in ("0", "100.5", "abc", "1.00001"):
        with pytest.raises(errors.ValidationError) as caught:
            payroll.save_policy(actor=hr, category="learning", target=10, weight=weight)
        assert caught.value.code == errors.ErrorCode.INVALID_VALUE
    payroll.save_policy(actor=hr, category="learning", target=10, weight="12.5")
    assert AuditEntry.objects.filter(action="payroll.policy.save").count() == 1


def make_item(market_value: str, fulfilment: str = Fulfilment.SERVICE, points: int = 100):
    admin = EmployeeFactory(roles=[Role.MALL_ADMIN]).user
    category = mall.save_category(actor=admin, name=f"类别{key()}")
    return mall.create_item(actor=admin, name="耳机", category=category, points=points,
                            status=ItemStatus.LISTED, fulfilment=fulfilment,
                            market_value=Decimal(market_value)), admin


def test_benefit_is_the_market_value_of_rewards_approved_in_the_month(hr):
    bob = EmployeeFactory(employee_no="B1")
    earn(bob, 5000, category="performance", now=datetime(2026, 9, 1, tzinfo=SH))
    item, admin = make_item("199.50")
    pickup, _ = make_item("30.00", fulfilment=Fulfilment.PICKUP)
    two = mall.create_order(employee=bob, item=item, quantity=2, idempotency_key=key(),
                            now=IN_OCT)
    mall.approve_order(order=two, actor=admin, now=IN_OCT)
    rejected = mall.create_order(employee=bob, item=item, idempotency_key=key(), now=IN_OCT)
    mall.reject_order(order=rejected, actor=admin, reason="缺货", now=IN_OCT)
    mall.create_order(employee=bob, item=item, idempotency_key=key(), now=IN_OCT)  # not approved
    delisted, _ = make_item("500.00")
    refunded = mall.create_order(employee=bob, item=delisted, idempotency_key=key(), now=IN_OCT)
    mall.approve_order(order=refunded, actor=admin, now=IN_OCT)
    mall.set_item_status(item=delisted, status=ItemStatus.DELISTED, actor=admin)
    mall.cancel_order(order=refunded, actor=admin, by_owner=False, now=IN_OCT)  # refunded
    other = mall.create_order(employee=bob, item=pickup, idempotency_key=key(), now=IN_OCT)
    mall.approve_order(order=other, actor=admin, now=IN_OCT)
    assert line_of(OCT, "B1").benefit == Decimal("429.00")  # 2 × 199.50 + 30.00
    payroll.save_benefit_setting(actor=hr, enabled=True, fulfilments=[Fulfilment.SERVICE])
    assert line_of(OCT, "B1").benefit == Decimal("399.00")
    payroll.save_benefit_setting(actor=hr, enabled=False, fulfilments=[Fulfilment.SERVICE])
    assert line_of(OCT, "B1").benefit == Decimal("0.00")


def test_every_employee_of_the_month_gets_a_line_even_with_nothing():
    EmployeeFactory(employee_no="A1")  # active, nothing: zeros
    EmployeeFactory(employee_no="L1", status=EmployeeStatus.LEFT, left_on=date(2026, 10, 20))
    EmployeeFactory(employee_no="L0", status=EmployeeStatus.LEFT, left_on=date(2026, 9, 20))
    EmployeeFactory(employee_no="N1", hire_date=date(2026, 11, 2))
    numbers = [line.employee_no for line in payroll.read_period(month=OCT).lines]
    assert numbers == ["A1", "L1"]
    assert line_of(OCT, "A1").total_factor == Decimal(0)


def test_closing_needs_a_finished_month_and_is_idempotent_and_audited(hr):
    with pytest.raises(errors.Conflict) as caught:
        payroll.close_period(month=OCT, actor=hr, now=datetime(2026, 10, 31, 23, 0, tzinfo=SH))
    assert caught.value.code == errors.ErrorCode.PERIOD_NOT_ENDED
    first = payroll.close_period(month=OCT, actor=hr, now=AFTER_OCT)
    again = payroll.close_period(month=OCT, actor=hr, now=datetime(2026, 12, 1, tzinfo=SH))
    assert again.closed_at == first.closed_at == AFTER_OCT
    assert AuditEntry.objects.filter(action="payroll.period.close").count() == 1


def test_open_period_follows_new_postings_but_a_closed_one_does_not(hr, policies):
    carol = EmployeeFactory(employee_no="C1")
    earn(carol, 100, category="learning", now=IN_OCT)
    assert line_of(OCT, "C1").points["learning"] == 100
    earn(carol, 50, category="learning", now=IN_OCT)
    assert line_of(OCT, "C1").points["learning"] == 150  # open: live
    payroll.close_period(month=OCT, actor=hr, now=AFTER_OCT)
    earn(carol, 50, category="learning", now=IN_OCT)  # a late posting dated in October
    payroll.save_policy(actor=hr, category="learning", target=10, weight="50")
    line = line_of(OCT, "C1")
    assert line.points["learning"] == 150
    assert line.factors["learning"] == Decimal("0.0750")  # 150/200 × 10%, as closed


def test_closed_export_is_the_same_bytes_twice_even_after_changes(hr, policies):
    dave = EmployeeFactory(employee_no="000042", name="=HYPERLINK(\"x\")")
    earn(dave, 120, category="learning", now=IN_OCT)
    payroll.close_period(month=OCT, actor=hr, now=AFTER_OCT)
    first = payroll.export_xlsx(month=OCT)
    earn(dave, 80, category="learning", now=IN_OCT)
    payroll.save_policy(actor=hr, category="learning", target=50, weight="20")
    payroll.save_columns(actor=hr, columns=[{"field": "name", "header": "姓名"}])
    EmployeeFactory(employee_no="000043")
    second = payroll.export_xlsx(month=OCT)
    assert first == second
    sheet = openpyxl.load_workbook(io.BytesIO(first)).active
    rows = list(sheet.iter_rows(values_only=True))
    # The default mapping, headed in the site's language (Chinese) whoever closes.
    assert rows[0][0] == "工号" and rows[0][2] == "部门" and "学习积分" in rows[0]
    assert "学习系数" in rows[0] and "协作系数" in rows[0]
    numbers = [row[0] for row in rows[1:]]
    assert "000042" in numbers and "000043" not in numbers
    cell = next(c for c in sheet["A"] if c.value == "000042")
    assert cell.data_type == "s"  # text: leading zeros kept
    name = sheet.cell(row=cell.row, column=2).value
    assert name == "'=HYPERLINK(\"x\")"  # formula neutralised


def test_reopening_needs_a_reason_and_makes_the_period_live_again(hr):
    erin = EmployeeFactory(employee_no="E1")
    earn(erin, 10, category="learning", now=IN_OCT)
    payroll.close_period(month=OCT, actor=hr, now=AFTER_OCT)
    earn(erin, 5, category="learning", now=IN_OCT)
    with pytest.raises(errors.ValidationError):
        payroll.reopen_period(month=OCT, actor=hr, reason=" ")
    payroll.reopen_period(month=OCT, actor=hr, reason="补录十月培训")
    assert PayrollPeriod.objects.get(month=OCT).status == "open"
    assert line_of(OCT, "E1").points["learning"] == 15
    assert AuditEntry.objects.filter(action="payroll.period.reopen").count() == 1


def test_column_mapping_sets_headers_and_order(hr, policies):
    frank = EmployeeFactory(employee_no="007", name="弗兰克",
                            department=DepartmentFactory(name="研发部"))
    earn(frank, 200, category="learning", now=IN_OCT)
    payroll.save_columns(actor=hr, columns=[
        {"field": "factor:learning", "header": "学习系数"},
        {"field": "employee_no", "header": "EmpID"},
        {"field": "points:learning", "header": "Learning pts"},
    ])
    rows = list(openpyxl.load_workbook(io.BytesIO(payroll.export_xlsx(month=OCT)))
                .active.iter_rows(values_only=True))
    assert rows[0] == ("学习系数", "EmpID", "Learning pts")
    assert ("0.1", "007", "200") in [tuple(str(v) for v in row) for row in rows[1:]]
    with pytest.raises(errors.ValidationError):
        payroll.save_columns(actor=hr, columns=[{"field": "salary", "header": "x"}])
    with pytest.raises(errors.ValidationError):
        payroll.save_columns(actor=hr, columns=[])
