"""No password, employee token or API key reaches a log line, whichever way it came in:
a web sign-in, the token call, a bearer token, an API key, SCIM — right or wrong
(issue #19). Every logger is captured at DEBUG, formatted as production formats it."""

from __future__ import annotations

import json

import pytest

from jifen.integrations.services import create_api_key
from jifen.people.services import issue_access_token

pytestmark = pytest.mark.django_db

SECRET_PASSWORD = "Sekrit-Pw-7731"
WRONG_PASSWORD = "Wrong-Pw-4410"


def test_no_secret_appears_in_any_log_line(client, employee, json_log, settings):
    settings.LOGIN_THROTTLE_LIMIT = 100
    user = employee.user
    user.set_password(SECRET_PASSWORD)
    user.save()
    token = issue_access_token(user=user)[1]
    key = create_api_key(name="erp", scopes=["employees:read"])[1]
    scim_key = create_api_key(name="okta", scopes=["scim"])[1]
    secrets = [SECRET_PASSWORD, WRONG_PASSWORD, token, key, scim_key,
               token.split("_", 1)[1], key.split("_", 2)[2], scim_key.split("_", 2)[2]]

    # Web sign-in, wrong then right.
    client.post("/login/", {"username": user.username, "password": WRONG_PASSWORD})
    client.post("/login/", {"username": user.username, "password": SECRET_PASSWORD})
    client.logout()
    # The token call, wrong then right; the token used, and revoked.
    for pw in (WRONG_PASSWORD, SECRET_PASSWORD):
        answer = client.post("/api/v1/auth/token", data=json.dumps(
            {"username": user.username, "password": pw}), content_type="application/json")
    issued = answer.json()["token"]
    secrets += [issued, issued.split("_", 1)[1]]
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {issued}").status_code == 200
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    client.delete("/api/v1/auth/token", HTTP_AUTHORIZATION=f"Bearer {issued}")
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {issued}").status_code == 401
    # An API key, right, then mangled; and in a query string where it does not belong.
    assert client.get("/api/v1/departments",
                      HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    client.get("/api/v1/departments", HTTP_AUTHORIZATION=f"Bearer {key}x")
    client.get(f"/api/v1/departments?api_key={key}&password={SECRET_PASSWORD}")
    # SCIM.
    assert client.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {scim_key}").status_code == 200
    client.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {scim_key}-wrong")
    # A password change through the API, creating an employee with an initial password.
    writer = create_api_key(name="hr", scopes=["employees:write"])[1]
    secrets += [writer, writer.split("_", 2)[2]]
    client.put("/api/v1/employees/E777", data=json.dumps({
        "name": "王芳", "department_code": employee.department.code,
        "initial_password": SECRET_PASSWORD}), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {writer}")

    lines = json_log.lines
    assert len(json_log.parsed("jifen.requests")) >= 14  # every request above was logged
    leaks = [(secret, line) for line in lines for secret in secrets if secret in line]
    assert not leaks, "secrets in the log:\n" + "\n".join(f"{s}: {line}" for s, line in leaks)
