"""The leaderboard over the API: the caller's boards and own rank, anonymity (no employee
number for someone who hid their name), the privacy switch, and 422s for bad filters."""

from __future__ import annotations

import json

import pytest

from jifen.insights.services import rollups
from jifen.people.models import Department
from jifen.people.services import issue_access_token
from tests.factories import DepartmentFactory, EmployeeFactory
from tests.ledger.helpers import earn

pytestmark = pytest.mark.django_db


def auth(employee) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {issue_access_token(user=employee.user)[1]}"}


def get(client, who, **params):
    return client.get("/api/v1/leaderboard", params, **auth(who))


@pytest.fixture
def company():
    sales = DepartmentFactory(code="SALES", name="Sales")
    ops = DepartmentFactory(code="OPS", name="Ops")
    people = {
        "ann": EmployeeFactory(department=sales, employee_no="E1", name="Ann"),
        "ben": EmployeeFactory(department=sales, employee_no="E2", name="Ben"),
        "cat": EmployeeFactory(department=ops, employee_no="E3", name="Cat"),
        "dan": EmployeeFactory(department=ops, employee_no="E4", name="Dan"),
    }
    for name, points in (("ann", 30), ("ben", 30), ("cat", 50), ("dan", 5)):
        earn(people[name], points, category="learning")
    rollups.fold_pending()
    return people


def test_the_company_board_with_ties_and_my_rank(client, company):
    response = get(client, company["dan"], limit=3)
    assert response.status_code == 200
    body = response.json()
    assert [(i["rank"], i["name"], i["employee_no"], i["points"], i["is_me"])
            for i in body["items"]] == [
        (1, "Cat", "E3", 50, False), (2, "Ann", "E1", 30, False), (2, "Ben", "E2", 30, False)]
    assert body["me"] == {"rank": 4, "points": 5, "hidden": False}
    assert (body["scope"], body["ranked_count"], body["category"]) == ("company", 4, "")
    assert body["next_cursor"] is None


def test_my_department_and_a_category(client, company):
    body = get(client, company["ann"], scope="department", period="all",
               category="learning").json()
    assert [i["name"] for i in body["items"]] == ["Ann", "Ben"]
    assert (body["department"], body["me"]["rank"], body["period"]) == ("SALES", 1, "all")
    assert get(client, company["ann"], category="teamwork").json()["items"] == []


def test_someone_hidden_has_no_number_for_others(client, company):
    response = client.put("/api/v1/me/ranking-privacy", json.dumps({"hidden": True}),
                          content_type="application/json", **auth(company["cat"]))
    assert response.status_code == 200 and response.json() == {"hidden": True}
    first = get(client, company["dan"]).json()["items"][0]
    assert (first["employee_no"], first["department"], first["points"]) == (None, None, 50)
    assert first["name"] != "Cat"
    mine = get(client, company["cat"]).json()
    assert (mine["items"][0]["name"], mine["items"][0]["employee_no"]) == ("Cat", "E3")
    assert mine["me"]["hidden"] is True
    assert client.get("/api/v1/me/ranking-privacy", **auth(company["cat"])).json() == {
        "hidden": True}


def test_a_managers_team(client, company):
    Department.objects.filter(code="OPS").update(manager=company["cat"])
    body = get(client, company["cat"], scope="team").json()
    assert [i["name"] for i in body["items"]] == ["Cat", "Dan"]
    refused = get(client, company["dan"], scope="team")
    assert refused.status_code == 403
    hidden_from = get(client, company["dan"], scope="department", department="SALES")
    assert hidden_from.status_code == 404


@pytest.mark.parametrize(("params", "code"), [
    ({"period": "2026-13"}, "invalid_period"),
    ({"period": "yesterday"}, "invalid_period"),
    ({"scope": "galaxy"}, "invalid_scope"),
    ({"category": "napping"}, "unknown_category"),
    ({"limit": 0}, "invalid_limit"),
    ({"limit": 1000}, "invalid_limit"),
])
def test_bad_filters_are_422(client, company, params, code):
    response = get(client, company["ann"], **params)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


def test_privacy_wants_a_boolean(client, company):
    response = client.put("/api/v1/me/ranking-privacy", json.dumps({"hidden": "maybe"}),
                          content_type="application/json", **auth(company["ann"]))
    assert response.status_code == 422
