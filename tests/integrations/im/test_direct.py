"""Direct messages through a WeCom app (access token cached, fetched again when the
platform calls it expired or invalid) and DingTalk work notifications; the IM channel's
sender says False for someone it cannot reach."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount

from jifen.integrations.im import services
from jifen.integrations.models import ImPlatform, ImUserIdSource
from jifen.mall import notices
from jifen.notifications.channels import IM, sender_for
from jifen.notifications.services import notify

pytestmark = pytest.mark.django_db


def a_notice(employee, number: str = "R001"):
    return notify(recipient=employee.user, kind=notices.ORDER_SHIPPED,
                  params={"number": number, "carrier": "顺丰", "tracking_no": "SF123"},
                  url="/orders/1/")


@pytest.fixture
def wecom_app(platform, super_admin):
    corp, secret = platform.wecom_corp
    return services.save_app(platform=ImPlatform.WECOM, client_id=corp, agent_id="1000002",
                             secret=secret, actor=super_admin.user)


def test_the_im_channel_sender_is_registered():
    assert sender_for(IM) is services.deliver_direct


def test_wecom_app_sends_markdown_and_reuses_its_token(platform, wecom_app, employee,
                                                       super_admin):
    services.set_im_account(employee=employee, platform=ImPlatform.WECOM, user_id="LiXiaoMing",
                            actor=super_admin.user)
    deliver = sender_for(IM)
    assert deliver(a_notice(employee, "R001").pk) is True
    assert deliver(a_notice(employee, "R002").pk) is True
    assert platform.tokens_issued == ["tok1"]  # fetched once, then from the cache
    assert [m["to"] for m in platform.received] == ["LiXiaoMing", "LiXiaoMing"]
    first = platform.received[0]
    assert first["body"]["agentid"] == 1000002 and first["body"]["msgtype"] == "markdown"
    assert "R001" in first["text"] and "https://points.example.com/orders/1/" in first["text"]


@pytest.mark.parametrize("how", ["expired", "invalid"])
def test_wecom_app_fetches_a_new_token_when_the_old_one_is_refused(platform, wecom_app,
                                                                   employee, super_admin, how):
    services.set_im_account(employee=employee, platform=ImPlatform.WECOM, user_id="u1",
                            actor=super_admin.user)
    assert services.deliver_direct(a_notice(employee, "R001").pk) is True
    if how == "expired":
        platform.expired_tokens.add("tok1")  # answered with 42001
    else:
        platform.valid_tokens.discard("tok1")  # answered with 40014
    assert services.deliver_direct(a_notice(employee, "R002").pk) is True
    assert platform.tokens_issued == ["tok1", "tok2"]
    assert [m["token"] for m in platform.received] == ["tok1", "tok2"]


def test_dingtalk_work_notification_by_employee_number(platform, super_admin, employee):
    key, secret = platform.dingtalk_app
    services.save_app(platform=ImPlatform.DINGTALK, client_id=key, agent_id="2233",
                      secret=secret, user_id_source=ImUserIdSource.EMPLOYEE_NO,
                      actor=super_admin.user)
    assert services.deliver_direct(a_notice(employee).pk) is True
    [message] = platform.received
    assert message["to"] == employee.employee_no
    assert message["body"]["agent_id"] == 2233
    assert message["body"]["msg"]["msgtype"] == "markdown"


def test_the_wecom_user_id_comes_from_the_single_sign_on_link(platform, wecom_app, employee):
    SocialAccount.objects.create(user=employee.user, provider="wecom", uid="wx-lxm")
    assert services.deliver_direct(a_notice(employee).pk) is True
    assert platform.received[0]["to"] == "wx-lxm"


def test_the_sender_says_false_without_an_im_id_or_without_an_app(platform, wecom_app,
                                                                  employee, super_admin):
    assert services.deliver_direct(a_notice(employee).pk) is False  # no id, no SSO link
    wecom_app.delete()
    services.set_im_account(employee=employee, platform=ImPlatform.WECOM, user_id="u1",
                            actor=super_admin.user)
    assert services.deliver_direct(a_notice(employee).pk) is False  # no app
    assert platform.received == []


def test_wrong_app_credentials_are_not_delivered(platform, super_admin, employee):
    services.save_app(platform=ImPlatform.WECOM, client_id="ww-corp", agent_id="1",
                      secret="wrong", actor=super_admin.user)
    services.set_im_account(employee=employee, platform=ImPlatform.WECOM, user_id="u1",
                            actor=super_admin.user)
    assert services.deliver_direct(a_notice(employee).pk) is False
    assert platform.received == []
