"""Double taps racing on PostgreSQL and MariaDB: a check-in, a make-up card, a colleague
opening a share link — each counts and earns once."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from jifen.core import errors
from jifen.earning import services as earning
from jifen.ledger import services as ledger
from jifen.ledger.verify import verify_ledger
from jifen.library.models import CheckIn, MakeUpUse, ShareVisit
from jifen.library.services import engagement as services
from jifen.library.services import engagement_shares as shares
from jifen.mall import services as mall
from jifen.mall.models import Fulfilment
from tests.factories import EmployeeFactory
from tests.ledger.test_concurrency import run_threads
from tests.library.engage_fixtures import at, spendable
from tests.mall.conftest import fund

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.usefixtures("many_connections"),
    pytest.mark.skipif(connection.vendor == "sqlite",
                       reason="SQLite runs one writer at a time; run with JIFEN_DATABASE_URL "
                              "set to PostgreSQL or MariaDB"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _rules(transactional_db):
    ledger.ensure_company_accounts()
    earning.ensure_builtin_event_types()
    for name, event_type, points in (("签到", "daily_checkin", 1), ("分享", "share", 5)):
        earning.create_rule(actor=None, name=name, event_type=event_type, category="engagement",
                            formula={"kind": "fixed", "points": points})
    yield
    assert verify_ledger() == []


def test_ten_taps_at_once_check_in_once_and_earn_once():
    employee = EmployeeFactory()
    now = at("2026-12-04 08:30")
    results, failures = run_threads(10, lambda _i: services.check_in(employee=employee,
                                                                     now=now).created)
    assert not failures
    assert sorted(results) == [False] * 9 + [True]
    assert CheckIn.objects.filter(employee=employee).count() == 1
    assert spendable(employee) == 1


def test_a_colleague_opening_a_link_in_five_tabs_earns_the_sharer_once():
    sharer, colleague = EmployeeFactory(), EmployeeFactory()
    admin = EmployeeFactory()
    category = mall.save_category(actor=admin.user, name="数码")
    item = mall.create_item(actor=admin.user, name="耳机", category=category, points=10,
                            status="listed", fulfilment=Fulfilment.SERVICE)
    link = shares.create_share_link(employee=sharer, kind="item", target_id=item.pk)
    results, failures = run_threads(5, lambda _i: shares.record_share_visit(
        link=link, visitor=colleague).counted)
    assert not failures
    assert sorted(results) == [False] * 4 + [True]
    assert ShareVisit.objects.count() == 1
    assert spendable(sharer) == 5


def test_one_make_up_card_mends_one_day_however_many_taps():
    employee, admin = EmployeeFactory(), EmployeeFactory()
    category = mall.save_category(actor=admin.user, name="虚拟")
    card = mall.create_item(actor=admin.user, name="补签卡", category=category, points=20,
                            status="listed", fulfilment=Fulfilment.SERVICE, auto_approve=True)
    services.update_engagement_settings(actor=admin.user, makeup_cards_enabled=True,
                                        makeup_item_id=card.pk)
    fund(employee, 100)
    mall.create_order(employee=employee, item=card, idempotency_key="card-1")
    now = at("2026-12-10 09:00")
    days = [date(2026, 12, d) for d in (4, 5, 6, 7, 8, 9)]

    def tap(index: int) -> bool:
        try:
            services.make_up_day(employee=employee, day=days[index], now=now)
        except errors.Conflict as exc:
            assert exc.code == "no_makeup_card"
            return False
        return True

    results, failures = run_threads(len(days), tap)
    assert not failures
    assert results.count(True) == 1
    assert MakeUpUse.objects.count() == 1
