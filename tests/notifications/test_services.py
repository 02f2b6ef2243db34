from __future__ import annotations

import pytest

from jifen.notifications.kinds import NotificationKind, registered_kinds
from jifen.notifications.selectors import notifications_for, unread_count
from jifen.notifications.services import mark_read, notify


@pytest.mark.django_db
def test_a_notification_with_a_dedupe_key_is_sent_once(employee):
    user = employee.user
    first = notify(recipient=user, kind="ledger.points_expiring", title="50 积分将于 30 天后过期",
                   dedupe_key="expiry:lot:1")
    again = notify(recipient=user, kind="ledger.points_expiring", title="50 积分将于 30 天后过期",
                   dedupe_key="expiry:lot:1")
    assert first is not None and again is None
    assert unread_count(user) == 1


@pytest.mark.django_db
def test_marking_read_clears_the_unread_count_for_that_user_only(employee, hr_admin):
    notify(recipient=employee.user, kind="earning.recognition", title="a")
    notify(recipient=employee.user, kind="earning.recognition", title="b")
    notify(recipient=hr_admin.user, kind="earning.recognition", title="c")
    assert mark_read(recipient=employee.user) == 2
    assert unread_count(employee.user) == 0
    assert unread_count(hr_admin.user) == 1
    assert [n.title for n in notifications_for(employee.user)] == ["b", "a"]


@pytest.mark.django_db
def test_a_kind_nobody_registered_is_refused_and_nothing_is_sent(employee):
    with pytest.raises(LookupError, match=r"mall\.order_shiped"):
        notify(recipient=employee.user, kind="mall.order_shiped", title="typo")
    assert unread_count(employee.user) == 0


@pytest.mark.django_db
def test_a_kind_for_mall_managers_is_refused_for_anyone_else(employee, make_role_employee):
    mall_admin = make_role_employee("mall_admin")
    with pytest.raises(ValueError, match="manage_mall"):
        notify(recipient=employee.user, kind="mall.low_stock", title="库存不足")
    assert notify(recipient=mall_admin.user, kind="mall.low_stock", title="库存不足")
    assert unread_count(employee.user) == 0


def test_every_kind_is_a_dotted_name_of_its_app_with_a_label():
    kinds = registered_kinds()
    assert {"ledger.points_expiring", "mall.low_stock", "earning.recognition"} <= {
        kind.name for kind in kinds}
    for kind in kinds:
        app = kind.name.split(".")[0]
        assert app in {"ledger", "mall", "earning"}, kind.name
        assert str(kind.label)
    with pytest.raises(ValueError, match="dotted"):
        NotificationKind("points_expiring", "Points")
