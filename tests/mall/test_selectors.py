"""The mall's reads (``jifen.mall.selectors``): windows, prices, search, the order state
machine as employees see it, and who may see an order."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from jifen.core import errors
from jifen.core.roles import Role
from jifen.mall import selectors, services
from jifen.mall.models import (
    CLOSED_STATUSES,
    ORDER_TRANSITIONS,
    Fulfilment,
    ItemStatus,
    OrderStatus,
    WindowMode,
)
from tests.mall.conftest import order

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
MALL = Path(selectors.__file__).parent


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


class TestWindows:
    def test_window_wrapping_the_month_end(self, mall_admin):
        window = services.save_window(actor=mall_admin.user, name="月末", mode="monthly",
                                      day_from=28, day_to=3)
        assert selectors.window_state(window, local(2026, 2, 2, 9)).open
        assert selectors.window_state(window, local(2026, 1, 30, 9)).open
        state = selectors.window_state(window, local(2026, 2, 10, 9))
        assert not state.open and state.next_opens_at == local(2026, 2, 28)

    def test_listed_periods(self, mall_admin):
        window = services.save_window(
            actor=mall_admin.user, name="年终", mode=WindowMode.PERIODS,
            periods=[(local(2026, 12, 20), local(2027, 1, 5))])
        assert not selectors.window_state(window, local(2026, 12, 1)).open
        assert selectors.window_state(window, local(2026, 12, 25)).open
        assert selectors.window_state(window, local(2026, 12, 1)).next_opens_at == local(
            2026, 12, 20)

    def test_the_next_closed_spell_for_expiry_warnings(self, mall_admin):
        spell = selectors.next_closed_spell
        assert spell(local(2026, 11, 20, 10)) is None  # no window: never closes
        services.save_window(actor=mall_admin.user, name="每月 1–5 日",
                             mode=WindowMode.MONTHLY, day_from=1, day_to=5, is_default=True)
        assert spell(local(2026, 11, 20, 10)) == selectors.ClosedSpell(None,
                                                                       local(2026, 12, 1))
        assert spell(local(2026, 12, 2, 10)) == selectors.ClosedSpell(local(2026, 12, 6),
                                                                      local(2027, 1, 1))


class TestPrices:
    def test_the_best_of_two_campaigns_wins(self, make_item, mall_admin):
        item = make_item(points=1000)
        now = timezone.now()
        for kind, value in (("percent", 10), ("fixed", 300)):
            services.save_campaign(actor=mall_admin.user, name=kind, kind=kind, value=value,
                                   starts_at=now - timedelta(hours=1),
                                   ends_at=now + timedelta(hours=1), items=[item])
        assert selectors.price_of(item).points == 700


class TestSearch:
    @pytest.mark.parametrize("query", ["耳机", "蓝牙耳机", "无线 耳机", "ＢＯＳＥ", "bose"])
    def test_finds_chinese_and_full_width_text(self, make_item, query):
        wanted = make_item(name="无线蓝牙耳机 BOSE")
        make_item(name="保温杯")
        found = list(selectors.listed_items(selectors.ItemFilters(q=query)))
        assert found == [wanted]

    def test_category_filter_includes_subcategories(self, make_item, mall_admin, category):
        child = services.save_category(actor=mall_admin.user, name="耳机音响", parent=category)
        inside = make_item(category=child, name="降噪耳机")
        found = list(selectors.listed_items(selectors.ItemFilters(category=category)))
        assert found == [inside]

    def test_affordable_counts_discounts(self, make_item, mall_admin):
        cheap = make_item(name="a", points=100)
        discounted = make_item(name="b", points=400)
        make_item(name="c", points=400)
        now = timezone.now()
        services.save_campaign(actor=mall_admin.user, name="半价", kind="percent", value=50,
                               starts_at=now - timedelta(hours=1),
                               ends_at=now + timedelta(hours=1), items=[discounted])
        found = set(selectors.listed_items(selectors.ItemFilters(affordable_for=200)))
        assert found == {cheap, discounted}

    def test_the_desk_lists_drafts_and_filters_by_status(self, make_item):
        listed = make_item(name="耳机甲")
        draft = make_item(name="耳机乙", status=ItemStatus.DRAFT)
        assert set(selectors.desk_items(q="耳机")) == {listed, draft}
        assert list(selectors.desk_items(status=ItemStatus.DRAFT)) == [draft]
        assert set(selectors.desk_items(status="nonsense")) == {listed, draft}


class TestTheOrderStateMachine:
    def test_the_progress_of_shipped_goods_is_walked_from_the_transitions(self):
        assert selectors.order_steps(Fulfilment.SHIPPED) == (
            "submitted", "approved", "shipped", "delivered", "completed")

    @pytest.mark.parametrize("fulfilment", [Fulfilment.CODE, Fulfilment.SERVICE,
                                            Fulfilment.PICKUP])
    def test_the_progress_of_everything_else_skips_the_parcel(self, fulfilment):
        assert selectors.order_steps(fulfilment) == (
            "submitted", "approved", "fulfilled", "completed")

    @pytest.mark.parametrize("fulfilment", Fulfilment.values)
    def test_each_step_of_the_progress_is_a_transition_the_services_allow(self, fulfilment):
        steps = selectors.order_steps(fulfilment)
        for here, there in pairwise(steps):
            assert any(here in t.sources and t.target == there and t.applies_to(fulfilment)
                       for t in ORDER_TRANSITIONS.values()), (here, there)
        assert not set(steps) & set(CLOSED_STATUSES)

    def test_the_progress_marks_the_steps_reached(self, buyer, make_item, mall_admin):
        placed = order(buyer, make_item(fulfilment=Fulfilment.SERVICE))
        services.approve_order(order=placed, actor=mall_admin.user)
        placed.refresh_from_db()
        progress = selectors.order_progress(placed)
        assert [(p["status"], p["done"]) for p in progress] == [
            ("submitted", True), ("approved", True), ("fulfilled", False),
            ("completed", False)]
        assert progress[0]["label"] == OrderStatus.SUBMITTED.label

    def test_a_rejected_order_shows_no_progress(self, buyer, make_item, mall_admin):
        placed = order(buyer, make_item())
        rejected = services.reject_order(order=placed, actor=mall_admin.user, reason="缺货")
        assert selectors.order_progress(rejected) == []

    def test_what_an_admin_may_do_depends_on_status_fulfilment_and_delisting(
            self, buyer, make_item, mall_admin):
        services.add_address(employee=buyer, recipient="张伟", phone="138", address="某路 1 号")
        item = make_item(fulfilment=Fulfilment.SHIPPED)
        placed = order(buyer, item)
        assert selectors.allowed_actions(placed) == ["approve", "reject", "cancel"]
        approved = services.approve_order(order=placed, actor=mall_admin.user)
        assert selectors.allowed_actions(approved) == ["ship"]
        services.set_item_status(item=item, status=ItemStatus.DELISTED, actor=mall_admin.user)
        approved.item.refresh_from_db()
        assert selectors.allowed_actions(approved) == ["cancel", "ship"]
        assert selectors.action_allowed(approved, "cancel")


@dataclass
class Caller:
    """An API principal as the selectors see one (``jifen.core.apiauth.Principal``)."""

    kind: str
    user: Any = None
    scopes: list[str] = field(default_factory=list)

    def can(self, scope: str) -> bool:
        return scope in self.scopes


class TestWhoMaySeeAnOrder:
    def test_its_owner_signed_in_or_with_a_token(self, buyer, make_item):
        placed = order(buyer, make_item())
        for caller in (buyer.user, Caller("employee", buyer.user)):
            seen = selectors.order_visible_to(caller, placed.pk)
            assert seen == placed
            assert [e.to_status for e in seen.events.all()] == ["submitted"]

    def test_nobody_else_in_the_portal_not_even_a_mall_admin(self, buyer, other_buyer,
                                                              make_item, mall_admin):
        placed = order(buyer, make_item())
        for caller in (other_buyer.user, mall_admin.user, Caller("employee", other_buyer.user)):
            with pytest.raises(errors.NotFound):
                selectors.order_visible_to(caller, placed.pk)

    def test_an_api_caller_with_the_scope_sees_any_order(self, buyer, make_item):
        placed = order(buyer, make_item())
        system = Caller("system", scopes=["orders:read"])
        assert selectors.order_visible_to(system, placed.pk) == placed
        with pytest.raises(errors.NotFound):
            selectors.order_visible_to(system, placed.pk, scope="orders:write")
        with pytest.raises(errors.NotFound):
            selectors.order_visible_to(system, placed.pk, scope=None)
        with pytest.raises(errors.NotFound):
            selectors.order_visible_to(Caller("system"), placed.pk)

    def test_an_order_that_does_not_exist_reads_the_same_as_anothers(self, buyer, make_item,
                                                                      other_buyer):
        placed = order(buyer, make_item())
        with pytest.raises(errors.NotFound) as missing:
            selectors.order_visible_to(buyer.user, placed.pk + 1000)
        with pytest.raises(errors.NotFound) as hidden:
            selectors.order_visible_to(other_buyer.user, placed.pk)
        assert (missing.value.code, missing.value.message) == (
            hidden.value.code, hidden.value.message)

    def test_the_viewer_is_the_employee_behind_the_caller(self, buyer, make_role_employee):
        assert selectors.viewer_employee_id(buyer.user) == buyer.pk
        assert selectors.viewer_employee_id(Caller("employee", buyer.user)) == buyer.pk
        assert selectors.viewer_employee_id(Caller("system", scopes=["orders:read"])) is None
        hr = make_role_employee(Role.HR_ADMIN)
        assert selectors.viewer_employee_id(hr.user) == hr.pk


def _objects_calls(path: Path) -> list[int]:
    return [node.lineno for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Attribute) and node.attr == "objects"]


@pytest.mark.parametrize("name", ["views.py", "import_views.py", "api/__init__.py",
                                  "api/admin.py", "api/addresses.py", "api/promotions.py"])
def test_pages_and_the_api_read_only_through_selectors(name):
    assert _objects_calls(MALL / name) == [], f"{name} queries models itself"
