from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from jifen.notifications.kinds import NotificationKind, ParamsMissing, registered_kinds
from jifen.notifications.models import Notification
from jifen.notifications.selectors import notifications_for, unread_count
from jifen.notifications.services import (
    Message,
    mark_read,
    notify,
    notify_bulk,
    notify_tally,
)
from tests.conftest import login_client

EXPIRING = {"points": "50", "date": "2026-12-31"}
THANKS = {"name": "李雷", "points": 5, "message": "谢谢"}


@pytest.mark.django_db
def test_a_notification_with_a_dedupe_key_is_sent_once(employee):
    user = employee.user
    first = notify(recipient=user, kind="ledger.points_expiring", params=EXPIRING,
                   dedupe_key="expiry:lot:1")
    again = notify(recipient=user, kind="ledger.points_expiring", params=EXPIRING,
                   dedupe_key="expiry:lot:1")
    assert first is not None and again is None
    assert unread_count(user) == 1


@pytest.mark.django_db
def test_marking_read_clears_the_unread_count_for_that_user_only(employee, hr_admin):
    notify(recipient=employee.user, kind="earning.recognition", params={**THANKS, "message": "a"})
    notify(recipient=employee.user, kind="earning.recognition", params={**THANKS, "message": "b"})
    notify(recipient=hr_admin.user, kind="earning.recognition", params=THANKS)
    assert mark_read(recipient=employee.user) == 2
    assert unread_count(employee.user) == 0
    assert unread_count(hr_admin.user) == 1
    assert [n.body for n in notifications_for(employee.user)] == ["b", "a"]


@pytest.mark.django_db
def test_a_kind_nobody_registered_is_refused_and_nothing_is_sent(employee):
    with pytest.raises(LookupError, match=r"mall\.order_shiped"):
        notify(recipient=employee.user, kind="mall.order_shiped", params={})
    assert unread_count(employee.user) == 0


@pytest.mark.django_db
def test_a_kind_for_mall_managers_is_refused_for_anyone_else(employee, make_role_employee):
    mall_admin = make_role_employee("mall_admin")
    low = {"item": "保温杯", "stock": 3, "threshold": 5}
    with pytest.raises(ValueError, match="manage_mall"):
        notify(recipient=employee.user, kind="mall.low_stock", params=low)
    assert notify(recipient=mall_admin.user, kind="mall.low_stock", params=low)
    assert unread_count(employee.user) == 0


@pytest.mark.django_db
def test_params_that_do_not_fill_the_kinds_texts_are_refused(employee):
    with pytest.raises(ParamsMissing):
        notify(recipient=employee.user, kind="earning.recognition", params={"name": "李雷"})
    assert unread_count(employee.user) == 0


@pytest.mark.django_db
def test_a_notification_stores_params_and_reads_in_the_readers_language(employee):
    """Sent while the site spoke Chinese, read on an English page: English."""
    with translation.override("zh-hans"):
        note = notify(recipient=employee.user, kind="mall.order_rejected",
                      params={"number": "M000171", "reason": "缺货", "points": 150})
        assert note.title == "订单 M000171 被拒绝"
    stored = Notification.objects.get(pk=note.pk)
    assert stored.params == {"number": "M000171", "reason": "缺货", "points": 150}
    assert stored.stored_title == "" and stored.stored_body == ""

    client = login_client(employee.user)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("portal:notifications")).content.decode()
    assert "Order M000171 was rejected" in page
    assert "Your 150 points are back." in page
    assert "被拒绝" not in page and "积分已退回" not in page
    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("portal:notifications")).content.decode()
    assert "订单 M000171 被拒绝" in page


@pytest.mark.django_db
def test_a_message_stored_before_params_keeps_its_words(employee):
    Notification.objects.create(recipient=employee.user, kind="earning.award_approved",
                                stored_title="你获得了 50 积分", stored_body="志愿活动")
    with translation.override("en"):
        [old] = notifications_for(employee.user)
        assert (old.title, old.body) == ("你获得了 50 积分", "志愿活动")


@pytest.mark.django_db
def test_bulk_notices_are_written_in_a_few_statements_and_sent_once_per_key(employee):
    others = [employee.user.pk]
    messages = [Message(recipient_id=others[0], params={"points": "5", "rule": f"规则{n}",
                                                        "variant": "one"},
                        dedupe_key=f"k{n}") for n in range(1200)]
    with CaptureQueriesContext(connection) as queries:
        assert notify_bulk(kind="earning.award_credited", messages=messages) == 1200
    assert len(queries) <= 30  # not one a message (SQLite caps the rows per INSERT)
    assert notify_bulk(kind="earning.award_credited", messages=messages[:10]) == 0
    assert unread_count(employee.user) == 1200


@pytest.mark.django_db
def test_a_tally_grows_one_message_and_marks_it_unread_again(make_role_employee):
    approver = make_role_employee("hr_admin").user
    first = notify_tally(recipient=approver, kind="earning.awards_waiting", count=3,
                         dedupe_key="waiting:1")
    mark_read(recipient=approver)
    again = notify_tally(recipient=approver, kind="earning.awards_waiting", count=2,
                         dedupe_key="waiting:1")
    assert first.pk == again.pk
    [note] = notifications_for(approver)
    assert note.params["count"] == 5 and note.read_at is None
    with translation.override("en"):
        assert note.title == "5 new awards wait for your decision"


def test_every_kind_is_a_dotted_name_of_its_app_with_a_label_and_a_title():
    kinds = registered_kinds()
    assert {"ledger.points_expiring", "mall.low_stock", "earning.recognition"} <= {
        kind.name for kind in kinds}
    for kind in kinds:
        app = kind.name.split(".")[0]
        assert app in {"ledger", "mall", "earning", "activities", "library",
                       "notifications"}, kind.name
        assert str(kind.label)
        assert kind.title, f"{kind.name}: say what it reads as (title=…)"
    with pytest.raises(ValueError, match="dotted"):
        NotificationKind("points_expiring", "Points")


def test_only_reminders_and_prizes_go_out_by_mail_by_default():
    mailed = {kind.name for kind in registered_kinds() if "email" in kind.channels}
    assert mailed == {"mall.low_stock", "earning.approval_reminder", "mall.orders_waiting",
                      "activities.auction_won", "activities.lottery_won"}
