"""Outbound webhooks end to end, against a real receiver on 127.0.0.1 that verifies each
request's signature with the ``standardwebhooks`` package. Transactional, so the outbox,
its commit hooks and a real rollback behave as in production; run on PostgreSQL and MariaDB
too by setting JIFEN_DATABASE_URL."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from jifen.core.models import AuditEntry
from jifen.integrations.models import DeliveryStatus, WebhookDelivery
from jifen.integrations.webhooks import events, services
from jifen.ledger import services as ledger
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db(transaction=True)


def adjust(employee, amount: int) -> None:
    ledger.adjust(employee=employee, amount=amount, reason="webhook test", actor=None,
                  idempotency_key=secrets.token_hex(8))


def send(endpoint, *, after: timedelta = timedelta(0)) -> int:
    return services.deliver_due(endpoint_id=endpoint.pk, now=timezone.now() + after)


def test_points_events_arrive_signed_and_verified(receiver, subscribe):
    endpoint = subscribe(events.POINTS_CREDITED, events.POINTS_DEBITED)
    alice = EmployeeFactory()
    adjust(alice, 25)
    adjust(alice, -10)
    assert send(endpoint) == 2
    assert [(r["type"], r["data"]["amount"], r["data"]["employee_no"])
            for r in receiver.accepted] == [
        ("points.credited", 25, alice.employee_no), ("points.debited", -10, alice.employee_no)]
    assert receiver.rejected_signatures == 0
    assert all(sig.startswith("v1,") for r in receiver.requests for sig in r["signatures"])
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}


def test_a_rolled_back_change_delivers_nothing(receiver, subscribe):
    alice = EmployeeFactory()
    endpoint = subscribe()

    with pytest.raises(RuntimeError), transaction.atomic():
        adjust(alice, 40)
        EmployeeFactory()
        assert WebhookDelivery.objects.count() == 2  # written with the changes …
        raise RuntimeError("the change fails after its posting")

    assert WebhookDelivery.objects.count() == 0  # … and gone with them
    assert send(endpoint, after=timedelta(days=4)) == 0
    assert receiver.requests == []


def test_a_receiver_down_for_a_while_gets_every_event_in_order_once(receiver, subscribe):
    endpoint = subscribe(events.POINTS_CREDITED)
    alice = EmployeeFactory()
    receiver.default = 503  # up but failing
    for amount in (1, 2, 3):
        adjust(alice, amount)
    assert send(endpoint) == 0
    receiver.stop()  # then down altogether: connection refused
    for amount in (4, 5):
        adjust(alice, amount)
    assert send(endpoint, after=timedelta(hours=1)) == 0
    head = WebhookDelivery.objects.order_by("id").first()
    assert head.attempts == 2 and head.status == DeliveryStatus.PENDING
    assert "ConnectionError" in head.attempt_log.first().error
    # Only the oldest was ever tried: the newer ones wait behind it.
    assert WebhookDelivery.objects.filter(attempts=0).count() == 4

    receiver.default = 200
    receiver.start()  # back, on the same port
    adjust(alice, 6)
    assert send(endpoint, after=timedelta(hours=12)) == 6

    assert [r["data"]["amount"] for r in receiver.accepted] == [1, 2, 3, 4, 5, 6]
    ids = [r["id"] for r in receiver.accepted]
    assert len(set(ids)) == 6
    # The head's retries carried the same webhook-id each time.
    tried = {r["id"] for r in receiver.requests if r["status"] == 503}
    assert tried == {ids[0]}
    assert send(endpoint, after=timedelta(days=5)) == 0  # nothing is sent twice


def test_410_disables_the_endpoint_and_keeps_what_waits(receiver, subscribe):
    endpoint = subscribe(events.POINTS_CREDITED)
    alice = EmployeeFactory()
    receiver.script = [(410, {})]
    adjust(alice, 5)
    adjust(alice, 6)
    assert send(endpoint) == 0
    endpoint.refresh_from_db()
    assert not endpoint.is_active and "410" in endpoint.disabled_reason
    assert AuditEntry.objects.filter(action="webhook.disable").exists()
    assert list(WebhookDelivery.objects.order_by("id").values_list("status", flat=True)) == [
        "failed", "pending"]
    adjust(alice, 7)  # a disabled endpoint subscribes to nothing
    assert WebhookDelivery.objects.count() == 2

    services.update_endpoint(endpoint=endpoint, actor=None, is_active=True)
    assert send(endpoint) == 1
    assert [r["data"]["amount"] for r in receiver.accepted] == [6]


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(receiver, subscribe, status):
    endpoint = subscribe(events.POINTS_CREDITED)
    receiver.script = [(status, {"Retry-After": "600"})]
    adjust(EmployeeFactory(), 5)
    before = timezone.now()
    send(endpoint)
    delivery = WebhookDelivery.objects.get()
    wait = delivery.next_attempt_at - before
    assert timedelta(seconds=595) < wait < timedelta(seconds=610)
    assert send(endpoint, after=timedelta(seconds=300)) == 0
    assert len(receiver.requests) == 1  # not tried before the receiver asked
    assert send(endpoint, after=timedelta(seconds=601)) == 1


def test_retries_back_off_for_about_three_days_then_give_up(receiver, subscribe):
    endpoint = subscribe(events.POINTS_CREDITED)
    receiver.default = 500
    alice = EmployeeFactory()
    adjust(alice, 1)
    start = timezone.now()
    at = start
    for _ in range(40):
        services.deliver_due(endpoint_id=endpoint.pk, now=at)
        if at == start:
            adjust(alice, 2)  # queued behind the failing one
        first = WebhookDelivery.objects.order_by("id").first()
        assert first.next_attempt_at > at
        at = first.next_attempt_at
        if first.attempts == len(services.RETRY_DELAYS):
            break
    assert timedelta(days=2.3) < at - start < timedelta(days=3.5)
    # The last try fails too: the first is given up on, and the next event, no longer
    # held back by it, goes out at once.
    receiver.script, receiver.default = [(500, {})], 200
    assert services.deliver_due(endpoint_id=endpoint.pk, now=at) == 1
    first.refresh_from_db()
    assert first.status == DeliveryStatus.FAILED
    assert first.attempts == len(services.RETRY_DELAYS) + 1
    assert [r["data"]["amount"] for r in receiver.accepted] == [2]


def test_backoff_grows_with_jitter():
    waits = [services._backoff(n) for n in range(1, len(services.RETRY_DELAYS) + 1)]
    for wait, base in zip(waits, services.RETRY_DELAYS, strict=True):
        assert base * 0.79 <= wait <= base * 1.21
    assert services._backoff(len(services.RETRY_DELAYS) + 1) is None
    assert timedelta(days=2.5) < sum(services.RETRY_DELAYS, timedelta()) < timedelta(days=3.2)


def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(receiver, subscribe):
    endpoint = subscribe(events.POINTS_CREDITED)
    old = receiver.secrets[:]
    new = services.rotate_secret(endpoint=endpoint, actor=None)
    endpoint.refresh_from_db()
    alice = EmployeeFactory()
    adjust(alice, 3)
    receiver.secrets = [new]  # a receiver already switched verifies …
    send(endpoint)
    receiver.secrets = old  # … and so does one that has not yet
    adjust(alice, 4)
    send(endpoint)
    assert [len(r["signatures"]) for r in receiver.accepted] == [2, 2]
    assert receiver.rejected_signatures == 0
    # A day later only the new secret signs.
    assert len(services.live_secrets(endpoint, timezone.now() + timedelta(hours=25))) == 1


def test_a_test_event_and_a_redelivery_keep_their_webhook_id(receiver, subscribe):
    endpoint = subscribe(events.POINTS_CREDITED)
    delivery = services.send_test_event(endpoint=endpoint, actor=None)
    send(endpoint)
    services.redeliver(delivery=delivery, actor=None)
    send(endpoint)
    assert [(r["type"], r["id"]) for r in receiver.accepted] == [
        ("webhook.test", delivery.message_id)] * 2
    assert delivery.attempt_log.count() == 2
    assert AuditEntry.objects.filter(action__in=["webhook.test", "webhook.redeliver"]).count() == 2


def test_people_events(receiver, subscribe):
    from jifen.people import services as people

    endpoint = subscribe(events.EMPLOYEE_CREATED, events.EMPLOYEE_LEFT)
    bob = EmployeeFactory()
    people.mark_employee_left(employee=bob, actor=None)
    send(endpoint)
    assert [(r["type"], r["data"]["employee_no"]) for r in receiver.accepted] == [
        ("employee.created", bob.employee_no), ("employee.left", bob.employee_no)]


def test_order_events_follow_the_order(receiver, subscribe, make_role_employee):
    # The mall's helpers: only these tests build orders.
    from jifen.core.roles import Role
    from jifen.mall import services as mall
    from jifen.mall.models import Fulfilment, ItemStatus

    admin = make_role_employee(Role.MALL_ADMIN)
    category = mall.save_category(actor=admin.user, name="礼品")
    item = mall.create_item(actor=admin.user, name="电影票", points=30, category=category,
                            status=ItemStatus.LISTED, fulfilment=Fulfilment.SERVICE)
    buyer = EmployeeFactory()
    adjust(buyer, 100)
    endpoint = subscribe(events.ORDER_PLACED, events.ORDER_STATUS_CHANGED)
    placed = mall.create_order(employee=buyer, item=item, idempotency_key="o-1")
    mall.approve_order(order=placed, actor=admin.user)
    send(endpoint)
    assert [(r["type"], r["data"]["status"], r["data"]["points"]) for r in receiver.accepted] == [
        ("order.placed", "submitted", 30), ("order.status_changed", "approved", 30)]
    assert receiver.accepted[0]["data"]["employee_no"] == buyer.employee_no


def test_a_lottery_draw_reaches_the_receiver(receiver, subscribe, make_role_employee):
    from jifen.activities.services import lottery as lotteries
    from jifen.core.roles import Role
    from tests.activities.conftest import make_lottery

    admin = make_role_employee(Role.HR_ADMIN)
    lottery = make_lottery(admin.user)
    players = [EmployeeFactory() for _ in range(3)]
    for index, player in enumerate(players):
        adjust(player, 50)
        lotteries.enter_lottery(lottery=lottery, employee=player, idempotency_key=f"l-{index}")
    endpoint = subscribe(events.LOTTERY_DRAWN)
    lotteries.draw_lottery(lottery=lottery, actor=admin.user, force=True)
    send(endpoint)
    [drawn] = receiver.accepted
    assert drawn["type"] == "lottery.drawn" and drawn["data"]["lottery_id"] == lottery.pk
    winners = drawn["data"]["winners"]
    assert len(winners) == 3  # one first prize and two souvenirs among three players
    assert {w["employee_no"] for w in winners} == {p.employee_no for p in players}
    assert drawn["data"]["seed"]  # revealed with the result, so anyone can check the draw


def test_a_closed_auction_reaches_the_receiver(receiver, subscribe, make_role_employee):
    from jifen.activities.services import auction as auctions
    from jifen.core.roles import Role
    from jifen.mall import services as mall
    from jifen.mall.models import Fulfilment, ItemStatus

    admin = make_role_employee(Role.MALL_ADMIN)
    item = mall.create_item(actor=admin.user, name="机械键盘", points=300,
                            category=mall.save_category(actor=admin.user, name="数码"),
                            status=ItemStatus.LISTED, fulfilment=Fulfilment.SERVICE, stock=1)
    now = timezone.now()
    auction = auctions.publish_auction(auction=auctions.create_auction(
        actor=admin.user, title="竞拍：机械键盘", item_id=item.pk, starting_price=100,
        min_increment=10, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1),
        extend_minutes=5), actor=admin.user)
    bidder = EmployeeFactory()
    adjust(bidder, 500)
    auctions.place_bid(auction=auction, employee=bidder, amount=150)
    endpoint = subscribe(events.AUCTION_CLOSED)
    auctions.close_due_auctions(now=now + timedelta(hours=2))
    send(endpoint, after=timedelta(hours=2))
    [closed] = receiver.accepted
    assert closed["type"] == "auction.closed"
    assert closed["data"]["auction_id"] == auction.pk
    assert closed["data"]["winner_employee_no"] == bidder.employee_no
    assert closed["data"]["amount"] == 150 and closed["data"]["order_id"]
