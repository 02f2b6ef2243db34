"""The lottery API: create, enter with an Idempotency-Key, 409 codes, the public proof."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from jifen.activities import fairness
from jifen.activities.models import Entry, Lottery
from jifen.people.services import issue_access_token
from tests.activities.conftest import fund, make_lottery, spendable
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def bearer(employee, **headers: str) -> dict:
    token = issue_access_token(user=employee.user)[1]
    return {"HTTP_AUTHORIZATION": f"Bearer {token}", **headers}


def post(client, path, body, employee, **headers):
    return client.post(path, json.dumps(body) if body is not None else "",
                       content_type="application/json", **bearer(employee, **headers))


def test_an_admin_creates_and_publishes_a_lottery(client, activities_admin, employee):
    now = timezone.now()
    body = {"title": "周年抽奖", "starts_at": (now - timedelta(minutes=1)).isoformat(),
            "ends_at": (now + timedelta(days=1)).isoformat(), "entry_cost": 5,
            "tiers": [{"name": "一等奖", "kind": "points", "points": 50, "quantity": 1}],
            "publish": True}
    answer = post(client, "/api/v1/lotteries", body, activities_admin)
    assert answer.status_code == 201, answer.content
    created = answer.json()
    assert created["status"] == "published" and len(created["commitment"]) == 64
    refused = post(client, "/api/v1/lotteries", body, employee)
    assert refused.status_code == 403
    bad = post(client, "/api/v1/lotteries", {**body, "ends_at": body["starts_at"]},
               activities_admin)
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_datetime"


def test_entering_twice_with_one_key_makes_one_entry_and_one_charge(client, activities_admin,
                                                                    employee):
    fund(employee, 20)
    lottery = make_lottery(activities_admin.user, entry_limit=5)
    path = f"/api/v1/lotteries/{lottery.pk}/entries"
    first = post(client, path, None, employee, HTTP_IDEMPOTENCY_KEY="abc")
    again = post(client, path, None, employee, HTTP_IDEMPOTENCY_KEY="abc")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Entry.objects.filter(lottery=lottery).count() == 1
    assert spendable(employee) == 10
    post(client, path, None, employee, HTTP_IDEMPOTENCY_KEY="def")
    broke = post(client, path, None, employee, HTTP_IDEMPOTENCY_KEY="ghi")
    assert broke.status_code == 409
    assert broke.json()["error"]["code"] == "insufficient_points"


def test_conflicts_are_409s_with_their_codes(client, activities_admin, employee):
    lottery = make_lottery(activities_admin.user, entry_cost=0)
    path = f"/api/v1/lotteries/{lottery.pk}/entries"
    assert post(client, path, None, employee).status_code == 201
    limit = post(client, path, None, employee)
    assert (limit.status_code, limit.json()["error"]["code"]) == (409, "entry_limit_reached")
    Lottery.objects.filter(pk=lottery.pk).update(
        ends_at=timezone.now() - timedelta(seconds=1),
        draw_at=timezone.now() + timedelta(hours=1))
    closed = post(client, path, None, EmployeeFactory())
    assert (closed.status_code, closed.json()["error"]["code"]) == (409, "activity_closed")
    assert client.get("/api/v1/lotteries/999999", **bearer(employee)).status_code == 404


def test_reading_the_proof_after_the_draw_time_draws_and_it_verifies(client, activities_admin):
    lottery = make_lottery(activities_admin.user, entry_cost=0)
    people = [EmployeeFactory() for _ in range(4)]
    for person in people:
        assert post(client, f"/api/v1/lotteries/{lottery.pk}/entries", None,
                    person).status_code == 201
    hidden = client.get(f"/api/v1/lotteries/{lottery.pk}/proof", **bearer(people[0])).json()
    assert hidden["seed"] is None and hidden["entries"] == []
    past = timezone.now() - timedelta(seconds=1)
    Lottery.objects.filter(pk=lottery.pk).update(ends_at=past, draw_at=past)
    proof = client.get(f"/api/v1/lotteries/{lottery.pk}/proof", **bearer(people[0])).json()
    assert proof["status"] == "finished"
    assert fairness.commitment_of(proof["seed"]) == proof["commitment"]
    assert [e["mine"] for e in proof["entries"]].count(True) == 1
    assert fairness.verify(proof).ok
    results = client.get(f"/api/v1/lotteries/{lottery.pk}/results", **bearer(people[1]))
    assert len(results.json()) == 3


def test_drafts_are_hidden_from_employees(client, activities_admin, employee):
    draft = make_lottery(activities_admin.user, publish=False)
    assert client.get(f"/api/v1/lotteries/{draft.pk}", **bearer(employee)).status_code == 404
    listed = client.get("/api/v1/lotteries", **bearer(employee)).json()["items"]
    assert draft.pk not in [x["id"] for x in listed]
    published = post(client, f"/api/v1/lotteries/{draft.pk}/publish", None, activities_admin)
    assert published.status_code == 200
    cancelled = post(client, f"/api/v1/lotteries/{draft.pk}/cancel", {"reason": "改期"},
                     activities_admin)
    assert cancelled.json()["status"] == "cancelled"
