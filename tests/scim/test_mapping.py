"""How SCIM resources map onto employees and departments, and the audit trail of each
write."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from jifen.core.models import AuditEntry
from jifen.people.models import Department, Employee, EmployeeStatus
from jifen.people.services import upsert_department
from tests.scim.conftest import load_fixture

pytestmark = pytest.mark.django_db
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def test_chinese_names_join_family_and_given_name_without_a_space(scim):
    body = scim.post("/Users", {"userName": "li.na", "name": {"familyName": "李",
                                                                "givenName": "娜"}}).json()
    assert Employee.objects.get(pk=body["id"]).name == "李娜"
    assert body["name"] == {"formatted": "李娜", "givenName": "娜", "familyName": "李"}


def test_a_department_is_found_by_code_then_name_and_otherwise_created(scim, sales):
    by_code = scim.post("/Users", {"userName": "a", ENTERPRISE: {"department": "SALES"}}).json()
    by_name = scim.post("/Users", {"userName": "b", ENTERPRISE: {"department": "Sales"}}).json()
    new = scim.post("/Users", {"userName": "c", ENTERPRISE: {"department": "研发部"}}).json()
    none = scim.post("/Users", {"userName": "d"}).json()
    department = {b["userName"]: Employee.objects.get(pk=b["id"]).department
                  for b in (by_code, by_name, new, none)}
    assert department["a"] == sales and department["b"] == sales
    assert department["c"].name == "研发部" and department["c"].code.startswith("scim-")
    assert department["d"].code == "scim-unassigned"
    assert new["groups"][0]["display"] == "研发部"


def test_every_write_is_audited_under_the_clients_name(scim):
    user = scim.post("/Users", load_fixture("okta_create_user.json")).json()
    scim.put(f"/Users/{user['id']}", {"userName": user["userName"], "title": "Chef"})
    scim.patch(f"/Users/{user['id']}", {"Operations": [{"op": "add", "path": "title",
                                                        "value": "Cook"}]})
    scim.delete(f"/Users/{user['id']}")
    entries = AuditEntry.objects.filter(action__startswith="scim.user.").order_by("pk")
    assert [e.action for e in entries] == ["scim.user.create", "scim.user.update",
                                           "scim.user.update", "scim.user.delete"]
    assert all("Okta provisioning" in e.actor_label for e in entries)


def test_a_deleted_user_provisioned_again_is_the_same_employee_active_again(scim):
    first = scim.post("/Users", load_fixture("okta_create_user.json")).json()
    scim.delete(f"/Users/{first['id']}")
    assert scim.get("/Users", filter='userName eq "test.user@okta.local"').json()[
        "totalResults"] == 0
    again = scim.post("/Users", load_fixture("okta_create_user.json"))
    assert again.status_code == 201, again.content
    assert again.json()["id"] == first["id"] and again.json()["active"] is True
    assert Employee.objects.get(pk=first["id"]).status == EmployeeStatus.ACTIVE


def test_plain_json_is_accepted_too(scim):
    response = scim.client.post("/scim/v2/Users", data=json.dumps({"userName": "plain"}),
                                content_type="application/json", headers=scim.headers)
    assert response.status_code == 201, response.content
    assert response["Content-Type"].startswith("application/scim+json")


def test_group_changes_leave_leavers_where_they_left(scim, sales):
    stays = scim.post("/Users", {"userName": "stays", ENTERPRISE: {"department": "SALES"}}).json()
    left = scim.post("/Users", {"userName": "left", ENTERPRISE: {"department": "SALES"}}).json()
    scim.patch(f"/Users/{left['id']}", load_fixture("okta_deactivate_user.json"))
    group = scim.get(f"/Groups/{sales.pk}").json()
    assert [m["value"] for m in group["members"]] == [stays["id"]]
    scim.patch(f"/Groups/{sales.pk}", {"Operations": [
        {"op": "replace", "path": "displayName", "value": "Sales & Service"}]})
    assert Employee.objects.get(pk=left["id"]).department == sales
    assert Employee.objects.get(pk=stays["id"]).department == sales
    assert Department.objects.get(pk=sales.pk).name == "Sales & Service"


def test_deleting_a_group_moves_its_people_and_refuses_a_parent(scim, sales):
    upsert_department(code="SALES-N", name="North", parent_code="SALES")
    assert scim.delete(f"/Groups/{sales.pk}").status_code == 409
    group = scim.post("/Groups", {"displayName": "Temp"}).json()
    user = scim.post("/Users", {"userName": "t"}).json()
    scim.patch(f"/Groups/{group['id']}", load_fixture("okta_group_add_member.json",
                                                      user_id=user["id"]))
    assert scim.delete(f"/Groups/{group['id']}").status_code == 204
    assert not Department.objects.filter(pk=group["id"]).exists()
    assert Employee.objects.get(pk=user["id"]).department.code == "scim-unassigned"
    assert scim.get(f"/Groups/{group['id']}").status_code == 404


def test_listing_users_takes_a_bounded_number_of_queries(scim, django_assert_max_num_queries):
    for n in range(15):
        scim.post("/Users", {"userName": f"u{n}", "emails": [{"value": f"u{n}@x.example"}]})
    with django_assert_max_num_queries(6):
        body = scim.get("/Users", count=50).json()
    assert body["itemsPerPage"] == 15


def test_the_api_keys_page_offers_the_scim_scope(super_admin):
    client = Client()
    client.force_login(super_admin.user)
    response = client.get(reverse("console:api_keys"))
    assert response.status_code == 200
    assert 'value="scim"' in response.content.decode()


def test_a_manager_is_named_by_external_id_too(scim):
    boss = scim.post("/Users", {"userName": "boss", "externalId": "okta-boss"}).json()
    report = scim.post("/Users", {"userName": "rep", ENTERPRISE: {
        "manager": {"value": "okta-boss"}}}).json()
    assert Employee.objects.get(pk=report["id"]).scim.manager_id == int(boss["id"])


def test_attributes_and_excluded_attributes_shape_the_answer(scim):
    user = scim.post("/Users", load_fixture("entra_create_user.json")).json()
    only = scim.get(f"/Users/{user['id']}", attributes="userName,emails.value").json()
    assert set(only) == {"schemas", "id", "userName", "emails"}
    without = scim.get("/Users", excludedAttributes=ENTERPRISE + ",groups").json()
    assert ENTERPRISE not in without["Resources"][0] and "groups" not in without["Resources"][0]
    assert "userName" in without["Resources"][0]
