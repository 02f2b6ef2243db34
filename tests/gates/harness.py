"""Real processes for the CI gates: a database of their own on the PostgreSQL or MariaDB
server the suite runs against, `jifen serve` and `jifen worker` started as subprocesses
with their own var folders, and clients that retry with the same Idempotency-Key until
answered.

Every process is started in a session of its own, so the gunicorn workers it forks share
its process group; ``Processes.kill_all`` SIGKILLs those groups, and only those."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
JIFEN = [sys.executable, "-m", "jifen.cli"]


POSTGRES = {"postgres", "postgresql", "pgsql"}
MYSQL = {"mysql", "mysql2", "mariadb"}


def server_url() -> str | None:
    """The PostgreSQL or MariaDB server of this pytest run (JIFEN_DATABASE_URL), or None
    on SQLite."""
    url = os.environ.get("JIFEN_DATABASE_URL", "")
    return url if urlsplit(url).scheme in POSTGRES | MYSQL else None


def _connect(url: str, dbname: str | None = None) -> Any:
    """An autocommit connection to ``dbname`` on the server of ``url`` (its maintenance
    database when None)."""
    parts = urlsplit(url)
    if parts.scheme in MYSQL:
        import MySQLdb

        conn = MySQLdb.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 3306,
                               user=parts.username or "root", passwd=parts.password or "",
                               database=dbname or "", connect_timeout=10, charset="utf8mb4")
        conn.autocommit(True)
        return conn
    import psycopg

    return psycopg.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
                           user=parts.username or "postgres", password=parts.password or None,
                           dbname=dbname or "postgres", autocommit=True, connect_timeout=10)


def _execute(url: str, sql: str, params: tuple = (), dbname: str | None = None
             ) -> list[tuple]:
    conn = _connect(url, dbname)
    try:
        cursor = conn.cursor()
        cursor.execute(sql, params or None)
        return list(cursor.fetchall()) if cursor.description else []
    finally:
        conn.close()


@contextmanager
def scratch_database(server: str) -> Iterator[str]:
    """A new, empty database on the suite's database server (not pytest-django's), dropped
    afterwards. Yields its URL."""
    name = f"jifen_gate_{os.getpid()}_{secrets.token_hex(4)}"
    mysql = urlsplit(server).scheme in MYSQL
    _execute(server, f"CREATE DATABASE {name} CHARACTER SET utf8mb4 "
                     "COLLATE utf8mb4_unicode_ci" if mysql else f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(server)._replace(path="/" + name).geturl()
    finally:
        _execute(server, f"DROP DATABASE IF EXISTS {name}" if mysql
                 else f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def query(database_url: str, sql: str, params: tuple = ()) -> list[tuple]:
    return _execute(database_url, sql, params, dbname=urlsplit(database_url).path.lstrip("/"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Site:
    """What the instances of one test share: the database and the secret key. Each
    instance gets its own var folder (and gunicorn control socket folder)."""

    database_url: str
    tmp: Path
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))

    def env(self, name: str) -> dict[str, str]:
        var = self.tmp / name
        (var / "run").mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("JIFEN_", "PYTEST_", "DJANGO_"))}
        env.update({
            "JIFEN_DATABASE_URL": self.database_url,
            "JIFEN_SECRET_KEY": self.secret_key,
            "JIFEN_VAR_DIR": str(var),
            # The static files this pytest run collected (tests/conftest.py): every instance
            # serves them (`serve --no-collectstatic`) rather than compressing its own copy.
            "JIFEN_STATIC_ROOT": str(settings.STATIC_ROOT),
            "JIFEN_ACCESS_LOG": "",
            "JIFEN_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "jifen.settings",
            # gunicorn's control socket lives in $XDG_RUNTIME_DIR: one per instance here,
            # whatever `jifen serve` itself chooses, so that instances (and other test runs
            # on this machine) never take over each other's.
            "XDG_RUNTIME_DIR": str(var / "run"),
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        })
        return env

    def run(self, *args: str, timeout: float = 120, check: bool = True,
            name: str = "cli") -> subprocess.CompletedProcess:
        """``jifen <args>`` (or ``python <args>`` when args[0] is "-m" / "-c") to the end."""
        cmd = [sys.executable, *args] if args[0] in {"-m", "-c"} else [*JIFEN, *args]
        done = subprocess.run(cmd, cwd=ROOT, env=self.env(name), capture_output=True,
                              text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(args)} exited {done.returncode}:\n"
                                 f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    def seed(self, spec: dict[str, Any]) -> dict[str, Any]:
        done = self.run("-m", "tests.gates.seed", json.dumps(spec), name="seed")
        return json.loads(done.stdout.strip().splitlines()[-1])


class Processes:
    """Long-running `jifen serve` / `jifen worker` processes of one test."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.started: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def start(self, name: str, *args: str) -> subprocess.Popen:
        """``jifen <args>``, or ``python -m <module> …`` when args[0] is "-m"."""
        log = self.site.tmp / f"{name}-{len(self.logs)}.log"
        self.logs.append(log)
        cmd = [sys.executable, *args] if args[0] == "-m" else [*JIFEN, *args]
        with open(log, "w") as out:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=self.site.env(name), stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(proc)
        return proc

    def serve(self, name: str, port: int, workers: int = 2, threads: int = 4
              ) -> subprocess.Popen:
        proc = self.start(name, "serve", "--host", "127.0.0.1", "--port", str(port),
                          "--workers", str(workers), "--threads", str(threads),
                          "--no-collectstatic")
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        return proc

    def kill_all(self) -> None:
        for proc in self.started:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)

    def log_tails(self, lines: int = 40) -> str:
        """The end of every process's log and its first tracebacks (the 4xx warnings
        Django logs are left out)."""
        parts = []
        for log in self.logs:
            text = [line for line in (log.read_text(errors="replace").splitlines()
                                      if log.exists() else [])
                    if not line.startswith(("Conflict: ", "Unprocessable Content: "))]
            starts = [n for n, line in enumerate(text) if line.startswith("Traceback")][:3]
            shown = [line for n in starts for line in text[n:n + 60]]
            parts.append(f"--- {log.name} ---\n" + "\n".join(shown + text[-lines:]))
        return "\n".join(parts)


def wait_healthy(base: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode} while starting")
        try:
            if requests.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{base} did not answer /api/v1/health within {timeout} s")


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (gunicorn's workers of a master)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass
class Call:
    """One creating request, sent again with the same Idempotency-Key until answered."""

    kind: str
    path: str
    body: dict[str, Any]
    token: str
    key: str
    meta: dict[str, Any] = field(default_factory=dict)
    server: str | None = None  # this call's server, instead of the load's
    status: int | None = None
    answer: Any = None
    attempts: int = 0
    server_errors: list[str] = field(default_factory=list)


class Load:
    """Client threads working through their calls against ``base()`` (which may change
    when a server is replaced). A refused connection, a reset, a timeout or a 5xx is tried
    again with the same key after a short pause; a 5xx is also recorded (it is a bug)."""

    def __init__(self, lanes: list[list[Call]], base: Any, deadline: float) -> None:
        self.lanes = lanes
        self.base = base
        self.deadline = deadline
        self.answered = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(lane,), daemon=True)
                        for lane in lanes]

    @property
    def total(self) -> int:
        return sum(len(lane) for lane in self.lanes)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(max(0.0, self.deadline - time.monotonic()) + 30)

    def _run(self, lane: list[Call]) -> None:
        session = requests.Session()
        for call in lane:
            while time.monotonic() < self.deadline:
                call.attempts += 1
                try:
                    response = session.post(
                        (call.server or self.base()) + call.path, json=call.body,
                        timeout=(3, 30),
                        headers={"Authorization": f"Bearer {call.token}",
                                 "Idempotency-Key": call.key})
                except requests.RequestException:
                    session.close()
                    time.sleep(0.1)
                    continue
                if response.status_code >= 500:
                    call.server_errors.append(f"{response.status_code} {response.text[:300]}")
                    time.sleep(0.1)
                    continue
                call.status = response.status_code
                call.answer = response.json()
                with self.lock:
                    self.answered += 1
                break
        session.close()

    def wait_for(self, answered: int) -> None:
        while self.answered < answered and time.monotonic() < self.deadline and any(
                t.is_alive() for t in self.threads):
            time.sleep(0.02)
