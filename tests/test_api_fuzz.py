"""The API gate (issue 10, "Gates in CI"): schemathesis sends every operation of
/api/v1/openapi.json generated requests, once as a system key (scope ``admin``) and once
as an employee's own token, and every answer must be

- no 5xx (``not_a_server_error``),
- a status the operation documents (``status_code_conformance``; the common error
  statuses are declared once for every operation in ``jifen.api.COMMON_ERRORS``),
- of the documented content type with a body that matches the documented schema
  (``content_type_conformance``, ``response_schema_conformance``) — errors included,
  which all use the error shape.

The run is bounded (``MAX_EXAMPLES`` per operation and caller) and derandomised, so CI
repeats it exactly; it runs in every database pass of ``make test``. The world the calls
meet is a small shop: an employee with points and a shipping address who holds every
role (so calls get past the first check), items of each fulfilment kind, orders in
several states, a rule and an award waiting for approval.

Numbers far beyond any bound are probed on their own: schemathesis keeps positive
examples within the declared bounds and takes negative ones just past them, so it hardly
ever sends ``1e300`` or 1 and 40 zeros — which made ``market_value`` a 500 (quantize
raised InvalidOperation before the size was checked). ``test_no_number_is_too_large_to_
refuse`` sends such numbers to every number field of every JSON body, under the same
checks."""

from __future__ import annotations

import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from jifen.api import api
from jifen.core.observability.services import beat
from jifen.core.roles import Role
from jifen.integrations.services import create_api_key
from jifen.wsgi import application
from tests.factories import EmployeeFactory

# Examples per operation and caller. 82 runs (41 operations × 2 callers): the whole file
# took 1 min 49 s in one process on SQLite on an idle 2-core machine (about half that with
# `-n 2`); PostgreSQL and MariaDB take about as long. The huge-number probes at the end
# (11 fields × 6 numbers) add about 30 s.
MAX_EXAMPLES = 20

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


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


def _load_schema():
    # Built from the NinjaAPI object rather than fetched over WSGI, because fetching would
    # touch the database at collection time, before pytest-django allows it.
    loaded = schemathesis.openapi.from_dict(api.get_openapi_schema())
    loaded.app = application
    return loaded


schema = _load_schema()


@pytest.fixture
def shop(db, department):
    """A small world for the calls to meet (ids 1, 2, … exist for each kind)."""
    from jifen.earning import services as earning
    from jifen.mall import services as mall
    from jifen.mall.models import Fulfilment
    from tests.mall.conftest import fund

    person = EmployeeFactory(department=department, employee_no="E001", name="李小明",
                             roles=[Role.SUPER_ADMIN, Role.HR_ADMIN, Role.MALL_ADMIN,
                                    Role.MANAGER])
    colleague = EmployeeFactory(department=department, employee_no="E002", name="王芳")
    department.manager = person
    department.save(update_fields=["manager"])
    for someone in (person, colleague):
        fund(someone, 100_000)
        mall.add_address(employee=someone, recipient=someone.name, phone="13800138000",
                         region="上海市浦东新区", address="张江路 88 号")
    actor = person.user
    category = mall.save_category(actor=actor, name="数码电子", slug="gifts")
    items = {kind: mall.create_item(actor=actor, name=f"礼品 {kind}", category=category,
                                    points=10, stock=50, fulfilment=kind, status="listed")
             for kind in (Fulfilment.SHIPPED, Fulfilment.SERVICE, Fulfilment.CODE)}
    mall.import_codes(item=items[Fulfilment.CODE], codes=[f"C-{n}" for n in range(40)],
                      actor=actor)
    for n, (who, kind) in enumerate([(person, Fulfilment.SHIPPED), (person, Fulfilment.CODE),
                                     (colleague, Fulfilment.SERVICE),
                                     (person, Fulfilment.SERVICE)]):
        placed = mall.create_order(employee=who, item=items[kind],
                                   idempotency_key=f"fuzz-{n}")
        if n % 2:
            mall.approve_order(order=placed, actor=actor)
    earning.create_rule(actor=actor, name="Idea", event_type="idea_adopted",
                        category="culture", formula={"kind": "range", "min": 1, "max": 50})
    earning.ingest_events(events=[earning.EventIn(
        source="fuzz", id="1", type="idea_adopted", employee_no=colleague.employee_no,
        occurred_at="2026-03-02T10:00:00+08:00", payload={"title": "Less paper"})],
        actor=None, received_by="fuzz")
    # A live worker, so the readiness check answers 200 (its 503 is by design).
    beat(worker_id="fuzz", started_at=timezone.now())
    return person


@pytest.fixture
def admin_key(shop) -> str:
    return create_api_key(name="fuzz", scopes=["admin"])[1]


@pytest.fixture
def employee_token(shop) -> str:
    from jifen.people.services import issue_access_token

    return issue_access_token(user=shop.user)[1]


def _call(case, token: str) -> None:
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    case.validate_response(response, checks=CHECKS)


_SETTINGS = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
                     database=None, suppress_health_check=list(HealthCheck))


@schema.parametrize()
@_SETTINGS
def test_as_a_system_key_every_answer_keeps_the_contract(case, admin_key):
    _call(case, admin_key)


@schema.parametrize()
@_SETTINGS
def test_as_an_employee_every_answer_keeps_the_contract(case, employee_token):
    _call(case, employee_token)


# --- numbers beyond any bound -------------------------------------------------------------

HUGE = [1e300, -1e300, 10**40, -(10**40), 1e28, 1e-300]


def _resolved(node: dict, document: dict) -> dict:
    while "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _number_fields(node: dict, document: dict, path: tuple[str, ...] = (), depth: int = 0):
    """(path, body skeleton) of every number or integer field a JSON body schema declares,
    nested objects included."""
    node = _resolved(node, document)
    kinds = [_resolved(n, document) for n in node.get("anyOf", [])] or [node]
    if path and any(k.get("type") in ("number", "integer") for k in kinds):
        yield path
    for kind in kinds:
        if depth < 3 and "properties" in kind:
            for name, sub in kind.get("properties", {}).items():
                yield from _number_fields(sub, document, (*path, name), depth + 1)


def _body_with(path: tuple[str, ...], value: object) -> dict:
    body: dict = {}
    cursor = body
    for name in path[:-1]:
        cursor = cursor.setdefault(name, {})
    cursor[path[-1]] = value
    return body


def _huge_number_probes() -> list:
    document = api.get_openapi_schema()
    probes = []
    for route, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            for path in dict.fromkeys(_number_fields(content["application/json"]["schema"],
                                                     document)):
                probes.append(pytest.param(route, method, path,
                                           id=f"{method.upper()} {route} {'.'.join(path)}"))
    return probes


@pytest.mark.parametrize("route, method, path", _huge_number_probes())
def test_no_number_is_too_large_to_refuse(route, method, path, admin_key):
    operation = schema[route][method.upper()]
    path_parameters = dict.fromkeys(re.findall(r"{(\w+)}", route), 1)
    for number in HUGE:
        case = operation.Case(path_parameters=path_parameters, body=_body_with(path, number),
                              media_type="application/json")
        response = case.call(headers={"Authorization": f"Bearer {admin_key}"})
        assert response.status_code < 500, (number, response.text)
        case.validate_response(response, checks=CHECKS)
