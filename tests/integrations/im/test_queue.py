"""Each robot's messages form a queue: over the rate limit they wait for a later slot
(never dropped), "too fast" and platform failures put them back in order, and a rolled-back
change sends nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from jifen.integrations.im import services
from jifen.integrations.models import ImMessage, ImMessageStatus, ImPlatform

pytestmark = pytest.mark.django_db


@pytest.fixture
def wecom_robot(platform, super_admin):
    return services.create_robot(
        platform=ImPlatform.WECOM, name="商城组",
        webhook_url=f"{platform.base}/cgi-bin/webhook/send?key=wecom-key",
        actor=super_admin.user)


def queue(robot, capture, n: int, start: int = 1):
    with capture(execute=True):
        for i in range(start, start + n):
            services.queue_robot_message(robot=robot, title=f"消息 {i}", text=f"正文 {i}",
                                         happening=f"h{i}")


def numbers(platform) -> list[int]:
    return [int(t.split("正文 ")[1]) for t in platform.texts()]


def test_a_wecom_robot_posts_markdown_with_a_link_back(platform, wecom_robot, worker,
                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_robot_message(robot=wecom_robot, title="低库存：保温杯",
                                     text=services.markdown("还剩 2 件", "/console/mall/items/7/"),
                                     happening="x")
    worker.run()
    [message] = platform.received
    assert message["body"]["msgtype"] == "markdown"
    assert message["text"].startswith("### 低库存：保温杯")
    assert "(https://points.example.com/console/mall/items/7/)" in message["text"]
    assert ImMessage.objects.get().status == ImMessageStatus.SENT


def test_the_message_over_the_limit_waits_a_minute_and_all_arrive_in_order(
        platform, wecom_robot, worker, django_capture_on_commit_callbacks):
    assert wecom_robot.rate_per_minute == 20  # WeCom's documented limit
    queue(wecom_robot, django_capture_on_commit_callbacks, 21)
    slots = list(ImMessage.objects.order_by("id").values_list("scheduled_at", flat=True))
    assert slots[20] - slots[0] >= timedelta(minutes=1)
    assert len({s for s in slots[:20]}) <= 20 and slots[19] - slots[0] < timedelta(seconds=5)

    worker.run()
    assert numbers(platform) == list(range(1, 21))  # the 21st is held back, not dropped
    assert ImMessage.objects.filter(status=ImMessageStatus.QUEUED).count() == 1

    worker.advance(61)
    worker.run()
    assert numbers(platform) == list(range(1, 22))
    assert not ImMessage.objects.exclude(status=ImMessageStatus.SENT).exists()


def test_messages_queued_later_take_the_next_free_slots(platform, wecom_robot, worker,
                                                        django_capture_on_commit_callbacks):
    queue(wecom_robot, django_capture_on_commit_callbacks, 20)
    worker.run()
    worker.advance(30)  # half a minute later the robot's minute is still full
    queue(wecom_robot, django_capture_on_commit_callbacks, 2, start=21)
    worker.run()
    assert numbers(platform) == list(range(1, 21))
    worker.advance(31)
    worker.run()
    assert numbers(platform) == list(range(1, 23))


def test_too_fast_puts_the_message_and_those_after_it_back_in_order(
        platform, super_admin, worker, django_capture_on_commit_callbacks):
    robot = services.create_robot(
        platform=ImPlatform.DINGTALK, name="公司群",
        webhook_url=f"{platform.base}/robot/send?access_token=t",
        secret=platform.dingtalk_secret, actor=super_admin.user)
    platform.scripted.append((200, {"errcode": 130101,
                                    "errmsg": "send too fast, exceed 20 times per minute"}))
    queue(robot, django_capture_on_commit_callbacks, 3)
    worker.run()
    assert platform.received == []  # DingTalk pauses a robot for ten minutes
    first = ImMessage.objects.order_by("id").first()
    assert first.status == ImMessageStatus.QUEUED and first.attempts == 0
    worker.advance(9 * 60)
    worker.run()
    assert platform.received == []
    worker.advance(61)
    worker.run()
    assert numbers(platform) == [1, 2, 3]


def test_a_platform_failure_is_retried_with_backoff_then_given_up(
        platform, wecom_robot, worker, django_capture_on_commit_callbacks):
    platform.scripted.extend([(502, {})] * 2)
    queue(wecom_robot, django_capture_on_commit_callbacks, 2)
    worker.run()
    assert platform.received == []
    worker.advance(30)
    worker.run()
    assert platform.received == []  # second failure: now a minute
    worker.advance(60)
    worker.run()
    assert numbers(platform) == [1, 2]

    platform.scripted.extend([(503, {})] * services.MAX_ATTEMPTS)
    queue(wecom_robot, django_capture_on_commit_callbacks, 1, start=3)
    for _ in range(services.MAX_ATTEMPTS):
        worker.advance(3600)
        worker.run()
    message = ImMessage.objects.get(happening="h3")
    assert message.status == ImMessageStatus.FAILED and message.attempts == services.MAX_ATTEMPTS
    assert "503" in message.last_error


def test_a_rolled_back_change_queues_nothing(platform, wecom_robot, worker,
                                             django_capture_on_commit_callbacks):
    with (django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError),
          transaction.atomic()):
        services.queue_robot_message(robot=wecom_robot, title="t", text="x", happening="h")
        raise RuntimeError
    assert worker.run() == 0
    assert not ImMessage.objects.exists() and platform.received == []


def test_one_message_per_happening(platform, wecom_robot, django_capture_on_commit_callbacks):
    queue(wecom_robot, django_capture_on_commit_callbacks, 1)
    with django_capture_on_commit_callbacks(execute=True):
        again = services.queue_robot_message(robot=wecom_robot, title="t", text="x",
                                             happening="h1")
    assert again is None and ImMessage.objects.count() == 1


def test_a_message_whose_task_was_lost_is_sent_by_the_catch_up(
        platform, wecom_robot, worker, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    queue(wecom_robot, django_capture_on_commit_callbacks, 2)
    DBTaskResult.objects.all().delete()  # a worker died holding them
    worker.advance(6 * 60)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.resend_overdue() == 2
    worker.run()
    assert numbers(platform) == [1, 2]
    assert services.resend_overdue() == 0
