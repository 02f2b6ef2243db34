"""`jifen demo --size large` at a tiny size: the bulk loader writes exactly the books the
ledger's services would have (verify clean, rollups matching), on whichever database the
suite runs."""

from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from jifen.core.roles import Role
from jifen.demo.large import build_large
from jifen.insights.models import EmployeeMonth, Standing
from jifen.insights.services import rollups
from jifen.ledger import selectors as ledger_selectors
from jifen.ledger.models import Entry, Lot, Transaction, TransactionKind
from jifen.ledger.verify import verify_ledger
from jifen.mall import services as mall
from jifen.mall.models import (
    Favourite,
    Fulfilment,
    Item,
    ItemStatus,
    ItemView,
    Order,
    OrderStatus,
)
from jifen.people.models import Department, Employee
from tests.insights.helpers import rollup_tables
from tests.ledger.helpers import earn, spend

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(make_role_employee):
    admin = make_role_employee(Role.MALL_ADMIN, name="商城管理员")
    category = mall.save_category(actor=admin.user, name="生活")
    for name, points in (("咖啡券", 60), ("电影票", 150), ("蓝牙耳机", 900)):
        mall.create_item(actor=admin.user, name=name, points=points, category=category,
                         status=ItemStatus.LISTED, fulfilment=Fulfilment.SERVICE)
    return admin


def test_a_tiny_large_company_has_sound_books_and_matching_rollups(catalogue):
    before = Employee.objects.count()

    result = build_large(employees=60, months=15, seed=7)

    assert verify_ledger() == []
    assert Employee.objects.count() == before + 60 == before + result.employees
    kinds = Counter(Transaction.objects.values_list("kind", flat=True))
    # Earnings in every category, penalties, orders captured and released, expiry.
    assert kinds[TransactionKind.EARN] > 60 * 15
    assert {TransactionKind.PENALTY, TransactionKind.HOLD, TransactionKind.CAPTURE,
            TransactionKind.RELEASE, TransactionKind.EXPIRE} <= set(kinds)
    assert len(set(Transaction.objects.filter(kind=TransactionKind.EARN)
                   .values_list("category", flat=True))) == 6
    assert Entry.objects.count() == result.entries and Lot.objects.count() == result.lots
    statuses = Counter(Order.objects.values_list("status", flat=True))
    assert statuses[OrderStatus.COMPLETED] > statuses[OrderStatus.CANCELLED] > 0
    # A tree: a root, divisions, teams with managers.
    teams = Department.objects.filter(employees__employee_no__startswith="LG").distinct()
    assert teams and all(team.manager_id and team.depth == 2 for team in teams)
    # The rollups are what folding the same ledger from scratch gives.
    loaded = rollup_tables()
    rollups.rebuild()
    assert rollup_tables() == loaded
    top = Standing.objects.filter(period="all", category="").order_by("-points").first()
    assert top is not None and top.points > 0
    assert EmployeeMonth.objects.aggregate(n=Sum("count"))["n"] >= kinds[TransactionKind.EARN]


def test_the_services_carry_on_where_the_bulk_load_stopped(catalogue):
    build_large(employees=20, months=3, seed=3)
    person = Employee.objects.filter(employee_no__startswith="LG").order_by("pk").last()
    spendable = ledger_selectors.balance(employee=person).spendable

    earn(person, 500, category="learning")
    spend(person, 100)

    assert ledger_selectors.balance(employee=person).spendable == spendable + 400
    rollups.fold_pending()
    assert verify_ledger() == []


def test_the_command_builds_the_small_company_and_a_large_one_beside_it():
    out = io.StringIO()
    call_command("demo", "--size", "large", "--employees", "25", "--months", "2",
                 "--only", "people", stdout=out)

    assert "Large company ready: 25 employees" in out.getvalue()
    assert Employee.objects.filter(employee_no__startswith="LG").count() == 25
    assert Employee.objects.count() > 25  # the small company's people too
    assert verify_ledger() == []


def test_the_large_company_looks_around_the_mall_and_keeps_wish_lists(catalogue):
    result = build_large(employees=40, months=2, seed=5)

    views = ItemView.objects.filter(employee__employee_no__startswith="LG")
    assert views.count() == result.views > 40
    today = timezone.localdate()
    assert views.filter(day__lt=today - timedelta(days=90)).count() == 0
    assert Favourite.objects.count() == result.favourites > 0
    # The ids the loader chose are behind the sequences: the services carry on.
    person = Employee.objects.filter(employee_no__startswith="LG").first()
    mall.record_item_view(employee=person, item=Item.objects.first(), day=today
                          + timedelta(days=1))
    mall.toggle_favourite(employee=person, item=Item.objects.last())
