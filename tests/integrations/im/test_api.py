"""/api/v1/im: admin scope only, secrets write-only, errors in the API's shape,
audit-logged."""

from __future__ import annotations

import json

import pytest

from jifen.core.models import AuditEntry
from jifen.integrations.models import ImRobot
from jifen.integrations.services import create_api_key
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


def call(client, method: str, path: str, token: str, body: dict | None = None, **headers):
    return getattr(client, method)(path, data=json.dumps(body) if body is not None else None,
                                   content_type="application/json",
                                   HTTP_AUTHORIZATION=f"Bearer {token}", **headers)


@pytest.fixture
def admin_key():
    return create_api_key(name="ops", scopes=["admin"])[1]


def test_robots_routes_and_apps_through_the_api(client, platform, admin_key):
    body = {"platform": "dingtalk", "name": "公司群",
            "webhook_url": f"{platform.base}/robot/send?access_token=t",
            "secret": platform.dingtalk_secret}
    response = call(client, "post", "/api/v1/im/robots", admin_key, body,
                    HTTP_IDEMPOTENCY_KEY="r1")
    assert response.status_code == 201, response.content
    robot = response.json()
    assert robot["signed"] is True and robot["rate_per_minute"] == 20
    assert "secret" not in robot and platform.dingtalk_secret not in response.content.decode()
    again = call(client, "post", "/api/v1/im/robots", admin_key, body, HTTP_IDEMPOTENCY_KEY="r1")
    assert again.json()["id"] == robot["id"] and ImRobot.objects.count() == 1

    listed = call(client, "get", "/api/v1/im/robots", admin_key).json()
    assert [r["id"] for r in listed["items"]] == [robot["id"]] and "next_cursor" in listed

    sent = call(client, "post", f"/api/v1/im/robots/{robot['id']}/test", admin_key)
    assert sent.status_code == 200 and len(platform.received) == 1

    patched = call(client, "patch", f"/api/v1/im/robots/{robot['id']}", admin_key,
                   {"secret": "wrong", "rate_per_minute": 10})
    assert patched.status_code == 200 and patched.json()["rate_per_minute"] == 10
    failed = call(client, "post", f"/api/v1/im/robots/{robot['id']}/test", admin_key)
    assert failed.status_code == 409
    assert failed.json()["error"]["code"] == "im_send_failed"

    team = DepartmentFactory(code="SALES")
    route = call(client, "post", "/api/v1/im/routes", admin_key,
                 {"kind": "earning.recognition", "robot_id": robot["id"],
                  "department_code": "SALES"})
    assert route.status_code == 201, route.content
    assert route.json()["department_code"] == team.code
    bad = call(client, "post", "/api/v1/im/routes", admin_key,
               {"kind": "nope.nothing", "robot_id": robot["id"]})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_kind"

    app = call(client, "put", "/api/v1/im/apps/wecom", admin_key,
               {"client_id": "ww-corp", "agent_id": "1000002", "secret": "s3cret"})
    assert app.status_code == 200 and "s3cret" not in app.content.decode()
    assert call(client, "delete", f"/api/v1/im/routes/{route.json()['id']}",
                admin_key).status_code == 204
    assert call(client, "delete", f"/api/v1/im/robots/{robot['id']}",
                admin_key).status_code == 204
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"im.robot.create", "im.robot.update", "im.robot.test", "im.route.create",
            "im.route.delete", "im.robot.delete", "im.app.save"} <= actions


def test_a_private_webhook_url_is_refused(client, admin_key, settings):
    settings.JIFEN_OUTBOUND_ALLOW_HOSTS = ()
    response = call(client, "post", "/api/v1/im/robots", admin_key,
                    {"platform": "wecom", "name": "x",
                     "webhook_url": "http://169.254.169.254/cgi-bin/webhook/send?key=k"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "private_address"


def test_other_scopes_are_refused(client):
    key = create_api_key(name="hr", scopes=["employees:write"])[1]
    assert call(client, "get", "/api/v1/im/robots", key).status_code == 403
    assert call(client, "get", "/api/v1/im/robots/999", create_api_key(
        name="a", scopes=["admin"])[1]).status_code == 404
