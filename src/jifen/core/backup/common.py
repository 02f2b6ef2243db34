"""What the backup and the restore share: the archive's format and limits, the errors (with
the exit codes of `jifen backup` and `jifen restore`), the manifest's signature, and how
the dump tools are found, run and told how to connect."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import importlib.metadata
import json
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils.crypto import salted_hmac

FORMAT = "jifen-backup/1"
MANIFEST = "manifest.json"
MANIFEST_LIMIT = 64 * 1024 * 1024  # bytes; a manifest lists ~150 bytes per file
# Extended headers (PAX x/g, GNU long names L/K) that tarfile would read whole into memory:
# a backup's are a few hundred bytes.
HEADER_LIMIT = 64 * 1024
# gzip cannot unpack to more than ~1032 times its size; the SQLite member is held to this.
MAX_RATIO = 1100
FREE_SPACE_MARGIN = 64 * 1024 * 1024
SIGNATURE_SALT = "jifen.core.backup.manifest"
CHUNK = 1024 * 1024
VENDORS = ("sqlite", "postgresql", "mysql")
DATABASE_MEMBER = {"sqlite": "database.sqlite3.gz", "postgresql": "database.pgdump",
                   "mysql": "database.sql.gz"}
FILE_ROOTS = ("media", "private")
# Tables whose rows say nothing about whether a database is in use: migration bookkeeping,
# what `jifen migrate` seeds (permissions, groups, company accounts, built-in event types,
# company values) and what a server or worker writes on its own (queue, daily jobs,
# counters, anonymous sessions).
BOOKKEEPING_TABLES = frozenset({
    "django_migrations", "django_content_type", "auth_permission", "auth_group",
    "auth_group_permissions", "sqlite_sequence", "jifen_shared_cache", "django_session",
    "django_tasks_database_dbtaskresult", "core_periodicrun", "ledger_account",
    "earning_eventtype", "earning_companyvalue",
})
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")

Progress = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot go on; ``exit_code`` is what the command exits with."""

    exit_code = 1


class TargetNotEmpty(BackupError):
    """The target database or folders hold data and ``--force`` was not given."""

    exit_code = 3


class ArchiveRefused(BackupError):
    """The file is not a backup this installation may restore: damaged, forged, unsafe,
    of another database vendor or of a newer jifen."""

    exit_code = 4


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    migrated: bool
    breaches: list[str] = field(default_factory=list)
    sign_ins_ended: bool = False
    active_api_keys: int = 0


# --- small helpers -------------------------------------------------------------------------


def quiet(_message: str) -> None:
    pass


def human_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


def shown(value: Any) -> str:
    """Text from an archive (untrusted) as it may be printed: unprintable characters (C0
    and C1 controls, bidi overrides, line breaks) written as escapes, at most 200 chars."""
    text = value if isinstance(value, str) else repr(value)
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:200])
    return text + ("…" if len(text) > 200 else "")


def vendor_name() -> str:
    return connection.vendor


def db_settings() -> dict[str, Any]:
    return connection.settings_dict


def installed_version() -> str:
    try:
        return importlib.metadata.version("jifen")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout
        return "unknown"


def find_tool(name: str, *alternatives: str) -> str:
    for candidate in (name, *alternatives):
        if found := shutil.which(candidate):
            return found
    raise BackupError(f"{name} is not installed or not on PATH; install the database's "
                      f"client tools (see docs/backup.md).")


def clean_env() -> dict[str, str]:
    """The environment for a dump tool: ours, without connection settings inherited from
    the shell that could send it to another database."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("PG", "MYSQL", "MARIADB"))}


def run_tool(cmd: list[str], *, env: dict[str, str], what: str, work: Path, progress: Progress,
         stdin: Any = subprocess.DEVNULL, stdout: Any = subprocess.DEVNULL,
         pump: Callable[[subprocess.Popen[bytes]], None] | None = None) -> None:
    """Run a database tool with its errors in a file; ``pump`` (given the process) feeds
    its stdin or drains its stdout. Says every 15 s that it is still at work; raises
    BackupError with its last words when it fails (and kills it when ``pump`` fails)."""
    errors_path = work / f"{Path(cmd[0]).name}-{secrets.token_hex(4)}.err"
    started = last = time.monotonic()
    with open(errors_path, "wb") as errors_out:
        try:
            proc = subprocess.Popen(cmd, env=env, stdin=stdin, stdout=stdout,
                                    stderr=errors_out)
        except OSError as exc:
            raise BackupError(f"{what} could not start: {exc}") from exc
        try:
            if pump is not None:
                pump(proc)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    with contextlib.suppress(BrokenPipeError):
                        pipe.close()
        while proc.poll() is None:
            time.sleep(0.2)
            if time.monotonic() - last > 15:
                progress(f"  {what} still at work ({time.monotonic() - started:.0f}s)...")
                last = time.monotonic()
    if proc.returncode:
        detail = shown(errors_path.read_text(errors="replace").strip()[-2000:])
        raise BackupError(f"{what} failed (exit {proc.returncode}): {detail}")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _canonical(manifest: dict[str, Any]) -> bytes:
    body = {k: v for k, v in manifest.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sign_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` with its ``signature``: an HMAC-SHA256 under a key derived from
    SECRET_KEY, so that only an installation holding that key can make a backup this one
    restores without ``--trust-origin``."""
    signed = dict(manifest)
    signed["signature"] = salted_hmac(SIGNATURE_SALT, _canonical(manifest),
                                      algorithm="sha256").hexdigest()
    return signed


def signature_ok(manifest: dict[str, Any]) -> bool:
    given = manifest.get("signature")
    if not isinstance(given, str):
        return False
    for secret in (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])):
        expected = salted_hmac(SIGNATURE_SALT, _canonical(manifest), secret=secret,
                               algorithm="sha256").hexdigest()
        if hmac.compare_digest(expected, given):
            return True
    return False


def applied_migrations() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        return sorted(f"{app}.{name}" for app, name in cursor.fetchall())


# --- connection details for the dump tools -------------------------------------------------


def connection_params() -> dict[str, Any]:
    """How Django connects (``get_connection_params``: OPTIONS such as ssl included), the
    one source of connection details for the tools and for creating the database."""
    return dict(connection.get_connection_params())


def libpq_params(**override: Any) -> dict[str, str]:
    """The connection parameters libpq understands, as strings."""
    from psycopg import pq  # optional: only the driver of the vendor in use is installed

    known = {d.keyword.decode() for d in pq.Conninfo.get_defaults()}
    params = {**connection_params(), **override}
    return {k: str(v) for k, v in params.items() if k in known and v not in (None, "")}


def pg_tool_env_and_conninfo(**override: Any) -> tuple[dict[str, str], str]:
    """(environment, conninfo) for pg_dump, pg_restore and psql: the password travels in
    PGPASSWORD, never on a command line."""
    from psycopg.conninfo import make_conninfo  # optional, as above

    params = libpq_params(**override)
    env = clean_env()
    if "password" in params:
        env["PGPASSWORD"] = params.pop("password")
    return env, make_conninfo(**params)


def _option_value(value: Any) -> str:
    text = str(value)
    if any(c in text for c in "\n\r\0"):
        raise BackupError("The database setting holds a line break; it cannot be passed to "
                          "the MariaDB tools.")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def mysql_option_file(folder: Path) -> Path:
    """A [client] option file of mode 0600 in our private temporary folder: the password
    never appears on a command line or in the environment of other users' ``ps``."""
    params = connection_params()
    lines = ["[client]"]
    for key, option in (("unix_socket", "socket"), ("host", "host"), ("user", "user"),
                        ("password", "password")):
        if params.get(key):
            lines.append(f"{option}={_option_value(params[key])}")
    if params.get("port"):
        lines.append(f"port={int(params['port'])}")
    ssl = params.get("ssl") or {}
    for key in ("ca", "cert", "key", "capath", "cipher"):
        if ssl.get(key):
            lines.append(f"ssl-{key}={_option_value(ssl[key])}")
    if params.get("ssl_mode"):
        lines.append(f"ssl-verify-server-cert={int(params['ssl_mode'] == 'VERIFY_IDENTITY')}")
    lines.append("default-character-set=utf8mb4")
    path = folder / f"client-{secrets.token_hex(4)}.cnf"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def mysql_name() -> str:
    name = str(db_settings()["NAME"])
    if not name or name.startswith("-") or "`" in name:
        raise BackupError(f"Unusable database name for the MariaDB tools: {name!r}.")
    return name

