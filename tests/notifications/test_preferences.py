"""Notification preferences route every notice: per kind × channel (in-app, e-mail through
a real SMTP server, IM through a registered sender), daily and weekly digests that hold
exactly what was collected for them, quiet hours, the site's defaults, mandatory kinds."""

from __future__ import annotations

import socket
from datetime import datetime, time, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from jifen.core import errors
from jifen.core.models import AuditEntry
from jifen.notifications import channels, kinds, selectors
from jifen.notifications.channels import IM
from jifen.notifications.kinds import EMAIL, IN_APP, NotificationKind
from jifen.notifications.models import Notification
from jifen.notifications.services import (
    Message,
    notify,
    notify_bulk,
    notify_tally,
    save_preferences,
    save_site_defaults,
    send_digests,
)
from tests.conftest import IMMEDIATE_TASKS

AWARD = "earning.award_approved"  # in-app only by default
LOW_STOCK = "mall.low_stock"  # in-app and e-mail by default


def award(user, reason="辛苦了", **extra):
    return notify(recipient=user, kind=AWARD, url="/earn/",
                  params={"points": 50, "rule": "志愿活动", "reason": reason}, **extra)


def at(day, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def tomorrow():
    return timezone.localdate() + timedelta(days=1)


@pytest.fixture
def person(employee):
    employee.user.email = "zhang.wei@example.com"
    employee.user.save()
    return employee.user


@pytest.fixture
def im_inbox(monkeypatch):
    """A fake IM platform: the notifications its sender was asked to deliver."""
    sent: list[Notification] = []

    def sender(notification_id: int) -> bool:
        sent.append(Notification.objects.get(pk=notification_id))
        return True

    monkeypatch.setitem(channels._senders, IM, sender)
    monkeypatch.setitem(channels._ready, IM, lambda: True)
    with override_settings(TASKS=IMMEDIATE_TASKS):
        yield sent


@pytest.fixture
def security_kind(monkeypatch):
    kind = NotificationKind("people.password_changed", "Password changed", mandatory=True,
                            channels=frozenset({IN_APP, EMAIL}))
    monkeypatch.setitem(kinds._KINDS, kind.name, kind)
    return kind


# --- in-app ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_kind_turned_off_in_the_app_is_kept_in_the_centre_but_not_unread(person):
    save_preferences(user=person, choices={AWARD: {IN_APP: False}})
    kept = award(person)
    assert kept.read_at is not None
    assert list(selectors.notifications_for(person)) == [kept]
    assert selectors.unread_count(person) == 0
    save_preferences(user=person, choices={AWARD: {IN_APP: True}})
    award(person, reason="again")
    assert selectors.unread_count(person) == 1


@pytest.mark.django_db
def test_a_mandatory_kind_cannot_be_turned_off_in_the_app(person, security_kind):
    with pytest.raises(errors.ValidationError) as caught:
        save_preferences(user=person, choices={security_kind.name: {IN_APP: False}})
    assert caught.value.code == errors.ErrorCode.MANDATORY_NOTIFICATION
    notify(recipient=person, kind=security_kind)
    assert selectors.unread_count(person) == 1


@pytest.mark.django_db
def test_a_repeated_tally_stays_read_when_its_kind_is_off_in_the_app(make_role_employee):
    approver = make_role_employee("manager").user
    save_preferences(user=approver, choices={"earning.awards_waiting": {IN_APP: False}})
    for _ in range(2):
        notify_tally(recipient=approver, kind="earning.awards_waiting", count=1,
                     dedupe_key="waiting:1")
    tally = Notification.objects.get(recipient=approver)
    assert tally.params["count"] == 2
    assert tally.read_at is not None


# --- e-mail ------------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(JIFEN_MAIL_ENABLED=True)
def test_e_mail_turned_on_for_a_kind_is_sent_at_once(smtp, person,
                                                     django_capture_on_commit_callbacks):
    award(person)
    save_preferences(user=person, choices={AWARD: {EMAIL: True}})
    with django_capture_on_commit_callbacks(execute=True):
        sent = award(person, reason="第二次")
    [message] = smtp.messages
    assert message["To"] == "zhang.wei@example.com"
    assert "第二次" in message.get_content()
    sent.refresh_from_db()
    assert sent.emailed_at is not None


@pytest.mark.django_db
@override_settings(JIFEN_MAIL_ENABLED=True)
def test_e_mail_turned_off_for_a_kind_that_mails_by_default_is_not_sent(
        smtp, make_role_employee, django_capture_on_commit_callbacks):
    admin = make_role_employee("mall_admin", user__email="mall@example.com").user
    save_preferences(user=admin, choices={LOW_STOCK: {EMAIL: False}})
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipient=admin, kind=LOW_STOCK, params={"item": "杯", "stock": 1,
                                                        "threshold": 5})
    assert smtp.messages == []
    assert Notification.objects.get(recipient=admin).read_at is None  # still in the centre


@pytest.mark.django_db
@override_settings(JIFEN_MAIL_ENABLED=True)
def test_site_defaults_apply_to_people_without_a_choice_of_their_own(
        smtp, person, make_role_employee, super_admin, django_capture_on_commit_callbacks):
    other = make_role_employee("employee", user__email="li.na@example.com").user
    assert save_site_defaults(actor=super_admin.user, choices={AWARD: {EMAIL: True}}) == 1
    save_preferences(user=other, choices={AWARD: {EMAIL: False}})  # their own choice wins
    with django_capture_on_commit_callbacks(execute=True):
        award(person)
        award(other)
    assert [m["To"] for m in smtp.messages] == ["zhang.wei@example.com"]
    entry = AuditEntry.objects.get(action="notifications.defaults.update")
    assert entry.after == {f"{AWARD}/email": True}
    # Back to the registered default: stored as no override.
    save_site_defaults(actor=super_admin.user, choices={AWARD: {EMAIL: False}})
    assert selectors.site_defaults() == {}


# --- IM ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_im_turned_on_goes_to_the_registered_sender_after_commit(
        im_inbox, person, django_capture_on_commit_callbacks):
    save_preferences(user=person, choices={AWARD: {IM: True}})
    with django_capture_on_commit_callbacks(execute=True):
        sent = award(person)
        assert im_inbox == []
    assert [n.pk for n in im_inbox] == [sent.pk]
    sent.refresh_from_db()
    assert sent.im_sent_at is not None


@pytest.mark.django_db
def test_without_an_im_platform_nothing_is_routed_to_im(person,
                                                        django_capture_on_commit_callbacks):
    save_preferences(user=person, choices={AWARD: {IM: True}})
    assert not selectors.im_available()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sent = award(person)
    assert callbacks == []
    assert sent.im_via == ""


@pytest.mark.django_db
def test_bulk_notices_follow_each_recipients_choices(
        im_inbox, person, make_role_employee, django_capture_on_commit_callbacks):
    quiet = make_role_employee("employee").user
    save_preferences(user=person, choices={"earning.award_credited": {IM: True}})
    save_preferences(user=quiet, choices={"earning.award_credited": {IN_APP: False}})
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_bulk(kind="earning.award_credited", messages=[
            Message(recipient_id=u.pk, params={"points": 5, "rule": "打卡", "variant": "one"},
                    dedupe_key="batch-1") for u in (person, quiet)]) == 2
    assert [n.recipient_id for n in im_inbox] == [person.pk]
    assert selectors.unread_count(person) == 1
    assert selectors.unread_count(quiet) == 0


# --- quiet hours -------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(JIFEN_MAIL_ENABLED=True,
                   TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}})
def test_quiet_hours_hold_e_mail_until_they_end(person, security_kind,
                                                django_capture_on_commit_callbacks):
    from django_tasks import default_task_backend

    default_task_backend.clear()
    now = timezone.localtime()
    start = (now - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (now + timedelta(hours=2)).time().replace(second=0, microsecond=0)
    save_preferences(user=person, choices={AWARD: {EMAIL: True}}, quiet_start=start,
                     quiet_end=end)
    with django_capture_on_commit_callbacks(execute=True):
        award(person)
        notify(recipient=person, kind=security_kind)  # mandatory: never held
    held, urgent = default_task_backend.results
    assert timezone.localtime(held.task.run_after).time() == end
    assert held.task.run_after > timezone.now()
    assert urgent.task.run_after is None
    save_preferences(user=person, quiet=False)
    with django_capture_on_commit_callbacks(execute=True):
        award(person)
    assert default_task_backend.results[-1].task.run_after is None


def test_quiet_hours_over_midnight():
    delivery = selectors.Delivery(quiet_start=time(22), quiet_end=time(7))
    evening = at(timezone.localdate(), 23)
    assert timezone.localtime(delivery.quiet_until(evening)) == \
        timezone.localtime(at(timezone.localdate() + timedelta(days=1), 7))
    assert delivery.quiet_until(at(timezone.localdate(), 12)) is None
    assert delivery.quiet_until(at(timezone.localdate(), 6)) is not None


# --- digests -----------------------------------------------------------------------------


def _digest_lines(message) -> list[str]:
    return [line for line in message.get_content().splitlines() if line.startswith("•")]


@pytest.mark.django_db
@override_settings(JIFEN_MAIL_ENABLED=True)
def test_the_daily_digest_mails_exactly_what_was_collected_in_order_once(
        smtp, person, security_kind, django_capture_on_commit_callbacks):
    save_preferences(user=person, mode="daily", digest_hour=8,
                     choices={AWARD: {EMAIL: True}, "earning.recognition": {EMAIL: False}})
    with django_capture_on_commit_callbacks(execute=True):
        award(person, reason="一")
        notify(recipient=person, kind="earning.recognition",
               params={"name": "李娜", "points": 5, "message": "谢谢"})  # not mailed at all
        notify(recipient=person, kind=security_kind)  # mandatory: at once
        award(person, reason="二")
    Notification.objects.update(created_at=at(timezone.localdate(), 12))  # at noon today
    [urgent] = smtp.messages
    assert "Password changed" in urgent["Subject"]
    smtp.messages.clear()

    assert send_digests(now=at(tomorrow(), 7)) == 0  # before its hour
    assert send_digests(now=at(tomorrow(), 8)) == 1
    assert send_digests(now=at(tomorrow(), 9)) == 0  # once a day
    [digest] = smtp.messages
    assert "2" in digest["Subject"]
    text = digest.get_content()
    assert text.index("一") < text.index("二")
    assert "谢谢" not in text and "Password" not in text
    assert len(_digest_lines(digest)) == 2
    assert "https://points.example.com/earn/" in text
    assert Notification.objects.filter(email_via="digest", emailed_at__isnull=True).count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        award(person, reason="三")
    Notification.objects.filter(emailed_at__isnull=True).update(created_at=at(tomorrow(), 9))
    assert send_digests(now=at(tomorrow(), 10)) == 0  # today's went out; it waits
    assert send_digests(now=at(tomorrow() + timedelta(days=1), 8)) == 1
    later = smtp.messages[-1].get_content()
    assert "三" in later and "一" not in later


@pytest.mark.django_db
@override_settings(JIFEN_MAIL_ENABLED=True)
def test_the_weekly_digest_goes_out_on_its_weekday(smtp, person,
                                                  django_capture_on_commit_callbacks):
    save_preferences(user=person, mode="weekly", digest_hour=8, digest_weekday=0,
                     choices={AWARD: {EMAIL: True}})
    with django_capture_on_commit_callbacks(execute=True):
        award(person, reason="周")
    assert smtp.messages == []
    today = timezone.localdate()
    monday = today + timedelta(days=7 - today.weekday())
    Notification.objects.update(created_at=at(monday - timedelta(days=2), 12))  # Saturday
    # This week's Monday has passed: what arrives now waits for next Monday's digest.
    assert send_digests(now=at(monday - timedelta(days=1), 23)) == 0
    assert send_digests(now=at(monday, 7)) == 0
    assert send_digests(now=at(monday, 8)) == 1
    assert send_digests(now=at(monday + timedelta(days=3), 8)) == 0  # same week
    [digest] = smtp.messages
    assert "每周摘要：1 条通知" in digest["Subject"]  # the site's language
    assert "周" in digest.get_content()


@pytest.mark.django_db
def test_the_im_digest_is_one_message_counting_what_was_collected(
        im_inbox, person, django_capture_on_commit_callbacks):
    save_preferences(user=person, mode="daily", choices={AWARD: {IM: True}})
    with django_capture_on_commit_callbacks(execute=True):
        first = award(person, reason="一")
        second = award(person, reason="二")
    assert im_inbox == []
    assert send_digests(now=at(tomorrow(), 8)) == 1
    assert send_digests(now=at(tomorrow(), 9)) == 0
    [digest] = im_inbox
    assert digest.kind == "notifications.digest"
    assert digest.params == {"count": 2, "variant": "daily"}
    assert digest.read_at is not None  # a record in the centre, not a new unread item
    for sent in (first, second):
        sent.refresh_from_db()
        assert sent.im_sent_at is not None


@pytest.mark.django_db
@override_settings(JIFEN_MAIL_ENABLED=True)
def test_leftovers_of_a_digest_given_up_go_out_at_the_next_run(
        smtp, person, django_capture_on_commit_callbacks):
    save_preferences(user=person, mode="weekly", choices={AWARD: {EMAIL: True}})
    with django_capture_on_commit_callbacks(execute=True):
        award(person, reason="留")
    save_preferences(user=person, mode="immediate")
    assert send_digests(now=timezone.now()) == 1
    assert "留" in smtp.messages[0].get_content()


@pytest.mark.django_db
@override_settings(JIFEN_MAIL_ENABLED=True)
def test_a_digest_whose_mail_fails_is_sent_whole_at_the_next_run(
        smtp, person, django_capture_on_commit_callbacks):
    save_preferences(user=person, mode="daily", choices={AWARD: {EMAIL: True}})
    with django_capture_on_commit_callbacks(execute=True):
        award(person, reason="一")
        award(person, reason="二")
    with socket.socket() as probe:  # a port nobody listens on: the SMTP server is down
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with override_settings(EMAIL_PORT=closed):
        assert send_digests(now=at(tomorrow(), 8)) == 0
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 2
    assert send_digests(now=at(tomorrow(), 9)) == 1  # same period: nothing was recorded
    [digest] = smtp.messages
    assert len(_digest_lines(digest)) == 2
