"""The console dashboard shows each role what waits for it and how long."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jifen.core.roles import Role
from jifen.earning import services as earning
from jifen.earning.models import Award, RuleFeedback
from jifen.mall import services as mall
from jifen.mall.models import Order
from tests.conftest import login_client
from tests.earning.conftest import event, ingest, ops_team
from tests.mall.conftest import fund

pytestmark = pytest.mark.django_db


def cards(response) -> dict:
    return {card["key"]: card for card in response.context["waiting"]}


@pytest.fixture
def awards_waiting(db):
    manager, worker, hr = ops_team()
    earning.create_rule(actor=hr.user, reason="t", name="互助", event_type="helped_colleague",
                        category="teamwork", formula={"kind": "range", "min": 10, "max": 50})
    ingest(*[event(worker, "helped_colleague") for _ in range(3)])
    Award.objects.filter(pk=Award.objects.order_by("pk").first().pk).update(
        created_at=timezone.now() - timedelta(days=9))
    return manager, worker, hr


def test_an_approver_sees_awards_waiting_with_the_oldests_age(awards_waiting):
    manager, _worker, _hr = awards_waiting
    client = login_client(manager.user)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("console:dashboard"))
    card = cards(response)["awards"]
    assert (card["count"], card["age"]) == (3, "the oldest has waited 9 days")
    page = response.content.decode()
    assert 'data-testid="waiting-awards"' in page
    assert "the oldest has waited 9 days" in page
    assert f'href="{reverse("console:approvals")}"' in page
    assert set(cards(response)) == {"awards"}  # no mall, no feedback for a manager


def test_hr_sees_awards_and_rule_feedback_waiting_in_chinese(awards_waiting):
    _manager, worker, hr = awards_waiting
    rule = earning.create_rule(actor=hr.user, reason="t", name="培训", category="learning",
                               event_type="training_completed",
                               formula={"kind": "fixed", "points": 1})
    earning.send_rule_feedback(employee=worker, rule=rule, message="能否按小时计算？")
    RuleFeedback.objects.update(created_at=timezone.now() - timedelta(days=2))
    response = login_client(hr.user).get(reverse("console:dashboard"))
    found = cards(response)
    assert found["awards"]["count"] == 3 and found["awards"]["age"] == "最早的已等待 9 天"
    assert (found["feedback"]["count"], found["feedback"]["age"]) == (1, "最早的已等待 2 天")


def test_a_mall_admin_sees_orders_waiting_by_state_with_links_to_the_desk(
        make_role_employee, employee):
    admin = make_role_employee(Role.MALL_ADMIN)
    category = mall.save_category(actor=admin.user, name="数码")
    item = mall.create_item(actor=admin.user, name="耳机", points=10, status="listed",
                            fulfilment="service", category=category)
    fund(employee, 1000)
    orders = [mall.create_order(employee=employee, item=item, idempotency_key=f"d{n}")
              for n in range(26)]
    for order in orders[:6]:
        mall.approve_order(order=order, actor=admin.user)
    Order.objects.filter(pk=orders[0].pk).update(created_at=timezone.now() - timedelta(days=4))
    client = login_client(admin.user)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("console:dashboard"))
    card = cards(response)["orders"]
    assert (card["count"], card["age"]) == (26, "the oldest has waited 4 days")
    assert [part["text"] for part in card["parts"]] == ["20 to approve", "6 to ship or fulfil"]
    assert card["parts"][1]["age"] == "the oldest has waited 4 days"
    page = response.content.decode()
    assert 'href="/console/mall/?status=submitted"' in page
    assert 'href="/console/mall/?status=approved"' in page
    assert set(cards(response)) == {"orders"}


def test_an_auditor_sees_no_queues(make_role_employee):
    response = login_client(make_role_employee(Role.AUDITOR).user).get(
        reverse("console:dashboard"))
    assert response.context["waiting"] == []
    assert 'data-testid="waiting"' not in response.content.decode()


def test_the_dashboard_reads_the_queues_in_a_bounded_number_of_queries(
        awards_waiting, django_assert_max_num_queries, make_role_employee):
    boss = make_role_employee(Role.SUPER_ADMIN)
    client = login_client(boss.user)
    client.get(reverse("console:dashboard"))
    with django_assert_max_num_queries(40):
        client.get(reverse("console:dashboard"))


def test_the_order_desk_says_how_many_wait_and_the_oldests_age(make_role_employee, employee):
    admin = make_role_employee(Role.MALL_ADMIN)
    category = mall.save_category(actor=admin.user, name="数码")
    item = mall.create_item(actor=admin.user, name="耳机", points=10, status="listed",
                            fulfilment="service", category=category)
    fund(employee, 100)
    order = mall.create_order(employee=employee, item=item, idempotency_key="w1")
    mall.create_order(employee=employee, item=item, idempotency_key="w2")
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(days=3))
    client = login_client(admin.user)
    page = client.get(reverse("console:mall")).content.decode()
    assert "共 2 个订单待处理，最早的已等待 3 天" in page
    client.cookies["django_language"] = "en"
    page = client.get(reverse("console:mall")).content.decode()
    assert "2 orders waiting, the oldest has waited 3 days" in page


def test_an_approvers_bell_counts_the_notice_of_awards_waiting(awards_waiting):
    manager, _worker, _hr = awards_waiting
    page = login_client(manager.user).get(reverse("console:dashboard")).content.decode()
    assert 'data-testid="unread-count">1<' in page
