"""Upgrading past people/0002 must not revive the sign-ins of people who left before it.

Before that release, leaving through the API (PUT /employees/{no} with status "left")
disabled the account but left its tokens' revoked_at empty; 0002 gave every account and
token the credentials epoch 0, so a later PUT with status "active" brought those tokens —
and the old web sessions — back. people/0003 ends them at the upgrade."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jifen.integrations.services import create_api_key, hash_secret
from jifen.people.models import AccessToken, User
from jifen.people.services import TOKEN_PREFIX
from tests.factories import PASSWORD
from tests.migrating import migrated_back_to

# Migrations run DDL and their own transactions: not inside a test's transaction.
pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("people", "0002_sign_in_policy")
LONG_AGO = timezone.now() - timedelta(days=30)


executor = migrated_back_to(BEFORE)


def _old_state(apps) -> dict[str, tuple]:
    """As a release before 0002 left things, made with the models as they were at 0002:
    {name: (username, plain token, employee_no)}."""
    Department = apps.get_model("people", "Department")
    Employee = apps.get_model("people", "Employee")
    User_ = apps.get_model("people", "User")
    AccessToken_ = apps.get_model("people", "AccessToken")
    department = Department.objects.create(code="ops", name="运营部", path="/", depth=0)
    people: dict[str, tuple] = {}

    def person(name: str, *, employee: str | None, active: bool,
               revoked: bool = False) -> None:
        user = User_.objects.create(username=name, password=make_password(PASSWORD),
                                    is_active=active)
        employee_no = None
        if employee is not None:
            employee_no = f"E-{name}"
            Employee.objects.create(employee_no=employee_no, name=name, department=department,
                                    status=employee, user=user)
        plain = f"{TOKEN_PREFIX}_{name}-old-token"
        AccessToken_.objects.create(
            user=user, token_hash=hash_secret(plain), expires_at=timezone.now() + timedelta(days=7),
            revoked_at=LONG_AGO if revoked else None)
        people[name] = (name, plain, employee_no)

    # Left through the API before this release: account disabled, token never revoked.
    person("left-by-api", employee="left", active=False)
    # Left, yet the account was switched back on by hand (django-admin).
    person("left-active-account", employee="left", active=True)
    # An operator's disabled account without an employee record.
    person("disabled-operator", employee=None, active=False)
    # Left through the console: the token was revoked already, and keeps its date.
    person("left-in-console", employee="left", active=False, revoked=True)
    # Still here: nothing changes.
    person("still-here", employee="active", active=True)
    return people


def _me(token: str) -> int:
    return Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def _session_works(client: Client) -> bool:
    return client.get(reverse("portal:home")).status_code == 200


def _put_status(employee_no: str, name: str, status: str, key: str) -> int:
    return Client().put(
        f"/api/v1/employees/{employee_no}",
        data=json.dumps({"name": name, "status": status, "department_code": "ops"}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}").status_code


def test_upgrading_ends_the_tokens_and_sessions_of_people_who_left_before_it(executor):
    people = _old_state(executor.loader.project_state([BEFORE]).apps)
    # Browsers that were signed in before these people left (their cookies still held).
    browsers = {}
    for name in ("left-by-api", "still-here"):
        browsers[name] = Client()
        browsers[name].force_login(User.objects.get(username=name))

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    users = {user.username: user for user in User.objects.all()}
    for name in ("left-by-api", "left-active-account", "disabled-operator", "left-in-console"):
        assert users[name].credentials_epoch == 1, name
        token = AccessToken.objects.get(user=users[name])
        assert token.revoked_at is not None, name
    assert AccessToken.objects.get(user=users["left-in-console"]).revoked_at == LONG_AGO
    assert users["still-here"].credentials_epoch == 0
    assert AccessToken.objects.get(user=users["still-here"]).revoked_at is None
    assert users["left-active-account"].is_active  # the step changes no one's is_active

    # The attack: HR sets the leaver active again through the API.
    key = create_api_key(name="hr-sync", scopes=["employees:write"])[1]
    _name, token, employee_no = people["left-by-api"]
    assert _put_status(employee_no, "left-by-api", "active", key) == 200
    assert User.objects.get(username="left-by-api").is_active
    assert _me(token) == 401
    assert not _session_works(browsers["left-by-api"])
    assert _me(people["left-active-account"][1]) == 401
    # Whoever is still here keeps their token and session.
    assert _me(people["still-here"][1]) == 200
    assert _session_works(browsers["still-here"])
    # The person who came back signs in anew, and that works.
    response = Client().post("/api/v1/auth/token", content_type="application/json",
                             data={"username": "left-by-api", "password": PASSWORD})
    assert response.status_code == 200
    assert _me(response.json()["token"]) == 200


def test_the_upgrade_step_reverses_as_a_no_op(executor):
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    executor.loader.build_graph()
    executor.migrate([BEFORE])  # must not raise (irreversible steps do)
