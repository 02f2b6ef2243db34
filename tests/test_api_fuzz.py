"""Property test of the whole API against its own OpenAPI document (schemathesis): whatever
a client sends, the answer is never a 500, and every error uses the error shape."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from jifen.integrations.services import create_api_key
from jifen.wsgi import application


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Calls go straight to the WSGI app, whose request signals would close the database
    connection the test's transaction lives on; Django's own test client disconnects them
    the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def admin_key(db) -> str:
    return create_api_key(name="fuzz", scopes=["admin"])[1]


def _load_schema():
    # Built from the NinjaAPI object rather than fetched over WSGI, because fetching would
    # touch the database at collection time, before pytest-django allows it.
    from jifen.api import api

    loaded = schemathesis.openapi.from_dict(api.get_openapi_schema())
    loaded.app = application
    return loaded


schema = _load_schema()


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_request_makes_the_api_fail(case, admin_key, department):
    response = case.call(headers={"Authorization": f"Bearer {admin_key}"})
    case.validate_response(response, checks=[not_a_server_error])
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type.startswith("application/json"), (
            response.status_code, response.text[:300])
        body = response.json()
        assert set(body) == {"error"}, body
        assert {"code", "message", "details"} <= set(body["error"]), body


@pytest.fixture
def employee_token(employee) -> str:
    from jifen.people.services import issue_access_token
    from tests.mall.conftest import fund

    fund(employee, 1000)
    return issue_access_token(user=employee.user)[1]


# What an employee's app calls: /me/*, the recognition feed, "how to earn", the mall. With
# an admin key the /me paths answer 403 employee_only before reading a parameter, so they
# are fuzzed again with an employee's own token.
employee_schema = schema.include(
    path_regex=r"^/api/v1/(me(/.*)?|recognitions|rules/published|items(/[^/]+)?"
               r"|orders(/[^/]+(/cancel)?)?)$")


@employee_schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_request_of_an_employee_makes_the_api_fail(case, employee_token):
    response = case.call(headers={"Authorization": f"Bearer {employee_token}"})
    case.validate_response(response, checks=[not_a_server_error])
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"}, body
        assert {"code", "message", "details"} <= set(body["error"]), body
