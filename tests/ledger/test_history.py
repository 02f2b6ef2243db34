"""The honest history (issue #12 point 3): one line per thing that happened, in words of
what it is now; an order's hold, capture, release and refund are one line with its steps;
lines ordered by the posting's time with a running balance that reconciles."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest
from django.utils import timezone
from django.utils.translation import override

from jifen.core.roles import Role
from jifen.ledger import selectors
from jifen.mall import services as mall
from jifen.mall.models import Fulfilment, ItemStatus
from tests.factories import EmployeeFactory
from tests.ledger.helpers import earn, spend, wallet
from tests.mall.conftest import fund, order


@pytest.fixture
def mall_admin(make_role_employee):
    return make_role_employee(Role.MALL_ADMIN, name="商城管理员")


@pytest.fixture
def blanket(mall_admin):
    category = mall.save_category(actor=mall_admin.user, name="生活")
    return mall.create_item(actor=mall_admin.user, name="午睡毯", points=150,
                            status=ItemStatus.LISTED, fulfilment=Fulfilment.SERVICE,
                            category=category)


def lines_of(employee, *, for_employee=True, language="en", **filters):
    with override(language):
        entries = list(selectors.history_lines_query(employee=employee, **filters))
        return selectors.history_lines(entries, employee=employee, for_employee=for_employee)


def assert_reconciles(employee, lines):
    """Each line's balance is the one below it plus its amount; the newest is the wallet's."""
    assert lines[0].balance_after == wallet(employee).balance
    for newer, older in pairwise(lines):
        assert newer.balance_after == older.balance_after + newer.amount


def test_a_completed_order_is_one_line_saying_completed_with_its_steps(employee, blanket,
                                                                        mall_admin):
    fund(employee, 500)
    placed = order(employee, blanket)
    mall.approve_order(order=placed, actor=mall_admin.user)
    mall.fulfil_order(order=placed, actor=mall_admin.user)
    mall.complete_order(order=placed, actor=mall_admin.user)

    lines = lines_of(employee)

    assert len(lines) == 2  # the order and the credit that funded it
    line = lines[0]
    assert line.description == f"Order {placed.number} 午睡毯 — Completed"
    assert line.amount == -150
    assert [s.kind for s in line.steps] == ["hold", "capture"]
    assert [s.amount for s in line.steps] == [-150, 0]
    assert_reconciles(employee, lines)
    zh = lines_of(employee, language="zh-hans")[0]
    assert "冻结" not in zh.description and "冻结" not in "".join(s.label for s in zh.steps)


def test_a_cancelled_order_is_one_line_of_net_zero_naming_who_cancelled(employee, blanket):
    fund(employee, 500)
    placed = order(employee, blanket)
    earn(employee, 7, reason="中间的积分")
    mall.cancel_order(order=placed, actor=employee.user)

    lines = lines_of(employee)
    assert len(lines) == 3
    line = next(x for x in lines if x.kind == "hold")
    assert line.description == f"Order {placed.number} 午睡毯 — Cancelled"
    assert line.amount == 0
    assert [(s.kind, s.amount) for s in line.steps] == [("hold", -150), ("release", 150)]
    assert_reconciles(employee, lines)
    assert lines[0].balance_after == 507
    # Asked for returns only, the line says where the points came from.
    (returned,) = lines_of(employee, kind="release")
    assert returned.transaction_id == line.transaction_id


def test_a_refund_after_capture_joins_the_orders_line(employee, blanket, mall_admin):
    fund(employee, 500)
    placed = order(employee, blanket)
    mall.approve_order(order=placed, actor=mall_admin.user)
    # An approved order is cancelled (its points refunded) only when its item is delisted.
    mall.set_item_status(item=blanket, status=ItemStatus.DELISTED, actor=mall_admin.user)
    mall.cancel_order(order=placed, actor=mall_admin.user, by_owner=False)

    lines = lines_of(employee)

    line = lines[0]
    assert [(s.kind, s.amount) for s in line.steps] == [
        ("hold", -150), ("capture", 0), ("refund", 150)]
    assert line.amount == 0
    assert line.cause.return_label == f"Refund of order {placed.number} (cancelled by the mall)"
    assert_reconciles(employee, lines)


def test_an_owner_cancelling_reads_cancelled_by_you(employee, blanket):
    fund(employee, 500)
    placed = order(employee, blanket)
    mall.cancel_order(order=placed, actor=employee.user)

    (line,) = lines_of(employee, kind="release")
    assert line.cause.return_label == f"Refund of order {placed.number} (cancelled by you)"
    (console,) = lines_of(employee, kind="release", for_employee=False)
    assert console.cause.return_label == (
        f"Refund of order {placed.number} (cancelled by the employee)")


def test_lines_follow_the_postings_time_when_written_out_of_order(employee):
    now = timezone.now()
    earn(employee, 100, reason="later", now=now)
    earn(employee, 10, reason="earlier", now=now - timedelta(days=3))
    spend(employee, 30, reason="middle", now=now - timedelta(days=1))

    lines = lines_of(employee)

    assert [x.description for x in lines] == ["later", "middle", "earlier"]
    assert [x.balance_after for x in lines] == [80, -20, 10]
    assert_reconciles(employee, lines)


def test_filters_keep_working_and_balances_stay_the_wallets(employee):
    now = timezone.now()
    earn(employee, 100, reason="a", category="learning", now=now - timedelta(days=2))
    earn(employee, 20, reason="b", category="culture", now=now - timedelta(days=1))
    earn(employee, 5, reason="c", category="learning", now=now)

    lines = lines_of(employee, category="learning")

    assert [(x.description, x.balance_after) for x in lines] == [("c", 125), ("a", 100)]
    since = lines_of(employee, since=now - timedelta(hours=36))
    assert [x.description for x in since] == ["c", "b"]


def test_a_page_of_fifty_lines_costs_a_fixed_number_of_queries(employee, blanket, mall_admin,
                                                                django_assert_max_num_queries):
    fund(employee, 100_000)
    other = EmployeeFactory(department=employee.department)
    for n in range(20):
        placed = order(employee, blanket)
        if n % 2:
            mall.cancel_order(order=placed, actor=employee.user)
        else:
            mall.approve_order(order=placed, actor=mall_admin.user)
        earn(employee, n + 1)
    for _n in range(12):
        earn(other, 1)
        spend(employee, 1)
    entries = list(selectors.history_lines_query(employee=employee)[:50])
    assert len(entries) == 50

    # steps, running balances, the orders' words
    with django_assert_max_num_queries(3):
        lines = selectors.history_lines(entries, employee=employee, for_employee=True)

    assert len(lines) == 50
    assert_reconciles(employee, lines)


def test_awards_and_thanks_read_as_what_they_were(employee, hr_admin, department):
    from jifen.earning import services as earning
    from tests.earning.conftest import event, ingest

    earning.ensure_builtin_event_types()
    earning.create_rule(actor=hr_admin.user, reason="test", name="金点子奖",
                        category="performance", event_type="idea_adopted",
                        formula={"kind": "fixed", "points": 20})
    (result,) = ingest(event(employee, "idea_adopted", {"title": "x"}))
    assert result.status == "credited"
    colleague = EmployeeFactory(department=department, name="王芳")
    earning.give_recognition(giver=colleague, recipient=employee, points=5, message="谢谢帮忙")

    lines = lines_of(employee)

    assert [x.description for x in lines] == ["Thanks from 王芳: 谢谢帮忙", "Award: 金点子奖"]
    assert lines_of(employee, language="zh-hans")[1].description == "奖励：金点子奖"
    assert_reconciles(employee, lines)
