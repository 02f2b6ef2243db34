"""Run the suite on every database that is reachable and say which were skipped.

- SQLite always: every test, the browser tests included;
- PostgreSQL and MariaDB: every test except the browser tests and the modules listed in
  DATABASE_AGNOSTIC in tests/conftest.py (marked ``database_agnostic``: pages, headers,
  words; docs/decisions/0035-which-tests-run-on-every-database.md);
- PostgreSQL at JIFEN_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/jifen);
- MariaDB/MySQL at JIFEN_TEST_MYSQL_URL (default mysql://root@127.0.0.1:3306/jifen).

JIFEN_REQUIRE_DATABASES=sqlite,postgresql,mysql (as CI sets it) turns a skip into a
failure. Extra arguments go to every pytest run. Before the tests: ruff, the layering
contract (import-linter), the type check of services and selectors (mypy), Django's
checks and a check that no model change lacks a migration."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PG_URL = os.environ.get("JIFEN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/jifen")
MYSQL_URL = os.environ.get("JIFEN_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/jifen")
WORKERS = os.environ.get("JIFEN_TEST_WORKERS", "2")


def reachable_postgres() -> str | None:
    try:
        import psycopg

        psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres",
                        connect_timeout=3).close()
    except Exception as exc:
        return str(exc).splitlines()[0]
    return None


def reachable_mysql() -> str | None:
    try:
        import MySQLdb

        MySQLdb.connect(host="127.0.0.1", port=3306, user="root", passwd="",
                        connect_timeout=3).close()
    except Exception as exc:
        return str(exc).splitlines()[0]
    return None


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    print("$ " + shlex.join(cmd), flush=True)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines = []
    assert proc.stdout
    for line in proc.stdout:
        sys.stdout.write(line)
        lines.append(line)
    return proc.wait(), "".join(lines[-5:])


def counts(tail: str) -> dict[str, int]:
    found = {}
    for number, word in re.findall(r"(\d+) (passed|failed|skipped|errors?)", tail):
        found[word.rstrip("s") if word.startswith("error") else word] = int(number)
    return found


def main() -> int:
    extra = sys.argv[1:]
    required = {d for d in os.environ.get("JIFEN_REQUIRE_DATABASES", "").split(",") if d}
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("JIFEN_DATABASE")}
    started = time.monotonic()

    for check in (
        [str(BIN / "ruff"), "check", "src", "tests", "bench", "scripts"],
        [str(BIN / "lint-imports")],
        [str(BIN / "mypy")],  # [tool.mypy]: services and selectors; one line when clean
        [str(BIN / "jifen"), "check", "--fail-level", "WARNING"],
        [str(BIN / "jifen"), "makemigrations", "--check", "--dry-run"],
    ):
        # PYTHONPATH: this checkout's code, whichever one the venv installed jifen from.
        code, _ = run(check, env={**base_env, "JIFEN_DATABASE_URL": "sqlite:///:memory:",
                                  "PYTHONPATH": str(ROOT / "src")})
        if code:
            print("FAILED: " + " ".join(check))
            return code

    everywhere = ["-m", "not browser and not database_agnostic"]
    plans = [("sqlite", "sqlite:///:memory:", None, [])]
    plans.append(("postgresql", PG_URL, reachable_postgres(), everywhere))
    plans.append(("mysql", MYSQL_URL, reachable_mysql(), everywhere))

    totals = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
    ran, skipped, failed, lines = [], [], [], [f"checks: {time.monotonic() - started:.0f} s"]
    for name, url, unreachable, marks in plans:
        if unreachable:
            skipped.append(f"{name} ({unreachable})")
            continue
        env = {**base_env, "JIFEN_DATABASE_URL": url}
        # The slowest tests of each run are listed, so the suite's time has a known cause.
        cmd = [str(BIN / "pytest"), "-n", WORKERS, "--create-db", "-q", "--durations=20",
               *marks, *extra]
        print(f"\n=== {name} ===", flush=True)
        began = time.monotonic()
        code, tail = run(cmd, env=env)
        found = counts(tail)
        for key, value in found.items():
            totals[key] = totals.get(key, 0) + value
        ran.append(name)
        selection = "all tests" if not marks else "tests marked " + repr(marks[1])
        lines.append(f"{name}: {selection}: {found.get('passed', 0)} passed, "
                     f"{found.get('failed', 0) + found.get('error', 0)} failed, "
                     f"{found.get('skipped', 0)} skipped, {time.monotonic() - began:.0f} s")
        if code not in (0, 5):
            failed.append(name)

    print("\n=== summary ===")
    print("\n".join(lines))
    print("ran on: " + ", ".join(ran))
    if skipped:
        print("skipped (unreachable): " + "; ".join(skipped))
    missing = sorted(required - set(ran))
    if missing:
        print("REQUIRED but not run: " + ", ".join(missing))
    print(f"total: {totals['passed']} passed, {totals['failed'] + totals['error']} failed, "
          f"{totals['skipped']} skipped")
    return 1 if failed or missing else 0


if __name__ == "__main__":
    sys.exit(main())
