"""The redeem dialog tells the truth about the points: an item that approves itself takes
them at once for good; any other holds them until the mall approves, cancellable till then."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jifen.mall.models import Fulfilment
from tests.conftest import login_client

pytestmark = pytest.mark.django_db


def terms(buyer, item, language: str = "en") -> str:
    """The words under the redeem dialog's quantity field."""
    client = login_client(buyer.user)
    client.cookies["django_language"] = language
    response = client.get(reverse("portal:mall_item", args=[item.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('data-testid="redeem-terms"')
    return html[start:html.index("</div>", start)]


def test_an_item_that_approves_itself_says_the_points_go_now_and_cannot_come_back(
        buyer, make_item):
    item = make_item(name="视频会员月卡", points=30, auto_approve=True,
                     fulfilment=Fulfilment.CODE)
    text = terms(buyer, item)
    assert "deducted from your" in text and "cannot be cancelled" in text
    assert "approved" not in text and "You can cancel" not in text


def test_an_item_that_waits_for_approval_says_the_points_are_held_and_it_can_be_cancelled(
        buyer, make_item):
    item = make_item(name="无线蓝牙耳机", points=100, fulfilment=Fulfilment.SHIPPED)
    text = terms(buyer, item)
    assert "held from your" in text and "when the order is approved" in text
    assert "You can cancel until then" in text
    assert "cannot be cancelled" not in text


def test_the_chinese_words_differ_too(buyer, make_item):
    instant = make_item(name="话费充值", points=30, auto_approve=True, fulfilment=Fulfilment.CODE)
    waits = make_item(name="保温杯", points=30)
    assert "不能取消" in terms(buyer, instant, "zh-hans")
    assert "冻结" not in terms(buyer, instant, "zh-hans")
    assert "冻结" in terms(buyer, waits, "zh-hans")
    assert "可以随时取消" in terms(buyer, waits, "zh-hans")
