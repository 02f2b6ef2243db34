"""The history and the ledger console in words (issue #12 points 3 and 5): what a line or
a transaction is now, in the reader's language; codes and keys out of the headlines."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from jifen.core.roles import Role
from jifen.ledger.models import Transaction
from jifen.mall import services as mall
from tests.conftest import login_client
from tests.ledger.helpers import earn, nap_blanket
from tests.mall.conftest import fund, order


@pytest.fixture
def mall_admin(make_role_employee):
    return make_role_employee(Role.MALL_ADMIN, name="商城管理员")


@pytest.fixture
def completed(employee, mall_admin):
    item = nap_blanket(mall_admin.user)
    fund(employee, 500)
    placed = order(employee, item)
    mall.approve_order(order=placed, actor=mall_admin.user)
    mall.fulfil_order(order=placed, actor=mall_admin.user)
    return mall.complete_order(order=placed, actor=mall_admin.user)


def _get(client, url, language, **params):
    client.cookies["django_language"] = language
    return client.get(url, params)


def _text(response) -> str:
    """The page's visible text, roughly: tags dropped."""
    return re.sub(r"<[^>]+>", " ", response.content.decode())


def test_my_points_says_the_order_is_completed_in_english(employee, completed):
    page = _get(login_client(employee.user), reverse("portal:points"), "en")

    line = page.context["lines"][0]
    assert line["description"] == f"Order {completed.number} 午睡毯 — Completed"
    assert line["amount_text"] == "−150"
    assert line["url"] == reverse("portal:order_detail", args=[completed.pk])
    assert [s["label"] for s in line["steps"]] == ["Points reserved", "Points spent"]
    assert "mall.order" not in _text(page)


def test_my_points_says_the_order_is_completed_in_chinese_never_frozen(employee, completed):
    page = _get(login_client(employee.user), reverse("portal:points"), "zh-hans")

    line = page.context["lines"][0]
    assert line["description"] == f"订单 {completed.number} 午睡毯 — 已完成"
    history = page.content.decode().split('data-testid="history"')[1]
    assert "冻结" not in history
    assert "已完成" in history


def test_a_cancelled_order_reads_refund_cancelled_by_you(employee, mall_admin):
    item = nap_blanket(mall_admin.user)
    fund(employee, 500)
    placed = order(employee, item)
    mall.cancel_order(order=placed, actor=employee.user)

    page = _get(login_client(employee.user), reverse("portal:points"), "en", kind="release")

    (line,) = page.context["lines"]
    assert line["description"] == f"Order {placed.number} 午睡毯 — Cancelled"
    assert line["amount_text"] == "0"
    assert [s["label"] for s in line["steps"]] == ["Points reserved", "Points returned"]
    zh = _get(login_client(employee.user), reverse("portal:points"), "zh-hans")
    assert "员工已取消" not in _text(zh)


@pytest.mark.parametrize(("role", "linked"), [(Role.SUPER_ADMIN, True),
                                              (Role.HR_ADMIN, False), (Role.AUDITOR, False)])
def test_a_transactions_cause_is_the_order_in_words_linked_for_who_may_open_it(
        employee, completed, make_role_employee, role, linked):
    """An HR admin or auditor following the link got a 403 from the order desk."""
    hold = Transaction.objects.get(pk=completed.hold_txn_id)
    client = login_client(make_role_employee(role).user)

    page = _get(client, reverse("console:ledger_transaction", args=[hold.pk]), "en")

    assert page.status_code == 200
    assert page.context["cause"]["label"] == f"Order {completed.number} 午睡毯"
    body = page.content.decode()
    assert (reverse("console:mall_order", args=[completed.pk]) in body) is linked
    assert "mall.order #" not in body


def test_account_names_are_words_and_keys_sit_in_technical_details(employee, completed,
                                                                   hr_admin):
    capture = Transaction.objects.get(pk=completed.capture_txn_id)
    client = login_client(hr_admin.user)

    page = _get(client, reverse("console:ledger_transaction", args=[capture.pk]), "en")

    names = [row["name"] for row in page.context["entries"]]
    assert "Redemptions (company)" in names
    body = page.content.decode()
    summary, technical = body.split('data-testid="technical-details"')
    assert capture.idempotency_key not in summary
    assert capture.idempotency_key in technical
    assert "sink:redemption" not in _text(page)


def test_the_accounts_page_names_company_accounts_in_words(employee, hr_admin):
    earn(employee, 10)

    page = _get(login_client(hr_admin.user), reverse("console:ledger_accounts"), "en")

    names = [row["name"] for row in page.context["rows"]]
    assert "Adjustments (company)" in names
    assert "sink:adjustment" not in _text(page)
    zh = _get(login_client(hr_admin.user), reverse("console:ledger_accounts"), "zh-hans")
    assert "调整（公司）" in [row["name"] for row in zh.context["rows"]]


def test_the_ledger_list_headlines_the_order_not_the_stored_reason(employee, completed,
                                                                  hr_admin):
    page = _get(login_client(hr_admin.user), reverse("console:ledger"), "en",
                kind="hold")

    (row,) = page.context["rows"]
    assert row["cause"]["headline"] == f"Order {completed.number} 午睡毯 — Completed"


def test_the_api_history_gives_each_movement_its_words(employee, mall_admin):
    item = nap_blanket(mall_admin.user)
    fund(employee, 500)
    placed = order(employee, item)
    mall.cancel_order(order=placed, actor=employee.user)
    from django.test import Client

    from jifen.people.services import issue_access_token

    token = issue_access_token(user=employee.user)[1]
    body = Client().get("/api/v1/me/transactions",
                        HTTP_AUTHORIZATION=f"Bearer {token}").json()

    # The API speaks the site's language (Chinese by default), as its error messages do.
    returned, held, funded = body["items"]
    assert returned["description"] == f"订单 {placed.number} 退还积分（由你取消）"
    assert held["description"] == f"订单 {placed.number} 午睡毯 — 已取消"
    assert held["status"] == returned["status"] == "已取消"
    assert returned["hold_id"] == held["hold_id"] == held["id"]
    assert funded["hold_id"] is None


def test_the_export_carries_each_movements_words(employee, completed):
    client = login_client(employee.user)
    client.cookies["django_language"] = "en"

    response = client.get(reverse("portal:points_export", args=["csv"]))

    content = b"".join(response.streaming_content) if response.streaming else response.content
    text = content.decode("utf-8-sig")
    assert f"Order {completed.number} 午睡毯 — Completed" in text
