"""An order's reasons and timeline notes that no person typed are kept as codes and read
in the reader's language: an order cancelled while the site spoke Chinese says
"Cancelled by the employee" on an English page."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import translation

from jifen.mall import services
from jifen.mall.models import Fulfilment, Order, OrderEvent, OrderNote
from jifen.people.services import issue_access_token
from tests.mall.conftest import order

pytestmark = pytest.mark.django_db


def _page(user, url: str, language: str) -> str:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client.get(url).content.decode()


def test_an_employees_cancellation_reads_in_the_readers_language(buyer, make_item, mall_admin):
    placed = order(buyer, make_item())
    with translation.override("zh-hans"):
        services.cancel_order(order=placed, actor=buyer.user)
    placed.refresh_from_db()
    assert placed.reason == "" and placed.reason_code == OrderNote.CANCELLED_BY_EMPLOYEE
    mine = reverse("portal:order_detail", args=[placed.pk])
    assert "Cancelled by the employee" in _page(buyer.user, mine, "en")
    assert "员工已取消" in _page(buyer.user, mine, "zh-hans")
    desk = reverse("console:mall_order", args=[placed.pk])
    english = _page(mall_admin.user, desk, "en")
    assert "Cancelled by the employee" in english and "员工已取消" not in english


def test_a_typed_reason_is_kept_as_typed(buyer, make_item, mall_admin):
    placed = order(buyer, make_item())
    services.reject_order(order=placed, actor=mall_admin.user, reason="Out of range")
    placed.refresh_from_db()
    assert (placed.reason, placed.reason_code, placed.reason_words) == (
        "Out of range", "", "Out of range")


def test_an_automatic_approval_is_a_code_on_the_timeline(buyer, make_item):
    placed = order(buyer, make_item(auto_approve=True, fulfilment=Fulfilment.SERVICE))
    with translation.override("zh-hans"):
        step = OrderEvent.objects.get(order=placed, action="approve")
    assert step.note == "" and step.note_code == OrderNote.AUTO_APPROVED
    with translation.override("en"):
        assert step.note_words == "Approved automatically"


def test_the_api_gives_the_words_and_the_code(buyer, make_item):
    placed = order(buyer, make_item())
    with translation.override("zh-hans"):
        services.cancel_order(order=placed, actor=buyer.user)
    token = issue_access_token(user=buyer.user)[1]
    body = Client().get(f"/api/v1/orders/{placed.pk}", HTTP_AUTHORIZATION=f"Bearer {token}",
                        HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["reason_code"] == "cancelled_by_employee" and body["reason"]
    cancel = next(e for e in body["events"] if e["action"] == "cancel")
    assert cancel["note_code"] == "cancelled_by_employee"


def test_the_migration_turns_stored_words_into_codes(buyer, make_item):
    migration = importlib.import_module("jifen.mall.migrations.0003_order_reason_codes")
    first, second, third = (order(buyer, make_item()) for _ in range(3))
    for placed in (first, second, third):
        services.cancel_order(order=placed, actor=buyer.user, reason="typed")
    Order.objects.filter(pk=first.pk).update(reason="员工已取消", reason_code="")
    Order.objects.filter(pk=second.pk).update(reason="Switched to Mug", reason_code="")
    OrderEvent.objects.filter(order=first, action="cancel").update(note="员工已取消")
    migration.to_codes(apps, None)
    got = {o.pk: (o.reason, o.reason_code) for o in Order.objects.all()}
    assert got[first.pk] == ("", "cancelled_by_employee")
    assert got[second.pk] == ("", "switched")
    assert got[third.pk] == ("typed", "")  # a person's words stay
    step = OrderEvent.objects.get(order=first, action="cancel")
    assert (step.note, step.note_code) == ("", "cancelled_by_employee")


def test_a_refused_step_is_explained_in_the_readers_language(buyer, make_item, mall_admin):
    from jifen.core import errors

    placed = order(buyer, make_item())
    services.cancel_order(order=placed, actor=buyer.user)
    for language, words in (("en", "cannot be approved"), ("zh-hans", "审批")):
        with translation.override(language), pytest.raises(errors.Conflict) as refused:
            services.approve_order(order=placed, actor=mall_admin.user)
        assert words in refused.value.message, refused.value.message
