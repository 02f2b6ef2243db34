from __future__ import annotations

import pytest
from django.urls import reverse

from jifen.notifications.models import Notification
from jifen.notifications.services import notify
from tests.conftest import login_client

pytestmark = pytest.mark.django_db
APPROVED = {"points": 50, "rule": "志愿活动", "reason": ""}
THANKS = {"name": "李雷", "points": 5, "message": "谢谢"}


def test_an_employee_sees_their_notifications_and_the_unread_count(employee, hr_admin):
    notify(recipient=employee.user, kind="earning.award_approved",
           params={"points": 50, "rule": "志愿活动", "reason": ""}, url="/points/")
    notify(recipient=hr_admin.user, kind="earning.recognition",
           params={"name": "李雷", "points": 5, "message": "别人的消息"})
    client = login_client(employee.user)

    home = client.get(reverse("portal:home"))
    assert 'data-testid="unread-count">1<' in home.content.decode()
    page = client.get(reverse("portal:notifications")).content.decode()
    assert "志愿活动：50 积分" in page and "别人的消息" not in page


def test_opening_a_notification_marks_it_read_and_follows_its_link(employee):
    note = notify(recipient=employee.user, kind="earning.award_approved",
                  params=APPROVED, url="/points/")
    response = login_client(employee.user).get(
        reverse("portal:notification_open", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == "/points/"
    assert Notification.objects.get(pk=note.pk).read_at is not None


def test_someone_elses_notification_is_404_and_stays_unread(employee, hr_admin):
    note = notify(recipient=hr_admin.user, kind="earning.recognition", params=THANKS)
    response = login_client(employee.user).get(
        reverse("portal:notification_open", args=[note.pk]))
    assert response.status_code == 404
    assert Notification.objects.get(pk=note.pk).read_at is None


def test_an_outside_link_is_not_followed(employee):
    note = notify(recipient=employee.user, kind="earning.recognition", params=THANKS,
                  url="https://evil.example/")
    response = login_client(employee.user).get(
        reverse("portal:notification_open", args=[note.pk]))
    assert response["Location"] == reverse("portal:notifications")


def test_mark_all_read(employee):
    notify(recipient=employee.user, kind="earning.recognition", params=THANKS)
    notify(recipient=employee.user, kind="earning.recognition", params=THANKS)
    client = login_client(employee.user)
    assert client.post(reverse("portal:notifications_read")).status_code == 302
    assert not Notification.objects.filter(recipient=employee.user, read_at__isnull=True).exists()


def test_more_than_99_unread_reads_99_plus_so_the_bell_stays_visible(employee):
    for _ in range(100):
        notify(recipient=employee.user, kind="earning.recognition", params=THANKS)
    home = login_client(employee.user).get(reverse("portal:home")).content.decode()
    assert 'data-testid="unread-count">99+<' in home
