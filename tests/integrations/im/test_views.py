"""The IM console pages: only those who manage API keys; a robot added, tested, edited
(the secret never shown back), routed and removed; the direct-message app saved."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jifen.core.models import AuditEntry
from jifen.integrations.models import ImApp, ImRobot, ImRoute

pytestmark = pytest.mark.django_db


def test_only_super_admins_open_the_im_pages(client, hr_admin, employee):
    for who in (employee, hr_admin):
        client.force_login(who.user)
        assert client.get(reverse("console:im")).status_code == 403
        assert client.post(reverse("console:im"), {"platform": "wecom", "name": "x",
                                                   "webhook_url": "https://e.com/"}
                           ).status_code == 403
    assert not ImRobot.objects.exists()


def test_a_robot_from_add_to_remove(client, super_admin, platform):
    client.force_login(super_admin.user)
    response = client.post(reverse("console:im"), {
        "platform": "dingtalk", "name": "公司群", "enabled": "on",
        "webhook_url": f"{platform.base}/robot/send?access_token=t",
        "secret": platform.dingtalk_secret})
    assert response.status_code == 302
    robot = ImRobot.objects.get()
    assert robot.rate_per_minute == 20 and robot.secret == platform.dingtalk_secret

    page = client.get(reverse("console:im_robot", args=[robot.pk])).content.decode()
    assert platform.dingtalk_secret not in page and "公司群" in page

    client.post(reverse("console:im_robot_test", args=[robot.pk]))
    assert len(platform.received) == 1

    response = client.post(reverse("console:im_robot", args=[robot.pk]), {
        "name": "全员群", "webhook_url": robot.webhook_url, "rate_per_minute": "10",
        "enabled": "on", "secret": ""})
    assert response.status_code == 302
    robot.refresh_from_db()
    assert (robot.name, robot.rate_per_minute, robot.secret) == (
        "全员群", 10, platform.dingtalk_secret)  # an empty secret field keeps the secret

    client.post(reverse("console:im_route_add"), {"kind": "activities.lottery_won",
                                                  "robot": robot.pk, "department": ""})
    route = ImRoute.objects.get()
    home = client.get(reverse("console:im")).content.decode()
    assert "activities.lottery_won" in home
    client.post(reverse("console:im_route_delete", args=[route.pk]))
    assert not ImRoute.objects.exists()

    client.post(reverse("console:im_robot_delete", args=[robot.pk]))
    assert not ImRobot.objects.exists()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"im.robot.create", "im.robot.test", "im.robot.update", "im.route.create",
            "im.route.delete", "im.robot.delete"} <= actions


def test_a_private_address_is_refused_on_the_page(client, super_admin, settings):
    settings.JIFEN_OUTBOUND_ALLOW_HOSTS = ()
    client.force_login(super_admin.user)
    response = client.post(reverse("console:im"), {
        "platform": "wecom", "name": "x", "webhook_url": "http://10.0.0.8/cgi-bin/webhook/send"})
    assert response.status_code == 200
    assert "JIFEN_OUTBOUND_ALLOW_HOSTS" in response.content.decode()
    assert not ImRobot.objects.exists()


def test_the_direct_message_app_keeps_its_secret(client, super_admin):
    client.force_login(super_admin.user)
    url = reverse("console:im_app", args=["wecom"])
    assert client.get(url).status_code == 200
    client.post(url, {"client_id": "ww1", "agent_id": "1000002", "secret": "s3cret",
                      "user_id_source": "sso", "enabled": "on"})
    client.post(url, {"client_id": "ww2", "agent_id": "1000002", "secret": "",
                      "user_id_source": "employee_no", "enabled": "on"})
    app = ImApp.objects.get()
    assert (app.client_id, app.secret, app.user_id_source) == ("ww2", "s3cret", "employee_no")
    assert "s3cret" not in client.get(url).content.decode()
    assert client.get(reverse("console:im_app", args=["feishu"])).status_code == 404
