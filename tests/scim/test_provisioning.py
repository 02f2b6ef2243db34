"""What provisioning does to jifen: leaving policy, sign-ins, the two-pass manager link,
pagination, filters, and errors in the RFC 7644 shape."""

from __future__ import annotations

import pytest
from django.test import Client

from jifen.integrations.services import create_api_key
from jifen.ledger import services as ledger
from jifen.ledger.models import LeavingPolicy
from jifen.people.models import Employee, EmployeeStatus
from jifen.people.services import issue_access_token
from tests.ledger.helpers import key, spendable
from tests.scim.conftest import ScimClient, load_fixture

pytestmark = pytest.mark.django_db
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def _user(scim, user_name: str, number: str, **extension):
    response = scim.post("/Users", {
        "userName": user_name, "name": {"givenName": user_name.title(), "familyName": "X"},
        ENTERPRISE: {"employeeNumber": number, **extension}})
    assert response.status_code == 201, response.content
    return response.json()


def _me(token: str) -> int:
    return Client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_deactivation_forfeits_points_by_policy_and_ends_sign_ins(scim, hr_admin):
    ledger.update_policy(actor=hr_admin.user, on_leaving=LeavingPolicy.FORFEIT)
    created = scim.post("/Users", load_fixture("entra_create_user.json")).json()
    employee = Employee.objects.get(pk=created["id"])
    ledger.adjust(employee=employee, amount=80, reason="bonus", actor=hr_admin.user,
                  idempotency_key=key())
    token = issue_access_token(user=employee.user)[1]
    assert _me(token) == 200

    response = scim.patch(f"/Users/{created['id']}", load_fixture("entra_disable_user.json"))
    assert response.status_code == 200, response.content
    assert spendable(employee) == 0
    assert _me(token) == 401
    # Coming back re-activates the account but revives no old token.
    scim.patch(f"/Users/{created['id']}", load_fixture("entra_enable_user.json"))
    employee.refresh_from_db()
    assert employee.status == EmployeeStatus.ACTIVE and employee.user.is_active
    assert _me(token) == 401


def test_points_are_kept_when_the_policy_keeps_them(scim):
    created = scim.post("/Users", load_fixture("okta_create_user.json")).json()
    employee = Employee.objects.get(pk=created["id"])
    ledger.adjust(employee=employee, amount=30, reason="bonus", actor=None,
                  idempotency_key=key())
    scim.patch(f"/Users/{created['id']}", load_fixture("okta_deactivate_user.json"))
    assert spendable(employee) == 30


def test_delete_off_boards_and_the_user_is_gone_for_scim(scim, hr_admin):
    ledger.update_policy(actor=hr_admin.user, on_leaving=LeavingPolicy.FORFEIT)
    created = _user(scim, "dora", "D-1")
    employee = Employee.objects.get(pk=created["id"])
    ledger.adjust(employee=employee, amount=10, reason="bonus", actor=None,
                  idempotency_key=key())
    assert scim.delete(f"/Users/{created['id']}").status_code == 204
    employee.refresh_from_db()
    assert employee.status == EmployeeStatus.LEFT and spendable(employee) == 0
    response = scim.get(f"/Users/{created['id']}")
    assert response.status_code == 404 and response.json()["schemas"] == [ERROR]


def test_a_manager_provisioned_after_the_report_is_linked_when_it_arrives(scim):
    report = _user(scim, "rita", "R-1", manager={"value": "M-1"})
    link = Employee.objects.get(pk=report["id"]).scim
    assert link.manager_ref == "M-1" and link.manager is None
    manager = _user(scim, "mona", "M-1")
    link.refresh_from_db()
    assert link.manager_id == int(manager["id"])
    # And by SCIM id, the usual Entra and Okta reference, when the manager already exists.
    other = _user(scim, "otto", "O-1", manager={"value": manager["id"]})
    assert Employee.objects.get(pk=other["id"]).scim.manager_id == int(manager["id"])


def test_pages_follow_start_index_and_count(scim):
    ids = [_user(scim, f"user{n}", f"P-{n}")["id"] for n in range(5)]
    page = scim.get("/Users", startIndex=2, count=2).json()
    assert page["totalResults"] == 5 and page["startIndex"] == 2 and page["itemsPerPage"] == 2
    assert [r["id"] for r in page["Resources"]] == ids[1:3]
    last = scim.get("/Users", startIndex=5, count=10).json()
    assert [r["id"] for r in last["Resources"]] == ids[4:]
    assert scim.get("/Users", startIndex=0, count=-1).json()["Resources"] == []


def test_filters_select_users(scim):
    _user(scim, "ann", "F-1")
    bob = _user(scim, "bob", "F-2")
    scim.patch(f"/Users/{bob['id']}", load_fixture("okta_deactivate_user.json"))

    def names(expression: str) -> list[str]:
        response = scim.get("/Users", filter=expression)
        assert response.status_code == 200, response.content
        return sorted(r["userName"] for r in response.json()["Resources"])

    assert names('userName eq "ANN"') == ["ann"]
    assert names(f'{ENTERPRISE}:employeeNumber eq "F-2"') == ["bob"]
    assert names('active eq false') == ["bob"]
    assert names('userName sw "a" or userName sw "b"') == ["ann", "bob"]
    assert names('not (userName eq "ann") and active eq true') == []
    scim.put(f"/Users/{bob['id']}", {"userName": "bob", "externalId": "ext-9", "active": True})
    assert names('externalId eq "ext-9"') == ["bob"]


@pytest.mark.parametrize("expression", [
    'userName eq', 'userName zz "a"', '(userName eq "a"', 'nickName eq "a"',
    'userName eq "a" and', 'userName eq "unterminated', "x" * 3000, "(" * 50 + "a",
])
def test_malformed_filters_are_400_invalid_filter(scim, expression):
    response = scim.get("/Users", filter=expression)
    assert response.status_code == 400, response.content
    assert response.json() == {**response.json(), "schemas": [ERROR], "status": "400",
                               "scimType": "invalidFilter"}


def test_a_bad_token_is_a_401_scim_error(db):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic a:b"}):
        response = Client().get("/scim/v2/Users", headers=headers)
        assert response.status_code == 401
        assert response.json()["schemas"] == [ERROR] and response.json()["status"] == "401"
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_key_without_the_scim_scope_is_refused(db):
    other = ScimClient(create_api_key(name="events", scopes=["events:write"])[1])
    response = other.post("/Users", load_fixture("okta_create_user.json"))
    assert response.status_code == 403 and response.json()["schemas"] == [ERROR]
    assert not Employee.objects.exists()


@pytest.mark.parametrize("raw", ["{not json", "[]", '"text"', "\xff"])
def test_malformed_bodies_are_400_and_change_nothing(scim, raw):
    response = scim.post("/Users", raw=raw)
    assert response.status_code == 400, response.content
    assert response.json()["scimType"] == "invalidSyntax"
    assert not Employee.objects.exists()


@pytest.mark.parametrize("body,scim_type", [
    ({"Operations": [{"op": "move", "path": "title", "value": "x"}]}, "invalidSyntax"),
    ({"Operations": []}, "invalidSyntax"),
    ({"Operations": [{"op": "replace", "path": "emails[type eq]", "value": "x"}]},
     "invalidPath"),
    ({"Operations": [{"op": "replace", "path": "active", "value": "maybe"}]}, "invalidValue"),
    ({"Operations": [{"op": "replace", "path": "userName", "value": ""}]}, "invalidValue"),
    ({"Operations": [{"op": "remove"}]}, "noTarget"),
])
def test_bad_patches_are_400_and_change_nothing(scim, body, scim_type):
    created = scim.post("/Users", load_fixture("okta_create_user.json")).json()
    response = scim.patch(f"/Users/{created['id']}", body)
    assert response.status_code == 400, response.content
    assert response.json()["scimType"] == scim_type
    assert scim.get(f"/Users/{created['id']}").json()["userName"] == created["userName"]


def test_a_taken_username_is_409_uniqueness(scim):
    scim.post("/Users", load_fixture("okta_create_user.json"))
    response = scim.post("/Users", load_fixture("okta_create_user.json"))
    assert response.status_code == 409 and response.json()["scimType"] == "uniqueness"


def test_an_employee_imported_before_provisioning_is_adopted_by_number(scim, sales):
    from jifen.people.services import EmployeeData, upsert_employee

    upsert_employee(data=EmployeeData(employee_no="E-7001", name="Old", department_code="SALES"))
    response = scim.post("/Users", load_fixture("entra_create_user.json"))
    assert response.status_code == 201, response.content
    assert Employee.objects.count() == 1
    assert Employee.objects.get().user.username.startswith("Test_User_")
