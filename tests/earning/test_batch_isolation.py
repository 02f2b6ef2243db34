"""Every event of a batch stands alone (issue 10, finding 5): a value out of range, a rule
whose result overflows or a payload no database can store rejects that event with a reason
and keeps the rest — through the API, the service and on every database."""

from __future__ import annotations

import json

import pytest

from jifen.earning import services
from jifen.earning.models import Event
from jifen.ledger.selectors import balance
from tests.earning.conftest import event, ingest
from tests.earning.test_api import key_with, post


@pytest.fixture
def per_day(make_rule):
    services.ensure_builtin_event_types()
    make_rule(name="培训", event_type="training_completed", category="learning",
              formula={"kind": "per_unit", "field": "days", "points": 10})


def _wire(employee, id_: str, days) -> dict:
    return {"source": "lms", "id": id_, "type": "training_completed",
            "employee_no": employee.employee_no, "occurred_at": "2026-03-02T10:00:00+08:00",
            "payload": {"days": days}}


@pytest.mark.django_db
class TestApiBatch:
    def test_n_1e300_beside_a_valid_event_rejects_only_itself(self, client, employee, per_day):
        huge = json.dumps(_wire(employee, "huge", 1)).replace('"days": 1', '"days": 1e300')
        body = f'{{"events": [{huge}, {json.dumps(_wire(employee, "fine", 2))}]}}'
        response = client.post("/api/v1/events", data=body, content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {key_with('events:write')}")
        assert response.status_code == 200, response.content
        huge, fine = response.json()["results"]
        assert huge["status"] == "rejected" and huge["reason"] == "invalid"
        assert "days" in huge["detail"]
        assert fine["status"] == "credited" and fine["points"] == 20
        assert balance(employee=employee).spendable == 20
        assert Event.objects.get(external_id="fine").points == 20

    @pytest.mark.parametrize("literal", ["1e400", "Infinity", "-Infinity", "NaN"])
    def test_non_finite_numbers_reject_their_event(self, client, employee, per_day, literal):
        bad = json.dumps(_wire(employee, "bad", 1)).replace('"days": 1', f'"days": {literal}')
        body = f'{{"events": [{bad}, {json.dumps(_wire(employee, "fine", 3))}]}}'
        response = client.post("/api/v1/events", data=body, content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {key_with('events:write')}")
        assert response.status_code == 200, response.content
        bad, fine = response.json()["results"]
        assert bad["status"] == "rejected" and bad["reason"] == "invalid"
        assert fine["status"] == "credited" and fine["points"] == 30

    def test_a_retry_of_the_batch_moves_nothing_twice(self, client, employee, per_day):
        body = {"events": [_wire(employee, "big", 10**300), _wire(employee, "ok", 1)]}
        key = key_with("events:write")
        first = post(client, "/api/v1/events", body, key).json()["results"]
        again = post(client, "/api/v1/events", body, key).json()["results"]
        assert [r["status"] for r in first] == ["rejected", "credited"]
        assert [r["status"] for r in again] == ["rejected", "duplicate"]
        assert balance(employee=employee).spendable == 10


@pytest.mark.django_db
class TestServiceBatch:
    @pytest.mark.parametrize("days", [1e300, 10**300, -1e300, 10**15, float("inf"),
                                      float("nan")])
    def test_an_overflowing_award_is_rejected_alone(self, employee, per_day, days):
        results = ingest(event(employee, "training_completed", {"days": 1}),
                         event(employee, "training_completed", {"days": days}),
                         event(employee, "training_completed", {"days": 2}))
        assert [r.status for r in results] == ["credited", "rejected", "credited"]
        # A negative number of days breaks the type's schema before any rule sees it.
        assert results[1].reason == ("schema_violation" if days < 0 else "invalid")
        assert results[1].detail
        assert balance(employee=employee).spendable == 30

    def test_a_big_batch_with_bad_events_keeps_every_good_one(self, employee, per_day):
        events = [event(employee, "training_completed",
                        {"days": 1e300 if n % 7 == 3 else 1}) for n in range(40)]
        results = ingest(*events)
        bad = [n for n, r in enumerate(results) if r.status == "rejected"]
        assert bad == [n for n in range(40) if n % 7 == 3]
        assert balance(employee=employee).spendable == 10 * (40 - len(bad))

    def test_payloads_nested_too_deep_are_rejected_alone(self, employee, per_day):
        deep: dict = {}
        for _ in range(200):
            deep = {"x": deep}
        deep_enough: dict = {}
        for _ in range(19):  # every database stores this much (MariaDB: up to 32)
            deep_enough = {"x": deep_enough}
        bad, fine, nested = ingest(
            event(employee, "training_completed", {"days": 1, "deep": deep}),
            event(employee, "training_completed", {"days": 1}),
            event(employee, "training_completed", {"days": 1, "deep": deep_enough}))
        assert bad.status == "rejected" and bad.reason == "invalid"
        assert fine.status == "credited" and nested.status == "credited"
        assert Event.objects.get(external_id=bad.id).payload == {}  # not kept


@pytest.mark.django_db
def test_a_spreadsheet_chunk_keeps_its_good_rows(employee, per_day):
    """Imports score through ``ingest_many``: a bad row is rejected with its reason (the
    import's error report lists it), the rows around it are credited."""
    rows = [event(employee, "training_completed", {"days": days}) for days in (1, 1e300, 2)]
    seen = []
    results = services.ingest_many(events=rows, received_by="import",
                                   after_chunk=lambda chunk, done: seen.extend(done))
    assert [r.status for r in results] == ["credited", "rejected", "credited"]
    assert seen == results and "days" in results[1].detail
    assert balance(employee=employee).spendable == 30
