"""Notifications that ask for it go out by e-mail, against a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from jifen.notifications.models import Notification
from jifen.notifications.services import email_notification, notify


def _send(user, kind, params, url, **extra):
    if not user.email:
        user.email = "someone@example.com"
        user.save()
    return notify(recipient=user, kind=kind, params=params, url=url, **extra)


def _low_stock(user, **extra):
    return _send(user, "mall.low_stock", {"item": "保温杯", "stock": 3, "threshold": 5},
                 "/console/mall/items/7/", **extra)


def _award(user, **extra):
    return _send(user, "earning.award_approved",
                 {"points": 50, "rule": "志愿活动", "reason": "辛苦了"}, "/earn/", **extra)


@pytest.mark.django_db
@override_settings(JIFEN_MAIL_ENABLED=True)
def test_a_notification_asking_for_mail_is_mailed_once_after_commit(
        smtp, employee, django_capture_on_commit_callbacks):
    employee.user.email = "zhang.san@example.com"
    employee.user.save()
    with django_capture_on_commit_callbacks(execute=True):
        sent = _award(employee.user, email=True)
        assert smtp.messages == []  # nothing leaves before the change commits

    [message] = smtp.messages
    assert message["To"] == "zhang.san@example.com"
    assert "志愿活动：50 积分" in message["Subject"]  # the site's language
    text = message.get_content()
    assert "辛苦了" in text
    assert "https://points.example.com/earn/" in text
    sent.refresh_from_db()
    assert sent.emailed_at is not None
    assert email_notification(notification_id=sent.pk) is False  # a retried task
    assert len(smtp.messages) == 1


@pytest.mark.django_db
@override_settings(JIFEN_MAIL_ENABLED=True)
def test_plain_notifications_stay_in_the_app(smtp, employee,
                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _award(employee.user)
    assert smtp.messages == []
    assert Notification.objects.get().emailed_at is None


@pytest.mark.django_db
@override_settings(JIFEN_MAIL_ENABLED=True)
def test_a_kind_whose_channels_include_mail_is_mailed_without_asking(
        smtp, make_role_employee, django_capture_on_commit_callbacks):
    mall_admin = make_role_employee("mall_admin")
    with django_capture_on_commit_callbacks(execute=True):
        _low_stock(mall_admin.user)
    [message] = smtp.messages
    assert "库存不足：保温杯" in message["Subject"]


@pytest.mark.django_db
@override_settings(JIFEN_MAIL_ENABLED=False)
def test_without_an_smtp_host_nothing_is_mailed(smtp, employee,
                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _award(employee.user, email=True)
    assert smtp.messages == []


@pytest.mark.django_db
@override_settings(JIFEN_MAIL_ENABLED=True)
def test_mail_is_worded_in_the_sites_language_not_the_senders(
        smtp, employee, django_capture_on_commit_callbacks):
    """Sent from a page in Chinese to a company that works in English: English."""
    from django.utils import translation

    from jifen.core.services import update_site_settings

    update_site_settings(actor=None, default_language="en")
    with translation.override("zh-hans"), django_capture_on_commit_callbacks(execute=True):
        _award(employee.user, email=True)
    [message] = smtp.messages
    assert "50 points for 志愿活动" in message["Subject"]
