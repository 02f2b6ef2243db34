from __future__ import annotations

import json

import pytest
from django.test import RequestFactory

from jifen.core import errors
from jifen.core.idempotency import REPLAY_HEADER, idempotent
from jifen.core.models import AuditEntry, IdempotencyRecord


def request(body: dict, key: str | None = "k-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return RequestFactory().post("/api/v1/things", data=json.dumps(body),
                                 content_type="application/json", **headers)


def make_thing(calls: list):
    def handler():
        calls.append(1)
        AuditEntry.objects.create(action="thing.create", object_type="thing")
        return 201, {"id": len(calls)}

    return handler


@pytest.mark.django_db
def test_replay_returns_the_first_answer_without_running_again():
    calls: list = []
    first = idempotent(request({"a": 1}), "user:1", make_thing(calls))
    second = idempotent(request({"a": 1}), "user:1", make_thing(calls))
    assert first.status_code == second.status_code == 201
    assert json.loads(second.content) == json.loads(first.content) == {"id": 1}
    assert second[REPLAY_HEADER] == "true"
    assert len(calls) == 1 and AuditEntry.objects.count() == 1


@pytest.mark.django_db
def test_same_key_with_a_different_body_is_a_conflict():
    calls: list = []
    idempotent(request({"a": 1}), "user:1", make_thing(calls))
    with pytest.raises(errors.Conflict) as exc:
        idempotent(request({"a": 2}), "user:1", make_thing(calls))
    assert exc.value.code == "idempotency_key_reused"
    assert len(calls) == 1


@pytest.mark.django_db
def test_keys_are_per_caller():
    calls: list = []
    idempotent(request({"a": 1}), "user:1", make_thing(calls))
    idempotent(request({"a": 1}), "key:7", make_thing(calls))
    assert len(calls) == 2


@pytest.mark.django_db
def test_a_failed_call_stores_nothing_so_a_retry_runs():
    def failing():
        AuditEntry.objects.create(action="half", object_type="thing")
        raise errors.InsufficientPoints("no")

    with pytest.raises(errors.InsufficientPoints):
        idempotent(request({"a": 1}), "user:1", failing)
    assert not IdempotencyRecord.objects.exists()
    assert not AuditEntry.objects.filter(action="half").exists()
    calls: list = []
    assert idempotent(request({"a": 1}), "user:1", make_thing(calls)).status_code == 201


@pytest.mark.django_db
def test_without_a_key_every_call_runs():
    calls: list = []
    idempotent(request({"a": 1}, key=None), "user:1", make_thing(calls))
    idempotent(request({"a": 1}, key=None), "user:1", make_thing(calls))
    assert len(calls) == 2


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_inside_the_keyed_block_is_retried_from_the_start():
    from django.db import OperationalError

    calls: list = []

    def deadlocks_once():
        calls.append(1)
        AuditEntry.objects.create(action="thing.create", object_type="thing")
        if len(calls) == 1:
            raise OperationalError(1213, "Deadlock found when trying to get lock")
        return 201, {"id": len(calls)}

    response = idempotent(request({"a": 1}), "user:1", deadlocks_once)
    assert response.status_code == 201
    assert len(calls) == 2
    assert AuditEntry.objects.filter(action="thing.create").count() == 1
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_other_database_errors_are_not_retried():
    from django.db import OperationalError

    calls: list = []

    def broken():
        calls.append(1)
        raise OperationalError(2006, "MySQL server has gone away")

    with pytest.raises(OperationalError):
        idempotent(request({"a": 1}), "user:1", broken)
    assert len(calls) == 1


@pytest.mark.django_db
def test_without_looking_first_a_replay_answers_with_the_stored_response():
    """For handlers idempotent by the key themselves: a replay runs the handler, whose
    answer (or refusal) gives way to the stored one."""
    calls: list = []

    def sold_out_after_the_first():
        if calls:
            calls.append(1)
            raise errors.Conflict("sold out", code="out_of_stock")
        return make_thing(calls)()

    first = idempotent(request({"a": 1}), "user:1", sold_out_after_the_first, look_first=False)
    again = idempotent(request({"a": 1}), "user:1", sold_out_after_the_first, look_first=False)
    assert (again.status_code, json.loads(again.content)) == (201, {"id": 1})
    assert again[REPLAY_HEADER] == "true" and REPLAY_HEADER not in first
    with pytest.raises(errors.Conflict) as exc:  # another body under the same key
        idempotent(request({"a": 2}), "user:1", sold_out_after_the_first, look_first=False)
    assert exc.value.code == "idempotency_key_reused"
    with pytest.raises(errors.Conflict) as exc:  # a fresh key: the refusal itself
        idempotent(request({"a": 1}, key="k-2"), "user:1", sold_out_after_the_first,
                   look_first=False)
    assert exc.value.code == "out_of_stock"
    assert AuditEntry.objects.count() == 1 and IdempotencyRecord.objects.count() == 1


@pytest.mark.django_db
def test_without_looking_first_a_handler_that_runs_again_is_rolled_back():
    calls: list = []
    idempotent(request({"a": 1}), "user:1", make_thing(calls), look_first=False)
    again = idempotent(request({"a": 1}), "user:1", make_thing(calls), look_first=False)
    assert json.loads(again.content) == {"id": 1} and again[REPLAY_HEADER] == "true"
    assert len(calls) == 2 and AuditEntry.objects.count() == 1


@pytest.mark.django_db
def test_a_handler_that_stores_itself_stores_once_and_replays():
    order_of_writes: list = []

    def handler(store):
        body = store(201, {"id": 7})
        order_of_writes.append(IdempotencyRecord.objects.count())
        AuditEntry.objects.create(action="thing.create", object_type="thing")
        return 201, body

    first = idempotent(request({"a": 1}), "user:1", handler, stores_itself=True)
    again = idempotent(request({"a": 1}), "user:1", handler, stores_itself=True)
    assert json.loads(first.content) == json.loads(again.content) == {"id": 7}
    assert again[REPLAY_HEADER] == "true"
    assert order_of_writes == [1]  # stored when the handler said, not after it
    assert IdempotencyRecord.objects.count() == 1 and AuditEntry.objects.count() == 1
