"""Off-boarding disables a login, so only a super admin may off-board a super admin; and
leaving ends every token and session for good, whichever route marks it."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from jifen.integrations.services import create_api_key
from jifen.people.models import AccessToken, EmployeeStatus, User
from jifen.people.services import (
    EmployeeData,
    end_sign_ins,
    import_employees,
    issue_access_token,
)
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _still_in(employee) -> bool:
    employee.refresh_from_db()
    employee.user.refresh_from_db()
    return employee.status == EmployeeStatus.ACTIVE and employee.user.is_active


def test_an_api_key_cannot_off_board_a_super_admin(client, super_admin):
    key = create_api_key(name="hr-sync", scopes=["admin"])[1]
    response = client.put(
        f"/api/v1/employees/{super_admin.employee_no}",
        data=json.dumps({"name": super_admin.name, "status": "left",
                         "department_code": super_admin.department.code}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "privileged_account"
    assert _still_in(super_admin)


def test_the_console_explains_why_hr_cannot_off_board_a_super_admin(hr_admin, super_admin):
    from django.contrib.messages import get_messages
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(hr_admin.user)
    response = client.post(reverse("console:employee_left", args=[super_admin.pk]))
    assert response.status_code == 302
    [message] = list(get_messages(response.wsgi_request))
    assert message.level_tag == "error" and super_admin.employee_no in message.message
    assert _still_in(super_admin)


# --- leaving ends every sign-in, and coming back revives none ------------------------------

def _put_status(client, employee, status: str, key: str):
    return client.put(
        f"/api/v1/employees/{employee.employee_no}",
        data=json.dumps({"name": employee.name, "status": status,
                         "department_code": employee.department.code}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")


def _leave_by_api(employee, hr_admin) -> None:
    key = create_api_key(name="hr-sync", scopes=["employees:write"])[1]
    assert _put_status(Client(), employee, "left", key).status_code == 200


def _leave_in_the_console(employee, hr_admin) -> None:
    client = Client()
    client.force_login(hr_admin.user)
    response = client.post(reverse("console:employee_left", args=[employee.pk]))
    assert response.status_code == 302


def _leave_by_import(employee, hr_admin) -> None:
    import_employees(rows=[EmployeeData(employee_no=employee.employee_no, name=employee.name,
                                        department_code=employee.department.code,
                                        status="left")], actor=hr_admin.user)


def _me(token: str) -> int:
    return Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def _session_works(client: Client) -> bool:
    return client.get(reverse("portal:home")).status_code == 200


@pytest.mark.parametrize("leave", [_leave_by_api, _leave_in_the_console, _leave_by_import],
                         ids=["api", "console", "import"])
def test_leaving_ends_every_token_and_session_and_coming_back_revives_none(
        employee, hr_admin, leave):
    """Off-boarding through the API left revoked_at empty, and setting the employee active
    again revived the old token and the old web session — also after the console's
    "mark left"."""
    tokens = [issue_access_token(user=employee.user)[1] for _ in range(2)]
    browser = Client()
    browser.force_login(employee.user)
    assert _session_works(browser) and all(_me(t) == 200 for t in tokens)

    leave(employee, hr_admin)

    assert not AccessToken.objects.filter(user=employee.user, revoked_at__isnull=True).exists()
    assert all(_me(t) == 401 for t in tokens)
    assert not _session_works(browser)

    key = create_api_key(name="hr-sync", scopes=["employees:write"])[1]
    assert _put_status(Client(), employee, "active", key).status_code == 200
    employee.user.refresh_from_db()
    assert employee.user.is_active
    assert all(_me(t) == 401 for t in tokens)
    assert not _session_works(browser)  # the old cookie
    # The person signs in anew and that works.
    response = Client().post("/api/v1/auth/token", content_type="application/json",
                             data={"username": employee.user.username, "password": PASSWORD})
    assert response.status_code == 200
    assert _me(response.json()["token"]) == 200


def test_a_token_issued_before_leaving_stays_dead_even_if_unrevoked(employee):
    """A token created while the employee was being off-boarded (or un-revoked by hand)
    carries the old credentials epoch and never works again."""
    token = issue_access_token(user=employee.user)[1]
    end_sign_ins(user_ids=[employee.user_id])
    AccessToken.objects.update(revoked_at=None)
    User.objects.filter(pk=employee.user_id).update(is_active=True)
    assert _me(token) == 401


# --- DELETE /api/v1/auth/token -------------------------------------------------------------


def test_delete_auth_token_revokes_the_callers_own_token_only(client, employee):
    mine, plain = issue_access_token(user=employee.user)
    other_plain = issue_access_token(user=employee.user)[1]
    response = client.delete("/api/v1/auth/token", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert response.status_code == 204, response.content
    mine.refresh_from_db()
    assert mine.revoked_at is not None
    assert _me(plain) == 401
    assert _me(other_plain) == 200  # the same person's other client stays signed in
    again = client.delete("/api/v1/auth/token", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert again.status_code == 401


def test_delete_auth_token_is_401_without_a_token_and_403_for_an_api_key(client, db):
    assert client.delete("/api/v1/auth/token").status_code == 401
    key = create_api_key(name="hr-sync", scopes=["admin"])[1]
    response = client.delete("/api/v1/auth/token", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "employee_token_only"
    assert client.get("/api/v1/departments", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
