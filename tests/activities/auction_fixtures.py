"""Fixtures and helpers of the auction tests (imported explicitly by each module:
``tests/activities/conftest.py`` belongs to the lottery tests)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from jifen.activities.models import Auction
from jifen.activities.services import auction as auctions
from jifen.core.roles import Role
from jifen.mall import services as mall
from jifen.mall.models import Fulfilment, ItemStatus
from tests.factories import EmployeeFactory
from tests.ledger.helpers import fund, held, spendable  # noqa: F401 (tests import them from here)


def make_bidders(department: Any, count: int, points: int = 1000) -> list[Any]:
    people = [EmployeeFactory(department=department, name=f"竞拍人{i:03d}",
                              employee_no=f"B{i:03d}") for i in range(count)]
    for person in people:
        fund(person, points)
    return people


@pytest.fixture
def activities_admin(make_role_employee):
    return make_role_employee(Role.MALL_ADMIN, name="活动管理员")


@pytest.fixture
def prize_item(db, activities_admin):
    category = mall.save_category(actor=activities_admin.user, name="数码电子")
    return mall.create_item(actor=activities_admin.user, name="机械键盘", points=300,
                            category=category, status=ItemStatus.LISTED,
                            fulfilment=Fulfilment.SERVICE, stock=5)


@pytest.fixture
def make_auction(prize_item, activities_admin):
    def make(*, publish: bool = True, **fields: Any) -> Auction:
        now = timezone.now()
        fields.setdefault("title", "竞拍：机械键盘")
        fields.setdefault("item_id", prize_item.pk)
        fields.setdefault("starting_price", 100)
        fields.setdefault("min_increment", 10)
        fields.setdefault("starts_at", now - timedelta(hours=1))
        fields.setdefault("ends_at", now + timedelta(hours=1))
        fields.setdefault("extend_minutes", 5)
        auction = auctions.create_auction(actor=activities_admin.user, **fields)
        if publish:
            auction = auctions.publish_auction(auction=auction, actor=activities_admin.user)
        return auction

    return make


@pytest.fixture
def bidders(department):
    return make_bidders(department, 3)
