from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from jifen.core import errors
from jifen.mall import selectors, services
from jifen.mall.models import (
    Fulfilment,
    Item,
    ItemStatus,
    Order,
    OrderStatus,
    WindowMode,
)
from jifen.notifications.models import Notification
from tests.factories import DepartmentFactory, EmployeeFactory
from tests.mall.conftest import assert_ledger_sound, fund, held, order, spendable

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


class TestCreatingAnOrder:
    def test_confirming_holds_points_and_reserves_stock(self, buyer, make_item):
        item = make_item(points=300, stock=5)
        placed = order(buyer, item)
        assert placed.status == OrderStatus.SUBMITTED
        assert placed.points == 300
        assert spendable(buyer) == 700
        assert held(buyer) == 300
        assert Item.objects.get(pk=item.pk).stock == 4
        assert [e.to_status for e in placed.events.all()] == [OrderStatus.SUBMITTED]
        assert_ledger_sound()

    def test_same_idempotency_key_gives_the_first_order_and_moves_nothing_twice(
            self, buyer, make_item):
        item = make_item(points=100, stock=5)
        first = order(buyer, item, idempotency_key="k1")
        again = order(buyer, item, idempotency_key="k1")
        assert again.pk == first.pk
        assert spendable(buyer) == 900
        assert Item.objects.get(pk=item.pk).stock == 4

    def test_a_key_used_before_gives_the_first_order_even_when_a_second_is_refused(
            self, buyer, make_item):
        item = make_item(points=100, stock=5, per_employee_limit=1)
        first = order(buyer, item, idempotency_key="k1")
        assert order(buyer, item, idempotency_key="k1").pk == first.pk
        with pytest.raises(errors.Conflict) as exc:
            order(buyer, item, idempotency_key="k2")
        assert exc.value.code == "limit_reached"
        assert spendable(buyer) == 900 and Item.objects.get(pk=item.pk).stock == 4

    def test_another_employees_key_is_refused(self, buyer, other_buyer, make_item):
        item = make_item(points=100, stock=5)
        order(buyer, item, idempotency_key="mine")
        with pytest.raises(errors.Conflict) as exc:
            order(other_buyer, item, idempotency_key="mine")
        assert exc.value.code == "idempotency_key_reused"
        assert spendable(other_buyer) == 1000 and Item.objects.get(pk=item.pk).stock == 4

    def test_a_caller_answering_replays_itself_rolls_back_a_used_key(self, buyer, make_item,
                                                                     monkeypatch):
        from django.db import IntegrityError, transaction

        item = make_item(points=100, stock=5)
        first = order(buyer, item, idempotency_key="api:k")
        with pytest.raises(IntegrityError), transaction.atomic():
            services.create_order(employee=buyer, item=item, idempotency_key="api:k",
                                  replays_by_caller=True)
        with monkeypatch.context() as patch, pytest.raises(RuntimeError):
            # Only inside the caller's transaction (tests always run inside one).
            patch.setattr(transaction.get_connection(), "in_atomic_block", False)
            services.create_order(employee=buyer, item=item, idempotency_key="api:j",
                                  replays_by_caller=True)
        assert list(Order.objects.values_list("pk", flat=True)) == [first.pk]
        assert spendable(buyer) == 900 and Item.objects.get(pk=item.pk).stock == 4

    def test_an_unknown_item_is_not_found(self, buyer):
        with pytest.raises(errors.NotFound):
            order(buyer, Item(pk=987654))

    def test_not_enough_points_is_refused_and_nothing_changes(self, employee, make_item):
        fund(employee, 50)
        item = make_item(points=100, stock=3)
        with pytest.raises(errors.Conflict) as exc:
            order(employee, item)
        assert exc.value.code == "insufficient_points"
        assert Item.objects.get(pk=item.pk).stock == 3
        assert spendable(employee) == 50
        assert not employee.mall_orders.exists()

    def test_out_of_stock(self, buyer, make_item):
        item = make_item(points=10, stock=1)
        order(buyer, item)
        with pytest.raises(errors.Conflict) as exc:
            order(buyer, item)
        assert exc.value.code == "out_of_stock"
        assert exc.value.details["available"] == 0
        assert spendable(buyer) == 990

    def test_more_than_is_left_says_how_many_are_left(self, buyer, make_item):
        item = make_item(name="保温杯", points=10, stock=8)
        with pytest.raises(errors.Conflict) as exc:
            order(buyer, item, quantity=9)
        # Not "sold out" while 8 are there: an order of 8 would go through.
        assert exc.value.code == "out_of_stock"
        assert exc.value.details == {"item_id": item.pk, "available": 8}
        assert "8" in exc.value.message and "售罄" not in exc.value.message
        assert Item.objects.get(pk=item.pk).stock == 8 and spendable(buyer) == 1000
        assert order(buyer, item, quantity=8).quantity == 8

    def test_unlimited_stock_never_runs_out(self, buyer, make_item):
        item = make_item(points=10, stock=None)
        for _ in range(3):
            order(buyer, item)
        item.refresh_from_db()
        assert item.stock is None and item.sold_count == 3

    def test_auto_approve_captures_at_once(self, buyer, make_item):
        item = make_item(points=100, auto_approve=True)
        placed = order(buyer, item)
        assert placed.status == OrderStatus.APPROVED
        assert held(buyer) == 0 and spendable(buyer) == 900
        assert_ledger_sound()

    def test_shipped_goods_need_an_address(self, buyer, make_item):
        item = make_item(fulfilment=Fulfilment.SHIPPED)
        with pytest.raises(errors.ValidationError) as exc:
            order(buyer, item)
        assert exc.value.code == "address_required"
        services.add_address(employee=buyer, recipient="张伟", phone="13800000000",
                             address="上海市浦东新区世纪大道 100 号")
        placed = order(buyer, item)
        assert placed.address["recipient"] == "张伟"

    def test_a_draft_item_cannot_be_ordered(self, buyer, make_item):
        item = make_item(status=ItemStatus.DRAFT)
        with pytest.raises(errors.Conflict) as exc:
            order(buyer, item)
        assert exc.value.code == "not_available"


class TestTransitions:
    def test_approve_captures_the_held_points(self, buyer, make_item, mall_admin):
        placed = order(buyer, make_item(points=200))
        approved = services.approve_order(order=placed, actor=mall_admin.user)
        assert approved.status == OrderStatus.APPROVED
        assert held(buyer) == 0 and spendable(buyer) == 800
        event = approved.events.last()
        assert (event.from_status, event.to_status) == ("submitted", "approved")
        assert event.actor == mall_admin.user
        assert_ledger_sound()

    def test_reject_returns_points_and_stock_and_tells_the_employee(
            self, buyer, make_item, mall_admin):
        item = make_item(points=200, stock=2)
        placed = order(buyer, item)
        rejected = services.reject_order(order=placed, actor=mall_admin.user,
                                         reason="地址不在配送范围")
        assert rejected.status == OrderStatus.REJECTED
        assert rejected.reason == "地址不在配送范围"
        assert spendable(buyer) == 1000 and held(buyer) == 0
        assert Item.objects.get(pk=item.pk).stock == 2
        assert Notification.objects.filter(recipient=buyer.user,
                                           kind="mall.order_rejected").exists()
        assert_ledger_sound()

    def test_reject_needs_a_reason(self, buyer, make_item, mall_admin):
        placed = order(buyer, make_item())
        with pytest.raises(errors.ValidationError):
            services.reject_order(order=placed, actor=mall_admin.user, reason=" ")

    def test_owner_cancels_a_submitted_order_and_gets_everything_back(self, buyer, make_item):
        item = make_item(points=150, stock=1)
        placed = order(buyer, item)
        cancelled = services.cancel_order(order=placed, actor=buyer.user)
        assert cancelled.status == OrderStatus.CANCELLED
        assert spendable(buyer) == 1000
        assert Item.objects.get(pk=item.pk).stock == 1
        assert_ledger_sound()

    def test_someone_else_cannot_cancel_my_order(self, buyer, other_buyer, make_item):
        placed = order(buyer, make_item())
        with pytest.raises(errors.NotFound):
            services.cancel_order(order=placed, actor=other_buyer.user)

    def test_shipped_path_ship_deliver_complete(self, buyer, make_item, mall_admin):
        services.add_address(employee=buyer, recipient="张伟", phone="138", address="某路 1 号")
        placed = order(buyer, make_item(fulfilment=Fulfilment.SHIPPED))
        admin = mall_admin.user
        services.approve_order(order=placed, actor=admin)
        shipped = services.ship_order(order=placed, actor=admin, carrier="顺丰",
                                      tracking_no="SF100")
        assert (shipped.status, shipped.carrier, shipped.tracking_no) == (
            "shipped", "顺丰", "SF100")
        assert services.deliver_order(order=placed, actor=admin).status == "delivered"
        done = services.complete_order(order=placed, actor=buyer.user)
        assert done.status == "completed"
        assert [e.to_status for e in done.events.all()] == [
            "submitted", "approved", "shipped", "delivered", "completed"]

    def test_service_path_fulfil_complete(self, buyer, make_item, mall_admin):
        placed = order(buyer, make_item(fulfilment=Fulfilment.SERVICE))
        services.approve_order(order=placed, actor=mall_admin.user)
        fulfilled = services.fulfil_order(order=placed, actor=mall_admin.user, note="已排期")
        assert fulfilled.status == "fulfilled"
        assert services.complete_order(order=placed, actor=buyer.user).status == "completed"

    @pytest.mark.parametrize("action, state", [
        ("ship", "submitted"), ("deliver", "submitted"), ("fulfil", "submitted"),
        ("complete", "submitted"), ("approve", "approved"), ("reject", "approved"),
        ("deliver", "approved"), ("approve", "rejected"), ("ship", "cancelled"),
        ("reject", "completed"), ("cancel", "completed"), ("fulfil", "fulfilled"),
    ])
    def test_forbidden_transitions_are_a_conflict(self, buyer, make_item, mall_admin,
                                                  action, state):
        placed = order(buyer, make_item(fulfilment=Fulfilment.SERVICE))
        admin = mall_admin.user
        steps = {
            "approved": ["approve"], "rejected": ["reject"], "cancelled": ["cancel"],
            "fulfilled": ["approve", "fulfil"], "completed": ["approve", "fulfil", "complete"],
        }.get(state, [])
        for step in steps:
            services.perform(order=placed, action=step, actor=admin, reason="no")
        with pytest.raises(errors.Conflict) as exc:
            services.perform(order=placed, action=action, actor=admin, reason="no",
                             carrier="顺丰", tracking_no="1")
        assert exc.value.code == "invalid_transition"
        assert exc.value.details["status"] == state
        assert_ledger_sound()

    def test_a_service_order_cannot_be_shipped(self, buyer, make_item, mall_admin):
        placed = order(buyer, make_item(fulfilment=Fulfilment.SERVICE))
        services.approve_order(order=placed, actor=mall_admin.user)
        with pytest.raises(errors.Conflict):
            services.ship_order(order=placed, actor=mall_admin.user, carrier="x",
                                tracking_no="1")

    def test_owner_cannot_cancel_once_approved(self, buyer, make_item, mall_admin):
        placed = order(buyer, make_item())
        services.approve_order(order=placed, actor=mall_admin.user)
        with pytest.raises(errors.Conflict) as exc:
            services.cancel_order(order=placed, actor=buyer.user)
        assert exc.value.code == "invalid_transition"


class TestCodePools:
    def test_codes_add_stock_and_the_owner_gets_one_on_approval(self, buyer, make_item,
                                                                 mall_admin):
        item = make_item(fulfilment=Fulfilment.CODE, points=500)
        assert item.stock == 0
        added = services.import_codes(item=item, codes=["A-1", "A-2", "A-1", " "],
                                      actor=mall_admin.user)
        assert added == 2
        assert Item.objects.get(pk=item.pk).stock == 2
        assert services.import_codes(item=item, codes=["A-2"], actor=mall_admin.user) == 0
        placed = order(buyer, item)
        approved = services.approve_order(order=placed, actor=mall_admin.user)
        assert approved.status == OrderStatus.FULFILLED
        assert approved.code.code == "A-1"
        assert selectors.remaining_codes(item) == 1

    def test_auto_approved_code_item_is_fulfilled_immediately(self, buyer, make_item,
                                                              mall_admin):
        item = make_item(fulfilment=Fulfilment.CODE, auto_approve=True)
        services.import_codes(item=item, codes=["X"], actor=mall_admin.user)
        placed = order(buyer, item)
        assert placed.status == OrderStatus.FULFILLED
        with pytest.raises(errors.Conflict) as exc:
            order(buyer, item)
        assert exc.value.code == "out_of_stock"

    def test_a_code_order_is_for_one_code(self, buyer, make_item, mall_admin):
        item = make_item(fulfilment=Fulfilment.CODE, auto_approve=True, points=100)
        services.import_codes(item=item, codes=["C1", "C2", "C3", "C4"], actor=mall_admin.user)
        with pytest.raises(errors.ValidationError) as exc:
            order(buyer, item, quantity=3)
        assert exc.value.code == "invalid_quantity"
        assert Item.objects.get(pk=item.pk).stock == 4

    def test_switching_an_item_to_codes_makes_its_stock_the_unused_codes(
            self, make_item, mall_admin):
        item = make_item(stock=50)
        services.update_item(item=item, actor=mall_admin.user, fulfilment=Fulfilment.CODE)
        assert Item.objects.get(pk=item.pk).stock == 0


class TestRaces:
    def test_a_cancel_that_lands_after_an_approval_is_refused(self, buyer, make_item,
                                                               mall_admin):
        placed = order(buyer, make_item())
        services.approve_order(order=placed, actor=mall_admin.user)
        # The owner's cancel read the order while it was still submitted; the status change
        # itself must look again.
        with pytest.raises(errors.Conflict) as exc:
            services.move_order(placed, "cancel", actor=buyer.user)
        assert exc.value.code == "invalid_transition"
        assert Order.objects.get(pk=placed.pk).status == OrderStatus.APPROVED


class TestWindows:
    def test_monthly_window_refuses_outside_days_and_says_when_it_opens(
            self, buyer, make_item, mall_admin):
        services.save_window(actor=mall_admin.user, name="每月 1–5 日", mode=WindowMode.MONTHLY,
                             day_from=1, day_to=5, is_default=True)
        item = make_item()
        with pytest.raises(errors.Conflict) as exc:
            order(buyer, item, now=local(2026, 11, 20, 10))
        assert exc.value.code == "window_closed"
        assert exc.value.details["next_opens_at"].startswith("2026-12-01")
        assert order(buyer, item, now=local(2026, 12, 3, 10)).status == "submitted"

    def test_a_category_overrides_the_mall_window(self, buyer, make_item, mall_admin,
                                                  category):
        services.save_window(actor=mall_admin.user, name="关闭", mode="periods", periods=[],
                             is_default=True)
        always = services.save_window(actor=mall_admin.user, name="全天", mode="always")
        services.save_category(actor=mall_admin.user, name=category.name, category=category,
                               window=always)
        assert order(buyer, make_item()).status == "submitted"


    @pytest.mark.parametrize("depth", [1, 2, 3, 4])
    def test_the_nearest_window_up_the_category_tree_governs(self, buyer, mall_admin, depth):
        closed = services.save_window(actor=mall_admin.user, name="关闭", mode="periods",
                                      periods=[])
        services.save_window(actor=mall_admin.user, name="全天", mode="always",
                             is_default=True)
        top = services.save_category(actor=mall_admin.user, name="顶层", window=closed)
        leaf = top
        for level in range(1, depth):
            leaf = services.save_category(actor=mall_admin.user, name=f"第{level}层",
                                          parent=leaf)
        item = services.create_item(actor=mall_admin.user, name="台灯", category=leaf,
                                    points=10, status="listed", fulfilment="service")
        with pytest.raises(errors.Conflict) as exc:
            order(buyer, item)
        assert exc.value.code == "window_closed"
        services.save_category(actor=mall_admin.user, name=top.name, category=top)
        assert order(buyer, item).status == "submitted"  # back under the default


class TestLimitsAndEligibility:
    def test_per_employee_limit_per_month(self, buyer, make_item):
        item = make_item(per_employee_limit=2, limit_period="month", points=10)
        order(buyer, item, now=local(2026, 11, 3, 9))
        order(buyer, item, now=local(2026, 11, 4, 9))
        with pytest.raises(errors.Conflict) as exc:
            order(buyer, item, now=local(2026, 11, 5, 9))
        assert exc.value.code == "limit_reached"
        assert order(buyer, item, now=local(2026, 12, 1, 9)).status == "submitted"

    def test_cancelling_gives_the_limit_back(self, buyer, make_item):
        item = make_item(per_employee_limit=1, limit_period="ever")
        first = order(buyer, item)
        services.cancel_order(order=first, actor=buyer.user)
        assert order(buyer, item).status == "submitted"

    def test_department_grade_and_tenure(self, department, make_item):
        sales = DepartmentFactory(code="SALES", name="销售部")
        east = DepartmentFactory(code="EAST", name="华东区", parent=sales)
        item = make_item(eligible_departments=[sales], eligible_grades="P6,P7",
                         min_tenure_years=2)
        insider = EmployeeFactory(department=east, grade="P6",
                                  hire_date=date.today() - timedelta(days=800))
        outsider = EmployeeFactory(department=department, grade="P6",
                                   hire_date=date.today() - timedelta(days=800))
        junior = EmployeeFactory(department=east, grade="P5",
                                 hire_date=date.today() - timedelta(days=800))
        newcomer = EmployeeFactory(department=east, grade="P7", hire_date=date.today())
        for person in (insider, outsider, junior, newcomer):
            fund(person, 500)
        assert order(insider, item).status == "submitted"
        for person in (outsider, junior, newcomer):
            with pytest.raises(errors.Conflict) as exc:
                order(person, item)
            assert exc.value.code == "not_eligible"


class TestStockAlertsAndDelisting:
    def test_low_stock_alerts_mall_admins_once_per_crossing(self, buyer, make_item,
                                                           mall_admin):
        item = make_item(points=1, stock=4, low_stock_threshold=2)
        order(buyer, item)
        assert not Notification.objects.filter(kind="mall.low_stock").exists()
        order(buyer, item)  # 2 left: crossed
        order(buyer, item)  # 1 left: same crossing
        assert Notification.objects.filter(kind="mall.low_stock",
                                           recipient=mall_admin.user).count() == 1
        services.restock(item=item, quantity=10, actor=mall_admin.user)
        for _ in range(9):
            order(buyer, item)
        assert Notification.objects.filter(kind="mall.low_stock",
                                           recipient=mall_admin.user).count() == 2

    def test_low_stock_is_also_mailed_to_mall_admins_when_mail_is_set_up(
            self, buyer, make_item, mall_admin, smtp, settings,
            django_capture_on_commit_callbacks):
        settings.JIFEN_MAIL_ENABLED = True
        mall_admin.user.email = "mall@example.com"
        mall_admin.user.save()
        item = make_item(name="保温杯", points=1, stock=3, low_stock_threshold=2)
        with django_capture_on_commit_callbacks(execute=True):
            order(buyer, item)  # 2 left: crossed
        with django_capture_on_commit_callbacks(execute=True):
            order(buyer, item)  # same crossing: no second mail
        [mail] = smtp.messages
        assert mail["To"] == "mall@example.com" and "保温杯" in mail["Subject"]
        assert f"https://points.example.com/console/mall/items/{item.pk}/" in mail.get_content()

    def test_delisting_notifies_open_orders_who_may_cancel_with_refund(
            self, buyer, make_item, mall_admin):
        item = make_item(points=300)
        placed = order(buyer, item)
        services.approve_order(order=placed, actor=mall_admin.user)
        services.set_item_status(item=item, status=ItemStatus.DELISTED, actor=mall_admin.user)
        note = Notification.objects.get(recipient=buyer.user, kind="mall.item_delisted")
        assert placed.number in note.body
        cancelled = services.cancel_order(order=placed, actor=buyer.user)
        assert cancelled.status == "cancelled"
        assert spendable(buyer) == 1000
        assert_ledger_sound()

    def test_switching_a_delisted_order_to_another_item(self, buyer, make_item, mall_admin):
        old = make_item(points=300, stock=3)
        placed = order(buyer, old)
        services.set_item_status(item=old, status=ItemStatus.DELISTED, actor=mall_admin.user)
        new = services.switch_order_item(order=placed, new_item=make_item(name="保温杯",
                                                                          points=100),
                                         actor=buyer.user)
        assert new.item_name == "保温杯" and new.status == "submitted"
        assert spendable(buyer) == 900
        assert Item.objects.get(pk=old.pk).stock == 3
        assert_ledger_sound()


class TestDiscounts:
    def test_percent_campaign_on_a_category_lowers_the_price_while_it_runs(
            self, buyer, make_item, mall_admin, category):
        item = make_item(points=200)
        now = timezone.now()
        services.save_campaign(actor=mall_admin.user, name="双十一", kind="percent", value=25,
                               starts_at=now - timedelta(hours=1),
                               ends_at=now + timedelta(days=1), categories=[category])
        price = selectors.price_of(item)
        assert (price.points, price.original, price.discounted) == (150, 200, True)
        placed = order(buyer, item)
        assert placed.points == 150 and placed.original_points == 200
        assert spendable(buyer) == 850
        later = order(buyer, item, now=now + timedelta(days=2))
        assert later.points == 200

class TestLedgerVerifyKnowsTheMall:
    def test_an_order_whose_points_do_not_match_its_status_is_a_breach(self, buyer, make_item,
                                                                        allow_ledger_breaches):
        from jifen.ledger.verify import verify_ledger

        placed = order(buyer, make_item())
        services.cancel_order(order=placed, actor=buyer.user)
        assert verify_ledger() == []
        Order.objects.filter(pk=placed.pk).update(status=OrderStatus.SUBMITTED)
        assert verify_ledger() == [f"order #{placed.pk} is submitted but its hold was settled"]
        Order.objects.filter(pk=placed.pk).update(status=OrderStatus.CANCELLED,
                                                  settle_txn_id=None)
        assert verify_ledger() == [
            f"order #{placed.pk} is cancelled but its points were never given back"]


def test_an_admin_completing_an_order_is_audited(buyer, make_item, mall_admin):
    from jifen.core.models import AuditEntry

    placed = order(buyer, make_item())
    services.approve_order(order=placed, actor=mall_admin.user)
    services.fulfil_order(order=placed, actor=mall_admin.user)
    services.complete_order(order=placed, actor=mall_admin.user)
    entry = AuditEntry.objects.get(action="mall.order.complete")
    assert (entry.before, entry.after) == ({"status": "fulfilled"}, {"status": "completed"})


@pytest.mark.django_db(transaction=True)
def test_a_deadlocked_order_is_retried_when_nobody_else_owns_the_transaction(
        buyer, make_item, monkeypatch):
    from django.db import OperationalError

    real = selectors.order_context
    calls = []

    def deadlock_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:  # the first statement of the order's transaction
            raise OperationalError(1213, "Deadlock found when trying to get lock")
        return real(*args, **kwargs)

    monkeypatch.setattr(selectors, "order_context", deadlock_once)
    placed = order(buyer, make_item(points=100))
    assert placed.status == "submitted" and len(calls) == 2
    assert spendable(buyer) == 900
