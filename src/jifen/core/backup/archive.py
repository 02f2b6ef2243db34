"""Reading a backup archive, which is untrusted input: every member is checked (a regular
file with a plain relative name, listed once in the signed manifest with the size and
checksum it has) before anything is changed."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import posixpath
import shutil
import tarfile
import time
from pathlib import Path
from typing import IO, Any

from jifen.core.backup.common import (
    CHUNK,
    DATABASE_MEMBER,
    FILE_ROOTS,
    FORMAT,
    FREE_SPACE_MARGIN,
    HEADER_LIMIT,
    MANIFEST,
    MANIFEST_LIMIT,
    MAX_RATIO,
    SHA256_PATTERN,
    VENDORS,
    ArchiveRefused,
    BackupError,
    Progress,
    human_size,
    quiet,
    shown,
    signature_ok,
)

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
                or not SHA256_PATTERN.fullmatch(entry["sha256"])):
            raise ArchiveRefused("The backup's manifest is damaged.")
    for entry in files:
        path = entry.get("path")
        if (not isinstance(path, str) or not _safe_name(path)
                or path.split("/")[0] not in FILE_ROOTS or path.count("/") < 1):
            raise ArchiveRefused(f"The backup names a file outside its folders: "
                                 f"{shown(path)}; refused.")
    return manifest


def write_chunk(out: IO[bytes], chunk: bytes, path: Path) -> None:
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
                          f"backup: it needs {human_size(needed)}, {human_size(free)} are "
                          f"free. Free some, or point --temp-dir at a larger folder.")


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
            write_chunk(out, chunk, target)
        write_chunk(out, b"", target)
    if written != expected["size"] or digest.hexdigest() != expected["sha256"]:
        raise ArchiveRefused(f"{member.name} does not match its checksum: the backup is damaged "
                      f"or was altered.")


def read_archive(archive: Path, staging: Path, *, trust_origin: bool = False,
                 progress: Progress = quiet, vendor: str | None = None) -> dict[str, Any]:
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
                raise ArchiveRefused(f"The archive holds an extended header of {human_size(size)}; "
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
            if not signature_ok(manifest):
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

