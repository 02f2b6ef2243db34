"""The console's long lists (people, ledger transactions, the order desk, the event log)
page by seeking on their sort key: "next" continues exactly where the page ended, and a
cursor changed by hand is a 400 page that says so — never a server error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jifen.core.pagination import encode_cursor
from jifen.core.roles import Role
from jifen.mall import services as mall
from jifen.mall.models import Fulfilment, ItemStatus, OrderStatus
from tests.factories import EmployeeFactory
from tests.ledger.helpers import fund

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_role_employee):
    client.force_login(make_role_employee(Role.SUPER_ADMIN, name="超级管理员").user)
    return client


def follow(client, url, params, key):
    """Every row's ``key`` over all pages, following the "next" cursor."""
    seen, response = [], client.get(url, params)
    while True:
        assert response.status_code == 200
        page = response.context["page"]
        seen += [key(row) for row in page.object_list]
        if not page.has_next:
            return seen
        response = client.get(url, {**params, "after": page.next_cursor})


def test_people_pages_by_name_continue_across_equal_names(admin_client, department):
    for n in range(45):
        EmployeeFactory(department=department, employee_no=f"N{n:03d}", name="同名")
    seen = follow(admin_client, reverse("console:people"), {"sort": "name"},
                  lambda e: e.employee_no)
    assert len(seen) == len(set(seen)) >= 45
    assert [no for no in seen if no.startswith("N")] == [f"N{n:03d}" for n in range(45)]


def test_transaction_pages_continue_newest_first(admin_client, employee):
    for amount in range(1, 61):
        fund(employee, amount)
    url = reverse("console:ledger")
    seen = follow(admin_client, url, {"kind": "earn"}, lambda txn: txn.pk)
    assert len(seen) == 60 and seen == sorted(seen, reverse=True)
    # "Previous" from the second page gives the first page back.
    first = admin_client.get(url, {"kind": "earn"}).context["page"]
    second = admin_client.get(url, {"kind": "earn", "after": first.next_cursor})
    back = admin_client.get(url, {"kind": "earn",
                                  "before": second.context["page"].previous_cursor})
    assert ([r["txn"].pk for r in back.context["rows"]]
            == [txn.pk for txn in first.object_list])


def test_order_desk_pages_keep_the_status_filter(admin_client, department,
                                                 make_role_employee):
    admin = make_role_employee(Role.MALL_ADMIN, name="商城管理员")
    category = mall.save_category(actor=admin.user, name="生活")
    item = mall.create_item(actor=admin.user, name="咖啡券", points=1, category=category,
                            status=ItemStatus.LISTED, fulfilment=Fulfilment.SERVICE)
    buyer = EmployeeFactory(department=department)
    fund(buyer, 1000)
    for n in range(55):
        mall.create_order(employee=buyer, item=item, idempotency_key=f"desk-{n}")
    seen = follow(admin_client, reverse("console:mall"), {"status": OrderStatus.SUBMITTED},
                  lambda order: order.pk)
    assert len(seen) == 55 and seen == sorted(seen)


@pytest.mark.parametrize("name", ["console:people", "console:ledger", "console:mall",
                                  "console:event_log"])
@pytest.mark.parametrize("cursor", ["%%%", encode_cursor(["x", 1, 2]), encode_cursor("1"),
                                    encode_cursor([2**80])])
@pytest.mark.parametrize("direction", ["after", "before"])
def test_a_tampered_cursor_is_a_400_page(admin_client, name, cursor, direction):
    response = admin_client.get(reverse(name), {direction: cursor})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-testid="bad-request"' in body and "此链接无效" in body  # Chinese by default
