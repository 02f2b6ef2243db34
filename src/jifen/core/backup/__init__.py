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

The package: ``common`` (format, limits, errors, signature, the dump tools' connection),
``create`` (`jifen backup`), ``archive`` (reading an untrusted archive), ``load`` (loading a
dump into the target database) and ``restore`` (`jifen restore`). Core knows no domain app:
after a restore it sends ``jifen.core.signals.database_restored`` and the apps react (people
end every sign-in, the ledger drops its cached policy and verifies itself, integrations
count the active API keys).
"""

from jifen.core.backup.archive import read_archive
from jifen.core.backup.common import (
    DATABASE_MEMBER,
    FILE_ROOTS,
    FORMAT,
    MANIFEST,
    VENDORS,
    ArchiveRefused,
    BackupError,
    Progress,
    RestoreResult,
    TargetNotEmpty,
    shown,
    sign_manifest,
)
from jifen.core.backup.create import create_backup
from jifen.core.backup.restore import restore_backup

__all__ = [
    "DATABASE_MEMBER", "FILE_ROOTS", "FORMAT", "MANIFEST", "VENDORS", "ArchiveRefused",
    "BackupError", "Progress", "RestoreResult", "TargetNotEmpty", "create_backup",
    "read_archive", "restore_backup", "shown", "sign_manifest",
]
