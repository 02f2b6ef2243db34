"""Untrusted input never becomes a 500: odd shapes and types get RFC 7644 errors, and a
refused write changes nothing."""

from __future__ import annotations

import pytest

from jifen.people.models import Employee
from tests.scim.conftest import load_fixture

pytestmark = pytest.mark.django_db
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

BAD_USERS = [
    {}, {"userName": 5.5, "name": []}, {"userName": ["a"]}, {"userName": {"a": 1}},
    {"userName": "x", "name": "just text"}, {"userName": "x", "name": {"givenName": {}}},
    {"userName": "x", "emails": "a@b.c"}, {"userName": "x", "emails": [1, 2]},
    {"userName": "x", "emails": [{"value": "not an address"}]},
    {"userName": "x", "phoneNumbers": [{"value": "1" * 50}]},
    {"userName": "x", "active": "maybe"}, {"userName": "x", "title": "t" * 101},
    {"userName": "x", ENTERPRISE: "text"}, {"userName": "x", ENTERPRISE: {"manager": []}},
    {"userName": "x", ENTERPRISE: {"employeeNumber": "n" * 41}},
    {"userName": "u" * 151},
]


@pytest.mark.parametrize("body", BAD_USERS)
def test_bad_users_are_400(scim, body):
    response = scim.post("/Users", body)
    assert response.status_code == 400, response.content
    assert response.json()["status"] == "400"
    assert not Employee.objects.exists()


BAD_PATCHES = [
    None, [], "x", {"Operations": "x"}, {"Operations": [1]}, {"Operations": [{"op": 1}]},
    {"Operations": [{"op": "add", "path": 5, "value": 1}]},
    {"Operations": [{"op": "add", "path": "emails[", "value": 1}]},
    {"Operations": [{"op": "add", "path": "urn:foo:bar:title", "value": 1}]},
    {"Operations": [{"op": "replace", "value": "not an object"}]},
    {"Operations": [{"op": "replace", "path": "emails[type eq \"work\"]", "value": "x"}]},
    {"Operations": [{"op": "replace", "path": "emails[value co \"@\"].value",
                     "value": {"no": "string"}}]},
    {"Operations": [{"op": "replace", "path": "name", "value": "flat"}]},
    {"Operations": [{"op": "add"}]},
    {"schemas": ["urn:wrong"], "Operations": [{"op": "add", "path": "title", "value": "x"}]},
    {"Operations": [{"op": "add", "path": "title", "value": "x"}] * 1001},
]


@pytest.mark.parametrize("body", BAD_PATCHES)
def test_bad_patches_are_400(scim, body):
    created = scim.post("/Users", load_fixture("okta_create_user.json")).json()
    response = scim.patch(f"/Users/{created['id']}", body)
    assert response.status_code == 400, response.content
    after = scim.get(f"/Users/{created['id']}").json()
    assert {k: v for k, v in after.items() if k != "meta"} == {
        k: v for k, v in created.items() if k != "meta"}


@pytest.mark.parametrize("params", [
    {"startIndex": "abc"}, {"count": "1e9"}, {"filter": "id eq \"abc\" or"},
    {"filter": "meta.lastModified gt \"yesterday\""}, {"filter": "active eq \"yes\""},
])
def test_bad_list_parameters_are_400(scim, params):
    response = scim.get("/Users", **params)
    assert response.status_code == 400, response.content
    assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


def test_odd_but_valid_queries_answer(scim):
    scim.post("/Users", load_fixture("okta_create_user.json"))
    assert scim.get("/Users", filter='id eq "abc"').json()["totalResults"] == 0
    assert scim.get("/Users", filter='meta.lastModified gt "2000-01-01T00:00:00Z"').json()[
        "totalResults"] == 1
    assert scim.get("/Users", filter='userName eq "名字"').json()["totalResults"] == 0
    assert scim.get("/Users/abc").status_code == 404
    assert scim.get("/Groups/0").status_code == 404
    assert scim.get("/Nope").status_code == 404
    assert scim.post("/ServiceProviderConfig", {}).status_code == 405
    assert scim.post("/.search", {}).status_code == 501


def test_bad_groups_are_400(scim):
    for body in ({}, {"displayName": ""}, {"displayName": "x", "members": "x"},
                 {"displayName": "x", "members": [{"value": "abc"}]},
                 {"displayName": "x", "members": [{"value": "999999"}]}):
        response = scim.post("/Groups", body)
        assert response.status_code == 400, (body, response.content)
