"""Buying a resource: paid once, re-downloaded free for ever, kept after withdrawal, and
refused (charging nothing) when the employee may not see it or cannot pay."""

from __future__ import annotations

import pytest

from jifen.core import errors
from jifen.earning.models import Event
from jifen.ledger.models import Transaction
from jifen.library.models import Purchase
from jifen.library.services import resources as services
from tests.factories import DepartmentFactory, EmployeeFactory
from tests.library.conftest import fund, spendable

pytestmark = pytest.mark.django_db


def test_paying_once_then_every_buy_is_free(make_resource, buyer):
    resource = make_resource(price=30)
    first = services.buy(resource=resource, employee=buyer)
    again = services.buy(resource=resource, employee=buyer)
    assert again.pk == first.pk
    assert spendable(buyer) == 70
    assert first.points == 30 and first.txn is not None
    assert Transaction.objects.filter(kind="redeem").count() == 1


def test_free_resources_are_owned_too_and_cost_nothing(make_resource, buyer):
    resource = make_resource(price=0)
    purchase = services.buy(resource=resource, employee=buyer)
    assert purchase.points == 0 and purchase.txn is None
    assert spendable(buyer) == 100
    assert Purchase.objects.filter(resource=resource, employee=buyer).exists()


def test_not_enough_points_is_409_and_leaves_nothing(make_resource, buyer):
    resource = make_resource(price=500)
    with pytest.raises(errors.InsufficientPoints):
        services.buy(resource=resource, employee=buyer)
    assert not Purchase.objects.exists()
    assert spendable(buyer) == 100


def test_another_department_cannot_buy(make_resource, editor):
    sales = DepartmentFactory(code="SALES", name="销售部")
    resource = make_resource(departments=[sales])
    outsider = EmployeeFactory(name="王芳")
    fund(outsider, 100)
    with pytest.raises(errors.Conflict) as caught:
        services.buy(resource=resource, employee=outsider)
    assert caught.value.code == errors.ErrorCode.NOT_ELIGIBLE
    assert spendable(outsider) == 100
    insider = EmployeeFactory(department=DepartmentFactory(code="SALES-N", name="华北销售",
                                                           parent=sales))
    fund(insider, 100)
    assert services.buy(resource=resource, employee=insider).points == 20


def test_withdrawn_resource_stays_with_its_buyers_but_is_not_sold(make_resource, buyer,
                                                                  other_employee, editor):
    resource = make_resource()
    services.buy(resource=resource, employee=buyer)
    services.withdraw_resource(actor=editor.user, resource=resource)
    assert services.buy(resource=resource, employee=buyer).points == 20  # still theirs
    with pytest.raises(errors.Conflict) as caught:
        services.buy(resource=resource, employee=other_employee)
    assert caught.value.code == errors.ErrorCode.NOT_AVAILABLE
    assert spendable(other_employee) == 100


def test_first_purchase_reports_a_download_fact_once(make_resource, buyer):
    resource = make_resource()
    services.buy(resource=resource, employee=buyer)
    services.buy(resource=resource, employee=buyer)
    facts = Event.objects.filter(source="library", type_code="download")
    assert facts.count() == 1
    assert facts.get().employee_id == buyer.pk
