from __future__ import annotations

import pytest

from jifen.notifications.selectors import notifications_for, unread_count
from jifen.notifications.services import mark_read, notify


@pytest.mark.django_db
def test_a_notification_with_a_dedupe_key_is_sent_once(employee):
    user = employee.user
    first = notify(recipient=user, kind="expiry", title="50 积分将于 30 天后过期",
                   dedupe_key="expiry:lot:1")
    again = notify(recipient=user, kind="expiry", title="50 积分将于 30 天后过期",
                   dedupe_key="expiry:lot:1")
    assert first is not None and again is None
    assert unread_count(user) == 1


@pytest.mark.django_db
def test_marking_read_clears_the_unread_count_for_that_user_only(employee, hr_admin):
    notify(recipient=employee.user, kind="x", title="a")
    notify(recipient=employee.user, kind="x", title="b")
    notify(recipient=hr_admin.user, kind="x", title="c")
    assert mark_read(recipient=employee.user) == 2
    assert unread_count(employee.user) == 0
    assert unread_count(hr_admin.user) == 1
    assert [n.title for n in notifications_for(employee.user)] == ["b", "a"]
