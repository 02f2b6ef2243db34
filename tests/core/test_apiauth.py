from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from jifen.core.apiauth import (
    Principal,
    authenticate_token,
    register_authenticator,
    registered_authenticators,
    unregister_authenticator,
)
from jifen.integrations.auth import api_key_principal
from jifen.integrations.services import create_api_key
from jifen.people.api import employee_token_principal
from jifen.people.models import AccessToken, User
from jifen.people.services import authenticate_access_token, issue_access_token

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


def test_the_token_check_reads_token_user_and_employee_in_one_statement(employee):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    token, plain = issue_access_token(user=employee.user)
    AccessToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        access = authenticate_access_token(plain)
        assert access is not None and access.pk == token.pk
        assert access.user.pk == employee.user.pk and access.user.is_active
        assert access.user.employee.pk == employee.pk
        assert access.user.employee.user is access.user
        assert access.expires_at == token.expires_at
    assert len(queries) == 1


def test_a_user_without_an_employee_record_is_known_to_have_none():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = User.objects.create_user(username="ops-bot", password="x-Long-Passw0rd")
    access = authenticate_access_token(issue_access_token(user=user)[1])
    with CaptureQueriesContext(connection) as queries:
        assert getattr(access.user, "employee", None) is None
    assert len(queries) == 0


def test_expired_revoked_and_inactive_tokens_are_401(client, employee):
    def status(plain: str) -> int:
        return client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {plain}").status_code

    nearly, nearly_plain = issue_access_token(user=employee.user)
    AccessToken.objects.filter(pk=nearly.pk).update(
        expires_at=timezone.now() + timedelta(seconds=30))
    assert status(nearly_plain) == 200
    expired, expired_plain = issue_access_token(user=employee.user)
    AccessToken.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    assert status(expired_plain) == 401
    revoked, revoked_plain = issue_access_token(user=employee.user)
    AccessToken.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    assert status(revoked_plain) == 401
    assert status("jft_" + "0" * 40) == 401
    User.objects.filter(pk=employee.user.pk).update(is_active=False)
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {nearly_plain}")
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"code", "message", "details"}


def test_last_used_at_is_written_at_most_once_a_minute(employee):
    token, plain = issue_access_token(user=employee.user)
    assert token.last_used_at is None
    authenticate_access_token(plain)
    first = AccessToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    authenticate_access_token(plain)
    assert AccessToken.objects.get(pk=token.pk).last_used_at == first
    AccessToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(seconds=61))
    authenticate_access_token(plain)
    assert AccessToken.objects.get(pk=token.pk).last_used_at > first


# --- the authenticator registry ------------------------------------------------------------


def test_people_and_integrations_register_their_authenticators_when_ready():
    assert registered_authenticators() == (employee_token_principal, api_key_principal)


def test_a_token_no_authenticator_knows_is_401(client):
    assert authenticate_token("jft_nobody-issued-this") is None
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer jft_nobody-issued-this")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="jifen"'


def test_each_kind_of_token_is_answered_by_its_own_authenticator(employee):
    _key, plain_key = create_api_key(name="HR sync", scopes=["employees:read"])
    plain_token = issue_access_token(user=employee.user)[1]
    assert employee_token_principal(plain_key) is None
    assert api_key_principal(plain_token) is None
    assert authenticate_token(plain_key).kind == "system"
    assert authenticate_token(plain_token).user == employee.user


def test_an_authenticator_an_app_registers_is_asked_and_can_be_taken_out(client, employee):
    def sesame(token: str) -> Principal | None:
        return Principal(kind="employee", user=employee.user) if token == "sesame" else None

    register_authenticator(sesame)
    try:
        register_authenticator(sesame)  # twice is harmless
        assert registered_authenticators().count(sesame) == 1
        response = client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer sesame")
        assert response.status_code == 200
        assert response.json()["employee_no"] == employee.employee_no
    finally:
        unregister_authenticator(sesame)
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer sesame").status_code == 401
