"""`/metrics`: Prometheus text, for a token or an allow-listed address only, counting what
the operators ask about (issue #19)."""

from __future__ import annotations

import ipaddress
import json

import pytest
from django.core.management import call_command
from prometheus_client.parser import text_string_to_metric_families

from jifen.core.imports.jobs import purge_import_files_task
from jifen.core.observability.metrics import prepare_multiprocess_dir
from jifen.integrations.services import create_api_key
from jifen.people.services import issue_access_token
from tests.mall.conftest import fund

TOKEN = "scrape-token-for-tests"


@pytest.fixture
def scrape(client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOW = []

    def read() -> dict[tuple[str, tuple], float]:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/plain")
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(response.content.decode())
                for s in family.samples}

    return read


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def post(client, path: str, body: dict, token: str, **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {token}", **headers)


@pytest.mark.django_db(transaction=True)
def test_a_redemption_an_event_batch_and_a_task_are_each_counted(client, scrape, employee,
                                                                  make_item):
    before = scrape()
    # A redemption: the order is submitted and its points are held.
    fund(employee, 500)
    item = make_item(points=120, stock=5)
    answer = post(client, "/api/v1/orders", {"item_id": item.pk},
                  issue_access_token(user=employee.user)[1])
    assert answer.status_code == 201, answer.content
    # An event batch: one credited, one rejected.
    admin = create_api_key(name="hr", scopes=["admin"])[1]
    post(client, "/api/v1/rules", {"name": "Full attendance", "event_type":
         "attendance_full_month", "category": "attendance",
         "formula": {"kind": "fixed", "points": 10}}, admin)
    events = [{"source": "att", "id": "1", "type": "attendance_full_month",
               "employee_no": employee.employee_no, "occurred_at": "2026-03-31T18:00:00+08:00",
               "payload": {"month": "2026-03"}},
              {"source": "att", "id": "2", "type": "attendance_full_month",
               "employee_no": "NOBODY", "occurred_at": "2026-03-31T18:00:00+08:00"}]
    batch = post(client, "/api/v1/events", {"events": events},
                 create_api_key(name="att", scopes=["events:write"])[1])
    assert batch.status_code == 200, batch.content
    # A task, queued and then run by a worker.
    purge_import_files_task.enqueue()
    waiting = scrape()
    task = "jifen.core.imports.jobs.purge_import_files_task"
    assert value(waiting, "jifen_task_queue_depth", task=task) == 1
    call_command("worker", batch=True, no_periodic=True, verbosity=0)

    after = scrape()
    delta = {key: after.get(key, 0) - before.get(key, 0) for key in after}
    assert value(delta, "jifen_mall_order_changes_total", from_status="new",
                 to_status="submitted") == 1
    assert value(delta, "jifen_ledger_postings_total", kind="hold") == 1
    assert value(delta, "jifen_ledger_postings_total", kind="earn") >= 1
    assert value(delta, "jifen_earning_events_total", status="credited") == 1
    assert value(delta, "jifen_earning_events_total", status="rejected") == 1
    assert value(delta, "jifen_task_runs_total", task=task, outcome="successful") == 1
    assert value(after, "jifen_task_results", task=task, status="SUCCESSFUL") == 1
    assert value(after, "jifen_task_queue_depth", task=task) == 0
    # Requests by route pattern and status, with their latency.
    assert value(delta, "jifen_http_requests_total", route="api/v1/orders", method="POST",
                 status="201") == 1
    assert value(delta, "jifen_http_request_duration_seconds_count", route="api/v1/orders",
                 method="POST") == 1
    # The scrapes themselves are not counted.
    assert not any(key[0] == "jifen_http_requests_total" and ("route", "metrics") in key[1]
                   for key in after)


def test_the_database_gauges_are_there_with_nothing_going_on(scrape, db):
    samples = scrape()
    assert value(samples, "jifen_task_queue_oldest_age_seconds") == 0
    assert value(samples, "jifen_workers_alive") == 0


@pytest.mark.django_db
class TestWhoMayScrape:
    def test_without_a_token_or_an_allow_list_there_is_no_endpoint(self, client, settings):
        settings.METRICS_TOKEN, settings.METRICS_ALLOW = "", []
        assert client.get("/metrics").status_code == 404

    @pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
    def test_a_caller_without_the_token_is_refused(self, client, settings, header):
        settings.METRICS_TOKEN, settings.METRICS_ALLOW = TOKEN, []
        extra = {"HTTP_AUTHORIZATION": header} if header else {}
        response = client.get("/metrics", **extra)
        assert response.status_code == 403
        assert b"jifen_" not in response.content

    def test_an_allow_listed_address_may_scrape_without_a_token(self, client, settings):
        settings.METRICS_TOKEN = ""
        settings.METRICS_ALLOW = [ipaddress.ip_network("10.0.0.0/8")]
        assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
        assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 403

    def test_the_address_is_read_through_the_trusted_proxies_only(self, client, settings):
        settings.METRICS_TOKEN = ""
        settings.METRICS_ALLOW = [ipaddress.ip_network("10.0.0.0/8")]
        settings.TRUSTED_PROXIES = 0
        # A client claiming an allowed address in its own header is not believed …
        assert client.get("/metrics", REMOTE_ADDR="192.0.2.7",
                          HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 403
        # … but the address our one proxy saw is.
        settings.TRUSTED_PROXIES = 1
        assert client.get("/metrics", REMOTE_ADDR="127.0.0.1",
                          HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 200


def test_serving_starts_with_an_empty_multiprocess_directory(tmp_path, monkeypatch):
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_4242.db").write_bytes(b"an earlier run's totals")
    (folder / "keep.txt").write_text("not ours")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    assert prepare_multiprocess_dir() == str(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["keep.txt"]
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "new"))
    prepare_multiprocess_dir()
    assert (tmp_path / "new").is_dir()
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    assert prepare_multiprocess_dir() is None
