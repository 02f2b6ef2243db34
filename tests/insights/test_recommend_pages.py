"""What an employee sees of the recommendations (issue #18): the "为你推荐" row on the mall
home with its reasons, the "also redeemed" row on an item's page (which also notes the
look, once a day), the library's row, the weekly digest's section, and the page that turns
all of them off and on again."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from jifen.core.roles import Role
from jifen.core.services import update_site_settings
from jifen.insights.services import recommend
from jifen.library.models import ResourceKind, ResourceStatus
from jifen.library.services import resources as library_services
from jifen.mall import services as mall_services
from jifen.mall.models import Fulfilment, ItemStatus, ItemView
from jifen.notifications.mail import mail_digest
from jifen.notifications.services import notify
from jifen.people.services import issue_access_token
from tests.factories import DepartmentFactory, EmployeeFactory
from tests.ledger.helpers import fund

pytestmark = pytest.mark.django_db

BASE = "https://points.example.com"


def build_world(make_role_employee: Any) -> dict[str, Any]:
    """李小明 of 研发中心 redeemed the earbuds; three colleagues keep the earbuds and the
    power bank on their wish lists and looked at both courses; 李小明 looked at the first
    one. The keyboard costs a little more than he has left."""
    admin = make_role_employee(Role.MALL_ADMIN, name="商城管理员")
    editor = make_role_employee(Role.HR_ADMIN, name="资料编辑")
    rd = DepartmentFactory(code="RD", name="研发中心")
    category = mall_services.save_category(actor=admin.user, name="数码电子")

    def item(name: str, points: int) -> Any:
        return mall_services.create_item(actor=admin.user, name=name, category=category,
                                         points=points, status=ItemStatus.LISTED,
                                         fulfilment=Fulfilment.SERVICE)

    def course(title: str) -> Any:
        return library_services.create_resource(
            actor=editor.user, title=title, kind=ResourceKind.LINK,
            external_url=f"https://learn.example.com/{len(title)}",
            status=ResourceStatus.PUBLISHED, price=0)

    earbuds, power_bank, keyboard = item("无线蓝牙耳机", 100), item("充电宝", 80), item(
        "机械键盘", 1000)
    python, analysis = course("Python 入门课"), course("数据分析实战")
    me = EmployeeFactory(department=rd, employee_no="E001", name="李小明")
    me.user.email = "li.xiaoming@example.com"
    me.user.save()
    fund(me, 1000)
    mall_services.create_order(employee=me, item=earbuds, actor=me.user)
    for _n in range(3):
        peer = EmployeeFactory(department=rd)
        mall_services.toggle_favourite(employee=peer, item=earbuds)
        mall_services.toggle_favourite(employee=peer, item=power_bank)
        library_services.record_view(resource=python, employee=peer)
        library_services.record_view(resource=analysis, employee=peer)
    library_services.record_view(resource=python, employee=me)
    recommend.build()
    return {"me": me, "earbuds": earbuds, "power_bank": power_bank, "keyboard": keyboard,
            "python": python, "analysis": analysis}


@pytest.fixture
def world(make_role_employee):
    return build_world(make_role_employee)


def page(client, who: Any, url: str, language: str = "zh-hans") -> str:
    client.force_login(who.user)
    client.cookies["django_language"] = language
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, testid: str) -> str:
    """The part of the page from the element with ``data-testid`` to its section's end."""
    start = html.index(f'data-testid="{testid}"')
    return html[start:html.index("</section>", start)]


def mall_home(client, world, language: str = "zh-hans") -> str:
    return page(client, world["me"], reverse("portal:mall"), language)


def item_page(client, world, language: str = "zh-hans") -> str:
    return page(client, world["me"], reverse("portal:mall_item", args=[world["earbuds"].pk]),
                language)


def library(client, world, language: str = "zh-hans") -> str:
    return page(client, world["me"], reverse("portal:library"), language)


def weekly_digest(world) -> str:
    mail.outbox.clear()
    user = world["me"].user
    notification = notify(recipient=user, kind="earning.award_approved", url="/earn/",
                          params={"points": 50, "rule": "志愿活动", "reason": "辛苦了"})
    with override_settings(JIFEN_BASE_URL=BASE):
        mail_digest(user=user, notifications=[notification], variant="weekly")
    [message] = mail.outbox
    return message.body


# --- the mall home -------------------------------------------------------------------------


def test_the_mall_home_recommends_with_the_reason_in_chinese(client, world):
    html = mall_home(client, world)
    row = section(html, "row-suggested-section")
    assert "为你推荐" in row
    assert "充电宝" in row
    assert "因为你兑换过「无线蓝牙耳机」" in row
    assert "无线蓝牙耳机</div>" not in row  # redeemed already: not offered again
    assert reverse("portal:recommendations") in row  # the "关闭推荐" control
    assert "关闭推荐" in row
    # The row comes before the hot items.
    assert html.index('data-testid="row-suggested"') < html.index('data-testid="row-hot"')


def test_the_mall_home_recommends_with_the_reason_in_english(client, world):
    row = section(mall_home(client, world, "en"), "row-suggested-section")
    assert "Recommended for you" in row
    assert "Because you redeemed “无线蓝牙耳机”" in row
    assert "Turn off" in row


def test_a_thing_a_little_out_of_reach_says_how_many_points_are_missing(client, world):
    row = section(mall_home(client, world), "row-suggested-section")
    keyboard = row[row.index("机械键盘"):]
    assert 'data-testid="short-by"' in keyboard
    assert "再攒 100 积分" in keyboard.split("</a>")[0]
    english = section(mall_home(client, world, "en"), "row-suggested-section")
    assert "100 more points" in english


def test_the_row_is_left_out_when_there_is_nothing_to_recommend(client, employee):
    html = page(client, employee, reverse("portal:mall"))
    assert 'data-testid="row-suggested"' not in html
    assert "为你推荐" not in html


# --- an item's page ----------------------------------------------------------------------


def test_the_item_page_shows_what_others_also_redeemed(client, world):
    row = section(item_page(client, world), "row-also-section")
    assert "兑换过这件的同事还兑换了" in row
    assert "充电宝" in row
    english = section(item_page(client, world, "en"), "row-also-section")
    assert "Others who redeemed this also redeemed" in english


def test_looking_at_an_item_is_noted_once_a_day(client, world):
    me, earbuds = world["me"], world["earbuds"]
    assert not ItemView.objects.filter(employee=me, item=earbuds).exists()
    item_page(client, world)
    item_page(client, world)
    assert ItemView.objects.filter(employee=me, item=earbuds).count() == 1


def test_the_api_item_detail_notes_the_look_too(client, world):
    me, power_bank = world["me"], world["power_bank"]
    token = issue_access_token(user=me.user)[1]
    for _n in range(2):
        assert client.get(f"/api/v1/items/{power_bank.pk}",
                          HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert ItemView.objects.filter(employee=me, item=power_bank).count() == 1


# --- the library ---------------------------------------------------------------------------


def test_the_library_recommends_with_the_reason(client, world):
    row = section(library(client, world), "row-suggested-section")
    assert "为你推荐" in row
    assert "数据分析实战" in row
    assert "因为你看过「Python 入门课」" in row
    english = section(library(client, world, "en"), "row-suggested-section")
    assert "Because you looked at “Python 入门课”" in english


def test_a_search_in_the_library_shows_no_recommendations(client, world):
    html = page(client, world["me"], reverse("portal:library") + "?q=Python")
    assert 'data-testid="row-suggested"' not in html


# --- the weekly digest ---------------------------------------------------------------------


def test_the_weekly_digest_has_a_recommended_section(world):
    body = weekly_digest(world)
    assert "为你推荐" in body
    link = BASE + reverse("portal:mall_item", args=[world["power_bank"].pk])
    assert f"• 充电宝 — 因为你兑换过「无线蓝牙耳机」 — {link}" in body
    lines = [line for line in body.splitlines() if line.startswith("• ") and " — " in line]
    assert 1 <= len(lines) <= 3


def test_the_weekly_digest_speaks_the_recipients_language(world):
    update_site_settings(actor=None, default_language="en")
    body = weekly_digest(world)
    assert "Recommended for you" in body
    assert "• 充电宝 — Because you redeemed “无线蓝牙耳机” — " in body


def test_the_daily_digest_has_none(world):
    user = world["me"].user
    notification = notify(recipient=user, kind="earning.award_approved", url="/earn/",
                          params={"points": 50, "rule": "志愿活动", "reason": "辛苦了"})
    mail_digest(user=user, notifications=[notification], variant="daily")
    [message] = mail.outbox
    assert "为你推荐" not in message.body


# --- turning them off and on -------------------------------------------------------------


def test_turning_recommendations_off_hides_every_row_and_on_brings_them_back(client, world):
    me = world["me"]
    settings_url = reverse("portal:recommendations")
    html = page(client, me, settings_url)
    assert 'data-testid="recommendations-off"' in html
    assert "已开启" in html

    response = client.post(settings_url, {"enabled": "0"}, follow=True)
    html = response.content.decode()
    assert "个性推荐已关闭" in html  # the message
    assert 'data-testid="recommendations-on"' in html
    assert 'data-testid="row-suggested"' not in mall_home(client, world)
    assert 'data-testid="row-also"' not in item_page(client, world)
    assert 'data-testid="row-suggested"' not in library(client, world)
    assert "为你推荐" not in weekly_digest(world)

    response = client.post(settings_url, {"enabled": "1"}, follow=True)
    assert "个性推荐已开启。" in response.content.decode()
    assert 'data-testid="row-suggested"' in mall_home(client, world)
    assert 'data-testid="row-also"' in item_page(client, world)
    assert 'data-testid="row-suggested"' in library(client, world)
    assert "为你推荐" in weekly_digest(world)


def test_the_settings_page_in_english_says_what_is_used(client, world):
    html = page(client, world["me"], reverse("portal:recommendations"), "en")
    for words in ("What you redeemed in the mall", "Items on your wish list",
                  "you looked at", "The categories your points came from",
                  "colleagues in your department"):
        assert words in html


def test_someone_who_is_not_an_employee_cannot_switch(client, db):
    from tests.factories import UserFactory

    user = UserFactory()
    client.force_login(user)
    html = client.get(reverse("portal:recommendations")).content.decode()
    assert 'data-testid="recommendations-off"' not in html
    response = client.post(reverse("portal:recommendations"), {"enabled": "0"}, follow=True)
    assert response.status_code == 200


def test_the_notification_settings_link_to_the_switch(client, world):
    html = page(client, world["me"], reverse("portal:notification_settings"))
    assert reverse("portal:recommendations") in html
