"""API twins of console actions: event types edited by code, idempotent creation of event
types and company values, and 404s in the API's error shape for unknown ids."""

from __future__ import annotations

import json

import pytest

from jifen.core.models import AuditEntry
from jifen.earning import services
from jifen.earning.models import CompanyValue, EventType, RuleFeedback
from tests.earning.test_api import bearer, key_with, post


def patch(client, path: str, body: dict, token: str):
    return client.patch(path, data=json.dumps(body), content_type="application/json",
                        **bearer(token))


def _custom(client, token: str, code: str = "site_visit"):
    answer = post(client, "/api/v1/event-types",
                  {"code": code, "name": "Site visit", "schema": {"type": "object"}}, token)
    assert answer.status_code == 201, answer.content
    return answer


@pytest.mark.django_db
class TestEventTypePatch:
    def test_admin_renames_changes_schema_and_deactivates(self, client):
        token = key_with("admin")
        _custom(client, token)
        schema = {"type": "object", "required": ["site"],
                  "properties": {"site": {"type": "string"}}}
        answer = patch(client, "/api/v1/event-types/site_visit",
                       {"name": "Customer site visit", "schema": schema, "active": False}, token)
        assert answer.status_code == 200, answer.content
        body = answer.json()
        assert body["name"] == "Customer site visit" and body["schema"] == schema
        assert body["active"] is False
        stored = EventType.objects.get(code="site_visit")
        assert stored.name == "Customer site visit" and stored.active is False
        assert AuditEntry.objects.filter(action="earning.event_type.update").count() == 1

    def test_a_bad_schema_is_refused_and_nothing_changes(self, client):
        token = key_with("admin")
        _custom(client, token)
        answer = patch(client, "/api/v1/event-types/site_visit",
                       {"name": "Renamed", "schema": {"type": "no-such-type"}}, token)
        assert 400 <= answer.status_code < 500
        assert "code" in answer.json()["error"]
        assert EventType.objects.get(code="site_visit").name == "Site visit"

    def test_an_unknown_code_is_a_404_in_the_error_shape(self, client):
        answer = patch(client, "/api/v1/event-types/nope", {"name": "x"}, key_with("admin"))
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "not_found"

    def test_without_admin_scope_it_is_forbidden(self, client):
        _custom(client, key_with("admin"))
        answer = patch(client, "/api/v1/event-types/site_visit", {"name": "x"},
                       key_with("events:write"))
        assert answer.status_code == 403
        assert EventType.objects.get(code="site_visit").name == "Site visit"


@pytest.mark.django_db
class TestIdempotentCreation:
    def test_event_type_creation_replays_with_the_same_key(self, client):
        token = key_with("admin")
        body = {"code": "site_visit", "name": "Site visit"}
        first = post(client, "/api/v1/event-types", body, token, HTTP_IDEMPOTENCY_KEY="k-1")
        again = post(client, "/api/v1/event-types", body, token, HTTP_IDEMPOTENCY_KEY="k-1")
        assert first.status_code == again.status_code == 201
        assert first.json() == again.json()
        assert EventType.objects.filter(code="site_visit").count() == 1

    def test_company_value_creation_replays_with_the_same_key(self, client):
        token = key_with("admin")
        body = {"name": "Candour"}
        first = post(client, "/api/v1/company-values", body, token, HTTP_IDEMPOTENCY_KEY="k-2")
        again = post(client, "/api/v1/company-values", body, token, HTTP_IDEMPOTENCY_KEY="k-2")
        assert first.status_code == again.status_code == 201
        assert first.json() == again.json()
        assert CompanyValue.objects.filter(name="Candour").count() == 1


@pytest.mark.django_db
class TestNotFoundShape:
    @pytest.mark.parametrize("method, path, body", [
        ("patch", "/api/v1/rules/999999", {"reason": "x", "name": "y"}),
        ("get", "/api/v1/rules/999999/versions", None),
        ("post", "/api/v1/rules/999999/publish", {}),
        ("patch", "/api/v1/company-values/999999", {"name": "x"}),
    ])
    def test_unknown_ids_name_what_was_not_found(self, client, method, path, body):
        token = key_with("admin")
        call = getattr(client, method)
        kwargs = ({"content_type": "application/json", "data": json.dumps(body)}
                  if body is not None else {})
        answer = call(path, **kwargs, **bearer(token))
        assert answer.status_code == 404, answer.content
        error = answer.json()["error"]
        # Names what was missing, not the bare "Not found." (未找到。) of an unknown URL.
        assert error["code"] == "not_found"
        assert error["message"] not in {"Not found.", "未找到。"}


@pytest.fixture
def feedback(employee, make_rule):
    rule = make_rule(event_type="attendance_late", formula={"kind": "fixed", "points": -5})
    return services.send_rule_feedback(employee=employee, rule=rule, message="Too harsh")


@pytest.mark.django_db
class TestRuleFeedback:
    def test_admin_lists_open_feedback_and_answers_it(self, client, feedback):
        token = key_with("admin")
        listed = client.get("/api/v1/rule-feedback", **bearer(token))
        assert listed.status_code == 200
        assert [i["message"] for i in listed.json()["items"]] == ["Too harsh"]
        answer = post(client, f"/api/v1/rule-feedback/{feedback.pk}/answer",
                      {"answer": "We will look at it", "status": "planned"}, token)
        assert answer.status_code == 200, answer.content
        assert answer.json()["status"] == "planned"
        feedback.refresh_from_db()
        assert feedback.answer == "We will look at it" and feedback.status == "planned"
        still_open = client.get("/api/v1/rule-feedback", **bearer(token)).json()["items"]
        assert still_open == []

    @pytest.mark.parametrize("body", [{"answer": ""}, {"answer": "ok", "status": "open"},
                                      {"status": "answered"}])
    def test_bad_answers_are_refused_and_nothing_changes(self, client, feedback, body):
        answer = post(client, f"/api/v1/rule-feedback/{feedback.pk}/answer", body,
                      key_with("admin"))
        assert answer.status_code == 422
        assert RuleFeedback.objects.get(pk=feedback.pk).status == "open"

    def test_unknown_feedback_is_a_404(self, client):
        answer = post(client, "/api/v1/rule-feedback/999999/answer", {"answer": "x"},
                      key_with("admin"))
        assert answer.status_code == 404
        assert answer.json()["error"]["message"] in {"Feedback not found.", "找不到该反馈。"}

    def test_without_admin_scope_it_is_forbidden(self, client, feedback):
        token = key_with("events:write")
        assert client.get("/api/v1/rule-feedback", **bearer(token)).status_code == 403
        answer = post(client, f"/api/v1/rule-feedback/{feedback.pk}/answer",
                      {"answer": "x"}, token)
        assert answer.status_code == 403
        assert RuleFeedback.objects.get(pk=feedback.pk).answer == ""
