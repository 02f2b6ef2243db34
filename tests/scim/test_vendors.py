"""Okta's and Entra ID's request shapes, replayed from their documented examples
(tests/scim/fixtures/*.json)."""

from __future__ import annotations

import pytest

from jifen.core.models import AuditEntry
from jifen.people.models import Department, Employee, EmployeeStatus
from tests.scim.conftest import load_fixture

pytestmark = pytest.mark.django_db
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def test_okta_creates_a_user_with_its_documented_body(scim):
    response = scim.post("/Users", load_fixture("okta_create_user.json"))
    assert response.status_code == 201, response.content
    assert response["Content-Type"].startswith("application/scim+json")
    body = response.json()
    assert response["Location"] == body["meta"]["location"]
    assert body["userName"] == "test.user@okta.local"
    assert body["externalId"] == "00ujl29u0le5T6Aj10h7"
    assert body["active"] is True
    employee = Employee.objects.get(pk=int(body["id"]))
    assert employee.name == "Test User"
    assert employee.email == "test.user@okta.local"
    assert employee.user.username == "test.user@okta.local"
    # Okta's password is not taken: sign-in goes through single sign-on.
    assert not employee.user.has_usable_password()
    entry = AuditEntry.objects.get(action="scim.user.create")
    assert "Okta provisioning" in entry.actor_label


def test_okta_deactivates_with_a_no_path_replace(scim):
    created = scim.post("/Users", load_fixture("okta_create_user.json")).json()
    response = scim.patch(f"/Users/{created['id']}", load_fixture("okta_deactivate_user.json"))
    assert response.status_code == 200, response.content
    assert response.json()["active"] is False
    employee = Employee.objects.get(pk=int(created["id"]))
    assert employee.status == EmployeeStatus.LEFT and not employee.user.is_active
    assert AuditEntry.objects.filter(action="employee.left", object_id=str(employee.pk)).exists()


def test_okta_looks_a_user_up_by_username_before_creating(scim):
    scim.post("/Users", load_fixture("okta_create_user.json"))
    found = scim.get("/Users", filter='userName eq "TEST.USER@okta.local"', startIndex=1,
                     count=100).json()
    assert found["totalResults"] == 1
    assert found["Resources"][0]["userName"] == "test.user@okta.local"
    missing = scim.get("/Users", filter='userName eq "nobody@okta.local"').json()
    assert missing["totalResults"] == 0 and missing["Resources"] == []


def test_okta_adds_and_removes_a_group_member(scim, sales):
    user = scim.post("/Users", load_fixture("okta_create_user.json")).json()
    group = scim.post("/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                  "displayName": "Engineering"}).json()
    response = scim.patch(f"/Groups/{group['id']}",
                          load_fixture("okta_group_add_member.json", user_id=user["id"]))
    assert response.status_code == 200, response.content
    assert [m["value"] for m in response.json()["members"]] == [user["id"]]
    assert Employee.objects.get(pk=user["id"]).department_id == int(group["id"])
    response = scim.patch(f"/Groups/{group['id']}",
                          load_fixture("okta_group_remove_member.json", user_id=user["id"]))
    assert response.status_code == 200, response.content
    assert response.json()["members"] == []
    assert Employee.objects.get(pk=user["id"]).department.code == "scim-unassigned"


def test_entra_creates_a_user_in_the_named_department(scim, sales):
    response = scim.post("/Users", load_fixture("entra_create_user.json"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body[ENTERPRISE]["employeeNumber"] == "E-7001"
    assert body[ENTERPRISE]["department"] == "Sales"
    employee = Employee.objects.get(employee_no="E-7001")
    assert employee.department == sales
    assert employee.name == "givenName familyName"


def test_entra_disables_with_a_capitalised_op_and_a_string_boolean(scim):
    created = scim.post("/Users", load_fixture("entra_create_user.json")).json()
    response = scim.patch(f"/Users/{created['id']}", load_fixture("entra_disable_user.json"))
    assert response.status_code == 200, response.content
    assert response.json()["active"] is False
    assert Employee.objects.get(pk=created["id"]).status == EmployeeStatus.LEFT
    response = scim.patch(f"/Users/{created['id']}", load_fixture("entra_enable_user.json"))
    assert response.json()["active"] is True
    assert Employee.objects.get(pk=created["id"]).status == EmployeeStatus.ACTIVE


def test_entra_updates_through_filtered_paths(scim):
    created = scim.post("/Users", load_fixture("entra_create_user.json")).json()
    response = scim.patch(f"/Users/{created['id']}", load_fixture("entra_update_user.json"))
    assert response.status_code == 200, response.content
    employee = Employee.objects.get(pk=created["id"])
    assert employee.email == "updatedEmail@microsoft.com"
    assert employee.name == "givenName updatedFamilyName"
    assert employee.position == "Account Manager"
    assert employee.phone == "+86 21 5555 0100"


def test_entra_sets_the_manager_by_its_id(scim):
    boss = scim.post("/Users", {"userName": "boss@corp.example", "name": {"formatted": "Boss"},
                                ENTERPRISE: {"employeeNumber": "B-1"}}).json()
    report = scim.post("/Users", load_fixture("entra_create_user.json")).json()
    response = scim.patch(f"/Users/{report['id']}",
                          load_fixture("entra_add_manager.json", manager_id=boss["id"]))
    assert response.status_code == 200, response.content
    assert response.json()[ENTERPRISE]["manager"] == {"value": boss["id"]}
    assert Employee.objects.get(pk=report["id"]).scim.manager_id == int(boss["id"])


def test_entra_creates_renames_and_fills_a_group(scim):
    response = scim.post("/Groups", load_fixture("entra_create_group.json"))
    assert response.status_code == 201, response.content
    group = response.json()
    assert group["externalId"] == "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"
    found = scim.get("/Groups", filter='displayName eq "displayName"',
                     excludedAttributes="members").json()
    assert found["totalResults"] == 1 and "members" not in found["Resources"][0]
    response = scim.patch(f"/Groups/{group['id']}", load_fixture("entra_group_rename.json"))
    assert response.status_code == 200, response.content
    assert Department.objects.get(pk=group["id"]).name.endswith("updatedDisplayName")

    user = scim.post("/Users", load_fixture("entra_create_user.json")).json()
    scim.patch(f"/Groups/{group['id']}",
               load_fixture("entra_group_add_member.json", user_id=user["id"]))
    assert Employee.objects.get(pk=user["id"]).department_id == int(group["id"])
    member = scim.get("/Groups", filter=f'members[value eq "{user["id"]}"]').json()
    assert [g["id"] for g in member["Resources"]] == [group["id"]]
    scim.patch(f"/Groups/{group['id']}",
               load_fixture("entra_group_remove_member.json", user_id=user["id"]))
    assert Employee.objects.get(pk=user["id"]).department_id != int(group["id"])
    assert AuditEntry.objects.filter(action="scim.group.update").count() == 3
