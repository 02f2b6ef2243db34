"""One JSON log line per request and per task, carrying the request id the answer's
X-Request-ID header names; no secret in any line (issue #19)."""

from __future__ import annotations

import json
import logging

import pytest
from django.core.management import call_command

from jifen.core.imports.jobs import purge_import_files_task
from jifen.core.observability.logs import redact
from jifen.integrations.services import create_api_key

pytestmark = pytest.mark.django_db


def test_a_request_logs_one_json_line_with_the_id_in_its_answer(client, json_log):
    response = client.get("/api/v1/health")
    rid = response["X-Request-ID"]
    assert len(rid) == 32
    lines = json_log.parsed("jifen.requests")
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == rid
    assert line["route"] == "api/v1/health" and line["method"] == "GET"
    assert line["status"] == 200 and line["duration_ms"] >= 0
    assert line["caller"] == "" and line["level"] == "INFO"


def test_a_callers_request_id_is_kept_and_a_bad_one_replaced(client, json_log):
    kept = client.get("/api/v1/health", HTTP_X_REQUEST_ID="lb-7f3a.9_x")
    assert kept["X-Request-ID"] == "lb-7f3a.9_x"
    for bad in ("a" * 65, "id with spaces", "evil\u00e9", "<script>"):
        replaced = client.get("/api/v1/health", HTTP_X_REQUEST_ID=bad)
        assert replaced["X-Request-ID"] != bad and len(replaced["X-Request-ID"]) == 32
    ids = [line["request_id"] for line in json_log.parsed("jifen.requests")]
    assert ids[0] == "lb-7f3a.9_x" and len(set(ids)) == 5


def test_the_caller_is_named_by_key_not_by_secret(client, json_log):
    key = create_api_key(name="hr", scopes=["employees:read"])
    client.get("/api/v1/departments", HTTP_AUTHORIZATION=f"Bearer {key[1]}")
    line = json_log.parsed("jifen.requests")[-1]
    assert line["caller"] == f"key:{key[0].pk}"


def test_an_error_report_carries_the_request_id_of_its_answer(client, json_log, monkeypatch,
                                                              settings):
    settings.JIFEN_RAISE_API_ERRORS = False
    # Here, not at the top: the health handler is patched for this test only.
    from jifen import api

    def broken() -> bool:
        raise RuntimeError("boom")

    monkeypatch.setattr(api, "database_reachable", broken)
    response = client.get("/api/v1/health", HTTP_X_REQUEST_ID="trace-me-123")
    assert response.status_code == 500
    assert response["X-Request-ID"] == "trace-me-123"
    report = [line for line in json_log.parsed() if line["level"] == "ERROR"]
    assert report and report[0]["request_id"] == "trace-me-123"
    assert "RuntimeError: boom" in report[0]["exc_info"]


@pytest.mark.django_db(transaction=True)  # the worker closes its connection when done
def test_a_task_run_logs_one_json_line_with_its_name_duration_and_outcome(json_log):
    result = purge_import_files_task.enqueue()
    call_command("worker", batch=True, no_periodic=True, verbosity=0)
    lines = json_log.parsed("jifen.tasks")
    assert len(lines) == 1
    line = lines[0]
    assert line["task"] == "jifen.core.imports.jobs.purge_import_files_task"
    assert line["task_id"] == str(result.id) and line["outcome"] == "successful"
    assert line["duration_ms"] >= 0
    assert line["request_id"] == f"task-{result.id}"


@pytest.mark.parametrize("text, secret", [
    ("Authorization: Bearer jft_abcDEF123-_x", "abcDEF123"),
    ("calling with bearer eyJhbGciOi.J9.sig", "eyJhbGciOi"),
    ("key jfk_0a1b2c3d4e5f_Zm9vYmFy was refused", "Zm9vYmFy"),
    ("secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKY"),
    ("POST body password=Hunter2-pass&username=x", "Hunter2"),
    ("{'username': 'x', 'password': 'Hunter2-pass'}", "Hunter2"),
    ('{"new_password1": "Hunter2-pass"}', "Hunter2"),
    ("?access_token=abc123def&x=1", "abc123def"),
])
def test_redaction_takes_out_every_kind_of_secret(text, secret):
    assert secret not in redact(text)


def test_a_secret_logged_by_mistake_is_redacted_in_the_line(json_log):
    logging.getLogger("jifen.somewhere").warning(
        "retrying with %s", {"Authorization": "Bearer jft_leaked-token", "password": "pw-1"})
    line = json_log.lines[-1]
    assert "leaked-token" not in line and "pw-1" not in line
    assert json.loads(line)["logger"] == "jifen.somewhere"
