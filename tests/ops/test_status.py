"""Worker heartbeats, readiness, `jifen status` and the console's system status page: a
stopped worker shows as stopped within a minute (issue #19)."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from jifen.core.models import AuditEntry, WorkerHeartbeat
from jifen.core.observability import selectors, services
from jifen.core.roles import Role
from tests.conftest import login_client

pytestmark = pytest.mark.django_db

CALLS: list[int] = []


@task()
def flaky(n: int) -> int:
    CALLS.append(n)
    if len(CALLS) == 1:
        raise RuntimeError("first time fails")
    return n


def status_output() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("status", stdout=out)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue()
    return 0, out.getvalue()


def beat(seconds_ago: float, worker_id: str = "host-a:123:abc") -> None:
    now = timezone.now()
    services.beat(worker_id=worker_id, started_at=now - timedelta(hours=1),
                  now=now - timedelta(seconds=seconds_ago))


class TestAWorkerStoppedShowsAsStopped:
    def test_a_worker_that_beat_just_now_is_running_and_the_system_ready(self, client):
        beat(5)
        code, out = status_output()
        assert code == 0, out
        assert "status: ready" in out and "running" in out
        ready = client.get("/api/v1/health/ready")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "database": "ok", "migrations": "ok",
                                "worker": "ok"}

    def test_a_worker_silent_for_over_a_minute_is_stopped(self, client, super_admin):
        beat(61)
        code, out = status_output()
        assert code == 1
        assert "status: not_ready" in out and "worker stopped" in out
        assert "pid" in out and "  stopped  last heartbeat" in out
        ready = client.get("/api/v1/health/ready")
        assert ready.status_code == 503 and ready.json()["worker"] == "stopped"
        page = login_client(super_admin.user).get("/console/system/")
        assert page.status_code == 200
        assert b'data-testid="worker-stopped"' in page.content
        # Liveness does not care: the server itself answers.
        assert client.get("/api/v1/health").json() == {"status": "ok", "database": "ok"}

    def test_no_worker_at_all_is_not_ready(self, client):
        assert client.get("/api/v1/health/ready").json()["worker"] == "stopped"
        assert status_output()[0] == 1


def test_missing_migrations_make_it_not_ready(client, monkeypatch):
    beat(1)
    monkeypatch.setattr(selectors, "_migrations_complete", False)
    monkeypatch.setattr(selectors, "migration_plan", lambda: [("mall", "0042_new_things")])
    ready = client.get("/api/v1/health/ready")
    assert ready.status_code == 503
    assert ready.json()["migrations"] == "1 pending"
    code, out = status_output()
    assert code == 1 and "pending mall.0042_new_things" in out


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_beats_and_takes_its_row_away_when_stopped():
    stop = threading.Event()
    thread = threading.Thread(target=services.beat_forever, args=(stop,),
                              kwargs={"worker_id": "w-test", "interval": 0.05})
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not WorkerHeartbeat.objects.filter(worker_id="w-test").exists():
            assert time.monotonic() < deadline, "no heartbeat"
            time.sleep(0.05)
        first = WorkerHeartbeat.objects.get(worker_id="w-test").last_seen
        while WorkerHeartbeat.objects.get(worker_id="w-test").last_seen == first:
            assert time.monotonic() < deadline, "the heartbeat did not move on"
            time.sleep(0.05)
        assert [w["alive"] for w in selectors.workers()] == [True]
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not WorkerHeartbeat.objects.exists()


class TestTheStatusPage:
    def test_it_is_for_super_admins_only(self, client, make_role_employee):
        assert client.get("/console/system/").status_code == 302  # to sign in
        for role in (Role.HR_ADMIN, Role.AUDITOR, Role.MALL_ADMIN):
            person = make_role_employee(role)
            assert login_client(person.user).get("/console/system/").status_code == 403

    def test_it_shows_the_queue_jobs_database_and_version(self, super_admin):
        beat(3)
        flaky.enqueue(1)
        page = login_client(super_admin.user).get("/console/system/")
        text = page.content.decode()
        assert "tests.ops.test_status.flaky" in text  # waiting in the queue
        assert "ledger.expiry" in text and "insights.fold" in text  # the periodic jobs
        assert 'data-testid="version"' in text and "0.1.0" in text
        assert f"pid {os.getpid()}" in text

    # Transactional: the worker closes its connection after a failed task (PostgreSQL).
    @pytest.mark.django_db(transaction=True)
    def test_a_failed_task_is_retried_with_its_arguments_and_audit_logged(self, super_admin):
        CALLS.clear()
        flaky.enqueue(7)
        call_command("worker", batch=True, no_periodic=True, verbosity=0)
        failed = DBTaskResult.objects.get(status="FAILED")
        admin = login_client(super_admin.user)
        page = admin.get("/console/system/").content.decode()
        assert "builtins.RuntimeError" in page
        assert f'name="task" value="{failed.pk}"' in page
        answer = admin.post("/console/system/", {"task": str(failed.pk)}, follow=True)
        assert answer.status_code == 200
        call_command("worker", batch=True, no_periodic=True, verbosity=0)
        assert CALLS == [7, 7]
        assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["SUCCESSFUL"]
        entry = AuditEntry.objects.get(action="task.retry")
        assert entry.object_id == str(failed.pk) and entry.actor == super_admin.user
        # Retrying again is refused: that failure is gone.
        again = admin.post("/console/system/", {"task": str(failed.pk)}, follow=True)
        said = again.content.decode()
        assert "No failed task with this id." in said or "没有此编号的失败任务。" in said
        assert AuditEntry.objects.filter(action="task.retry").count() == 1

    def test_a_stranger_or_a_made_up_id_cannot_retry(self, super_admin, hr_admin):
        assert login_client(hr_admin.user).post(
            "/console/system/", {"task": "x"}).status_code == 403
        for made_up in ("x", "", "00000000-0000-0000-0000-000000000000"):
            answer = login_client(super_admin.user).post("/console/system/", {"task": made_up})
            assert answer.status_code == 302
        assert not AuditEntry.objects.filter(action="task.retry").exists()


def test_status_on_a_database_not_yet_migrated_says_so_instead_of_failing(tmp_path):
    """`jifen status` right after an install, before `jifen migrate`: exit 1 and the
    pending migrations listed, no traceback."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "JIFEN_DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}",
           "JIFEN_LOG_FORMAT": "text"}
    done = subprocess.run([sys.executable, "-m", "jifen.cli", "status"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "status: not_ready" in done.stdout and "pending ledger.0001_initial" in done.stdout
    assert "Traceback" not in done.stderr
