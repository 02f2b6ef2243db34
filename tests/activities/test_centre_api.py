"""The centre's API: list (filters, cursor pages, what employees may see), my activities,
announce and stats."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from jifen.activities.models import ActivityStatus
from jifen.integrations.services import create_api_key
from jifen.notifications.models import Notification
from jifen.people.services import issue_access_token
from tests.activities import centre_fixtures
from tests.activities.centre_fixtures import (
    HOUR,
    bid,
    draw,
    enter,
    fund,
    make_auction,
    make_item,
    make_lottery,
)
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db
activities_admin = centre_fixtures.activities_admin


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def token_for(employee) -> str:
    return issue_access_token(user=employee.user)[1]


def test_employees_list_published_activities_with_their_eligibility(client, employee,
                                                                   activities_admin):
    other = DepartmentFactory(code="RD", name="研发部")
    now = timezone.now()
    open_to_all = make_lottery(title="全员抽奖", entry_cost=10)
    only_rd = make_lottery(title="研发抽奖", starts_at=now + HOUR)
    only_rd.eligible_departments.add(other)
    make_lottery(title="草稿", status=ActivityStatus.DRAFT)
    auction = make_auction(make_item(activities_admin.user), title="耳机竞拍",
                           starting_price=300)
    response = client.get("/api/v1/activities", **bearer(token_for(employee)))
    assert response.status_code == 200, response.content
    items = {i["title"]: i for i in response.json()["items"]}
    assert set(items) == {"全员抽奖", "研发抽奖", "耳机竞拍"}
    assert items["全员抽奖"]["eligible"] is True and items["全员抽奖"]["price"] == 10
    assert items["全员抽奖"]["phase"] == "running" and items["全员抽奖"]["kind"] == "lottery"
    assert items["全员抽奖"]["url"] == f"/activities/lotteries/{open_to_all.pk}/"
    assert items["研发抽奖"]["eligible"] is False and "研发部" in items["研发抽奖"][
        "not_eligible_reason"]
    assert items["研发抽奖"]["phase"] == "upcoming"
    assert items["耳机竞拍"]["price"] == 300 and items["耳机竞拍"]["item"] == "降噪耳机"
    assert items["耳机竞拍"]["id"] == auction.pk
    # Filters.
    lotteries = client.get("/api/v1/activities", {"kind": "lottery", "phase": "upcoming"},
                           **bearer(token_for(employee))).json()["items"]
    assert [i["title"] for i in lotteries] == ["研发抽奖"]
    drafts = client.get("/api/v1/activities", {"phase": "draft"},
                        **bearer(token_for(employee))).json()["items"]
    assert drafts == []


def test_admins_see_drafts_and_pages_cover_every_activity_once(client, activities_admin):
    now = timezone.now().replace(microsecond=0)
    expected = set()
    for n in range(4):
        expected.add(("lottery", make_lottery(title=f"L{n}", starts_at=now - n * HOUR).pk))
    item = make_item(activities_admin.user)
    for n in range(3):  # two share a start with a lottery: ties are broken by kind, then id
        expected.add(("auction", make_auction(item, title=f"A{n}", starts_at=now - n * HOUR,
                                              status=ActivityStatus.DRAFT).pk))
    key = create_api_key(name="hr", scopes=["admin"])[1]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/activities", params, **bearer(key)).json()
        seen += [(i["kind"], i["id"]) for i in body["items"]]
        assert all(i["eligible"] is None for i in body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 7 and set(seen) == expected and pages == 4
    assert seen[0] == ("lottery", min(pk for k, pk in expected if k == "lottery"))


def test_a_cursor_that_is_not_ours_is_a_422(client, employee):
    for cursor in ("nonsense", "WzEsMiwzXQ", "WyJ4IiwgMSwgMV0"):
        response = client.get("/api/v1/activities", {"cursor": cursor},
                              **bearer(token_for(employee)))
        assert response.status_code == 422, cursor
        assert response.json()["error"]["code"] == "invalid_cursor"


def test_me_activities_lists_my_entries_and_bids(client, employee, activities_admin):
    fund(employee, 1000)
    lottery = make_lottery(title="年会抽奖", entry_cost=15,
                           starts_at=timezone.now() - 5 * HOUR, ends_at=timezone.now() - HOUR)
    won = enter(lottery, employee)
    draw(lottery, [won])
    auction = make_auction(make_item(activities_admin.user), title="耳机竞拍")
    bid(auction, employee, 130)
    response = client.get("/api/v1/me/activities", **bearer(token_for(employee)))
    assert response.status_code == 200, response.content
    rows = {r["title"]: r for r in response.json()["items"]}
    assert (rows["年会抽奖"]["status"], rows["年会抽奖"]["points"], rows["年会抽奖"]["prize"]) \
        == ("won", 15, "一等奖")
    assert (rows["耳机竞拍"]["status"], rows["耳机竞拍"]["points"]) == ("leading", 130)
    key = create_api_key(name="hr", scopes=["admin"])[1]
    assert client.get("/api/v1/me/activities", **bearer(key)).status_code == 403


def post(client, path: str, body: dict | None, token: str):
    return client.post(path, data=json.dumps(body or {}), content_type="application/json",
                       **bearer(token))


def test_announce_through_the_api_once(client, employee, activities_admin):
    lottery = make_lottery(title="年会抽奖")
    path = f"/api/v1/activities/lottery/{lottery.pk}/announce"
    refused = post(client, path, {}, token_for(employee))
    assert refused.status_code == 403
    response = post(client, path, {"message": "周五开奖"}, token_for(activities_admin))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["recipients"] == 2 and body["notice_sent_at"]  # the employee and the admin
    assert Notification.objects.get(kind="activities.announced",
                                    recipient=employee.user).params["notice"] == "周五开奖"
    again = post(client, path, {}, token_for(activities_admin))
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_announced"
    missing = post(client, f"/api/v1/activities/lottery/{lottery.pk + 99}/announce", {},
                   token_for(activities_admin))
    assert missing.status_code == 404
    assert post(client, f"/api/v1/activities/raffle/{lottery.pk}/announce", {},
                token_for(activities_admin)).status_code == 422
    too_long = post(client, f"/api/v1/activities/lottery/{lottery.pk}/announce",
                    {"message": "x" * 501}, token_for(activities_admin))
    assert too_long.status_code == 422


def test_stats_through_the_api(client, employee, activities_admin):
    fund(employee, 1000)
    lottery = make_lottery(entry_cost=40)
    enter(lottery, employee)
    path = f"/api/v1/activities/lottery/{lottery.pk}/stats"
    assert client.get(path, **bearer(token_for(employee))).status_code == 403
    key = create_api_key(name="hr", scopes=["admin"])[1]
    body = client.get(path, **bearer(key)).json()
    assert (body["participants"], body["actions"], body["points_collected"]) == (1, 1, 40)
    assert body["bucket"] == "hour" and sum(b["count"] for b in body["timeline"]) == 1
    assert body["prizes"] == [{"name": "一等奖", "rank": 1, "kind": "custom", "quantity": 1,
                               "given": 0}]
