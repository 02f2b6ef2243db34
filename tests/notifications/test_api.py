"""/api/v1/me/notifications and /api/v1/me/notification-preferences."""

from __future__ import annotations

import json

import pytest

from jifen.notifications import kinds
from jifen.notifications.models import Notification
from jifen.notifications.services import notify
from tests.ledger.test_api import bearer, key_with, token_for

pytestmark = pytest.mark.django_db
AWARD = "earning.award_approved"


def _award(user, reason):
    return notify(recipient=user, kind=AWARD, url="/earn/",
                  params={"points": 50, "rule": "志愿活动", "reason": reason})


def _put(client, token, body):
    return client.put("/api/v1/me/notification-preferences", data=json.dumps(body),
                      content_type="application/json", **bearer(token))


def test_an_employee_pages_through_their_notifications_and_marks_them_read(client, employee,
                                                                           make_role_employee):
    token = token_for(employee)
    sent = [_award(employee.user, f"第{i}次") for i in range(5)]
    _award(make_role_employee("employee").user, "别人的")
    page = client.get("/api/v1/me/notifications", {"limit": 3}, **bearer(token)).json()
    assert [item["id"] for item in page["items"]] == [n.pk for n in sent[:1:-1]]
    assert page["items"][0]["body"] == "第4次"
    assert page["items"][0]["read"] is False
    rest = client.get("/api/v1/me/notifications",
                      {"limit": 3, "cursor": page["next_cursor"]}, **bearer(token)).json()
    assert [item["id"] for item in rest["items"]] == [sent[1].pk, sent[0].pk]
    assert rest["next_cursor"] is None

    marked = client.post("/api/v1/me/notifications/read", data={"ids": [sent[0].pk]},
                         content_type="application/json", **bearer(token))
    assert marked.json() == {"marked": 1}
    unread = client.get("/api/v1/me/notifications", {"unread": "true"}, **bearer(token)).json()
    assert len(unread["items"]) == 4
    assert client.post("/api/v1/me/notifications/read", data={},
                       content_type="application/json", **bearer(token)).json() == {"marked": 4}
    assert Notification.objects.filter(recipient=employee.user, read_at=None).count() == 0


def test_systems_have_no_notifications(client):
    response = client.get("/api/v1/me/notifications", **bearer(key_with("ledger:read")))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "employee_only"


def test_preferences_read_and_change_through_the_api(client, employee):
    token = token_for(employee)
    before = client.get("/api/v1/me/notification-preferences", **bearer(token)).json()
    award = next(k for k in before["kinds"] if k["kind"] == AWARD)
    assert award["channels"] == {"in_app": True, "email": False, "im": False}
    assert before["mode"] == "immediate"
    assert before["im_available"] is False

    response = _put(client, token, {
        "mode": "daily", "digest_hour": 7, "quiet_start": "22:00", "quiet_end": "07:30",
        "kinds": [{"kind": AWARD, "channels": {"email": True, "in_app": False}}]})
    assert response.status_code == 200, response.content
    after = response.json()
    assert after["mode"] == "daily" and after["digest_hour"] == 7
    assert after["quiet_start"] == "22:00:00" and after["quiet_end"] == "07:30:00"
    assert next(k for k in after["kinds"] if k["kind"] == AWARD)["channels"] == {
        "in_app": False, "email": True, "im": False}
    assert _award(employee.user, "静").read_at is not None  # off in the app: not unread


@pytest.mark.parametrize(("body", "code"), [
    ({"kinds": [{"kind": "earning.nope", "channels": {"email": True}}]}, "unknown_value"),
    ({"kinds": [{"kind": AWARD, "channels": {"fax": True}}]}, "unknown_value"),
    ({"mode": "hourly"}, "unknown_value"),
    ({"digest_hour": 24}, "validation_error"),
    ({"quiet_start": "22:00+08:00", "quiet_end": "07:00"}, "validation_error"),
])
def test_bad_preferences_are_refused_with_the_field_named(client, employee, body, code):
    response = _put(client, token_for(employee), body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


def test_a_mandatory_kind_cannot_be_muted_through_the_api(client, employee, monkeypatch):
    kind = kinds.NotificationKind("people.password_changed", "Password changed",
                                  mandatory=True)
    monkeypatch.setitem(kinds._KINDS, kind.name, kind)
    response = _put(client, token_for(employee),
                    {"kinds": [{"kind": kind.name, "channels": {"in_app": False}}]})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "mandatory_notification"
