"""Prometheus metrics (prometheus-client; docs/decisions/0032-metrics.md).

Two kinds:

* Counters and histograms kept by the process that saw the thing happen — requests and
  their latency, ledger postings by kind, order state changes, events by status, task runs,
  webhook deliveries. Under gunicorn each worker process has its own; with
  ``PROMETHEUS_MULTIPROC_DIR`` set (the systemd unit sets it) they write to files there and
  a scrape of any one process adds them all up.
* Gauges read from the database at scrape time (``DatabaseCollector``) — queue depth and
  the oldest ready task's age, task results by status, worker heartbeats, each periodic
  job's last success, database connections. The database is what every web process and
  every worker on every machine shares, so these are right however many there are.

Apps count through the small helpers below (``count_postings``, ``count_order_change``,
``count_events``, ``count_webhook_delivery``); core knows no app. A helper called inside a
transaction counts only when it commits.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.db import transaction
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_LATEST

REQUESTS = Counter(
    "jifen_http_requests", "HTTP requests answered, by route pattern, method and status.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "jifen_http_request_duration_seconds", "Time to answer an HTTP request, by route pattern.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
POSTINGS = Counter("jifen_ledger_postings", "Ledger transactions posted, by kind.", ["kind"])
ORDER_CHANGES = Counter(
    "jifen_mall_order_changes", "Order state changes, by the state left and the state reached.",
    ["from_status", "to_status"],
)
EVENTS = Counter("jifen_earning_events", "Events taken in, by outcome status.", ["status"])
TASK_RUNS = Counter(
    "jifen_task_runs", "Background task runs finished in this process, by task and outcome.",
    ["task", "outcome"],
)
TASK_SECONDS = Histogram(
    "jifen_task_duration_seconds", "Background task run time, by task.", ["task"],
    buckets=(0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0),
)
WEBHOOK_DELIVERIES = Counter(
    "jifen_webhook_deliveries", "Outbound webhook delivery attempts, by outcome.", ["outcome"],
)


def _on_commit(counter: Counter, labels: Iterable[tuple[str, ...]]) -> None:
    """Count each label set once the surrounding transaction commits (at once outside one)."""
    labels = list(labels)

    def count() -> None:
        for values in labels:
            counter.labels(*values).inc()

    transaction.on_commit(count)


def count_postings(kinds: Iterable[str]) -> None:
    _on_commit(POSTINGS, ((kind,) for kind in kinds))


def count_order_change(from_status: str, to_status: str) -> None:
    _on_commit(ORDER_CHANGES, [(from_status or "new", to_status)])


def count_events(statuses: Iterable[str]) -> None:
    _on_commit(EVENTS, ((status,) for status in statuses))


def count_webhook_delivery(outcome: str) -> None:
    _on_commit(WEBHOOK_DELIVERIES, [(outcome,)])


def observe_request(*, route: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(route, method, str(status)).inc()
    REQUEST_SECONDS.labels(route, method).observe(seconds)


def observe_task(*, task: str, outcome: str, seconds: float | None) -> None:
    TASK_RUNS.labels(task, outcome).inc()
    if seconds is not None:
        TASK_SECONDS.labels(task).observe(seconds)


class DatabaseCollector(Collector):
    """The gauges read from the database at each scrape (``selectors.metrics_snapshot``)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        # Here, not at the top: selectors import models, which need the app registry.
        from jifen.core.observability import selectors

        snap = selectors.metrics_snapshot()
        depth = GaugeMetricFamily("jifen_task_queue_depth",
                                  "Tasks waiting to run now, by task.", labels=["task"])
        for task, count in snap["queue"].items():
            depth.add_metric([task], count)
        yield depth
        yield GaugeMetricFamily("jifen_task_queue_oldest_age_seconds",
                                "Age of the oldest task waiting to run (0: none waits).",
                                value=snap["oldest_age"])
        results = GaugeMetricFamily("jifen_task_results", "Task results kept, by task and status.",
                                    labels=["task", "status"])
        for (task, status), count in snap["results"].items():
            results.add_metric([task, status], count)
        yield results
        seen = GaugeMetricFamily("jifen_worker_last_seen_timestamp_seconds",
                                 "When each worker last said it was alive (Unix time).",
                                 labels=["worker", "host"])
        for worker in snap["workers"]:
            seen.add_metric([worker["worker_id"], worker["host"]], worker["last_seen"].timestamp())
        yield seen
        yield GaugeMetricFamily("jifen_workers_alive", "Workers heard from in the last minute.",
                                value=sum(1 for w in snap["workers"] if w["alive"]))
        jobs = GaugeMetricFamily("jifen_periodic_job_last_success_timestamp_seconds",
                                 "When each periodic job last finished successfully (Unix time).",
                                 labels=["job"])
        for job, when in snap["jobs"].items():
            if when is not None:
                jobs.add_metric([job], when.timestamp())
        yield jobs
        connections = GaugeMetricFamily("jifen_database_connections",
                                        "Database server connections, by state.",
                                        labels=["state"])
        for state, count in snap["connections"].items():
            connections.add_metric([state], count)
        yield connections


def prepare_multiprocess_dir() -> str | None:
    """Empty ``PROMETHEUS_MULTIPROC_DIR`` (creating it) before the server's processes start,
    as prometheus-client requires: files left by an earlier run would add its totals to this
    one's. Returns the directory, or None when multiprocess mode is off."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)
    return folder


def render() -> tuple[bytes, str]:
    """The exposition text of every metric: this process's (all processes' in
    multiprocess mode), then the database's gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    database = CollectorRegistry()
    database.register(DatabaseCollector())
    return generate_latest(processes) + generate_latest(database), CONTENT_TYPE
