"""Loading a checked database dump into the target: its objects dropped first, then the
snapshot copied (SQLite), ``pg_restore`` into ``psql`` in one transaction (PostgreSQL) or
the SQL fed to the ``mariadb`` client in sandbox mode (MariaDB)."""

from __future__ import annotations

import contextlib
import gzip
import re
import secrets
import sqlite3
import subprocess
import time
import zlib
from pathlib import Path
from typing import IO

from django.db import connection

from jifen.core.backup.archive import write_chunk
from jifen.core.backup.common import (
    CHUNK,
    ArchiveRefused,
    BackupError,
    Progress,
    clean_env,
    db_settings,
    find_tool,
    human_size,
    mysql_name,
    mysql_option_file,
    pg_tool_env_and_conninfo,
    run_tool,
    shown,
    vendor_name,
)


def drop_statements() -> list[str]:
    """What empties the target (every table, view and sequence; on PostgreSQL also our
    functions and types, not an extension's). Not run here: the tool that loads the backup
    runs them first in its own session (on PostgreSQL in the load's one transaction)."""
    vendor = vendor_name()
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
            write_chunk(out, chunk, Path(out.name))
    if out is not None:
        write_chunk(out, b"", Path(out.name))
    return found


def check_dump(vendor: str, dump: Path, work: Path, content_size: int,
                migrations: list[str], progress: Progress) -> Path:
    """The database member is what its vendor's tool reads, and the tools that will load it
    are here and safe, before the target changes; returns the file to load."""
    if vendor == "postgresql":
        with open(dump, "rb") as raw:
            if raw.read(5) != b"PGDMP":
                raise ArchiveRefused("The backup's database is not a pg_dump custom-format "
                                     "file.")
        find_tool("psql")
        env, _ = pg_tool_env_and_conninfo()
        listing = work / "dump.list"
        try:
            run_tool([find_tool("pg_restore"), "--list", f"--file={listing}", str(dump)], env=env,
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
        client = find_tool("mariadb", "mysql")
        usage = subprocess.run([client, "--no-defaults", "--help"], capture_output=True,
                               env=clean_env(), timeout=60, check=False)
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


def load_sqlite(snapshot: Path, work: Path, progress: Progress, drops: list[str],
                 migrations: int) -> None:
    """One step of the online backup API: the target's content is replaced in one write
    transaction, whole or not at all."""
    connection.close()
    src = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
    target = sqlite3.connect(db_settings()["NAME"], timeout=60)
    try:
        progress("Writing the SQLite database through its online backup API...")
        src.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as exc:
        raise BackupError(f"Writing the SQLite database failed: {exc}") from exc
    finally:
        target.close()
        src.close()


def load_postgresql(dump: Path, work: Path, progress: Progress, drops: list[str],
                     migrations: int) -> None:
    """pg_restore writes the dump as SQL, fed to one psql session that first drops the
    target's objects: ``--single-transaction`` and ON_ERROR_STOP make the drop and the
    load one transaction. psql's stdin is closed (its COMMIT) only once pg_restore has
    succeeded; otherwise psql is killed and the server rolls everything back.
    ``--restrict-key`` keeps psql from running meta-commands (``\\!``) from the dump."""
    env, conninfo = pg_tool_env_and_conninfo()
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
    restore = [find_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
               f"--restrict-key={secrets.token_hex(16)}", "--file=-", str(dump)]
    psql = [find_tool("psql"), "--no-psqlrc", "--quiet", "--single-transaction",
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
            run_tool(restore, env=env, what="pg_restore", work=work, progress=progress,
                 stdout=subprocess.PIPE, pump=copy)
        except BackupError:
            if not loader_stopped:
                raise  # psql is killed before its COMMIT: the server rolls back
            # psql stopped first, and pg_restore failed writing to it: psql's error counts

    progress(f"Restoring into PostgreSQL database {db_settings()['NAME']} in one transaction "
             f"(pg_restore | psql)...")
    run_tool(psql, env=env, what="psql", work=work, progress=progress, stdin=subprocess.PIPE,
         pump=feed)


def load_mysql(dump: Path, work: Path, progress: Progress, drops: list[str],
                migrations: int) -> None:
    """The mariadb client, in sandbox mode (no shell commands, no reading or writing files
    through it) and without LOAD DATA LOCAL, drops the target's tables and loads the SQL in
    one session. MariaDB commits every DDL statement: a failure part-way leaves a partly
    loaded database (docs/backup.md), which is why everything is checked first."""
    name = mysql_name()
    options = mysql_option_file(work)
    connection.close()
    progress(f"Restoring into MariaDB database {name} with the mariadb client...")
    cmd = [find_tool("mariadb", "mysql"), f"--defaults-extra-file={options}", "--sandbox",
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
                        progress(f"  {human_size(fed)} of SQL loaded...")
                        last = time.monotonic()
            # Fails the client (exit 1) unless the dump held the manifest's migrations.
            proc.stdin.write(f"SELECT IF((SELECT COUNT(*) FROM django_migrations) = "
                             f"{migrations}, 1, (SELECT 1 UNION SELECT 2)) AS "
                             f"migrations_match_the_manifest;\n".encode())

    try:
        run_tool(cmd, env=clean_env(), what="The mariadb client", work=work, progress=progress,
             stdin=subprocess.PIPE, pump=feed)
    finally:
        options.unlink()

