"""Contributions earn through HR's rules: approval by the ``resource_approved`` rule, each
later purchase by a colleague a share by ``resource_download_share`` — capped per month by
the rule's own caps."""

from __future__ import annotations

import pytest

from jifen.core import errors
from jifen.earning import services as earning
from jifen.ledger import selectors as ledger_selectors
from jifen.library.services import resources as services
from tests.factories import EmployeeFactory
from tests.library.conftest import fund, pdf_upload

pytestmark = pytest.mark.django_db


def balance(employee) -> int:
    return ledger_selectors.balance(employee=employee).spendable


@pytest.fixture
def rules(hr_admin):
    earning.create_rule(actor=hr_admin.user, name="投稿通过", event_type="resource_approved",
                        category="learning", formula={"kind": "fixed", "points": 50})
    earning.create_rule(actor=hr_admin.user, name="投稿被购买",
                        event_type="resource_download_share", category="learning",
                        formula={"kind": "fixed", "points": 5}, caps={"month": 10})


def test_approval_earns_and_shares_stop_at_the_monthly_cap(rules, employee, editor,
                                                           department, library_root):
    contribution = services.submit_contribution(employee=employee, title="带教计划",
                                                upload=pdf_upload())
    assert balance(employee) == 0
    services.review_contribution(actor=editor.user, resource=contribution, approve=True)
    assert balance(employee) == 50
    resource = services.update_resource(actor=editor.user, resource=contribution, price=10)
    buyers = [EmployeeFactory(department=department) for _ in range(3)]
    for buyer in buyers:
        fund(buyer, 20)
        services.buy(resource=resource, employee=buyer)
    assert balance(employee) == 60  # 5 + 5, then the cap of 10 a month holds
    services.buy(resource=resource, employee=employee)  # buying one's own earns nothing
    assert balance(employee) == 50


def test_rejection_earns_nothing_and_a_rejected_contribution_cannot_be_published(
        rules, employee, editor, library_root):
    contribution = services.submit_contribution(employee=employee, title="年会方案",
                                                upload=pdf_upload())
    services.review_contribution(actor=editor.user, resource=contribution, approve=False,
                                 reason="与已有资料重复")
    assert balance(employee) == 0
    with pytest.raises(errors.Conflict):
        services.publish_resource(actor=editor.user, resource=contribution)
