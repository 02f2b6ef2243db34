"""`jifen restore`: the archive checked, the target found empty (or ``--force``), the
files prepared beside the live folders, the database loaded, the folders swapped in, newer
migrations applied; then ``database_restored`` tells the apps (sign-ins end, caches drop,
the ledger is verified)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.utils import OperationalError

from jifen.core.backup.archive import read_archive
from jifen.core.backup.common import (
    BOOKKEEPING_TABLES,
    CHUNK,
    ArchiveRefused,
    BackupError,
    Progress,
    RestoreResult,
    TargetNotEmpty,
    connection_params,
    db_settings,
    libpq_params,
    mysql_name,
    quiet,
    shown,
    vendor_name,
)
from jifen.core.backup.create import walk_files
from jifen.core.backup.load import (
    check_dump,
    drop_statements,
    load_mysql,
    load_postgresql,
    load_sqlite,
)
from jifen.core.selectors import SITE_SETTINGS_CACHE_KEY
from jifen.core.signals import database_restored

# --- restore -------------------------------------------------------------------------------


def _known_migrations() -> tuple[set[str], set[str]]:
    """(every migration the code knows, the leaves it ends at)."""

    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = {f"{app}.{name}" for app, name in loader.disk_migrations}
    for migration in loader.disk_migrations.values():
        known |= {f"{app}.{name}" for app, name in migration.replaces}
    return known, {f"{app}.{name}" for app, name in loader.graph.leaf_nodes()}


def _database_exists_or_create(progress: Progress) -> None:
    vendor, db = vendor_name(), db_settings()
    if vendor == "sqlite":
        Path(db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        return

    try:
        connection.ensure_connection()
        return
    except OperationalError:
        connection.close()
    if vendor == "postgresql":
        # optional drivers: only the one of the vendor in use is installed
        import psycopg
        from psycopg import sql

        with psycopg.connect(**libpq_params(dbname="postgres"), autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                 [db["NAME"]]).fetchone()
            if found:
                raise BackupError(f"Cannot connect to database {db['NAME']}.")
            progress(f"Creating PostgreSQL database {db['NAME']}...")
            conn.execute(sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0")
                         .format(sql.Identifier(db["NAME"])))
    else:
        import MySQLdb  # only installed where MariaDB is used

        kwargs = {k: v for k, v in connection_params().items() if k not in ("database", "db")}
        name = mysql_name()
        progress(f"Creating MariaDB database {name}...")
        conn = MySQLdb.connect(**kwargs)
        try:
            conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{name}` "
                                  f"CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        finally:
            conn.close()
    connection.ensure_connection()


def _tables_with_rows() -> list[str]:
    if vendor_name() == "sqlite" and not Path(db_settings()["NAME"]).exists():
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
        for relative, source in walk_files(staging / folder.prefix):
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
    cache.delete(SITE_SETTINGS_CACHE_KEY)


def restore_backup(*, archive: Path, force: bool = False, trust_origin: bool = False,
                   keep_sign_ins: bool = False, progress: Progress = quiet,
                   migrate: Callable[[], None] | None = None,
                   temp_dir: Path | None = None) -> RestoreResult:
    """Restore ``archive`` into the database named by JIFEN_DATABASE_URL and the file
    folders. Everything about the archive, the tools and the folders is checked before the
    target changes; a target holding data is replaced only with ``force`` (database and
    folders: files not in the backup go). Migrations newer than the backup are applied
    afterwards (``migrate``); every web session and employee token ends unless
    ``keep_sign_ins``; then the ledger is verified (``breaches``)."""
    vendor = vendor_name()
    if vendor == "sqlite" and str(db_settings()["NAME"]) == ":memory:":
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
    vendor = vendor_name()
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
    dump = check_dump(vendor, staging / manifest["database"]["member"], work,
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
            what.append(f"the database {db_settings()['NAME']} holds data (in "
                        f"{', '.join(used[:5])}{' …' if len(used) > 5 else ''})")
        if holding:
            what.append(f"{' and '.join(holding)} hold files")
        raise TargetNotEmpty(f"Refused: {'; '.join(what)}. Restoring replaces them; run "
                             f"again with --force if that is what you want.")

    try:
        installed = _prepare_files(staging, folders, progress)
        drops = drop_statements()
        started = time.monotonic()
        if drops:
            progress(f"The load first drops the target's {len(drops)} object group(s).")
        {"sqlite": load_sqlite, "postgresql": load_postgresql,
         "mysql": load_mysql}[vendor](dump, work, progress, drops,
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
            call_command("migrate", interactive=False, verbosity=1)
        else:
            migrate()
        migrated = True
    _forget_cached_rows()
    result = RestoreResult(manifest=manifest, migrated=migrated)
    # The apps put their state right and report (people end every sign-in, the ledger
    # drops its cached policy and verifies, integrations count the active API keys).
    database_restored.send(sender=RestoreResult, result=result, keep_sign_ins=keep_sign_ins,
                           progress=progress)
    return result
