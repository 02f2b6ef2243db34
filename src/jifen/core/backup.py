"""Backups of a jifen installation as one file, and their restore (docs/backup.md).

A backup is an uncompressed tar whose first member is ``manifest.json``: the format, the
jifen version, the database vendor, the applied migrations, the time, and the size and
SHA-256 of every other member, signed with an HMAC keyed by ``SECRET_KEY``. Then the
database (``database.sqlite3.gz`` through SQLite's online backup API,
``database.pgdump`` from ``pg_dump -Fc``, ``database.sql.gz`` from ``mariadb-dump
--single-transaction``: each a consistent snapshot while the server keeps writing), then
the uploaded files under ``media/`` (``MEDIA_ROOT``) and ``private/`` (``PRIVATE_ROOT``).

On restore the archive is untrusted input. Every member is checked before anything is
changed: a regular file (no links, devices or folders), a plain relative name inside its
folder (no absolute path, no ``..``), listed once in the signed manifest with the size
and checksum it has. Only then is the target database wiped (``--force``) and loaded. The
dump tools get the connection through their environment or an option file of mode 0600,
never a password on a command line, and the MariaDB client runs in sandbox mode.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import hmac
import importlib.metadata
import io
import json
import os
import posixpath
import re
import secrets
import shutil
import sqlite3
import stat
import subprocess
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

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
_SHA256 = re.compile(r"[0-9a-f]{64}")

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


def _quiet(_message: str) -> None:
    pass


def _size(n: float) -> str:
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


def _vendor() -> str:
    return connection.vendor


def _db() -> dict[str, Any]:
    return connection.settings_dict


def _version() -> str:
    try:
        return importlib.metadata.version("jifen")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout
        return "unknown"


def _tool(name: str, *alternatives: str) -> str:
    for candidate in (name, *alternatives):
        if found := shutil.which(candidate):
            return found
    raise BackupError(f"{name} is not installed or not on PATH; install the database's "
                      f"client tools (see docs/backup.md).")


def _clean_env() -> dict[str, str]:
    """The environment for a dump tool: ours, without connection settings inherited from
    the shell that could send it to another database."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("PG", "MYSQL", "MARIADB"))}


def _run(cmd: list[str], *, env: dict[str, str], what: str, work: Path, progress: Progress,
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


def _sha256_file(path: Path) -> str:
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


def _signature_ok(manifest: dict[str, Any]) -> bool:
    given = manifest.get("signature")
    if not isinstance(given, str):
        return False
    for secret in (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])):
        expected = salted_hmac(SIGNATURE_SALT, _canonical(manifest), secret=secret,
                               algorithm="sha256").hexdigest()
        if hmac.compare_digest(expected, given):
            return True
    return False


def _applied_migrations() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        return sorted(f"{app}.{name}" for app, name in cursor.fetchall())


# --- connection details for the dump tools -------------------------------------------------


def _params() -> dict[str, Any]:
    """How Django connects (``get_connection_params``: OPTIONS such as ssl included), the
    one source of connection details for the tools and for creating the database."""
    return dict(connection.get_connection_params())


def _libpq_params(**override: Any) -> dict[str, str]:
    """The connection parameters libpq understands, as strings."""
    from psycopg import pq

    known = {d.keyword.decode() for d in pq.Conninfo.get_defaults()}
    params = {**_params(), **override}
    return {k: str(v) for k, v in params.items() if k in known and v not in (None, "")}


def _pg_tool_env_and_conninfo(**override: Any) -> tuple[dict[str, str], str]:
    """(environment, conninfo) for pg_dump, pg_restore and psql: the password travels in
    PGPASSWORD, never on a command line."""
    from psycopg.conninfo import make_conninfo

    params = _libpq_params(**override)
    env = _clean_env()
    if "password" in params:
        env["PGPASSWORD"] = params.pop("password")
    return env, make_conninfo(**params)


def _option_value(value: Any) -> str:
    text = str(value)
    if any(c in text for c in "\n\r\0"):
        raise BackupError("The database setting holds a line break; it cannot be passed to "
                          "the MariaDB tools.")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _mysql_option_file(folder: Path) -> Path:
    """A [client] option file of mode 0600 in our private temporary folder: the password
    never appears on a command line or in the environment of other users' ``ps``."""
    params = _params()
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


def _mysql_name() -> str:
    name = str(_db()["NAME"])
    if not name or name.startswith("-") or "`" in name:
        raise BackupError(f"Unusable database name for the MariaDB tools: {name!r}.")
    return name


# --- backup ----------------------------------------------------------------------------------


def _default_output(vendor: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(settings.VAR_DIR) / "backups" / f"jifen-{vendor}-{stamp}.tar"


def _dump_sqlite(target: Path, work: Path, progress: Progress) -> tuple[list[str], str, int]:
    source = Path(_db()["NAME"])
    if str(source) == ":memory:" or not source.exists():
        raise BackupError(f"There is no SQLite database at {source}.")
    snapshot = work / "snapshot.sqlite3"
    started = time.monotonic()
    progress(f"Copying the SQLite database {source} through its online backup API...")
    src = sqlite3.connect(source, timeout=60)
    dst = sqlite3.connect(snapshot)
    try:
        # One step (pages=-1): a single read transaction, so the copy is one consistent
        # state however much the server writes meanwhile (WAL lets it go on writing).
        src.backup(dst)
        check = dst.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"The copy of the database fails SQLite's check: {check}")
        dst.execute("PRAGMA journal_mode=DELETE")
        migrations = sorted(f"{a}.{n}" for a, n in
                            dst.execute("SELECT app, name FROM django_migrations"))
        server = sqlite3.sqlite_version
    finally:
        dst.close()
        src.close()
    content = snapshot.stat().st_size
    progress(f"  {_size(content)} in {time.monotonic() - started:.1f}s; compressing...")
    with open(snapshot, "rb") as raw, gzip.open(target, "wb", compresslevel=6) as packed:
        shutil.copyfileobj(raw, packed, CHUNK)
    snapshot.unlink()
    return migrations, server, content


def _dump_postgresql(target: Path, work: Path,
                     progress: Progress) -> tuple[list[str], str, int]:
    db = _db()
    before = _applied_migrations()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    progress(f"Dumping PostgreSQL database {db['NAME']} with pg_dump (custom format)...")
    started = time.monotonic()
    env, conninfo = _pg_tool_env_and_conninfo()
    _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
          f"--file={target}", f"--dbname={conninfo}"], env=env, what="pg_dump", work=work,
         progress=progress)
    if _applied_migrations() != before:
        raise BackupError("Migrations ran during the backup; run it again.")
    progress(f"  {_size(target.stat().st_size)} in {time.monotonic() - started:.1f}s.")
    return before, server, target.stat().st_size


def _dump_mysql(target: Path, work: Path, progress: Progress) -> tuple[list[str], str, int]:
    name = _mysql_name()
    before = _applied_migrations()
    with connection.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        server = cursor.fetchone()[0]
    options = _mysql_option_file(work)
    cmd = [_tool("mariadb-dump", "mysqldump"), f"--defaults-extra-file={options}",
           "--single-transaction", "--quick", "--skip-lock-tables", "--skip-add-locks",
           "--triggers", "--hex-blob", "--no-tablespaces", "--default-character-set=utf8mb4",
           name]
    progress(f"Dumping MariaDB database {name} with mariadb-dump --single-transaction...")
    started = time.monotonic()
    written = 0

    def drain(proc: subprocess.Popen[bytes]) -> None:
        nonlocal written
        assert proc.stdout is not None
        last = time.monotonic()
        with gzip.open(target, "wb", compresslevel=6) as out:
            while chunk := proc.stdout.read(CHUNK):
                out.write(chunk)
                written += len(chunk)
                if time.monotonic() - last > 5:
                    progress(f"  {_size(written)} so far...")
                    last = time.monotonic()

    try:
        _run(cmd, env=_clean_env(), what="mariadb-dump", work=work, progress=progress,
             stdout=subprocess.PIPE, pump=drain)
    finally:
        options.unlink()
    if _applied_migrations() != before:
        raise BackupError("Migrations ran during the backup; run it again.")
    progress(f"  {_size(written)} of SQL ({_size(target.stat().st_size)} compressed) in "
             f"{time.monotonic() - started:.1f}s.")
    return before, server, written


def _walk(root: Path) -> Iterator[tuple[str, Path]]:
    """(name inside the root, path) for every regular file under ``root``; links are not
    followed and not stored, and their names are reported by the caller's progress."""
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        # A linked folder is not entered; name it so the caller can say it was skipped.
        files += [d for d in dirs if (Path(folder) / d).is_symlink()]
        for name in sorted(files):
            path = Path(folder) / name
            yield path.relative_to(root).as_posix(), path


class _Changed(Exception):
    pass


class _HashingReader:
    """Reads exactly ``size`` bytes of a file for tarfile while hashing them."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.handle.read(n)
        self.digest.update(data)
        return data


def _file_entries(progress: Progress) -> list[tuple[str, Path, int, str]]:
    entries = []
    for prefix, root in (("media", Path(settings.MEDIA_ROOT)),
                         ("private", Path(settings.PRIVATE_ROOT))):
        count, total, last = 0, 0, time.monotonic()
        for relative, path in _walk(root):
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode):
                progress(f"  skipped {path}: not a regular file (links are not backed up)")
                continue
            entries.append((f"{prefix}/{relative}", path, info.st_size, _sha256_file(path)))
            count += 1
            total += info.st_size
            if time.monotonic() - last > 5:
                progress(f"  {prefix}: {count} files, {_size(total)} so far...")
                last = time.monotonic()
        progress(f"Files in {prefix} ({root}): {count}, {_size(total)}.")
    return entries


def _write_archive(path: Path, manifest: dict[str, Any], dump: Path,
                   files: list[tuple[str, Path, int, str]], progress: Progress) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w",
                                                  format=tarfile.PAX_FORMAT) as tar:
        now = int(time.time())

        def member(name: str, size: int) -> tarfile.TarInfo:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = size, now, 0o600
            return info

        body = json.dumps(manifest, indent=1, sort_keys=True).encode()
        tar.addfile(member(MANIFEST, len(body)), fileobj=io.BytesIO(body))
        with open(dump, "rb") as handle:
            tar.addfile(member(dump.name, dump.stat().st_size), fileobj=handle)
        last = time.monotonic()
        for index, (name, source, size, sha) in enumerate(files, 1):
            try:
                handle = open(source, "rb")  # noqa: SIM115 - closed below
            except OSError as exc:
                raise _Changed(f"{source}: {exc}") from exc
            with handle:
                if os.fstat(handle.fileno()).st_size != size:
                    raise _Changed(str(source))
                reader = _HashingReader(handle)
                try:
                    tar.addfile(member(name, size), fileobj=reader)
                except OSError as exc:  # tarfile: "unexpected end of data"
                    raise _Changed(f"{source}: {exc}") from exc
                if reader.digest.hexdigest() != sha:
                    raise _Changed(str(source))
            if time.monotonic() - last > 5:
                progress(f"  archived {index}/{len(files)} files...")
                last = time.monotonic()
        raw.flush()
        os.fsync(raw.fileno())


def create_backup(*, output: Path | None = None, progress: Progress = _quiet) -> Path:
    """Write a backup of the database named by JIFEN_DATABASE_URL and of the uploaded
    files to ``output`` (a file, or a folder to put it in; var/backups/ by default) and
    return its path. The file appears under its name only when complete (mode 0600)."""
    vendor = _vendor()
    if vendor not in VENDORS:
        raise BackupError(f"Backups of {vendor} databases are not supported.")
    path = _default_output(vendor) if output is None else Path(output)
    if path.is_dir():
        path = path / _default_output(vendor).name
    if path.exists():
        raise BackupError(f"{path} exists already; name another file.")
    for root in (Path(settings.MEDIA_ROOT), Path(settings.PRIVATE_ROOT)):
        if path.parent.resolve().is_relative_to(root.resolve()):
            # It would back itself up, and under MEDIA_ROOT anyone could download it.
            raise BackupError(f"Write the backup outside {root}: it holds password hashes "
                              f"and private files.")
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    # The dump is written beside the archive (not in a small /tmp) in a private folder.
    work = Path(tempfile.mkdtemp(prefix=".jifen-backup-", dir=path.parent))
    partial = path.with_name(f".{path.name}.partial")
    try:
        dump = work / DATABASE_MEMBER[vendor]
        dumper = {"sqlite": _dump_sqlite, "postgresql": _dump_postgresql,
                  "mysql": _dump_mysql}[vendor]
        migrations, server, content = dumper(dump, work, progress)
        # content_size: what the member unpacks to, the limit a restore holds it to.
        database = {"member": dump.name, "size": dump.stat().st_size,
                    "sha256": _sha256_file(dump), "content_size": content,
                    "server_version": server}
        for attempt in range(3):
            files = _file_entries(progress)
            manifest = sign_manifest({
                "format": FORMAT, "jifen_version": _version(), "vendor": vendor,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "migrations": migrations, "database": database,
                "files": [{"path": n, "size": s, "sha256": h} for n, _, s, h in files],
            })
            progress(f"Writing {path}...")
            try:
                _write_archive(partial, manifest, dump, files, progress)
                break
            except _Changed as exc:
                partial.unlink(missing_ok=True)
                if attempt == 2:
                    raise BackupError(f"Files keep changing during the backup ({exc}); "
                                      f"run it again when uploads are quiet.") from exc
                progress(f"  {exc} changed while it was archived; reading the files again.")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    progress(f"Backup complete: {_size(path.stat().st_size)} in "
             f"{time.monotonic() - started:.1f}s.")
    return path


# --- reading an archive (untrusted) ----------------------------------------------------------


def _safe_name(name: str) -> bool:
    """A plain relative POSIX name: no absolute path, no ``..`` or ``.`` part, no empty
    part, no backslash, control or other unprintable character (names that mean other
    paths elsewhere)."""
    if not name or len(name) > 1024 or name.startswith("/") or "\\" in name:
        return False
    if not name.isprintable():  # C0 and C1 controls, bidi overrides, line separators
        return False
    parts = name.split("/")
    return all(p not in ("", ".", "..") for p in parts) and posixpath.normpath(name) == name


def _check_manifest(manifest: Any) -> dict[str, Any]:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveRefused("This is not a jifen backup (no manifest of format "
                      f"{FORMAT}).")
    vendor = manifest.get("vendor")
    database = manifest.get("database")
    files = manifest.get("files")
    migrations = manifest.get("migrations")
    if (vendor not in VENDORS or not isinstance(database, dict)
            or database.get("member") != DATABASE_MEMBER[vendor]
            or not isinstance(files, list) or not isinstance(migrations, list)
            or not all(isinstance(m, str) for m in migrations)):
        raise ArchiveRefused("The backup's manifest is damaged.")
    content = database.get("content_size")
    if not isinstance(content, int) or isinstance(content, bool) or content < 0:
        raise ArchiveRefused("The backup's manifest is damaged.")
    for entry in [database, *files]:
        if (not isinstance(entry, dict) or not isinstance(entry.get("size"), int)
                or isinstance(entry.get("size"), bool) or entry["size"] < 0
                or not isinstance(entry.get("sha256"), str)
                or not _SHA256.fullmatch(entry["sha256"])):
            raise ArchiveRefused("The backup's manifest is damaged.")
    for entry in files:
        path = entry.get("path")
        if (not isinstance(path, str) or not _safe_name(path)
                or path.split("/")[0] not in FILE_ROOTS or path.count("/") < 1):
            raise ArchiveRefused(f"The backup names a file outside its folders: "
                                 f"{shown(path)}; refused.")
    return manifest


def _write(out: IO[bytes], chunk: bytes, path: Path) -> None:
    """Write (an empty chunk: flush) a staged file; a full disk is this machine's failure
    (exit 1), not a damaged archive."""
    try:
        if chunk:
            out.write(chunk)
        else:
            out.flush()
    except OSError as exc:
        raise BackupError(f"Could not write {path} while checking the backup: "
                          f"{exc.strerror or exc}. Free some space or use --temp-dir.") from exc


def _check_sizes(manifest: dict[str, Any], archive_size: int, staging: Path) -> None:
    """The sizes the manifest claims fit in the archive (members are stored, not
    compressed), the SQLite member unpacks to at most MAX_RATIO times its size, and the
    staging folder has room for all of it: a small file must not fill the disk."""
    database = manifest["database"]
    stored = database["size"] + sum(entry["size"] for entry in manifest["files"])
    if stored > archive_size:
        raise ArchiveRefused("The backup's manifest lists more bytes than the archive holds: "
                             "it is damaged or was altered.")
    unpacked = database["content_size"] if manifest["vendor"] == "sqlite" else 0
    if unpacked > max(database["size"], 1) * MAX_RATIO:
        raise ArchiveRefused("The backup's database claims to unpack to more than a gzip "
                             "file of its size can hold: it is damaged or was altered.")
    needed = stored + unpacked + FREE_SPACE_MARGIN
    free = shutil.disk_usage(staging).free
    if needed > free:
        raise BackupError(f"Not enough free space in {staging.parent.parent} to check the "
                          f"backup: it needs {_size(needed)}, {_size(free)} are free. Free "
                          f"some, or point --temp-dir at a larger folder.")


def _stage_member(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path,
                  expected: dict[str, Any]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    source = tar.extractfile(member)
    if source is None:  # pragma: no cover - only regular files reach here
        raise ArchiveRefused(f"Unreadable member {member.name!r}.")
    digest = hashlib.sha256()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    written = 0
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > expected["size"]:
                break
            digest.update(chunk)
            _write(out, chunk, target)
        _write(out, b"", target)
    if written != expected["size"] or digest.hexdigest() != expected["sha256"]:
        raise ArchiveRefused(f"{member.name} does not match its checksum: the backup is damaged "
                      f"or was altered.")


def read_archive(archive: Path, staging: Path, *, trust_origin: bool = False,
                 progress: Progress = _quiet, vendor: str | None = None) -> dict[str, Any]:
    """Check ``archive`` completely and unpack it into the empty folder ``staging``;
    return its manifest. Raises ``ArchiveRefused`` for anything but a whole, untouched
    backup (and, unless ``trust_origin``, one signed with this installation's key)."""
    try:
        size = archive.stat().st_size
        _scan_headers(archive)
        # "r|": a plain tar read as a stream (backups are never compressed as a whole).
        tar = tarfile.open(archive, mode="r|")  # noqa: SIM115 - closed below
    except FileNotFoundError as exc:
        raise BackupError(f"{archive}: no such file.") from exc
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ArchiveRefused(f"{archive} is not a readable backup archive ({exc}).") from exc
    try:
        with tar:
            return _read_members(tar, staging, trust_origin=trust_origin, progress=progress,
                                 archive_size=size, vendor=vendor)
    except (tarfile.TarError, EOFError, OSError, gzip.BadGzipFile) as exc:
        raise ArchiveRefused(f"{archive} is damaged: {exc}") from exc


def _scan_headers(archive: Path) -> None:
    """Walk the archive's 512-byte headers before tarfile reads it, refusing an extended
    header (PAX ``x``/``g``, GNU long name ``L``/``K``) over HEADER_LIMIT: tarfile would
    hold it whole in memory before any signature can be checked. Anything else odd is left
    to tarfile, which refuses it."""
    with open(archive, "rb") as raw:
        offset = 0
        while len(block := raw.read(512)) == 512 and block != bytes(512):
            try:
                size = tarfile.nti(block[124:136])
            except tarfile.InvalidHeaderError:
                return
            if block[156:157] in (b"x", b"g", b"L", b"K") and size > HEADER_LIMIT:
                raise ArchiveRefused(f"The archive holds an extended header of {_size(size)}; "
                                     f"a backup's are a few hundred bytes. Refused.")
            if size < 0:
                return
            offset += 512 + (size + 511) // 512 * 512
            raw.seek(offset)


def _read_members(tar: tarfile.TarFile, staging: Path, *, trust_origin: bool,
                  progress: Progress, archive_size: int,
                  vendor: str | None) -> dict[str, Any]:
    manifest: dict[str, Any] | None = None
    expected: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    count, last = 0, time.monotonic()
    for member in tar:
        name = member.name
        if not _safe_name(name):
            raise ArchiveRefused(f"The archive holds an unsafe name {shown(name)} (an "
                                 f"absolute path, '..' or the like); refused.")
        if not member.isreg() or member.issparse():
            raise ArchiveRefused(f"The archive holds {shown(name)}, which is not a plain "
                                 f"regular file (a link, folder, device or sparse file); "
                                 f"refused.")
        if manifest is None:
            if name != MANIFEST or member.size > MANIFEST_LIMIT:
                raise ArchiveRefused("This is not a jifen backup: it does not start with its "
                              "manifest.")
            handle = tar.extractfile(member)
            assert handle is not None
            try:
                manifest = _check_manifest(json.loads(handle.read()))
            except (ValueError, UnicodeDecodeError, RecursionError) as exc:
                raise ArchiveRefused("The backup's manifest is damaged.") from exc
            if not _signature_ok(manifest):
                if not trust_origin:
                    raise ArchiveRefused("The backup's signature does not match this "
                                  "installation's "
                                  "secret key: it was made by another installation (another "
                                  "JIFEN_SECRET_KEY) or altered. If you know where it comes "
                                  "from, run again with --trust-origin.")
                progress("Warning: the signature does not match this installation's key; "
                         "restoring anyway (--trust-origin).")
            if vendor is not None and manifest["vendor"] != vendor:
                raise ArchiveRefused(f"This is a backup of a {manifest['vendor']} database; "
                                     f"JIFEN_DATABASE_URL names a {vendor} database. Restore "
                                     f"it into a {manifest['vendor']} database.")
            database = manifest["database"]
            _check_sizes(manifest, archive_size, staging)
            expected = {database["member"]: database}
            for entry in manifest["files"]:
                if entry["path"] in expected:
                    raise ArchiveRefused(f"The manifest lists {shown(entry['path'])} twice.")
                expected[entry["path"]] = entry
            progress(f"Backup of {manifest['vendor']} from jifen "
                     f"{shown(manifest.get('jifen_version'))}, made "
                     f"{shown(manifest.get('created_at'))}: {len(manifest['files'])} files.")
            continue
        if name in seen or name == MANIFEST:
            raise ArchiveRefused(f"The archive holds {shown(name)} twice; refused.")
        if name not in expected:
            raise ArchiveRefused(f"The archive holds {shown(name)}, which its manifest does "
                                 f"not list; "
                          f"refused.")
        if member.size != expected[name]["size"]:
            raise ArchiveRefused(f"{name} has another size than its manifest says: the backup is "
                          f"damaged or was altered.")
        seen.add(name)
        _stage_member(tar, member, staging / name, expected[name])
        count += 1
        if time.monotonic() - last > 5:
            progress(f"  checked {count}/{len(expected)} members...")
            last = time.monotonic()
    if manifest is None:
        raise ArchiveRefused("The archive is empty.")
    missing = sorted(set(expected) - seen)
    if missing:
        raise ArchiveRefused(f"The backup is incomplete: {len(missing)} member(s) missing, e.g. "
                      f"{missing[0]}.")
    return manifest


# --- restore -------------------------------------------------------------------------------


def _known_migrations() -> tuple[set[str], set[str]]:
    """(every migration the code knows, the leaves it ends at)."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = {f"{app}.{name}" for app, name in loader.disk_migrations}
    for migration in loader.disk_migrations.values():
        known |= {f"{app}.{name}" for app, name in migration.replaces}
    return known, {f"{app}.{name}" for app, name in loader.graph.leaf_nodes()}


def _database_exists_or_create(progress: Progress) -> None:
    vendor, db = _vendor(), _db()
    if vendor == "sqlite":
        Path(db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        return
    from django.db.utils import OperationalError

    try:
        connection.ensure_connection()
        return
    except OperationalError:
        connection.close()
    if vendor == "postgresql":
        import psycopg
        from psycopg import sql

        with psycopg.connect(**_libpq_params(dbname="postgres"), autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                 [db["NAME"]]).fetchone()
            if found:
                raise BackupError(f"Cannot connect to database {db['NAME']}.")
            progress(f"Creating PostgreSQL database {db['NAME']}...")
            conn.execute(sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0")
                         .format(sql.Identifier(db["NAME"])))
    else:
        import MySQLdb

        kwargs = {k: v for k, v in _params().items() if k not in ("database", "db")}
        name = _mysql_name()
        progress(f"Creating MariaDB database {name}...")
        conn = MySQLdb.connect(**kwargs)
        try:
            conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{name}` "
                                  f"CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        finally:
            conn.close()
    connection.ensure_connection()


def _tables_with_rows() -> list[str]:
    if _vendor() == "sqlite" and not Path(_db()["NAME"]).exists():
        return []
    found = []
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            if table in BOOKKEEPING_TABLES:
                continue
            cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")
            if cursor.fetchone():
                found.append(table)
    return found


def _folder_has_files(root: Path) -> bool:
    return root.is_dir() and any(files for _, _, files in os.walk(root))


def _drop_statements() -> list[str]:
    """What empties the target (every table, view and sequence; on PostgreSQL also our
    functions and types, not an extension's). Not run here: the tool that loads the backup
    runs them first in its own session (on PostgreSQL in the load's one transaction)."""
    vendor = _vendor()
    if vendor == "sqlite":
        return []  # the online backup API replaces the whole file's content
    quote = connection.ops.quote_name
    statements: list[str] = []
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("""
                SELECT c.relkind, format('%I.%I', n.nspname, c.relname) FROM pg_class c
                  JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = current_schema() AND c.relkind IN ('r','p','v','m','S')""")
            rows = cursor.fetchall()
            kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW",
                     "S": "SEQUENCE"}
            for kind in ("VIEW", "MATERIALIZED VIEW", "TABLE", "SEQUENCE"):
                names = [n for k, n in rows if kinds[k] == kind]
                if names:
                    statements.append(f"DROP {kind} IF EXISTS {', '.join(names)} CASCADE")
            cursor.execute("""
                SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE'
                       ELSE 'FUNCTION' END,
                       format('%I.%I(%s)', n.nspname, p.proname,
                              pg_get_function_identity_arguments(p.oid))
                  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                 WHERE n.nspname = current_schema() AND p.prokind <> 'w'
                   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid
                                      AND d.deptype = 'e')""")
            statements += [f"DROP {kind} IF EXISTS {name} CASCADE"
                           for kind, name in cursor.fetchall()]
            cursor.execute("""
                SELECT format('%I.%I', n.nspname, t.typname) FROM pg_type t
                  JOIN pg_namespace n ON n.oid = t.typnamespace
                 WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd', 'r', 'm')
                   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid
                                      AND d.deptype = 'e')""")
            statements += [f"DROP TYPE IF EXISTS {name} CASCADE" for (name,) in cursor.fetchall()]
        else:
            cursor.execute("SELECT table_name, table_type FROM information_schema.tables "
                           "WHERE table_schema = DATABASE()")
            rows = cursor.fetchall()
            statements.append("SET FOREIGN_KEY_CHECKS = 0")
            statements += [f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} IF EXISTS "
                           f"{quote(name)}" for name, kind in rows]
            statements.append("SET FOREIGN_KEY_CHECKS = 1")
    connection.close()
    return statements


def _unpack_limited(packed: IO[bytes], out: IO[bytes] | None, limit: int,
                    needle: bytes = b"") -> bool:
    """Read a whole gzip stream (into ``out`` if given), refusing a damaged one and more
    than ``limit`` bytes (a member that unpacks to far more than its manifest says is a
    bomb, not a backup); says whether ``needle`` occurs in it."""
    total, found, tail = 0, not needle, b""
    while True:
        try:
            chunk = packed.read(CHUNK)
        except (OSError, EOFError, zlib.error) as exc:
            raise ArchiveRefused(f"The backup's database does not unpack: {exc}") from exc
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise ArchiveRefused("The backup's database unpacks to more than its manifest "
                                 "says.")
        if not found:
            found = needle in tail + chunk
            tail = chunk[-len(needle):]
        if out is not None:
            _write(out, chunk, Path(out.name))
    if out is not None:
        _write(out, b"", Path(out.name))
    return found


def _check_dump(vendor: str, dump: Path, work: Path, content_size: int,
                migrations: list[str], progress: Progress) -> Path:
    """The database member is what its vendor's tool reads, and the tools that will load it
    are here and safe, before the target changes; returns the file to load."""
    if vendor == "postgresql":
        with open(dump, "rb") as raw:
            if raw.read(5) != b"PGDMP":
                raise ArchiveRefused("The backup's database is not a pg_dump custom-format "
                                     "file.")
        _tool("psql")
        env, _ = _pg_tool_env_and_conninfo()
        listing = work / "dump.list"
        try:
            _run([_tool("pg_restore"), "--list", f"--file={listing}", str(dump)], env=env,
                 what="pg_restore --list", work=work, progress=progress)
        except BackupError as exc:
            raise ArchiveRefused(f"pg_restore cannot read the backup's database: {exc}") from exc
        if not re.search(r"^\d+; \d+ \d+ TABLE DATA \S+ django_migrations ",
                         listing.read_text(errors="replace"), re.MULTILINE):
            raise ArchiveRefused("The backup's database dump holds no jifen database (no "
                                 "django_migrations data); refused.")
        return dump
    if vendor == "mysql":
        with open(dump, "rb") as raw:
            if raw.read(2) != b"\x1f\x8b":
                raise ArchiveRefused("The backup's database is not a compressed SQL dump.")
        with gzip.open(dump, "rb") as packed:  # whole and within its size, before any change
            if not _unpack_limited(packed, None, content_size, b"INSERT INTO `django_migrations`"):
                raise ArchiveRefused("The backup's SQL holds no jifen database (no "
                                     "django_migrations data); refused.")
        client = _tool("mariadb", "mysql")
        usage = subprocess.run([client, "--no-defaults", "--help"], capture_output=True,
                               env=_clean_env(), timeout=60, check=False)
        if b"--sandbox" not in usage.stdout:
            raise BackupError(f"{client} has no --sandbox mode, which keeps a backup's SQL "
                              f"from running commands or reading files; install MariaDB's "
                              f"client 10.5.25, 10.6.18, 10.11.8, 11.0.6 or newer.")
        return dump
    snapshot = work / "restore.sqlite3"
    with gzip.open(dump, "rb") as packed, open(snapshot, "wb") as raw:
        _unpack_limited(packed, raw, content_size)
    with open(snapshot, "rb") as raw:
        if raw.read(16) != b"SQLite format 3\x00":
            raise ArchiveRefused("The backup's database is not an SQLite database.")
    src = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
    try:
        src.execute("PRAGMA trusted_schema = OFF")
        check = src.execute("PRAGMA integrity_check").fetchone()[0]
        if check == "ok" and sorted(f"{a}.{n}" for a, n in src.execute(
                "SELECT app, name FROM django_migrations")) != sorted(migrations):
            raise ArchiveRefused("The backup's database does not hold the migrations its "
                                 "manifest lists; refused.")
    except sqlite3.DatabaseError as exc:
        raise ArchiveRefused(f"The backup's database is not a sound SQLite database: "
                             f"{exc}") from exc
    finally:
        src.close()
    if check != "ok":
        raise ArchiveRefused(f"The backup's database fails SQLite's integrity check: "
                             f"{shown(check)}")
    return snapshot


def _load_sqlite(snapshot: Path, work: Path, progress: Progress, drops: list[str],
                 migrations: int) -> None:
    """One step of the online backup API: the target's content is replaced in one write
    transaction, whole or not at all."""
    connection.close()
    src = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
    target = sqlite3.connect(_db()["NAME"], timeout=60)
    try:
        progress("Writing the SQLite database through its online backup API...")
        src.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as exc:
        raise BackupError(f"Writing the SQLite database failed: {exc}") from exc
    finally:
        target.close()
        src.close()


def _load_postgresql(dump: Path, work: Path, progress: Progress, drops: list[str],
                     migrations: int) -> None:
    """pg_restore writes the dump as SQL, fed to one psql session that first drops the
    target's objects: ``--single-transaction`` and ON_ERROR_STOP make the drop and the
    load one transaction. psql's stdin is closed (its COMMIT) only once pg_restore has
    succeeded; otherwise psql is killed and the server rolls everything back.
    ``--restrict-key`` keeps psql from running meta-commands (``\\!``) from the dump."""
    env, conninfo = _pg_tool_env_and_conninfo()
    with connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(current_schema())")
        schema = cursor.fetchone()[0]
    connection.close()
    drop_file = work / "drop.sql"
    drop_file.write_text("".join(f"{statement};\n" for statement in drops))
    # Last in the transaction: the dump held the database the signed manifest describes
    # (a dump pg_restore reads as empty would otherwise leave an empty database).
    check_file = work / "check.sql"
    check_file.write_text(
        f"DO $$ BEGIN IF (SELECT count(*) FROM {schema}.django_migrations) <> {migrations} "
        f"THEN RAISE EXCEPTION 'the dump does not hold the migrations its manifest lists'; "
        f"END IF; END $$;\n")
    restore = [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
               f"--restrict-key={secrets.token_hex(16)}", "--file=-", str(dump)]
    psql = [_tool("psql"), "--no-psqlrc", "--quiet", "--single-transaction",
            "--set=ON_ERROR_STOP=1", f"--dbname={conninfo}", f"--file={drop_file}", "--file=-",
            f"--file={check_file}"]

    def feed(loader: subprocess.Popen[bytes]) -> None:
        assert loader.stdin is not None
        loader_stopped = False

        def copy(writer: subprocess.Popen[bytes]) -> None:
            nonlocal loader_stopped
            assert writer.stdout is not None
            try:
                while chunk := writer.stdout.read(CHUNK):
                    loader.stdin.write(chunk)
            except BrokenPipeError:
                loader_stopped = True  # psql stopped on an error: its exit says which

        try:
            _run(restore, env=env, what="pg_restore", work=work, progress=progress,
                 stdout=subprocess.PIPE, pump=copy)
        except BackupError:
            if not loader_stopped:
                raise  # psql is killed before its COMMIT: the server rolls back
            # psql stopped first, and pg_restore failed writing to it: psql's error counts

    progress(f"Restoring into PostgreSQL database {_db()['NAME']} in one transaction "
             f"(pg_restore | psql)...")
    _run(psql, env=env, what="psql", work=work, progress=progress, stdin=subprocess.PIPE,
         pump=feed)


def _load_mysql(dump: Path, work: Path, progress: Progress, drops: list[str],
                migrations: int) -> None:
    """The mariadb client, in sandbox mode (no shell commands, no reading or writing files
    through it) and without LOAD DATA LOCAL, drops the target's tables and loads the SQL in
    one session. MariaDB commits every DDL statement: a failure part-way leaves a partly
    loaded database (docs/backup.md), which is why everything is checked first."""
    name = _mysql_name()
    options = _mysql_option_file(work)
    connection.close()
    progress(f"Restoring into MariaDB database {name} with the mariadb client...")
    cmd = [_tool("mariadb", "mysql"), f"--defaults-extra-file={options}", "--sandbox",
           "--local-infile=0", "--batch", f"--database={name}"]

    def feed(proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None
        fed, last = 0, time.monotonic()
        with contextlib.suppress(BrokenPipeError):  # the client stopped: its exit says why
            proc.stdin.write("".join(f"{statement};\n" for statement in drops).encode())
            with gzip.open(dump, "rb") as packed:
                while chunk := packed.read(CHUNK):
                    proc.stdin.write(chunk)
                    fed += len(chunk)
                    if time.monotonic() - last > 5:
                        progress(f"  {_size(fed)} of SQL loaded...")
                        last = time.monotonic()
            # Fails the client (exit 1) unless the dump held the manifest's migrations.
            proc.stdin.write(f"SELECT IF((SELECT COUNT(*) FROM django_migrations) = "
                             f"{migrations}, 1, (SELECT 1 UNION SELECT 2)) AS "
                             f"migrations_match_the_manifest;\n".encode())

    try:
        _run(cmd, env=_clean_env(), what="The mariadb client", work=work, progress=progress,
             stdin=subprocess.PIPE, pump=feed)
    finally:
        options.unlink()


# --- files: prepared beside the live folders, swapped in once the database is loaded ---------


@dataclass
class _Folder:
    prefix: str
    root: Path
    file_mode: int
    dir_mode: int
    new: Path | None = None
    old: Path | None = None
    moved_out: list[str] = field(default_factory=list)
    moved_in: list[str] = field(default_factory=list)


def _folders() -> list[_Folder]:
    return [_Folder("media", Path(settings.MEDIA_ROOT), 0o644, 0o755),
            _Folder("private", Path(settings.PRIVATE_ROOT), 0o600, 0o700)]


def _make_dirs(root: Path, relative: Path, mode: int) -> None:
    """Each missing level of ``root/relative`` created with ``mode`` (exactly: 0700 under
    private/ whatever the umask)."""
    path = root
    for part in relative.parts:
        path = path / part
        if not path.is_dir():
            path.mkdir()
            os.chmod(path, mode)


def _check_folders(folders: list[_Folder]) -> None:
    """Every folder the files go to can take them, before anything changes."""
    for folder in folders:
        root = folder.root
        if root.exists() and not root.is_dir():
            raise BackupError(f"{root} is not a folder; cannot restore files into it.")
        existing = root
        while not existing.exists():
            existing = existing.parent
        if not os.access(existing, os.W_OK | os.X_OK):
            raise BackupError(f"Cannot write in {existing}; files of the backup go to {root}.")


def _prepare_files(staging: Path, folders: list[_Folder], progress: Progress) -> int:
    """Copy the staged files into a hidden new folder inside each root (same file system,
    so the swap is renames); the live files are not touched yet."""
    count = 0
    for folder in folders:
        if not folder.root.is_dir():
            folder.root.parent.mkdir(parents=True, exist_ok=True)
            folder.root.mkdir()
            os.chmod(folder.root, folder.dir_mode)
        folder.new = folder.root / f".jifen-restore-new-{secrets.token_hex(4)}"
        folder.new.mkdir()
        os.chmod(folder.new, folder.dir_mode)
        for relative, source in _walk(staging / folder.prefix):
            target = folder.new / relative
            _make_dirs(folder.new, Path(relative).parent, folder.dir_mode)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                         folder.file_mode)
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                shutil.copyfileobj(src, out, CHUNK)
            count += 1
    progress(f"{count} files ready to go in.")
    return count


def _discard_prepared(folders: list[_Folder]) -> None:
    for folder in folders:
        if folder.new is not None:
            shutil.rmtree(folder.new, ignore_errors=True)


def _swap_files(folders: list[_Folder], progress: Progress) -> None:
    """Move what each root holds aside and the prepared files in (renames); undone if a
    rename fails. The moved-aside files are removed after the restore succeeds."""
    try:
        for folder in folders:
            assert folder.new is not None
            folder.old = folder.root / f".jifen-restore-old-{secrets.token_hex(4)}"
            folder.old.mkdir(mode=0o700)
            for entry in sorted(os.listdir(folder.root)):
                if folder.root / entry not in (folder.new, folder.old):
                    os.rename(folder.root / entry, folder.old / entry)
                    folder.moved_out.append(entry)
            for entry in sorted(os.listdir(folder.new)):
                os.rename(folder.new / entry, folder.root / entry)
                folder.moved_in.append(entry)
            folder.new.rmdir()
            progress(f"Restored {folder.prefix} files into {folder.root}.")
    except OSError as exc:
        for folder in folders:
            with contextlib.suppress(OSError):
                for entry in folder.moved_in:
                    os.rename(folder.root / entry, folder.new / entry)  # type: ignore[operator]
                for entry in folder.moved_out:
                    os.rename(folder.old / entry, folder.root / entry)  # type: ignore[operator]
        raise BackupError(f"The database is restored, but its files could not be put in place "
                          f"({exc}); the folders hold their files from before. Fix the cause "
                          f"and restore again with --force.") from exc


def _remove_replaced(folders: list[_Folder]) -> None:
    for folder in folders:
        if folder.old is not None:
            shutil.rmtree(folder.old, ignore_errors=True)


def _forget_cached_rows() -> None:
    from django.core.cache import cache

    from jifen.core.selectors import SITE_SETTINGS_CACHE_KEY
    from jifen.ledger.selectors import POLICY_CACHE_KEY

    cache.delete_many([SITE_SETTINGS_CACHE_KEY, POLICY_CACHE_KEY])


def restore_backup(*, archive: Path, force: bool = False, trust_origin: bool = False,
                   keep_sign_ins: bool = False, progress: Progress = _quiet,
                   migrate: Callable[[], None] | None = None,
                   temp_dir: Path | None = None) -> RestoreResult:
    """Restore ``archive`` into the database named by JIFEN_DATABASE_URL and the file
    folders. Everything about the archive, the tools and the folders is checked before the
    target changes; a target holding data is replaced only with ``force`` (database and
    folders: files not in the backup go). Migrations newer than the backup are applied
    afterwards (``migrate``); every web session and employee token ends unless
    ``keep_sign_ins``; then the ledger is verified (``breaches``)."""
    vendor = _vendor()
    if vendor == "sqlite" and str(_db()["NAME"]) == ":memory:":
        raise BackupError("JIFEN_DATABASE_URL names an in-memory SQLite database; name a file.")
    try:
        base = Path(temp_dir) if temp_dir else Path(settings.VAR_DIR)
        base.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".jifen-restore-", dir=base))
    except OSError as exc:
        raise BackupError(f"Cannot make a working folder to check the backup in: {exc}") from exc
    try:
        return _restore(Path(archive), work, force=force, trust_origin=trust_origin,
                        keep_sign_ins=keep_sign_ins, progress=progress, migrate=migrate)
    except OSError as exc:
        raise BackupError(f"The restore failed: {exc}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _restore(archive: Path, work: Path, *, force: bool, trust_origin: bool,
             keep_sign_ins: bool, progress: Progress,
             migrate: Callable[[], None] | None) -> RestoreResult:
    vendor = _vendor()
    staging = work / "staged"
    staging.mkdir()
    progress(f"Checking {archive}...")
    manifest = read_archive(archive, staging, trust_origin=trust_origin, progress=progress,
                            vendor=vendor)
    known, leaves = _known_migrations()
    unknown = sorted(set(manifest["migrations"]) - known)
    if unknown:
        raise ArchiveRefused(
            f"The backup comes from a newer jifen ({shown(manifest.get('jifen_version'))})"
            f": migrations {shown(', '.join(unknown[:5]))} are unknown here. Install "
            f"that version or newer first.")
    dump = _check_dump(vendor, staging / manifest["database"]["member"], work,
                       manifest["database"]["content_size"], manifest["migrations"], progress)
    folders = _folders()
    _check_folders(folders)
    progress("The archive is whole and its checksums match.")

    _database_exists_or_create(progress)
    used = _tables_with_rows()
    holding = [str(f.root) for f in folders if _folder_has_files(f.root)]
    if (used or holding) and not force:
        what = []
        if used:
            what.append(f"the database {_db()['NAME']} holds data (in "
                        f"{', '.join(used[:5])}{' …' if len(used) > 5 else ''})")
        if holding:
            what.append(f"{' and '.join(holding)} hold files")
        raise TargetNotEmpty(f"Refused: {'; '.join(what)}. Restoring replaces them; run "
                             f"again with --force if that is what you want.")

    try:
        installed = _prepare_files(staging, folders, progress)
        drops = _drop_statements()
        started = time.monotonic()
        if drops:
            progress(f"The load first drops the target's {len(drops)} object group(s).")
        {"sqlite": _load_sqlite, "postgresql": _load_postgresql,
         "mysql": _load_mysql}[vendor](dump, work, progress, drops,
                                       len(manifest["migrations"]))
    except BaseException:
        _discard_prepared(folders)
        raise
    connection.close()
    progress(f"Database restored in {time.monotonic() - started:.1f}s.")
    _swap_files(folders, progress)
    _remove_replaced(folders)
    progress(f"{installed} files restored.")

    migrated = False
    if not leaves <= set(manifest["migrations"]):
        progress("The backup is older than this jifen: applying the newer migrations...")
        if migrate is None:
            from django.core.management import call_command

            call_command("migrate", interactive=False, verbosity=1)
        else:
            migrate()
        migrated = True
    _forget_cached_rows()
    sign_ins_ended = False
    if not keep_sign_ins:
        from jifen.people.services import end_every_sign_in

        end_every_sign_in()
        sign_ins_ended = True
    from jifen.integrations.models import ApiKey

    active_keys = ApiKey.objects.filter(revoked_at__isnull=True).count()
    from jifen.ledger.verify import verify_ledger

    progress("Verifying the ledger...")
    breaches = verify_ledger()
    return RestoreResult(manifest=manifest, migrated=migrated, breaches=breaches,
                         sign_ins_ended=sign_ins_ended, active_api_keys=active_keys)
