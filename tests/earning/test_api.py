from __future__ import annotations

import json

import pytest
from django.test import Client

from jifen.core.roles import Role
from jifen.earning.models import Event, Rule
from jifen.integrations.services import create_api_key
from jifen.ledger.selectors import balance
from jifen.people.services import issue_access_token
from tests.factories import DepartmentFactory, EmployeeFactory


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def key_with(*scopes: str) -> str:
    return create_api_key(name="test", scopes=list(scopes))[1]


def post(client: Client, path: str, body: dict, token: str, **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json",
                       **bearer(token), **headers)


def rule_body(**extra):
    return {"name": "Late", "event_type": "attendance_late", "category": "attendance",
            "formula": {"kind": "fixed", "points": -5}, **extra}


@pytest.mark.django_db
class TestRulesApi:
    def test_admin_key_creates_a_rule_as_version_one(self, client):
        response = post(client, "/api/v1/rules", rule_body(caps={"month": 50}), key_with("admin"))
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["version"] == 1 and body["formula"] == {"kind": "fixed", "points": -5}
        assert Rule.objects.get().versions.count() == 1

    def test_bad_condition_is_422_saying_line_and_column(self, client):
        response = post(client, "/api/v1/rules",
                         rule_body(condition='payload.minutes > 10 &&\n  (employee.grade =='),
                         key_with("admin"))
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "invalid_condition"
        assert error["details"]["line"] == 2 and error["details"]["column"] > 1
        assert Rule.objects.count() == 0

    def test_unknown_formula_kind_is_422(self, client):
        response = post(client, "/api/v1/rules", rule_body(formula={"kind": "magic"}),
                        key_with("admin"))
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_formula"

    @pytest.mark.parametrize("change", [
        {"formula": {"kind": "fixed", "points": 10**30}},
        {"formula": {"kind": "table", "field": "level", "points": {"a": -(10**16)}}},
        {"caps": {"month": 10**30}},
    ])
    def test_points_no_ledger_could_post_are_refused_with_the_rule(self, client, change):
        """Such a rule was saved, then every event it scored failed in the ledger."""
        response = post(client, "/api/v1/rules", rule_body(**change), key_with("admin"))
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_formula"
        assert Rule.objects.count() == 0

    def test_preview_over_http_scores_a_sample_and_saves_nothing(self, client):
        response = post(client, "/api/v1/rules/preview",
                        {"rule": rule_body(), "payload": {"minutes": 12}}, key_with("admin"))
        assert response.status_code == 200, response.content
        assert "-5" in json.dumps(response.json())
        assert Rule.objects.count() == 0

    def test_preview_for_an_unknown_employee_names_the_number(self, client):
        """Like every call that names an employee in its body: a 422, not a 404."""
        response = post(client, "/api/v1/rules/preview",
                        {"rule": rule_body(), "payload": {"minutes": 12},
                         "employee_no": "NOBODY"}, key_with("admin"))
        assert response.status_code == 422, response.content
        error = response.json()["error"]
        assert error["code"] == "unknown_employee" and "NOBODY" in error["message"]

    @pytest.mark.parametrize("moment", [
        "0001-01-01T00:00:00+08:00",  # no UTC equivalent
        "9999-12-31T23:00:00-05:00",  # no UTC equivalent
        "9999-12-31T23:59:59Z",  # 10000-01-01 in Shanghai: could not be shown
        "0001-01-01T00:00:00Z",  # its year starts before UTC's year 1
        "0001-06-01T00:00:00",  # no offset: read in the site's zone
    ])
    @pytest.mark.parametrize("field", ["valid_from", "valid_until"])
    def test_a_time_out_of_range_is_a_422_on_its_field(self, client, field, moment):
        key = key_with("admin")
        response = post(client, "/api/v1/rules", rule_body(**{field: moment}), key)
        assert response.status_code == 422, response.content
        [problem] = response.json()["error"]["details"]["errors"]
        assert problem["field"] == field and "9998" in problem["message"]
        assert Rule.objects.count() == 0
        rule_id = post(client, "/api/v1/rules", rule_body(), key).json()["id"]
        response = client.patch(f"/api/v1/rules/{rule_id}", content_type="application/json",
                                data=json.dumps({"reason": "r", field: moment}), **bearer(key))
        assert response.status_code == 422, response.content
        assert Rule.objects.get().versions.count() == 1

    def test_the_widest_times_in_range_are_kept_and_shown(self, client):
        response = post(client, "/api/v1/rules",
                        rule_body(valid_from="1900-01-01T00:00:00+08:00",
                                  valid_until="9998-12-31T23:59:59+08:00"),
                        key_with("admin"))
        assert response.status_code == 201, response.content
        assert response.json()["valid_until"] == "9998-12-31T23:59:59+08:00"

    def test_preview_refuses_a_time_out_of_range(self, client):
        response = post(client, "/api/v1/rules/preview",
                        {"rule": rule_body(), "occurred_at": "9999-12-31T23:59:59Z"},
                        key_with("admin"))
        assert response.status_code == 422, response.content
        assert response.json()["error"]["details"]["errors"][0]["field"] == "occurred_at"

    def test_events_key_may_not_create_rules(self, client):
        response = post(client, "/api/v1/rules", rule_body(), key_with("events:write"))
        assert response.status_code == 403

    def test_patch_makes_a_new_version_with_a_diff(self, client):
        key = key_with("admin")
        rule_id = post(client, "/api/v1/rules", rule_body(), key).json()["id"]
        response = client.patch(f"/api/v1/rules/{rule_id}", content_type="application/json",
                                data=json.dumps({"reason": "softer",
                                                 "formula": {"kind": "fixed", "points": -3}}),
                                **bearer(key))
        assert response.status_code == 200 and response.json()["version"] == 2
        versions = client.get(f"/api/v1/rules/{rule_id}/versions", **bearer(key)).json()
        assert versions[0]["reason"] == "softer"
        assert versions[0]["diff"] == [{"field": "formula",
                                        "old": {"kind": "fixed", "points": -5},
                                        "new": {"kind": "fixed", "points": -3}}]


@pytest.mark.django_db
class TestEventsApi:
    def _setup(self, client):
        admin = key_with("admin")
        post(client, "/api/v1/rules", {
            "name": "Full attendance", "event_type": "attendance_full_month",
            "category": "attendance", "formula": {"kind": "fixed", "points": 10}}, admin)
        return key_with("events:write")

    def test_an_impossible_date_is_rejected_on_its_own(self, client, employee, verify_clean):
        key = self._setup(client)
        events = [{"source": "att", "id": n, "type": "attendance_full_month",
                   "employee_no": employee.employee_no, "occurred_at": when,
                   "payload": {"month": "2024-02"}}
                  for n, when in [(1, "2024-02-30T10:00:00+08:00"),
                                  (2, "2024-02-28T10:00:00+99:00"),
                                  (3, "2024-02-29T10:00:00+08:00")]]
        response = post(client, "/api/v1/events", {"events": events}, key)
        assert response.status_code == 200, response.content
        assert [r["status"] for r in response.json()["results"]] == [
            "rejected", "rejected", "credited"]

    def test_a_time_out_of_range_is_rejected_on_its_own(self, client, employee,
                                                         verify_clean):
        key = self._setup(client)
        post(client, "/api/v1/rules", {
            "name": "Capped", "event_type": "attendance_full_month", "category": "attendance",
            "formula": {"kind": "fixed", "points": 1},
            "caps": {"day": 9, "week": 9, "month": 9, "year": 9}}, key_with("admin"))
        times = ["0001-01-01T00:00:00+08:00",  # no UTC equivalent: once a 500 for all
                 "2026-03-31T18:00:00+08:00",
                 "9999-12-31T23:00:00-05:00",  # no UTC equivalent
                 "9999-12-31T23:59:59Z",  # 10000-01-01 in Shanghai
                 "0001-01-01T00:00:00Z",  # its day starts before UTC's year 1
                 "1900-01-01T00:00:00+08:00",  # the widest in range
                 "9998-12-31T23:59:59+08:00"]
        events = [{"source": "att", "id": f"R{n}", "type": "attendance_full_month",
                   "employee_no": employee.employee_no, "occurred_at": when,
                   "payload": {"month": "2026-03"}} for n, when in enumerate(times)]
        response = post(client, "/api/v1/events", {"events": events}, key)
        assert response.status_code == 200, response.content
        results = [(r["id"], r["status"], r["reason"]) for r in response.json()["results"]]
        assert results == [("R0", "rejected", "invalid"), ("R1", "credited", ""),
                           ("R2", "rejected", "invalid"), ("R3", "rejected", "invalid"),
                           ("R4", "rejected", "invalid"), ("R5", "credited", ""),
                           ("R6", "credited", "")]
        assert "9998" in response.json()["results"][0]["detail"]
        assert balance(employee=employee).spendable == 3 * 11
        assert set(Event.objects.values_list("external_id", flat=True)) == {"R1", "R5", "R6"}
        verify_clean()

    def test_each_event_gets_its_own_answer_and_bad_ones_do_not_block(self, client, employee,
                                                                      verify_clean):
        key = self._setup(client)
        events = [
            {"source": "att", "id": 1, "type": "attendance_full_month",
             "employee_no": employee.employee_no, "occurred_at": "2026-03-31T18:00:00+08:00",
             "payload": {"month": "2026-03"}},
            {"source": "att", "id": 2, "type": "attendance_full_month", "employee_no": "NOPE",
             "occurred_at": "2026-03-31T18:00:00+08:00", "payload": {}},
            {"source": "att", "id": 3, "type": "attendance_full_month",
             "employee_no": employee.employee_no, "occurred_at": "not a time"},
            {"source": "att", "id": 4, "type": "attendance_full_month",
             "employee_no": employee.employee_no, "occurred_at": "2026-04-30T18:00:00+08:00",
             "payload": {"month": "April"}},
            {"source": "att", "id": 5, "type": "volunteering",
             "employee_no": employee.employee_no, "occurred_at": "2026-04-30T18:00:00+08:00"},
            {"source": "att", "id": 1, "type": "attendance_full_month",
             "employee_no": employee.employee_no, "occurred_at": "2026-03-31T18:00:00+08:00"},
        ]
        response = post(client, "/api/v1/events", {"events": events}, key)
        assert response.status_code == 200, response.content
        results = [(r["id"], r["status"], r["points"], r["reason"])
                   for r in response.json()["results"]]
        assert results == [
            ("1", "credited", 10, ""),
            ("2", "rejected", 0, "unknown_employee"),
            ("3", "rejected", 0, "invalid"),
            ("4", "rejected", 0, "schema_violation"),
            ("5", "rejected", 0, "no_matching_rule"),
            ("1", "duplicate", 10, ""),
        ]
        assert balance(employee=employee).spendable == 10
        verify_clean()

    def test_the_event_log_gives_times_in_the_site_zone(self, client, employee):
        key = self._setup(client)
        post(client, "/api/v1/events", {"events": [
            {"source": "att", "id": "t1", "type": "attendance_full_month",
             "employee_no": employee.employee_no, "occurred_at": "2026-03-31T10:00:00Z",
             "payload": {"month": "2026-03"}}]}, key)
        [logged] = client.get("/api/v1/events", {"source": "att"}, **bearer(key)).json()["items"]
        assert logged["occurred_at"] == "2026-03-31T18:00:00+08:00"  # Asia/Shanghai
        assert logged["received_at"].endswith("+08:00")

    def test_more_than_a_thousand_events_is_422(self, client, employee):
        key = self._setup(client)
        event = {"source": "s", "id": "x", "type": "comment", "employee_no": "E",
                 "occurred_at": "2026-01-01T00:00:00+08:00"}
        response = post(client, "/api/v1/events", {"events": [event] * 1001}, key)
        assert response.status_code == 422
        assert Event.objects.count() == 0

    def test_idempotency_key_replays_the_first_answer(self, client, employee):
        key = self._setup(client)
        body = {"events": [{"source": "att", "id": "k1", "type": "attendance_full_month",
                            "employee_no": employee.employee_no,
                            "occurred_at": "2026-03-31T18:00:00+08:00"}]}
        first = post(client, "/api/v1/events", body, key, HTTP_IDEMPOTENCY_KEY="abc")
        again = post(client, "/api/v1/events", body, key, HTTP_IDEMPOTENCY_KEY="abc")
        assert first.json() == again.json()
        assert again["Idempotent-Replayed"] == "true"
        assert first.json()["results"][0]["status"] == "credited"

    def test_plain_employee_may_not_post_events(self, client, employee):
        token = issue_access_token(user=employee.user)[1]
        response = post(client, "/api/v1/events", {"events": []}, token)
        assert response.status_code == 403


@pytest.mark.django_db
def test_manager_approves_a_range_award_through_the_api(client, verify_clean):
    team = DepartmentFactory(code="RD")
    manager = EmployeeFactory(department=team, roles=[Role.MANAGER])
    team.manager = manager
    team.save()
    worker = EmployeeFactory(department=team)
    post(client, "/api/v1/rules", {
        "name": "Help", "event_type": "helped_colleague", "category": "teamwork",
        "formula": {"kind": "range", "min": 30, "max": 80}}, key_with("admin"))
    result = post(client, "/api/v1/events", {"events": [{
        "source": "im", "id": "h1", "type": "helped_colleague",
        "employee_no": worker.employee_no, "occurred_at": "2026-05-01T10:00:00+08:00",
        "payload": {"other_department": True}}]}, key_with("events:write")).json()
    assert result["results"][0]["status"] == "pending_approval"
    token = issue_access_token(user=manager.user)[1]
    queue = client.get("/api/v1/approvals", **bearer(token)).json()
    assert [a["employee_no"] for a in queue] == [worker.employee_no]
    too_much = post(client, f"/api/v1/approvals/{queue[0]['id']}/approve", {"points": 90}, token)
    assert too_much.status_code == 422
    done = post(client, f"/api/v1/approvals/{queue[0]['id']}/approve", {"points": 60}, token)
    assert done.json()["status"] == "credited"
    assert balance(employee=worker).spendable == 60
    assert Event.objects.get().status == "credited"
    verify_clean()


@pytest.mark.django_db
def test_event_log_api_pages_newest_first_and_filters_by_outcome(client, employee):
    key = key_with("events:write", "admin")
    post(client, "/api/v1/rules", rule_body(), key)
    events = [{"source": "att", "id": f"L{n}", "type": "attendance_late",
               "employee_no": employee.employee_no if n % 2 else "NOPE",
               "occurred_at": "2026-03-02T09:10:00+08:00", "payload": {"minutes": 10}}
              for n in range(5)]
    post(client, "/api/v1/events", {"events": events}, key)
    page = client.get("/api/v1/events?limit=3", **bearer(key)).json()
    assert [e["id"] for e in page["items"]] == ["L4", "L3", "L2"]
    rest = client.get(f"/api/v1/events?limit=3&cursor={page['next_cursor']}",
                      **bearer(key)).json()
    assert [e["id"] for e in rest["items"]] == ["L1", "L0"] and rest["next_cursor"] is None
    unknown = client.get("/api/v1/events?status=unknown_employee", **bearer(key)).json()
    assert {e["id"] for e in unknown["items"]} == {"L0", "L2", "L4"}
    mine = client.get(f"/api/v1/events?employee_no={employee.employee_no}",
                      **bearer(key)).json()
    assert {(e["id"], e["status"], e["uncollected"]) for e in mine["items"]} == {
        ("L1", "credited", 5), ("L3", "credited", 5)}


@pytest.mark.django_db
class TestRecognitionsApi:
    @pytest.fixture
    def giver(self):
        """A giver's token and a colleague, with the company values in place."""
        from jifen.earning.services import ensure_company_values

        ensure_company_values()
        giver, colleague = EmployeeFactory(), EmployeeFactory()
        return issue_access_token(user=giver.user)[1], colleague

    def test_an_employee_thanks_a_colleague_and_the_feed_shows_it(self, client, giver):
        token, colleague = giver
        response = post(client, "/api/v1/recognitions",
                        {"recipient_employee_no": colleague.employee_no, "points": 30,
                         "message": "谢谢你帮我改方案", "value": "团队合作"}, token)
        assert response.status_code == 201, response.content
        assert response.json()["allowance_left"] == 70
        assert balance(employee=colleague).spendable == 30
        feed = client.get("/api/v1/recognitions", **bearer(token)).json()["items"]
        assert (feed[0]["recipient"], feed[0]["value"]) == (colleague.name, "团队合作")

    def test_the_feed_comes_a_page_at_a_time_newest_first(self, client, giver):
        token, colleague = giver
        for n in range(3):
            assert post(client, "/api/v1/recognitions",
                        {"recipient_employee_no": colleague.employee_no, "points": 1,
                         "message": f"谢谢 {n}"}, token).status_code == 201
        first = client.get("/api/v1/recognitions?limit=2", **bearer(token)).json()
        assert [r["message"] for r in first["items"]] == ["谢谢 2", "谢谢 1"]
        rest = client.get(f"/api/v1/recognitions?limit=2&cursor={first['next_cursor']}",
                          **bearer(token)).json()
        assert ([r["message"] for r in rest["items"]], rest["next_cursor"]) == (["谢谢 0"], None)
        forged = client.get("/api/v1/recognitions?cursor=not-ours", **bearer(token))
        assert forged.status_code == 422, forged.content
        assert forged.json()["error"]["code"] == "invalid_cursor"

    def test_an_unknown_colleague_is_the_shared_422_unknown_employee(self, client, giver):
        token, _colleague = giver
        response = post(client, "/api/v1/recognitions",
                        {"recipient_employee_no": "NOPE", "points": 30, "message": "谢谢"},
                        token)
        assert response.status_code == 422, response.content
        error = response.json()["error"]
        assert (error["code"], error["details"]) == ("unknown_employee", {"employee_no": "NOPE"})

    def test_an_unknown_company_value_is_refused_and_nothing_is_given(self, client, giver):
        token, colleague = giver
        response = post(client, "/api/v1/recognitions",
                        {"recipient_employee_no": colleague.employee_no, "points": 30,
                         "message": "谢谢", "value": "勇于加班"}, token)
        assert response.status_code == 422, response.content
        body = response.json()
        assert body["error"]["code"] == "unknown_value"
        assert "团队合作" in body["error"]["details"]["choices"]
        assert balance(employee=colleague).spendable == 0

    def test_api_keys_read_the_feed_only_with_ledger_read(self, client, giver):
        token, colleague = giver
        post(client, "/api/v1/recognitions",
             {"recipient_employee_no": colleague.employee_no, "points": 5, "message": "私下的感谢"},
             token)
        for scopes in (["events:write"], ["employees:write", "orders:write", "catalog:write"]):
            response = client.get("/api/v1/recognitions", **bearer(key_with(*scopes)))
            assert response.status_code == 403, scopes
            assert response.json()["error"]["details"]["required_scope"] == "ledger:read"
            assert "私下的感谢" not in response.content.decode()
        for scopes in (["ledger:read"], ["admin"]):
            response = client.get("/api/v1/recognitions", **bearer(key_with(*scopes)))
            assert response.status_code == 200, scopes
            assert response.json()["items"][0]["message"] == "私下的感谢"
