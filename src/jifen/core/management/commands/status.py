"""`jifen status`: what the console's system status page shows, for a shell. Exit 0 when
ready (database, migrations, a live worker), 1 otherwise."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from jifen.core.observability import selectors


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else "-"


class Command(BaseCommand):
    help = ("Show workers, the queue, failed tasks, periodic jobs, the database and "
            "migrations; exit 1 when not ready.")

    def handle(self, *args: Any, **options: Any) -> None:
        status = selectors.system_status()
        ready = status["readiness"]
        out = self.stdout.write
        out(f"status: {ready['status']}  (database {ready['database']}, migrations "
            f"{ready['migrations']}, worker {ready['worker']})")
        out(f"version: {status['version']}  migrations applied: {status['applied_migrations']}"
            f", pending: {len(status['pending_migrations'])}")
        for app, name in status["pending_migrations"]:
            out(f"  pending {app}.{name}")
        out("workers:")
        if not status["workers"]:
            out("  none heard from in the last week")
        for worker in status["workers"]:
            state = "running" if worker["alive"] else "stopped"
            out(f"  {worker['host']} pid {worker['pid']}  {state}  last heartbeat "
                f"{_when(worker['last_seen'])}")
        out(f"queue: {sum(status['queue'].values())} waiting, oldest "
            f"{status['oldest_age']:.0f} s")
        for task, count in status["queue"].items():
            out(f"  {task}: {count}")
        out(f"failed tasks: {len(status['failed'])}")
        for task in status["failed"][:10]:
            out(f"  {task.pk} {task.task_path} {task.exception_class_path} "
                f"{_when(task.finished_at)}")
        out("periodic jobs (last started / last success):")
        for job in status["jobs"]:
            out(f"  {job['name']}: {_when(job['last_started'])} / {_when(job['last_success'])}")
        database = status["database"]
        size = database["size"]
        out(f"database: {database['vendor']}"
            + (f", {size / 1024 / 1024:.1f} MB" if size is not None else ""))
        for name, table_size in database["largest"][:5]:
            out(f"  {name}: {table_size / 1024 / 1024:.1f} MB")
        if ready["status"] != "ready":
            sys.exit(1)
