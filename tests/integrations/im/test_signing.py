"""Receivers that check DingTalk's and Feishu's signatures the way those platforms
document them (tests/integrations/im/conftest.py) accept our messages and refuse a wrong
secret or an old timestamp."""

from __future__ import annotations

import time

import pytest

from jifen.integrations.im import clients, services
from jifen.integrations.models import ImMessage, ImMessageStatus, ImPlatform

pytestmark = pytest.mark.django_db


def robot(platform, super_admin, kind: str, secret: str):
    url = {ImPlatform.DINGTALK: f"{platform.base}/robot/send?access_token=abc",
           ImPlatform.FEISHU: f"{platform.base}/open-apis/bot/v2/hook/abc-def",
           ImPlatform.WECOM: f"{platform.base}/cgi-bin/webhook/send?key=wecom-key"}[kind]
    return services.create_robot(platform=kind, name=f"{kind} group", webhook_url=url,
                                 secret=secret, actor=super_admin.user)


@pytest.mark.parametrize("kind,secret_attr", [(ImPlatform.DINGTALK, "dingtalk_secret"),
                                              (ImPlatform.FEISHU, "feishu_secret")])
def test_the_platform_accepts_a_message_signed_with_the_right_secret(
        platform, super_admin, kind, secret_attr):
    bot = robot(platform, super_admin, kind, getattr(platform, secret_attr))
    result = clients.send_robot(bot, title="低库存", text="**保温杯** 还剩 2 件")
    assert result.outcome is clients.Outcome.SENT
    assert [m["platform"] for m in platform.received] == [kind]
    assert "**保温杯** 还剩 2 件" in platform.received[0]["text"]


@pytest.mark.parametrize("kind", [ImPlatform.DINGTALK, ImPlatform.FEISHU])
def test_the_platform_refuses_a_wrong_secret_and_the_message_is_marked_failed(
        platform, super_admin, worker, django_capture_on_commit_callbacks, kind):
    bot = robot(platform, super_admin, kind, "not-the-secret")
    with django_capture_on_commit_callbacks(execute=True):
        message = services.queue_robot_message(robot=bot, title="t", text="x", happening="h1")
    worker.run()
    assert platform.received == []
    assert len(platform.refused) == 1
    message.refresh_from_db()
    # A refused signature is a configuration error: not retried for hours.
    assert message.status == ImMessageStatus.FAILED
    assert "310000" in message.last_error or "19021" in message.last_error
    assert worker.waiting() == 0


@pytest.mark.parametrize("kind,secret_attr", [(ImPlatform.DINGTALK, "dingtalk_secret"),
                                              (ImPlatform.FEISHU, "feishu_secret")])
def test_a_signature_more_than_an_hour_old_is_refused(platform, super_admin, kind,
                                                      secret_attr):
    bot = robot(platform, super_admin, kind, getattr(platform, secret_attr))
    result = clients.send_robot(bot, title="t", text="x", now=time.time() - 2 * 3600)
    assert result.outcome is clients.Outcome.FAILED
    assert platform.received == []


def test_a_test_message_reports_the_platforms_refusal(platform, super_admin):
    from jifen.core import errors

    bot = robot(platform, super_admin, ImPlatform.DINGTALK, "wrong")
    with pytest.raises(errors.Conflict) as caught:
        services.send_test_message(robot=bot, actor=super_admin.user)
    assert caught.value.code == errors.ErrorCode.IM_SEND_FAILED
    assert "310000" in str(caught.value.message)
    assert ImMessage.objects.count() == 0
