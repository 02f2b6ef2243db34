from __future__ import annotations

from datetime import date

import pytest

from jifen.people.models import User
from jifen.people.services import issue_access_token

pytestmark = pytest.mark.django_db


def me(client, user):
    token = issue_access_token(user=user)[1]
    return client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_an_employee_token_answers_as_that_employee(client, employee):
    """The employee record comes with the token (read by a hand-built statement): every
    field as the ORM would give it."""
    employee.hire_date, employee.grade = date(2019, 4, 1), "P6"
    employee.save()
    response = me(client, employee.user)
    assert response.status_code == 200
    body = response.json()
    assert body["employee_no"] == employee.employee_no and body["name"] == employee.name
    assert body["hire_date"] == "2019-04-01" and body["grade"] == "P6"


def test_a_user_without_an_employee_record_is_not_an_employee(client):
    user = User.objects.create_user(username="ops-bot", password="x-Long-Passw0rd")
    response = me(client, user)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "employee_only"
