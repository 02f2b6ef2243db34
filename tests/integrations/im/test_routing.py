"""Notification kinds routed to groups: low stock to the mall team's group (once, however
many admins were told), winners to the company group, recognition to the team's group."""

from __future__ import annotations

import pytest
from django.db import transaction

from jifen.activities import notices as activity_notices
from jifen.core.roles import Role
from jifen.earning.services import give_recognition
from jifen.integrations.im import services
from jifen.integrations.models import ImMessage, ImPlatform
from jifen.ledger import services as ledger
from jifen.mall import services as mall
from jifen.mall.models import Fulfilment, ItemStatus
from jifen.notifications.services import notify
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db


def make_robot(platform, super_admin, name: str, key: str = "wecom-key"):
    return services.create_robot(platform=ImPlatform.WECOM, name=name,
                                 webhook_url=f"{platform.base}/cgi-bin/webhook/send?key={key}",
                                 actor=super_admin.user)


def test_low_stock_reaches_the_mall_teams_group_once(platform, super_admin, worker,
                                                     make_role_employee,
                                                     django_capture_on_commit_callbacks):
    mall_group = make_robot(platform, super_admin, "商城运营群")
    services.create_route(kind="mall.low_stock", robot=mall_group, actor=super_admin.user)
    admins = [make_role_employee(Role.MALL_ADMIN, name=n) for n in ("周商城", "吴仓库")]
    buyer = EmployeeFactory(name="李小明")
    ledger.credit(employee=buyer, amount=100, category="performance",
                  idempotency_key="im-test", cause=("test.event", "im-test"))
    category = mall.save_category(actor=admins[0].user, name="数码电子")
    item = mall.create_item(actor=admins[0].user, name="保温杯", points=1, stock=3,
                            low_stock_threshold=2, status=ItemStatus.LISTED,
                            fulfilment=Fulfilment.SERVICE, category=category)
    with django_capture_on_commit_callbacks(execute=True):
        mall.create_order(employee=buyer, item=item, idempotency_key="o1")  # 2 left: crossed
    worker.run()
    [message] = platform.received
    assert "保温杯" in message["text"]
    assert f"(https://points.example.com/console/mall/items/{item.pk}/" in message["text"]
    assert ImMessage.objects.count() == 1


def test_each_winner_is_announced_in_the_company_group_by_name(
        platform, super_admin, worker, django_capture_on_commit_callbacks):
    company = make_robot(platform, super_admin, "全员群")
    services.create_route(kind=activity_notices.LOTTERY_WON.name, robot=company,
                          actor=super_admin.user)
    winners = [EmployeeFactory(name="王芳"), EmployeeFactory(name="张伟")]
    with django_capture_on_commit_callbacks(execute=True):
        for person in winners:  # same prize tier: the same dedupe key for both
            notify(recipient=person.user, kind=activity_notices.LOTTERY_WON,
                   params={"title": "年会抽奖", "prize": "一等奖"}, url="/lotteries/1/",
                   dedupe_key="lottery:1:won:1")
    worker.run()
    texts = [m["body"]["markdown"]["content"] for m in platform.received]
    assert len(texts) == 2
    assert "王芳" in texts[0] and "张伟" in texts[1] and "年会抽奖" in texts[0]


def test_recognition_goes_to_the_recipients_team_group_only(
        platform, super_admin, worker, django_capture_on_commit_callbacks):
    sales = DepartmentFactory(name="销售部")
    research = DepartmentFactory(name="研发部")
    sales_group = make_robot(platform, super_admin, "销售群")
    services.create_route(kind="earning.recognition", robot=sales_group, department=sales,
                          actor=super_admin.user)
    giver = EmployeeFactory(name="赵敏", department=research)
    seller = EmployeeFactory(name="钱多多", department=sales)
    engineer = EmployeeFactory(name="孙工", department=research)
    with django_capture_on_commit_callbacks(execute=True):
        give_recognition(giver=giver, recipient=seller, points=5, message="谢谢你帮忙签单")
        give_recognition(giver=giver, recipient=engineer, points=5, message="谢谢你修好构建")
    worker.run()
    [message] = platform.received
    assert "钱多多" in message["text"] and "谢谢你帮忙签单" in message["text"]


def test_a_kind_without_a_route_and_a_rolled_back_notice_send_nothing(
        platform, super_admin, worker, employee, django_capture_on_commit_callbacks):
    robot = make_robot(platform, super_admin, "全员群")
    services.create_route(kind=activity_notices.LOTTERY_WON.name, robot=robot,
                          actor=super_admin.user)
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipient=employee.user, kind=activity_notices.OUTBID,
               params={"title": "t", "amount": 1, "points": 1})
        with pytest.raises(RuntimeError), transaction.atomic():
            notify(recipient=employee.user, kind=activity_notices.LOTTERY_WON,
                   params={"title": "t", "prize": "p"})
            raise RuntimeError
    worker.run()
    assert platform.received == [] and not ImMessage.objects.exists()


def test_a_route_needs_a_known_kind(platform, super_admin):
    from jifen.core import errors

    robot = make_robot(platform, super_admin, "群")
    with pytest.raises(errors.ValidationError) as caught:
        services.create_route(kind="mall.no_such_thing", robot=robot, actor=super_admin.user)
    assert caught.value.code == errors.ErrorCode.INVALID_KIND
