"""`jifen backup`: a consistent snapshot of the database (SQLite's online backup API,
``pg_dump -Fc``, ``mariadb-dump --single-transaction``) and the uploaded files, in one
tar whose first member is the signed manifest."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connection

from jifen.core.backup.common import (
    CHUNK,
    DATABASE_MEMBER,
    FORMAT,
    MANIFEST,
    VENDORS,
    BackupError,
    Progress,
    applied_migrations,
    clean_env,
    db_settings,
    find_tool,
    human_size,
    installed_version,
    mysql_name,
    mysql_option_file,
    pg_tool_env_and_conninfo,
    quiet,
    run_tool,
    sha256_file,
    sign_manifest,
    vendor_name,
)

# --- backup ----------------------------------------------------------------------------------


def _default_output(vendor: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(settings.VAR_DIR) / "backups" / f"jifen-{vendor}-{stamp}.tar"


def _dump_sqlite(target: Path, work: Path, progress: Progress) -> tuple[list[str], str, int]:
    source = Path(db_settings()["NAME"])
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
    progress(f"  {human_size(content)} in {time.monotonic() - started:.1f}s; compressing...")
    with open(snapshot, "rb") as raw, gzip.open(target, "wb", compresslevel=6) as packed:
        shutil.copyfileobj(raw, packed, CHUNK)
    snapshot.unlink()
    return migrations, server, content


def _dump_postgresql(target: Path, work: Path,
                     progress: Progress) -> tuple[list[str], str, int]:
    db = db_settings()
    before = applied_migrations()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    progress(f"Dumping PostgreSQL database {db['NAME']} with pg_dump (custom format)...")
    started = time.monotonic()
    env, conninfo = pg_tool_env_and_conninfo()
    run_tool([find_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
          f"--file={target}", f"--dbname={conninfo}"], env=env, what="pg_dump", work=work,
         progress=progress)
    if applied_migrations() != before:
        raise BackupError("Migrations ran during the backup; run it again.")
    progress(f"  {human_size(target.stat().st_size)} in {time.monotonic() - started:.1f}s.")
    return before, server, target.stat().st_size


def _dump_mysql(target: Path, work: Path, progress: Progress) -> tuple[list[str], str, int]:
    name = mysql_name()
    before = applied_migrations()
    with connection.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        server = cursor.fetchone()[0]
    options = mysql_option_file(work)
    cmd = [find_tool("mariadb-dump", "mysqldump"), f"--defaults-extra-file={options}",
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
                    progress(f"  {human_size(written)} so far...")
                    last = time.monotonic()

    try:
        run_tool(cmd, env=clean_env(), what="mariadb-dump", work=work, progress=progress,
             stdout=subprocess.PIPE, pump=drain)
    finally:
        options.unlink()
    if applied_migrations() != before:
        raise BackupError("Migrations ran during the backup; run it again.")
    progress(f"  {human_size(written)} of SQL ({human_size(target.stat().st_size)} compressed) in "
             f"{time.monotonic() - started:.1f}s.")
    return before, server, written


def walk_files(root: Path) -> Iterator[tuple[str, Path]]:
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
        for relative, path in walk_files(root):
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode):
                progress(f"  skipped {path}: not a regular file (links are not backed up)")
                continue
            entries.append((f"{prefix}/{relative}", path, info.st_size, sha256_file(path)))
            count += 1
            total += info.st_size
            if time.monotonic() - last > 5:
                progress(f"  {prefix}: {count} files, {human_size(total)} so far...")
                last = time.monotonic()
        progress(f"Files in {prefix} ({root}): {count}, {human_size(total)}.")
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


def create_backup(*, output: Path | None = None, progress: Progress = quiet) -> Path:
    """Write a backup of the database named by JIFEN_DATABASE_URL and of the uploaded
    files to ``output`` (a file, or a folder to put it in; var/backups/ by default) and
    return its path. The file appears under its name only when complete (mode 0600)."""
    vendor = vendor_name()
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
                    "sha256": sha256_file(dump), "content_size": content,
                    "server_version": server}
        for attempt in range(3):
            files = _file_entries(progress)
            manifest = sign_manifest({
                "format": FORMAT, "jifen_version": installed_version(), "vendor": vendor,
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
    progress(f"Backup complete: {human_size(path.stat().st_size)} in "
             f"{time.monotonic() - started:.1f}s.")
    return path

