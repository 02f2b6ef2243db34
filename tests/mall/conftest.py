from __future__ import annotations

import itertools
from typing import Any

import pytest

from jifen.core.roles import Role
from jifen.ledger import selectors as ledger_selectors
from jifen.ledger import services as ledger
from jifen.mall import services
from jifen.mall.models import Category, Fulfilment, ItemStatus
from tests.conftest import assert_ledger_sound  # noqa: F401 - re-exported for mall tests
from tests.factories import DepartmentFactory, EmployeeFactory

_keys = itertools.count(1)


def fund(employee: Any, amount: int) -> None:
    key = f"mall-test-credit-{next(_keys)}"
    ledger.credit(employee=employee, amount=amount, category="performance",
                  idempotency_key=key, cause=("test.event", key))


def shop_people(points: int) -> tuple[Any, Any]:
    """李小明 (E001, with ``points`` and a shipping address) and 周商城 (M001, mall admin),
    both of 总部: who the browser tests sign in as."""
    hq = DepartmentFactory(code="HQ", name="总部")
    employee = EmployeeFactory(department=hq, employee_no="E001", name="李小明")
    admin = EmployeeFactory(department=hq, employee_no="M001", name="周商城",
                            roles=[Role.MALL_ADMIN])
    fund(employee, points)
    services.add_address(employee=employee, recipient="李小明", phone="13800138000",
                         region="上海市浦东新区", address="张江路 88 号 5 楼")
    return employee, admin


def spendable(employee: Any) -> int:
    return ledger_selectors.balance(employee=employee).spendable


def held(employee: Any) -> int:
    return ledger_selectors.balance(employee=employee).held


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded pictures go to a throw-away folder, not the project's var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def mall_admin(make_role_employee):
    return make_role_employee(Role.MALL_ADMIN, name="商城管理员")


@pytest.fixture
def category(db, mall_admin) -> Category:
    return services.save_category(actor=mall_admin.user, name="数码电子")


@pytest.fixture
def make_item(category, mall_admin):
    def make(**fields: Any):
        fields.setdefault("name", "无线蓝牙耳机")
        fields.setdefault("points", 100)
        fields.setdefault("status", ItemStatus.LISTED)
        fields.setdefault("fulfilment", Fulfilment.SERVICE)
        fields.setdefault("category", category)
        return services.create_item(actor=mall_admin.user, **fields)

    return make


@pytest.fixture
def buyer(employee):
    fund(employee, 1000)
    return employee


@pytest.fixture
def other_buyer(department):
    person = EmployeeFactory(department=department, name="李娜")
    fund(person, 1000)
    return person


def order(employee: Any, item: Any, **kwargs: Any):
    kwargs.setdefault("idempotency_key", f"mall-test-order-{next(_keys)}")
    return services.create_order(employee=employee, item=item, **kwargs)
