"""The lottery pages: portal page and entering, the verifier and its downloads, the
console form (no code) with publish, draw-now and cancel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from jifen.activities.models import ActivityStatus, Entry, Lottery
from tests.activities.conftest import fund, make_lottery, spendable
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def test_an_employee_enters_from_the_page_once_per_token(client, activities_admin, employee):
    fund(employee, 30)
    lottery = make_lottery(activities_admin.user, entry_limit=2)
    client.force_login(employee.user)
    page = client.get(reverse("portal:lottery", args=[lottery.pk]))
    assert page.status_code == 200
    assert lottery.commitment in page.content.decode()
    url = reverse("portal:lottery_enter", args=[lottery.pk])
    client.post(url, {"token": "t1"})
    client.post(url, {"token": "t1"})  # a double tap
    assert Entry.objects.filter(lottery=lottery, employee=employee).count() == 1
    assert spendable(employee) == 20
    page = client.get(reverse("portal:lottery", args=[lottery.pk]), follow=True)
    assert 'data-testid="my-entries"' in page.content.decode()


def test_a_refusal_is_a_message_not_an_error(client, activities_admin, employee):
    lottery = make_lottery(activities_admin.user)  # costs 10, employee has 0
    client.force_login(employee.user)
    answer = client.post(reverse("portal:lottery_enter", args=[lottery.pk]), {"token": "x"},
                         follow=True)
    assert answer.status_code == 200
    assert Entry.objects.count() == 0
    assert "alert" in answer.content.decode()


def test_drafts_are_not_shown_to_employees(client, activities_admin, employee):
    draft = make_lottery(activities_admin.user, publish=False)
    client.force_login(employee.user)
    assert client.get(reverse("portal:lottery", args=[draft.pk])).status_code == 404
    assert client.get(reverse("portal:lottery_verify", args=[draft.pk])).status_code == 404


def test_the_verifier_page_draws_lazily_and_offers_the_entry_list(client, activities_admin,
                                                                 employee):
    lottery = make_lottery(activities_admin.user, entry_cost=0)
    from jifen.activities.services import lottery as services
    mine = services.enter_lottery(lottery=lottery, employee=employee)
    services.enter_lottery(lottery=lottery, employee=EmployeeFactory())
    past = timezone.now() - timedelta(seconds=1)
    Lottery.objects.filter(pk=lottery.pk).update(ends_at=past, draw_at=past)
    client.force_login(employee.user)
    page = client.get(reverse("portal:lottery_verify", args=[lottery.pk])).content.decode()
    lottery.refresh_from_db()
    assert lottery.status == ActivityStatus.FINISHED
    assert lottery.seed in page and 'id="lottery-proof"' in page
    csv_text = client.get(reverse("portal:lottery_proof", args=[lottery.pk, "csv"])
                          ).content.decode()
    assert f"{mine.pk},1,yes" in csv_text
    proof = client.get(reverse("portal:lottery_proof", args=[lottery.pk, "json"])).json()
    assert proof["seed"] == lottery.seed


def test_hr_creates_a_lottery_with_the_plain_form(client, activities_admin):
    client.force_login(activities_admin.user)
    now = timezone.localtime()
    answer = client.post(reverse("console:activities_lottery_new"), {
        "title": "端午抽奖", "mode": "scheduled",
        "starts_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "entry_cost": "5", "entry_limit": "1", "min_balance": "0", "min_tenure_days": "0",
        "tier_1_name": "一等奖", "tier_1_kind": "points", "tier_1_points": "88",
        "tier_1_quantity": "1",
        "tier_2_name": "粽子礼盒", "tier_2_kind": "custom", "tier_2_quantity": "5",
        "action": "publish",
    })
    lottery = Lottery.objects.get(title="端午抽奖")
    assert answer.status_code == 302
    assert lottery.status == ActivityStatus.PUBLISHED
    assert [(t.name, t.quantity) for t in lottery.tiers.all()] == [("一等奖", 1), ("粽子礼盒", 5)]
    detail = client.get(reverse("console:activities_lottery", args=[lottery.pk]))
    assert detail.status_code == 200
    client.post(reverse("console:activities_lottery", args=[lottery.pk]), {"action": "draw"})
    assert Lottery.objects.get(pk=lottery.pk).status == ActivityStatus.FINISHED


def test_the_form_shows_mistakes_on_the_page(client, activities_admin):
    client.force_login(activities_admin.user)
    now = timezone.localtime()
    answer = client.post(reverse("console:activities_lottery_new"), {
        "title": "x", "mode": "instant",
        "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "entry_cost": "0", "entry_limit": "1", "min_balance": "0", "min_tenure_days": "0",
        "tier_1_name": "奖", "tier_1_kind": "custom", "tier_1_quantity": "1",
        "action": "save"})
    assert answer.status_code == 200
    assert Lottery.objects.count() == 0
    with translation.override("zh-hans"):
        message = translation.gettext(
            "An instant-win lottery needs a number of entries in total.")
    assert message in answer.content.decode()


def test_employees_cannot_open_the_console_pages(client, activities_admin, employee):
    lottery = make_lottery(activities_admin.user)
    client.force_login(employee.user)
    assert client.get(reverse("console:activities_lottery_new")).status_code == 403
    assert client.post(reverse("console:activities_lottery", args=[lottery.pk]),
                       {"action": "cancel"}).status_code == 403
    assert Lottery.objects.get(pk=lottery.pk).status == ActivityStatus.PUBLISHED


def test_cancelling_in_the_console_refunds(client, activities_admin, employee):
    fund(employee, 10)
    lottery = make_lottery(activities_admin.user)
    from jifen.activities.services import lottery as services
    services.enter_lottery(lottery=lottery, employee=employee)
    client.force_login(activities_admin.user)
    client.post(reverse("console:activities_lottery", args=[lottery.pk]),
                {"action": "cancel", "reason": "改期"})
    assert Lottery.objects.get(pk=lottery.pk).status == ActivityStatus.CANCELLED
    assert spendable(employee) == 10
