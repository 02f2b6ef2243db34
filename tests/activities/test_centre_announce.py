"""The notice to eligible employees: exactly the eligible active ones, once, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from jifen.activities.models import ActivityStatus, Lottery
from jifen.activities.services.common import announce
from jifen.core import errors
from jifen.core.models import AuditEntry
from jifen.notifications.models import Notification
from jifen.people.models import EmployeeStatus
from tests.activities import centre_fixtures
from tests.activities.centre_fixtures import HOUR, make_auction, make_item, make_lottery
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db
activities_admin = centre_fixtures.activities_admin


def told(activity_kind: str = "activities.announced") -> set:
    return set(Notification.objects.filter(kind=activity_kind)
               .values_list("recipient__employee__employee_no", flat=True))


def test_the_notice_reaches_exactly_the_eligible_active_employees_once(activities_admin):
    sales = DepartmentFactory(code="SALES", name="销售部")
    east = DepartmentFactory(code="EAST", name="华东区", parent=sales)
    other = DepartmentFactory(code="OTHER", name="其他")
    old = timezone.localdate() - timedelta(days=400)
    EmployeeFactory(employee_no="S1", department=sales, grade="P5", hire_date=old)
    EmployeeFactory(employee_no="S2", department=east, grade="P6", hire_date=old)
    EmployeeFactory(employee_no="X1", department=other, grade="P5", hire_date=old)
    EmployeeFactory(employee_no="X2", department=east, grade="P2", hire_date=old)
    EmployeeFactory(employee_no="X3", department=east, grade="P5",
                    hire_date=timezone.localdate())
    EmployeeFactory(employee_no="X4", department=east, grade="P5", hire_date=old,
                    status=EmployeeStatus.LEFT)
    lottery = make_lottery(title="销售年会抽奖", description="一等奖是平板电脑",
                           eligible_grades="P5,P6", min_tenure_days=180,
                           min_balance=10_000)  # the balance is checked at entry, not here
    lottery.eligible_departments.add(sales)

    assert announce(activity=lottery, actor=activities_admin.user, message="快来参加！") == 2
    assert told() == {"S1", "S2"}
    note = Notification.objects.filter(kind="activities.announced").first()
    assert note.params["title"] == "销售年会抽奖" and note.params["notice"] == "快来参加！"
    assert note.url == f"/activities/lotteries/{lottery.pk}/"
    lottery.refresh_from_db()
    assert lottery.notice_sent_at is not None

    with pytest.raises(errors.Conflict) as second:
        announce(activity=lottery, actor=activities_admin.user)
    assert second.value.code == errors.ErrorCode.ALREADY_ANNOUNCED
    assert Notification.objects.filter(kind="activities.announced").count() == 2

    [entry] = AuditEntry.objects.filter(action="activities.announce")
    assert entry.object_id == str(lottery.pk) and entry.after["recipients"] == 2
    assert entry.actor_id == activities_admin.user.pk


def test_without_a_message_the_notice_carries_the_description(activities_admin, employee):
    auction = make_auction(make_item(activities_admin.user), title="耳机竞拍",
                           description="起拍 100 积分", starts_at=timezone.now() + HOUR)
    assert announce(activity=auction, actor=activities_admin.user) >= 1
    note = Notification.objects.get(kind="activities.announced", recipient=employee.user)
    assert note.params == {"title": "耳机竞拍", "notice": "起拍 100 积分", "variant": "auction"}
    with translation.override("en"):
        assert note.title == "New auction: 耳机竞拍"
        assert note.body == "起拍 100 积分"


@pytest.mark.parametrize("status, shift, code", [
    (ActivityStatus.DRAFT, 0, errors.ErrorCode.CONFLICT),
    (ActivityStatus.CANCELLED, 0, errors.ErrorCode.ACTIVITY_CLOSED),
    (ActivityStatus.FINISHED, 0, errors.ErrorCode.ACTIVITY_CLOSED),
    (ActivityStatus.PUBLISHED, -100, errors.ErrorCode.ACTIVITY_CLOSED),  # past its end
])
def test_no_notice_for_a_draft_or_an_activity_that_is_over(activities_admin, employee, status,
                                                            shift, code):
    lottery = make_lottery(status=status, starts_at=timezone.now() + shift * HOUR)
    with pytest.raises(errors.Conflict) as refused:
        announce(activity=lottery, actor=activities_admin.user)
    assert refused.value.code == code
    assert told() == set()
    assert Lottery.objects.get(pk=lottery.pk).notice_sent_at is None
    assert not AuditEntry.objects.filter(action="activities.announce").exists()


def test_a_long_message_is_refused_before_anything_is_sent(activities_admin, employee):
    lottery = make_lottery()
    with pytest.raises(errors.ValidationError):
        announce(activity=lottery, actor=activities_admin.user, message="长" * 501)
    assert told() == set() and Lottery.objects.get(pk=lottery.pk).notice_sent_at is None
