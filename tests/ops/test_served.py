"""The whole thing as deployed on one host: `jifen serve --with-worker` (two gunicorn
processes and a worker) with PROMETHEUS_MULTIPROC_DIR. A scrape adds up the requests every
process answered, the log holds the request's id, the worker's heartbeat makes the server
ready, and stopping it takes the worker away (issue #19)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid

import pytest
from django.conf import settings as django_settings
from prometheus_client.parser import text_string_to_metric_families

from tests.core.test_serve import _free_port, _wait

TOKEN = "served-scrape-token"


def get(port: int, path: str, **headers: str) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), refused.read()
    except OSError:
        return 0, {}, b""


def health_requests(port: int) -> float:
    status, _headers, body = get(port, "/metrics", Authorization=f"Bearer {TOKEN}")
    assert status == 200, body
    return sum(sample.value for family in text_string_to_metric_families(body.decode())
               for sample in family.samples
               if sample.name == "jifen_http_requests_total"
               and sample.labels.get("route") == "api/v1/health")


@pytest.mark.skipif(sys.platform != "linux", reason="gunicorn and fork")
def test_served_with_a_worker_metrics_logs_and_readiness_add_up(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JIFEN_", "XDG_RUNTIME_DIR", "DJANGO_", "PROMETHEUS_"))}
    (tmp_path / "metrics").mkdir()
    env.update(HOME=str(tmp_path / "home"), JIFEN_VAR_DIR=str(tmp_path / "var"),
               JIFEN_ACCESS_LOG="", PYTHONUNBUFFERED="1", JIFEN_CONTROL_SOCKET="off",
               JIFEN_STATIC_ROOT=str(django_settings.STATIC_ROOT),
               JIFEN_METRICS_TOKEN=TOKEN, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    (tmp_path / "metrics" / "counter_4242.db").write_bytes(b"an earlier run's totals")
    jifen = [sys.executable, "-m", "jifen.cli"]
    subprocess.run([*jifen, "migrate", "-v0"], env=env, check=True, timeout=300)
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [*jifen, "serve", "--port", str(port), "--workers", "2", "--threads", "1",
         "--no-collectstatic", "--with-worker"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        # Ready once the worker has said it is alive.
        _wait(lambda: get(port, "/api/v1/health/ready")[0] == 200, "ready", 120)
        status, _headers, body = get(port, "/api/v1/health/ready")
        assert json.loads(body)["worker"] == "ok"
        assert get(port, "/metrics")[0] == 403  # no token: refused
        assert not (tmp_path / "metrics" / "counter_4242.db").exists()  # emptied at start

        # Requests spread over both gunicorn processes; one scrape counts them all.
        before = health_requests(port)
        ids = [f"probe-{uuid.uuid4().hex[:12]}" for _ in range(12)]
        for rid in ids:
            status, headers, _body = get(port, "/api/v1/health", **{"X-Request-ID": rid})
            assert status == 200 and headers["X-Request-ID"] == rid
        _wait(lambda: health_requests(port) - before == len(ids), "every request counted", 20)
        pids = {path.name.split("_")[-1] for path in (tmp_path / "metrics").glob("counter_*")}
        assert len(pids) >= 2, pids  # more than one process wrote counters

        # Each request's JSON line carries its id.
        def logged_ids() -> set[str]:
            found = set()
            for line in (tmp_path / "server.log").read_text(encoding="utf-8").splitlines():
                if line.startswith("{"):
                    row = json.loads(line)
                    if row.get("logger") == "jifen.requests":
                        found.add(row.get("request_id"))
            return found

        _wait(lambda: set(ids) <= logged_ids(), "a log line per request", 20)

        status_run = subprocess.run([*jifen, "status"], env=env, capture_output=True,
                                    text=True, timeout=120)
        assert status_run.returncode == 0, status_run.stdout + status_run.stderr
        assert "running" in status_run.stdout
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    # Stopped cleanly, the worker took its heartbeat away: not ready any more.
    after = subprocess.run([*jifen, "status"], env=env, capture_output=True, text=True,
                           timeout=120)
    assert after.returncode == 1, after.stdout
    assert "worker stopped" in after.stdout
